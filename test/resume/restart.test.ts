// The server process dies (SIGKILL) with messages unacknowledged and comes back on the same port without its
// sessions: the client's next open says recovered: false, every message the old server never acknowledged is
// reported by exactly one drop ('lost', wasSent), and the messages sent while it was down go to the new session.
import { describe, expect, it } from 'vitest';
import { assertBuilt, spawnNode } from '../helpers/child.js';
import { resumable, until } from '../helpers/resume.js';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('./fixtures/server.mjs', import.meta.url));

function startServer(options: Record<string, unknown>) {
  const child = spawnNode(FIXTURE, [JSON.stringify(options)]);
  return { child, port: child.waitFor(/listening (\d+)/).then((match) => Number(match[1])) };
}

describe('resume: the server process restarts', () => {
  it('opens with recovered: false and drops each unacknowledged message exactly once', { timeout: 30_000 }, async () => {
    assertBuilt(['dist/server/index.js']);
    // The first server never acknowledges (its timer is a minute long and it waits for 100000 messages).
    const first = startServer({ ackDelayMs: 60_000, ackEvery: 100_000 });
    const port = await first.port;
    const socket = resumable<string, string>(`ws://127.0.0.1:${port}`, { delay: () => 20 });
    const opens: { recovered: boolean; resume: string }[] = [];
    const drops: { message: string; reason: string; wasSent: boolean }[] = [];
    const delivered: string[] = [];
    socket.on('open', ({ recovered, resume }) => opens.push({ recovered, resume }));
    socket.on('drop', ({ message, reason, wasSent }) => drops.push({ message, reason, wasSent }));
    socket.on('delivered', ({ message }) => delivered.push(message));
    await until(() => opens.length === 1, 'the first open');
    const before = Array.from({ length: 200 }, (_, i) => `before-${i}`);
    for (const message of before) expect(socket.send(message)).toBe('sent');
    await first.child.waitFor(/got before-199/);

    first.child.process.kill('SIGKILL');
    await first.child.exited;
    await until(() => socket.state !== 'open', 'the client to notice');
    const during = Array.from({ length: 50 }, (_, i) => `during-${i}`);
    for (const message of during) expect(socket.send(message)).toBe('queued');

    const second = startServer({ port });
    await second.port;
    await until(() => opens.length === 2, 'the open after the restart');
    expect(opens).toEqual([
      { recovered: false, resume: 'new' },
      { recovered: false, resume: 'unknown' },
    ]);
    await until(() => delivered.length === during.length, 'delivery of the messages sent while down', 10_000, () => delivered.length);
    // Every message is accounted for exactly once: the old ones dropped, the new ones delivered.
    expect(drops).toEqual(before.map((message) => ({ message, reason: 'lost', wasSent: true })));
    expect(delivered).toEqual(during);
    await second.child.waitFor(/got during-49/);
    expect(second.child.stdout()).toMatch(/session new/);
    expect(second.child.stdout()).not.toMatch(/got before-/);
    expect(second.child.stdout()).not.toMatch(/error/);
  });
});
