import { describe, expect, it } from 'vitest';
import { opened } from '../../src/index.js';
import { startFaultProxy } from '../helpers/proxy.js';
import { nextEvent, recordEvents, sleep, startRefusingServer, startServer, startStallServer, waitFor } from '../helpers/servers.js';
import { FAST, socketFactory } from '../helpers/socket.js';

// Network faults on loopback: killed servers, TCP resets, stalled upgrades, refused upgrades, restarts.

const createSocket = socketFactory(FAST);

describe('dropped connections', () => {
  it('reconnects after the server terminates the connection (cause network, code 1006)', async () => {
    const server = await startServer();
    const socket = createSocket(server.url);
    await opened(socket);
    const close = nextEvent(socket, 'close');
    for (const ws of server.clients) ws.terminate();
    expect(await close).toMatchObject({ code: 1006, wasClean: false, cause: 'network', willReconnect: true, delayMs: 50 });
    expect(socket.state).toBe('closed');
    expect(socket.retry).toMatchObject({ attempt: 1, delayMs: 50 });
    const open = await nextEvent(socket, 'open');
    expect(open.attempt).toBe(1);
    await waitFor(() => server.clients.size === 1);
    const echoed = nextEvent(socket, 'message');
    socket.send('back');
    expect((await echoed).data).toBe('back');
  });

  it('reconnects after a TCP reset (RST) on the path', async () => {
    const server = await startServer();
    const proxy = await startFaultProxy(server.port);
    const socket = createSocket(proxy.url);
    await opened(socket);
    const close = nextEvent(socket, 'close');
    proxy.reset();
    expect(await close).toMatchObject({ code: 1006, wasClean: false, cause: 'network', willReconnect: true });
    await nextEvent(socket, 'open');
    expect(proxy.connections).toBe(2);
    await waitFor(() => server.clients.size === 1);
  });

  it('keeps retrying with backoff while the path refuses, then reconnects when it lets traffic through', async () => {
    const server = await startServer();
    const proxy = await startFaultProxy(server.port);
    const socket = createSocket(proxy.url, { initialDelayMs: 40, maxDelayMs: 160 });
    const log = recordEvents(socket);
    await opened(socket);
    proxy.refuse(true);
    proxy.reset();
    await waitFor(() => log.of('reconnecting').length >= 4, 5_000, 'four scheduled retries');
    expect(socket.state).not.toBe('open');
    expect(log.of('reconnecting').slice(0, 4).map((event) => event.delayMs)).toEqual([40, 80, 160, 160]);
    proxy.refuse(false);
    await opened(socket, { timeoutMs: 5_000 });
    await waitFor(() => server.clients.size === 1);
    expect(server.connections).toBe(2);
  });
});

describe('connect timeout', () => {
  it('tears down an attempt the server never answers, reports CONNECT_TIMEOUT, and retries', async () => {
    const stall = await startStallServer();
    const connectTimeoutMs = 300;
    const socket = createSocket(stall.url, { connectTimeoutMs, initialDelayMs: 100 });
    const log = recordEvents(socket);
    const started = Date.now();

    const close = await nextEvent(socket, 'close', 5_000);
    const elapsed = Date.now() - started;
    expect(close).toMatchObject({ code: 1006, wasClean: false, cause: 'connect-timeout', willReconnect: true, delayMs: 100 });
    expect(close.error?.code).toBe('CONNECT_TIMEOUT');
    expect(elapsed).toBeGreaterThanOrEqual(connectTimeoutMs - 20);
    expect(elapsed).toBeLessThan(connectTimeoutMs + 2_000);
    expect(log.of('error').map((event) => event.error.code)).toContain('CONNECT_TIMEOUT');

    // The torn-down attempt's TCP connection is closed on the server's side, then a retry arrives.
    await waitFor(() => stall.closedSockets >= 1, 3_000, 'the stall server sees the first attempt closed');
    await waitFor(() => stall.sockets >= 2, 3_000, 'a retry reaches the stall server');
    // Never more than one attempt in flight.
    expect(stall.openSockets).toBeLessThanOrEqual(1);

    await socket.close();
    await waitFor(() => stall.openSockets === 0, 3_000);
  });

  it('gives up after maxRetries timeouts and resolves closed', async () => {
    const stall = await startStallServer();
    const socket = createSocket(stall.url, { connectTimeoutMs: 150, initialDelayMs: 20, maxRetries: 2 });
    const log = recordEvents(socket);
    const final = await socket.closed;
    expect(final.cause).toBe('connect-timeout');
    expect(log.of('close')).toHaveLength(3);
    expect(log.of('close').map((event) => event.willReconnect)).toEqual([true, true, false]);
    expect(stall.sockets).toBe(3);
    await waitFor(() => stall.openSockets === 0, 3_000);
  });
});

describe('refused upgrades', () => {
  it('retries with exponential backoff (no jitter: exact delays) and reports each failure', async () => {
    const refusing = await startRefusingServer(503);
    const socket = createSocket(refusing.url, { initialDelayMs: 50, delayFactor: 2, maxDelayMs: 400, maxRetries: 4 });
    const log = recordEvents(socket);
    const final = await socket.closed;

    expect(final).toMatchObject({ code: 1006, wasClean: false });
    expect(refusing.attempts).toBe(5);
    expect(log.of('reconnecting')).toEqual([
      { attempt: 1, delayMs: 50 },
      { attempt: 2, delayMs: 100 },
      { attempt: 3, delayMs: 200 },
      { attempt: 4, delayMs: 400 },
    ]);
    const closes = log.of('close');
    expect(closes.map((event) => event.willReconnect)).toEqual([true, true, true, true, false]);
    expect(closes.slice(0, 4).map((event) => event.delayMs)).toEqual([50, 100, 200, 400]);
    expect(log.of('error').length).toBeGreaterThanOrEqual(5);
    expect(log.of('open')).toEqual([]);

    // The server saw the retries spaced by at least the planned delays.
    const gaps = refusing.attemptTimes.slice(1).map((time, i) => time - refusing.attemptTimes[i]!);
    [50, 100, 200, 400].forEach((delay, i) => expect(gaps[i]).toBeGreaterThanOrEqual(delay - 15));
  });

  it('with jitter, every delay stays within [0, ceiling) and follows the injected random', async () => {
    const refusing = await startRefusingServer(500);
    const socket = createSocket(refusing.url, { initialDelayMs: 100, jitter: true, random: () => 0.5, maxRetries: 3, maxDelayMs: 1_000 });
    const log = recordEvents(socket);
    await socket.closed;
    expect(log.of('reconnecting').map((event) => event.delayMs)).toEqual([50, 100, 200]);
  });
});

describe('server restarts', () => {
  it('reconnects once the server comes back on the same port', async () => {
    const server = await startServer();
    const socket = createSocket(server.url, { initialDelayMs: 30, maxDelayMs: 100 });
    const log = recordEvents(socket);
    await opened(socket);
    await server.close();
    await waitFor(() => log.of('reconnecting').length >= 3, 5_000, 'retries while the server is down');
    expect(socket.state).not.toBe('open');
    await server.restart();
    await opened(socket, { timeoutMs: 5_000 });
    expect(log.of('open')).toHaveLength(2);
    expect(log.of('open')[1].attempt).toBeGreaterThanOrEqual(1);
    await waitFor(() => server.clients.size === 1);
    const echoed = nextEvent(socket, 'message');
    socket.send('hello again');
    expect((await echoed).data).toBe('hello again');
  });

  it('delivers messages queued while down, in order, after reconnecting', async () => {
    const server = await startServer();
    const socket = createSocket(server.url, { initialDelayMs: 30, maxDelayMs: 100 });
    await opened(socket);
    await server.close();
    await waitFor(() => socket.state === 'closed');
    expect(socket.send('one')).toBe('queued');
    expect(socket.send('two')).toBe('queued');
    await server.restart();
    await opened(socket, { timeoutMs: 5_000 });
    await waitFor(() => server.received.length === 2);
    expect(server.received).toEqual(['one', 'two']);
    expect(socket.queued).toEqual([]);
  });

  it('counts the attempt from 0 again once a connection has been stable for stableAfterMs', async () => {
    const server = await startServer();
    const socket = createSocket(server.url, { stableAfterMs: 200 });
    await opened(socket);
    for (const ws of server.clients) ws.terminate();
    const reopened = await nextEvent(socket, 'open');
    expect(reopened.attempt).toBe(1);
    await waitFor(() => socket.attempt === 0, 3_000, 'attempt reset after stableAfterMs');
    const close = nextEvent(socket, 'close');
    for (const ws of server.clients) ws.terminate();
    expect((await close).delayMs).toBe(50);
    expect((await nextEvent(socket, 'open')).attempt).toBe(1);
    await sleep(50);
  });
});
