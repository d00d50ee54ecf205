import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { jsonCodec } from '../../src/index.js';
import { ResumableSocket } from '../../src/resume/index.js';
import { attachResume, type ResumeSession } from '../../src/server/index.js';
import { HOST } from '../helpers/listen.js';
import { startFaultProxy } from '../helpers/proxy.js';
import { next, resumable, startResumeServer, until } from '../helpers/resume.js';

describe('resume client: events and calls', () => {
  it('shows open only once the session is settled: one state event each way, open after it', async () => {
    const server = await startResumeServer();
    const socket = resumable(server.url);
    const events: string[] = [];
    socket.on('state', ({ from, to }) => events.push(`${from}>${to}`));
    socket.on('open', ({ resume }) => events.push(`open ${resume}`));
    socket.on('close', ({ code }) => events.push(`close ${code}`));
    await until(() => events.includes('open new'), 'the open');
    expect(socket.state).toBe('open');
    await socket.close();
    expect(events).toEqual(['connecting>open', 'open new', 'open>closing', 'close 1000', 'closing>closed']);
  });

  it('a close() from an open listener: the held messages are dropped (closed), not sent', async () => {
    const got: string[] = [];
    const server = await startResumeServer({ onSession: (s) => s.on('message', ({ data }) => got.push(data.toString())) });
    const socket = resumable<string, string>(server.url);
    expect(socket.send('held')).toBe('queued');
    const drops: unknown[] = [];
    socket.on('drop', ({ message, reason, wasSent }) => drops.push({ message, reason, wasSent }));
    socket.on('open', () => void socket.close());
    await socket.closed;
    await until(() => drops.length === 1, 'the drop');
    expect(drops).toEqual([{ message: 'held', reason: 'closed', wasSent: false }]);
    expect(got).toEqual([]);
  });

  it('messages sent from an open listener go first, then the held ones, in order', async () => {
    const got: string[] = [];
    const server = await startResumeServer({ onSession: (s) => s.on('message', ({ data }) => got.push(data.toString())) });
    const socket = resumable<string, string>(server.url);
    socket.send('held 1');
    socket.send('held 2');
    socket.on('open', () => socket.send('from open'));
    await until(() => got.length === 3, 'three messages');
    expect(got).toEqual(['from open', 'held 1', 'held 2']);
  });

  it('close() while the WELCOME is awaited: no open, the held messages dropped', async () => {
    const wss = new WebSocketServer({ host: HOST, port: 0, handleProtocols: () => 'rws-resume.v1' });
    await new Promise((resolve) => wss.once('listening', resolve));
    let connected = false;
    wss.on('connection', () => (connected = true));
    const socket = resumable<string, string>(`ws://${HOST}:${(wss.address() as { port: number }).port}`);
    socket.send('held');
    const events: string[] = [];
    socket.on('open', () => events.push('open'));
    socket.on('drop', ({ reason }) => events.push(`drop ${reason}`));
    await until(() => connected, 'the upgrade');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(socket.state).toBe('connecting');
    await socket.close();
    expect(events).toEqual(['drop closed']);
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });

  it('dispose() drops every message held, saying which were written', async () => {
    const server = await startResumeServer({ ackDelayMs: 60_000, ackEvery: 1000 });
    const proxy = await startFaultProxy(server.port);
    const socket = resumable<string, string>(proxy.url);
    await next(socket.on.bind(socket), 'open');
    socket.send('written');
    proxy.refuse(true);
    proxy.reset();
    await until(() => socket.state !== 'open', 'the cut');
    socket.send('held');
    const drops: unknown[] = [];
    socket.on('drop', ({ message, reason, wasSent }) => drops.push({ message, reason, wasSent }));
    socket.dispose();
    expect(drops).toEqual([
      { message: 'written', reason: 'disposed', wasSent: true },
      { message: 'held', reason: 'disposed', wasSent: false },
    ]);
    expect(socket.send('after')).toBe('disposed');
  });

  it('queue bounds: reject refuses without an event, drop-newest with one, ttlMs expires what waited too long', async () => {
    const server = await startResumeServer();
    const rejecting = resumable<string, string>(server.url, { autoConnect: false, queue: { maxMessages: 1, overflow: 'reject' } });
    expect(rejecting.send('a')).toBe('queued');
    expect(rejecting.send('b')).toBe('rejected');
    const newest = resumable<string, string>(server.url, { autoConnect: false, queue: { maxMessages: 1, overflow: 'drop-newest' } });
    const drops: unknown[] = [];
    newest.on('drop', ({ message, reason }) => drops.push({ message, reason }));
    newest.send('a');
    expect(newest.send('b')).toBe('dropped');
    expect(drops).toEqual([{ message: 'b', reason: 'overflow' }]);

    const expiring = resumable<string, string>(server.url, { autoConnect: false, queue: { ttlMs: 20 } });
    const expired: unknown[] = [];
    expiring.on('drop', ({ message, reason }) => expired.push({ message, reason }));
    expiring.send('stale');
    await new Promise((resolve) => setTimeout(resolve, 40));
    expiring.send('fresh', { ttlMs: 10_000 });
    expiring.connect();
    await next(expiring.on.bind(expiring), 'open');
    await until(() => expiring.unacknowledged === 0 && expiring.queued.length === 0, 'the flush');
    expect(expired).toEqual([{ message: 'stale', reason: 'expired' }]);
  });

  it('a codec and blob binaryType, across a resume', async () => {
    let session: ResumeSession | undefined;
    const server = await startResumeServer({ onSession: (s) => (session = s) });
    const socket = resumable<{ n: number } | Blob, { n: number }>(server.url, { codec: jsonCodec as never, binaryType: 'blob' });
    const got: unknown[] = [];
    socket.on('message', ({ data }) => got.push(data));
    await until(() => session !== undefined, 'the session');
    session!.send(JSON.stringify({ n: 1 }));
    await until(() => got.length === 1, 'the message');
    expect(got).toEqual([{ n: 1 }]);
    const raw = resumable(server.url, { binaryType: 'blob' });
    const blobs: unknown[] = [];
    raw.on('message', ({ data }) => blobs.push(data));
    await until(() => server.sessions.length === 2, 'the second session');
    server.sessions[1]!.send(Buffer.from([0xc1, 9]));
    await until(() => blobs.length === 1, 'the blob');
    expect(blobs[0]).toBeInstanceOf(Blob);
    expect([...new Uint8Array(await (blobs[0] as Blob).arrayBuffer())]).toEqual([0xc1, 9]);
  });

  it('an aborted signal disposes the socket, with a drop for each message held', async () => {
    const controller = new AbortController();
    const socket = resumable<string, string>('ws://127.0.0.1:1', { autoConnect: false, signal: controller.signal });
    const drops: string[] = [];
    socket.on('drop', ({ reason }) => drops.push(reason));
    socket.send('held');
    controller.abort();
    expect(socket.isDisposed).toBe(true);
    expect(drops).toEqual(['disposed']);
  });

  it('checks its own options with messages that name them', () => {
    expect(() => new ResumableSocket('ws://127.0.0.1:1', { autoConnect: false, resume: { ackDelayMs: 0 } })).toThrow(
      'ResumableSocket: option "resume.ackDelayMs" must be a number >= 1 and <= 2147483647, got 0.',
    );
    expect(() => new ResumableSocket('ws://127.0.0.1:1', { autoConnect: false, resume: { ackEvery: 1.5 } })).toThrow(/"resume.ackEvery" must be a whole number/);
    expect(() => new ResumableSocket('ws://127.0.0.1:1', { autoConnect: false, resume: null as never })).toThrow(/"resume" must be an object, got null/);
    expect(() => new ResumableSocket('ws://127.0.0.1:1', { autoConnect: false, binaryType: 'nodebuffer' as never })).toThrow(/"binaryType"/);
    // The core checks the rest, with its own messages.
    expect(() => new ResumableSocket('ws://127.0.0.1:1', { autoConnect: false, connectTimeoutMs: -1 })).toThrow(/connectTimeoutMs/);
    expect(() => new ResumableSocket('ws://127.0.0.1:1', { autoConnect: false, resume: { session: { token: 5 } as never } })).toThrow(/what handOff\(\) returned/);
    const socket = new ResumableSocket('ws://127.0.0.1:1', { autoConnect: false });
    expect(() => socket.close(1006)).toThrow(/code must be 1000, 1001 or 3000-4999, got 1006/);
    expect(() => socket.send('x', { ttlMs: 0 })).toThrow(/ttlMs must be > 0/);
    socket.dispose();
  });

  it('the server helper checks its options too', () => {
    const wss = new WebSocketServer({ noServer: true });
    expect(() => attachResume(wss, { sessionTtlMs: 0 })).toThrow('attachResume: option "sessionTtlMs" must be a number >= 1, got 0.');
    expect(() => attachResume(wss, { overflow: 'drop-all' as never })).toThrow(/"overflow" must be 'drop-oldest', 'drop-newest' or 'reject'/);
    expect(() => attachResume(wss, { store: {} as never })).toThrow(/"store" must have get\(\), set\(\) and delete\(\)/);
    expect(() => attachResume({} as never)).toThrow(/wss must be a WebSocketServer/);
  });
});
