import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exitWithin, spawnNode } from '../helpers/child.js';
import { sleep, startRefusingServer, startServer, startSilentServer, startStallServer, waitFor } from '../helpers/servers.js';
import { FLAVOURS, create, record } from './helpers.js';

// The known bugs of the originals, each done right here (docs/migration.md lists them).

const CLOSED = 3;

describe.each(FLAVOURS)('$name: the originals’ known bugs, fixed', ({ name, Class, afterClose }) => {
  it('close() during backoff cancels the pending retry: no attempt is made afterwards', async () => {
    const refusing = await startRefusingServer();
    const socket = create(Class, refusing.url, undefined, { minReconnectionDelay: 100 });
    const events = record(socket);
    await events.waitFor('close');
    socket.close();
    await sleep(300);
    expect(refusing.attempts).toBe(1);
    expect(socket.readyState).toBe(CLOSED);
    expect(events.types()).toEqual(['error', 'close']);
  });

  it('attempts that time out under Node ws crash nothing, and their sockets are closed at once', async () => {
    const stall = await startStallServer();
    const socket = create(Class, stall.url, undefined, { connectionTimeout: 50, minReconnectionDelay: 10, maxReconnectionDelay: 20 });
    const events = record(socket);
    await events.waitFor('close', 4, 3_000);
    socket.close();
    await waitFor(() => stall.openSockets === 0, 2_000);
    expect(events.of('error').every((event) => event.message === 'TIMEOUT')).toBe(true);
  });

  it('reconnect() right after close(), during the close handshake: opens again, one close event per connection', async () => {
    const server = await startServer();
    const socket = create(Class, server.url);
    const events = record(socket);
    await events.waitFor('open');
    socket.close();
    expect(socket.readyState).toBe(afterClose);
    socket.reconnect();
    await events.waitFor('open', 2);
    await sleep(100);
    expect(events.types()).toEqual(['open', 'close', 'open']);
    expect(server.connections).toBe(2);
  });

  it('reconnect() after the retries ran out opens again, and the retries count from 0', async () => {
    const refusing = await startRefusingServer();
    const socket = create(Class, refusing.url, undefined, { minReconnectionDelay: 10, maxRetries: 1 });
    const events = record(socket, ['close']);
    await events.waitFor('close', 2);
    await sleep(60);
    expect(refusing.attempts).toBe(2);
    socket.reconnect();
    await events.waitFor('close', 4);
    await sleep(60);
    expect(refusing.attempts).toBe(4);
    expect(socket.retryCount).toBe(1);
  });

  it('a peer that never answers the close frame: the handshake is bounded, and the Node process exits', async () => {
    const dist = fileURLToPath(new URL(`../../dist/compat/${name}.js`, import.meta.url));
    await waitFor(() => existsSync(dist), 15_000, `dist/compat/${name}.js (run \`npm run build\`)`);
    const silent = await startSilentServer();
    const child = spawnNode(fileURLToPath(new URL('./fixtures/close-exit.mjs', import.meta.url)), [name, silent.url]);
    await child.waitFor(/closing/, 5_000);
    const closingAt = performance.now();
    const exit = await exitWithin(child, 9_000);
    expect(exit).not.toBe('still running');
    await child.drained;
    expect(child.stderr()).toBe('');
    expect(exit).toMatchObject({ code: 0, signal: null });
    // Bounded by the core's close timeout (5 s), not ws's 30 s.
    expect((exit as { at: number }).at - closingAt).toBeLessThan(7_000);
    expect(child.stdout()).toContain(`readyState ${afterClose}`);
    // partysocket reported its close at once; reconnecting-websocket reports it when the handshake gives up.
    expect(child.stdout().match(/^close /gm)).toHaveLength(1);
  }, 20_000);
});
