import { afterEach, describe, expect, it, vi } from 'vitest';
import { sleep, startRefusingServer, startServer, startStallServer, waitFor } from '../helpers/servers.js';
import { FLAVOURS, WS, create, record } from './helpers.js';

// Each option's effect, for each flavour, against real loopback servers with real timers.

const OPEN = 1;
const CLOSED = 3;

/** The gaps between consecutive times. */
const gaps = (times: number[]) => times.slice(1).map((time, i) => time - times[i]!);

/** A server that refuses upgrades (HTTP 503) while `refusing` is true. */
async function switchableServer(refusing = true) {
  const state = { refusing };
  const server = await startServer({ verifyClient: (_info, accept) => accept(!state.refusing, 503) });
  return Object.assign(state, { server });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe.each(FLAVOURS)('$name: options', ({ name, Class }) => {
  it('backoff with jitter off: the first attempt at once, then min × grow^(n-1), capped at maxReconnectionDelay', async () => {
    const refusing = await startRefusingServer();
    const started = Date.now();
    const socket = create(Class, refusing.url, undefined, { minReconnectionDelay: 50, reconnectionDelayGrowFactor: 2, maxReconnectionDelay: 300, maxRetries: 5 });
    await waitFor(() => refusing.attempts === 6, 5_000);
    // At once: well before the longest retry delay (a loaded machine may take a while to get there at all).
    expect(refusing.attemptTimes[0]! - started).toBeLessThan(1_000);
    const expected = [50, 100, 200, 300, 300];
    const measured = gaps(refusing.attemptTimes);
    // Each gap is the delay plus the time the failed attempt took on loopback: never shorter, a little longer.
    measured.forEach((gap, i) => {
      expect(gap).toBeGreaterThanOrEqual(expected[i]! - 2);
      expect(gap).toBeLessThan(expected[i]! + 120);
    });
    await sleep(400);
    expect(refusing.attempts).toBe(6);
    expect(socket.retryCount).toBe(5);
  });

  it('minReconnectionDelay by default: 1000 + random × 4000 ms, drawn per socket (partysocket: 3000 ms); reconnectionDelayGrowFactor 1.3', async () => {
    const refusing = await startRefusingServer();
    if (name === 'partysocket') {
      create(Class, refusing.url, undefined, { minReconnectionDelay: undefined, reconnectionDelayGrowFactor: undefined, maxReconnectionDelay: undefined });
      await waitFor(() => refusing.attempts === 2, 4_500);
      expect(gaps(refusing.attemptTimes)[0]).toBeGreaterThanOrEqual(2_990);
      return;
    }
    vi.spyOn(Math, 'random').mockReturnValue(0);
    create(Class, refusing.url, undefined, { minReconnectionDelay: undefined, reconnectionDelayGrowFactor: undefined, maxReconnectionDelay: undefined });
    vi.restoreAllMocks();
    await waitFor(() => refusing.attempts === 3, 4_000);
    const [first, second] = gaps(refusing.attemptTimes);
    expect(first).toBeGreaterThanOrEqual(998);
    expect(first).toBeLessThan(1_150);
    expect(second).toBeGreaterThanOrEqual(1_298);
    expect(second).toBeLessThan(1_450);
  });

  it('minUptime: retryCount starts again from 0 only once a connection stayed open that long', async () => {
    const gate = await switchableServer();
    const socket = create(Class, gate.server.url, undefined, { minReconnectionDelay: 20, minUptime: 200 });
    const events = record(socket);
    await events.waitFor('error', 2);
    gate.refusing = false;
    await events.waitFor('open');
    expect(socket.retryCount).toBe(2);
    await sleep(100);
    expect(socket.retryCount).toBe(2);
    await waitFor(() => socket.retryCount === 0, 1_000);
  });

  it('a drop before minUptime keeps growing the delay; after it, the next retry waits minReconnectionDelay again', async () => {
    const server = await startServer();
    // A factor of 10 keeps the two delays far apart, so a busy machine cannot blur them; the cap is raised above
    // the second (FAST caps every delay at 200 ms).
    const socket = create(Class, server.url, undefined, { minReconnectionDelay: 60, reconnectionDelayGrowFactor: 10, maxReconnectionDelay: 2_000, minUptime: 150 });
    const events = record(socket);
    await events.waitFor('open');
    // Stable (attempt 0): the drop's retry is retry 1, after 60 ms.
    await sleep(200);
    const dropped = Date.now();
    for (const ws of server.clients) ws.terminate();
    await events.waitFor('open', 2);
    const first = Date.now() - dropped;
    // At once again: still retry 1 (nothing stable yet), so the next is retry 2, after 600 ms.
    const droppedAgain = Date.now();
    for (const ws of server.clients) ws.terminate();
    await events.waitFor('open', 3);
    const second = Date.now() - droppedAgain;
    expect(first).toBeGreaterThanOrEqual(58);
    expect(first).toBeLessThan(598);
    expect(second).toBeGreaterThanOrEqual(598);
  });

  it("connectionTimeout: an attempt not open in time fails with an error 'TIMEOUT' and a close, and is retried; no crash", async () => {
    const stall = await startStallServer();
    const socket = create(Class, stall.url, undefined, { connectionTimeout: 100, minReconnectionDelay: 30 });
    const events = record(socket);
    const started = Date.now();
    await events.waitFor('error');
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    // As the originals report it: a clean close with reason 'timeout', then the error.
    expect(events.types()).toEqual(['close', 'error']);
    expect(events.of('error')[0]).toMatchObject({ message: 'TIMEOUT' });
    expect(events.of('close')[0]).toMatchObject({ code: 1000, reason: 'timeout', wasClean: true });
    await waitFor(() => stall.sockets >= 3, 2_000);
    // The torn-down attempts are closed at our end, not left to ws's own timers.
    await waitFor(() => stall.closedSockets >= 2, 2_000);
  });

  it('maxRetries: gives up after that many retries (CLOSED, no more attempts); reconnect() starts again', async () => {
    const gate = await switchableServer();
    const socket = create(Class, gate.server.url, undefined, { minReconnectionDelay: 20, maxRetries: 2 });
    const events = record(socket);
    await events.waitFor('close', 3);
    await sleep(150);
    expect(events.of('close')).toHaveLength(3);
    expect(socket.readyState).toBe(CLOSED);
    expect(socket.retryCount).toBe(2);
    gate.refusing = false;
    socket.reconnect();
    expect(socket.retryCount).toBe(0);
    await events.waitFor('open');
    expect(socket.readyState).toBe(OPEN);
  });

  it('maxRetries 0: no retry at all', async () => {
    const refusing = await startRefusingServer();
    const socket = create(Class, refusing.url, undefined, { minReconnectionDelay: 10, maxRetries: 0 });
    const events = record(socket);
    await events.waitFor('close');
    await sleep(100);
    expect(refusing.attempts).toBe(1);
    expect(socket.readyState).toBe(CLOSED);
  });

  it('startClosed: no connection until reconnect()', async () => {
    const server = await startServer();
    const socket = create(Class, server.url, undefined, { startClosed: true });
    const events = record(socket);
    await sleep(80);
    expect(server.connections).toBe(0);
    expect(socket.readyState).toBe(CLOSED);
    expect(events.types()).toEqual([]);
    socket.reconnect();
    await events.waitFor('open');
    expect(events.types()).toEqual(['open']);
  });

  it('shouldReconnectOnClose: gets the close event; false means no retry, reconnect() still works', async () => {
    const server = await startServer();
    const seen: Array<{ code: number; reason: string }> = [];
    const socket = create(Class, server.url, undefined, {
      shouldReconnectOnClose: (event) => {
        seen.push({ code: event.code, reason: event.reason });
        return event.code !== 4001;
      },
    });
    const events = record(socket);
    await events.waitFor('open');
    for (const ws of server.clients) ws.close(4002, 'retry me');
    await events.waitFor('open', 2);
    for (const ws of server.clients) ws.close(4001, 'stop');
    await events.waitFor('close', 2);
    await sleep(150);
    if (name === 'reconnecting-websocket') {
      // reconnecting-websocket has no such option: every close is retried.
      expect(seen).toEqual([]);
      await waitFor(() => server.connections === 3);
      return;
    }
    expect(seen).toEqual([
      { code: 4002, reason: 'retry me' },
      { code: 4001, reason: 'stop' },
    ]);
    expect(server.connections).toBe(2);
    expect(socket.readyState).toBe(CLOSED);
    socket.reconnect();
    await events.waitFor('open', 3);
  });

  it('without shouldReconnectOnClose every close is retried, whatever its code (1008 included)', async () => {
    const server = await startServer();
    const socket = create(Class, server.url);
    const events = record(socket);
    await events.waitFor('open');
    for (const ws of server.clients) ws.close(1008, 'policy');
    await events.waitFor('open', 2);
    expect(events.of('close')[0]).toMatchObject({ code: 1008, reason: 'policy' });
  });

  it('debug with debugLogger: lines prefixed RWS>; debug alone logs to console.log; off by default', async () => {
    const server = await startServer();
    const lines: unknown[][] = [];
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const a = create(Class, server.url, undefined, { debug: true, debugLogger: (...args: unknown[]) => lines.push(args) });
    const b = create(Class, server.url, undefined, { debug: true });
    const c = create(Class, server.url);
    await waitFor(() => [a, b, c].every((socket) => socket.readyState === OPEN));
    a.close();
    b.close();
    c.close();
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((args) => args[0] === 'RWS>')).toBe(true);
    expect(lines.some((args) => args[1] === 'connect' && args[2] === 0)).toBe(true);
    const fromB = log.mock.calls.filter((args) => args[0] === 'RWS>');
    expect(fromB.length).toBeGreaterThan(0);
    // c logged nothing: every console.log line came from b, one per line a logged for the same steps.
    expect(log.mock.calls.every((args) => args[0] === 'RWS>')).toBe(true);
  });

  it('WebSocket: the class given is used; without it the global WebSocket', async () => {
    const server = await startServer();
    const made: string[] = [];
    class Given extends WS {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        made.push('given');
      }
    }
    class Global extends WS {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        made.push('global');
      }
    }
    const a = create(Class, server.url, undefined, { WebSocket: Given });
    await waitFor(() => a.readyState === OPEN);
    vi.stubGlobal('WebSocket', Global);
    try {
      const b = create(Class, server.url, undefined, { WebSocket: undefined });
      await waitFor(() => b.readyState === OPEN);
    } finally {
      vi.unstubAllGlobals();
    }
    expect(made).toEqual(['given', 'global']);
    expect(server.connections).toBe(2);
  });
});
