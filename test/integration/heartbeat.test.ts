import { describe, expect, it } from 'vitest';
import { opened } from '../../src/index.js';
import { startFaultProxy } from '../helpers/proxy.js';
import { nextEvent, recordEvents, sleep, startServer, startSilentServer, waitFor } from '../helpers/servers.js';
import { socketFactory } from '../helpers/socket.js';

// Liveness through a fault proxy: in Node the heartbeat uses ws protocol ping/pong, so a plain ws server
// (which answers pings by itself) is enough on the other side.

// Tighter connect and close timeouts than FAST, and no `heartbeat` key: each test configures the heartbeat.
const createSocket = socketFactory({ connectTimeoutMs: 500, closeTimeoutMs: 500, initialDelayMs: 50, maxDelayMs: 200, jitter: false });

describe('heartbeat: dead connections', () => {
  it('detects a black-holed connection within intervalMs + timeoutMs and reconnects once traffic flows again', async () => {
    const intervalMs = 200;
    const timeoutMs = 300;
    const server = await startServer();
    const proxy = await startFaultProxy(server.port);
    const socket = createSocket(proxy.url, { heartbeat: { intervalMs, timeoutMs } });
    const log = recordEvents(socket);
    await opened(socket);
    // Let at least one ping/pong round through first, so the path is known good.
    await nextEvent(socket, 'heartbeat', 3_000);

    const started = Date.now();
    proxy.blackhole(true);
    const close = await nextEvent(socket, 'close', 5_000);
    const elapsed = Date.now() - started;

    expect(close).toMatchObject({ code: 1006, wasClean: false, cause: 'heartbeat-timeout', willReconnect: true });
    expect(close.error?.code).toBe('HEARTBEAT_TIMEOUT');
    expect(log.of('error').map((event) => event.error.code)).toContain('HEARTBEAT_TIMEOUT');
    // Not before a ping could have gone unanswered for timeoutMs; not (much) after the worst case.
    expect(elapsed).toBeGreaterThanOrEqual(timeoutMs - 50);
    expect(elapsed).toBeLessThan(intervalMs + timeoutMs + 1_500);

    // Still black-holed: attempts reach the proxy but never open.
    await waitFor(() => log.of('close').length >= 2, 5_000, 'a failed attempt while black-holed');
    expect(log.of('close')[1]).toMatchObject({ cause: 'connect-timeout', willReconnect: true });
    expect(log.of('open')).toHaveLength(1);

    proxy.blackhole(false);
    await opened(socket, { timeoutMs: 5_000 });
    expect(log.of('open')).toHaveLength(2);
    // The dead connection is released on the server side too, leaving exactly the new one.
    await waitFor(() => server.clients.size === 1, 5_000, 'exactly one server-side client');
    const echoed = nextEvent(socket, 'message');
    socket.send('alive again');
    expect((await echoed).data).toBe('alive again');
    await nextEvent(socket, 'heartbeat', 3_000);
  });

  it('detects a peer that completes the upgrade but never answers pings', async () => {
    const silent = await startSilentServer();
    const socket = createSocket(silent.url, { heartbeat: { intervalMs: 100, timeoutMs: 200 }, maxRetries: 0 });
    await opened(socket);
    const started = Date.now();
    const final = await socket.closed;
    expect(final).toMatchObject({ code: 1006, cause: 'heartbeat-timeout' });
    expect(Date.now() - started).toBeLessThan(100 + 200 + 1_500);
    await waitFor(() => silent.openSockets === 0, 3_000, 'the dead connection is dropped');
  });

  it('probe() checks liveness at once, without waiting for the next interval', async () => {
    const server = await startServer();
    const proxy = await startFaultProxy(server.port);
    const socket = createSocket(proxy.url, { heartbeat: { intervalMs: 60_000, timeoutMs: 60_000, probeTimeoutMs: 200 } });
    await opened(socket);

    const rtt = nextEvent(socket, 'heartbeat', 2_000);
    socket.probe();
    expect((await rtt).rttMs).toBeGreaterThanOrEqual(0);
    expect(socket.rttMs).toBeTypeOf('number');

    proxy.blackhole(true);
    const started = Date.now();
    const close = nextEvent(socket, 'close', 5_000);
    socket.probe(150);
    expect(await close).toMatchObject({ cause: 'heartbeat-timeout', code: 1006 });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(100);
    expect(elapsed).toBeLessThan(150 + 1_500);
  });

  it('heartbeat: false never tears down a silent connection', async () => {
    const server = await startServer();
    const proxy = await startFaultProxy(server.port);
    const socket = createSocket(proxy.url, { heartbeat: false });
    const log = recordEvents(socket);
    await opened(socket);
    proxy.blackhole(true);
    await sleep(800);
    expect(socket.state).toBe('open');
    expect(log.of('close')).toEqual([]);
    expect(log.of('heartbeat')).toEqual([]);
    socket.probe(50);
    await sleep(300);
    expect(socket.state).toBe('open');
  });
});

describe('heartbeat: slow but alive', () => {
  it('keeps a slow connection (delay well under the deadline) open over several intervals and reports its rtt', async () => {
    const delayMs = 100;
    const intervalMs = 150;
    const timeoutMs = 1_500;
    const server = await startServer();
    const proxy = await startFaultProxy(server.port);
    const socket = createSocket(proxy.url, { connectTimeoutMs: 3_000, heartbeat: { intervalMs, timeoutMs } });
    const log = recordEvents(socket);
    await opened(socket);
    proxy.setDelay(delayMs);

    // A ping crosses the proxy twice (ping out, pong back): the round trip is about twice the delay.
    await waitFor(() => log.of('heartbeat').filter((event) => event.rttMs >= 2 * delayMs - 20).length >= 4, 8_000, 'four slow pongs');
    const slow = log.of('heartbeat').filter((event) => event.rttMs >= 2 * delayMs - 20);
    for (const { rttMs } of slow) expect(rttMs).toBeLessThan(2 * delayMs + 1_000);
    expect(socket.rttMs).toBe(log.of('heartbeat').at(-1).rttMs);
    expect(socket.rttMs).toBeGreaterThanOrEqual(2 * delayMs - 20);

    expect(log.of('close')).toEqual([]);
    expect(log.of('error')).toEqual([]);
    expect(socket.state).toBe('open');
    expect(server.connections).toBe(1);

    // Messages still flow, just late.
    const echoed = nextEvent(socket, 'message', 3_000);
    socket.send('slowly');
    expect((await echoed).data).toBe('slowly');
  });

  it('reports a small rtt on a fast path, on every interval', async () => {
    const server = await startServer();
    const socket = createSocket(server.url, { heartbeat: { intervalMs: 50, timeoutMs: 1_000 } });
    const log = recordEvents(socket);
    await opened(socket);
    await waitFor(() => log.of('heartbeat').length >= 5, 5_000, 'five pongs');
    for (const { rttMs } of log.of('heartbeat')) {
      expect(rttMs).toBeGreaterThanOrEqual(0);
      expect(rttMs).toBeLessThan(1_000);
    }
    expect(log.of('close')).toEqual([]);
  });

  it('stops pinging once closed: the server sees no ping after close()', async () => {
    let pings = 0;
    const server = await startServer({ onConnection: (ws) => ws.on('ping', () => pings++) });
    const socket = createSocket(server.url, { heartbeat: { intervalMs: 40, timeoutMs: 1_000 } });
    await opened(socket);
    await waitFor(() => pings >= 2, 3_000);
    await socket.close();
    const after = pings;
    await sleep(300);
    expect(pings).toBe(after);
  });
});
