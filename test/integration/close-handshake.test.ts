import { describe, expect, it } from 'vitest';
import { opened } from '../../src/index.js';
import { nextEvent, recordEvents, sleep, startServer, startSilentServer, startStallServer, waitFor } from '../helpers/servers.js';
import { FAST, socketFactory } from '../helpers/socket.js';

// The RFC 6455 close handshake against real peers: one that answers, one that never does, one that never
// even finishes the upgrade.

const createSocket = socketFactory(FAST);

describe('close handshake with a peer that never answers', () => {
  it('close() resolves within closeTimeoutMs (+ margin) with cause close-timeout and tears the TCP connection down', async () => {
    const closeTimeoutMs = 500;
    const silent = await startSilentServer();
    const socket = createSocket(silent.url, { closeTimeoutMs });
    const log = recordEvents(socket);
    await opened(socket);
    expect(silent.connections).toBe(1);

    const started = Date.now();
    const record = await socket.close();
    const elapsed = Date.now() - started;

    expect(record).toMatchObject({ code: 1006, wasClean: false, cause: 'close-timeout' });
    expect(record.error?.code).toBe('CLOSE_TIMEOUT');
    expect(elapsed).toBeGreaterThanOrEqual(closeTimeoutMs - 20);
    expect(elapsed).toBeLessThan(closeTimeoutMs + 2_000);
    expect(socket.state).toBe('closed');
    expect(log.of('error').map((event) => event.error.code)).toEqual(['CLOSE_TIMEOUT']);
    expect(log.of('close')).toHaveLength(1);
    expect(log.of('close')[0]).toMatchObject({ cause: 'close-timeout', willReconnect: false });

    // The close frame did reach the server (which ignored it), and our side dropped the TCP connection.
    expect(silent.ignoredBytes).toBeGreaterThan(0);
    await waitFor(() => silent.openSockets === 0, 3_000, 'the silent server sees the TCP connection closed');
    await sleep(200);
    expect(silent.connections).toBe(1);
  });

  it('closeTimeoutMs: 0 forces the connection down at once', async () => {
    const silent = await startSilentServer();
    const socket = createSocket(silent.url, { closeTimeoutMs: 0 });
    await opened(socket);
    const started = Date.now();
    const record = await socket.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(record.cause).toBe('close-timeout');
    await waitFor(() => silent.openSockets === 0, 3_000);
  });

  it('dispose() while closing ends everything at once and settles close()', async () => {
    const silent = await startSilentServer();
    const socket = createSocket(silent.url, { closeTimeoutMs: 10_000 });
    const log = recordEvents(socket);
    await opened(socket);
    const closing = socket.close();
    expect(socket.state).toBe('closing');
    const started = Date.now();
    socket.dispose();
    const record = await closing;
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(record.cause).toBe('dispose');
    expect(socket.state).toBe('closed');
    expect(socket.isDisposed).toBe(true);
    expect(log.of('close')).toHaveLength(1);
    await waitFor(() => silent.openSockets === 0, 3_000);
  });
});

describe('close handshake with a peer that answers', () => {
  it('resolves as soon as the peer answers, long before closeTimeoutMs', async () => {
    const server = await startServer();
    const socket = createSocket(server.url, { closeTimeoutMs: 10_000 });
    await opened(socket);
    const started = Date.now();
    const record = await socket.close(1001, 'leaving');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(record).toMatchObject({ code: 1001, reason: 'leaving', wasClean: true, cause: 'client' });
    await waitFor(() => server.closeFrames.length === 1);
    expect(server.closeFrames[0]).toEqual({ code: 1001, reason: 'leaving' });
  });

  it('close() called many times returns equivalent records and emits one close event', async () => {
    const server = await startServer();
    const socket = createSocket(server.url);
    const log = recordEvents(socket);
    await opened(socket);
    const records = await Promise.all([socket.close(), socket.close(4001, 'ignored'), socket.close()]);
    for (const record of records) expect(record).toMatchObject({ code: 1000, cause: 'client', wasClean: true });
    const after = await socket.close(4002);
    expect(after).toMatchObject({ code: 1000, cause: 'client' });
    await sleep(200);
    expect(log.of('close')).toHaveLength(1);
    expect(server.closeFrames).toEqual([{ code: 1000, reason: '' }]);
  });

  it('a close frame from the server is answered and reported as cause server, wasClean', async () => {
    const server = await startServer();
    const socket = createSocket(server.url, { shouldReconnect: () => false });
    await opened(socket);
    const serverSawClose = new Promise<number>((resolve) => {
      for (const ws of server.clients) ws.once('close', (code) => resolve(code));
    });
    for (const ws of server.clients) ws.close(4321, 'maintenance');
    const record = await socket.closed;
    expect(record).toMatchObject({ code: 4321, reason: 'maintenance', wasClean: true, cause: 'server' });
    // ws reports the code of the close frame it received back: our echo of its code.
    expect(await serverSawClose).toBe(4321);
  });

  it('close() from inside an open listener is safe and completes the handshake', async () => {
    const server = await startServer();
    const socket = createSocket(server.url);
    const states: string[] = [];
    socket.on('state', ({ to }) => states.push(to));
    let closing: Promise<unknown> | undefined;
    socket.on('open', () => {
      closing = socket.close(4000, 'from listener');
    });
    await waitFor(() => closing !== undefined);
    expect(await closing).toMatchObject({ code: 4000, reason: 'from listener', cause: 'client', wasClean: true });
    expect(states).toEqual(['open', 'closing', 'closed']);
    await waitFor(() => server.closeFrames.length === 1);
  });
});

describe('close() before the connection opens', () => {
  it('while connecting to a stall server: resolves at once with cause client and drops the TCP attempt', async () => {
    const stall = await startStallServer();
    const socket = createSocket(stall.url, { connectTimeoutMs: 10_000 });
    const log = recordEvents(socket);
    await waitFor(() => stall.sockets === 1);
    const started = Date.now();
    const record = await socket.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(record.cause).toBe('client');
    expect(socket.state).toBe('closed');
    await waitFor(() => stall.openSockets === 0, 3_000, 'the stall server sees the attempt dropped');
    await sleep(300);
    expect(stall.sockets).toBe(1);
    expect(log.of('close')).toHaveLength(1);
    expect(log.of('close')[0]).toMatchObject({ cause: 'client', willReconnect: false });
  });

  it('right after the constructor: no connection is left on the server', async () => {
    const server = await startServer();
    const socket = createSocket(server.url);
    const record = await socket.close();
    expect(record.cause).toBe('client');
    await sleep(300);
    expect(server.clients.size).toBe(0);
    expect(socket.state).toBe('closed');
  });

  it('with autoConnect: false, resolves without ever connecting', async () => {
    const server = await startServer();
    const socket = createSocket(server.url, { autoConnect: false });
    const record = await Promise.race([socket.close(), sleep(2_000).then(() => 'pending' as const)]);
    expect(record).not.toBe('pending');
    await sleep(100);
    expect(server.connections).toBe(0);
  });
});

describe('close() argument checks', () => {
  it('throws synchronously for codes an endpoint may not send and for over-long reasons, in any state', async () => {
    const server = await startServer();
    const socket = createSocket(server.url);
    const check = () => {
      for (const code of [999, 1004, 1005, 1006, 1015, 2999, 5000, 1000.5]) expect(() => socket.close(code)).toThrow(RangeError);
      expect(() => socket.close(1000, 'x'.repeat(124))).toThrow(RangeError);
      // 41 three-byte characters: 123 bytes is the most a close reason can carry (RFC 6455 §5.5).
      expect(() => socket.close(1000, '€'.repeat(42))).toThrow(RangeError);
    };
    check();
    await opened(socket);
    check();
    expect(socket.state).toBe('open');
    const record = await socket.close(1000, '€'.repeat(41));
    expect(record.reason).toBe('€'.repeat(41));
    check();
  });
});

describe('dispose()', () => {
  it('is synchronous, idempotent and leaves no connection on the server', async () => {
    const server = await startServer();
    const socket = createSocket(server.url);
    const log = recordEvents(socket);
    await opened(socket);
    socket.dispose();
    socket.dispose();
    expect(socket.state).toBe('closed');
    expect(socket.isDisposed).toBe(true);
    expect(log.of('close')).toHaveLength(1);
    expect(log.of('close')[0]).toMatchObject({ code: 1006, cause: 'dispose', willReconnect: false });
    await expect(socket.closed).resolves.toMatchObject({ cause: 'dispose' });
    await waitFor(() => server.clients.size === 0);
    await sleep(300);
    expect(server.connections).toBe(1);
    expect(socket.send('x')).toBe('disposed');
    await expect(opened(socket)).rejects.toMatchObject({ code: 'DISPOSED' });
  });

  it('during backoff cancels the planned retry', async () => {
    const server = await startServer();
    const socket = createSocket(server.url, { initialDelayMs: 200 });
    await opened(socket);
    const close = nextEvent(socket, 'close');
    for (const ws of server.clients) ws.terminate();
    expect(await close).toMatchObject({ willReconnect: true });
    expect(socket.retry).toBeDefined();
    socket.dispose();
    expect(socket.retry).toBeUndefined();
    await sleep(500);
    expect(server.connections).toBe(1);
  });
});
