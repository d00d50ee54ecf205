import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_AUTH_REFUSALS, MAX_RETRY_AFTER_MS, ReconnectingSocket, defaultShouldReconnect, type CloseRecord, type ReconnectingSocketOptions } from '../../src/index.js';
import { retryAfter } from '../../src/platform.js';

const retryAfterMs = (header: unknown, now?: number) => retryAfter(header, now).retryAfterMs;
import { FakeSocket, FakeWsSocket, createQuietSocket, flushMicrotasks, useFakeSockets } from '../helpers/fake-socket.js';

// Issue "Node services": transport options, what a refused upgrade says, and the retry hints a server gives.
// The network behaviour is tested on real servers in test/transport; this is the policy and the plumbing.

const created = useFakeSockets<ReconnectingSocket<any, any>>();
afterEach(() => vi.restoreAllMocks());

const refused = (status: number, extra: Partial<CloseRecord> = {}): CloseRecord => ({ code: 1006, reason: '', wasClean: false, cause: 'refused', status, ...extra });

/** The server refuses the upgrade the way ws reports it: an `unexpected-response` with the HTTP response. */
function refuse(fake: FakeSocket, status: number, headers: Record<string, string> = {}): void {
  (fake as any).emit('unexpected-response', {}, { statusCode: status, headers });
}

async function start(options: ReconnectingSocketOptions<any, any> = {}) {
  const { socket } = createQuietSocket(created, { initialDelayMs: 100, maxDelayMs: 1000, ...options }, FakeWsSocket);
  const closes: any[] = [];
  socket.on('close', (event) => closes.push(event));
  socket.on('error', () => {});
  await flushMicrotasks();
  return { socket, closes };
}

describe('the default policy for refused upgrades', () => {
  it('401/403/407 retry until MAX_AUTH_REFUSALS in a row; 404 and other 4xx stop; 408, 429 and 5xx retry', () => {
    expect(MAX_AUTH_REFUSALS).toBe(3);
    expect(defaultShouldReconnect(refused(401, { refusals: 1 }))).toBe(true);
    expect(defaultShouldReconnect(refused(403, { refusals: 2 }))).toBe(true);
    expect(defaultShouldReconnect(refused(401, { refusals: 3 }))).toBe(false);
    expect(defaultShouldReconnect(refused(407, { refusals: 1 }))).toBe(true);
    expect(defaultShouldReconnect(refused(407, { refusals: 3 }))).toBe(false);
    for (const status of [301, 302, 308, 400, 404, 405, 410, 426]) expect(defaultShouldReconnect(refused(status)), String(status)).toBe(false);
    for (const status of [408, 429, 500, 502, 503, 504]) expect(defaultShouldReconnect(refused(status)), String(status)).toBe(true);
  });

  it('Retry-After is read in seconds and as an HTTP date', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(retryAfterMs(new Date(1_000).toUTCString(), 4_000)).toBe(0);
    expect(retryAfterMs(undefined)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});

describe('a refused upgrade through the socket', () => {
  it('503 with Retry-After: a close record with status and retryAfterMs, and the next attempt no sooner', async () => {
    const { socket, closes } = await start();
    refuse(FakeSocket.latest(), 503, { 'retry-after': '3' });
    expect(closes).toMatchObject([{ code: 1006, cause: 'refused', status: 503, retryAfterMs: 3000, willReconnect: true, delayMs: 3000 }]);
    expect(closes[0].error).toMatchObject({ code: 'SOCKET_ERROR', message: expect.stringContaining('503') });
    expect((FakeSocket.latest() as FakeWsSocket).terminateCalls).toBe(1);
    vi.advanceTimersByTime(2999);
    expect(FakeSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.instances).toHaveLength(2);
    socket.dispose();
  });

  it('Retry-After is capped at MAX_RETRY_AFTER_MS, and ignored for a 500', async () => {
    const { closes } = await start();
    refuse(FakeSocket.latest(), 429, { 'retry-after': '86400' });
    expect(closes[0].delayMs).toBe(MAX_RETRY_AFTER_MS);
    vi.advanceTimersByTime(MAX_RETRY_AFTER_MS);
    await flushMicrotasks();
    refuse(FakeSocket.latest(), 500, { 'retry-after': '60' });
    expect(closes[1].delayMs).toBeLessThanOrEqual(1000);
  });

  it('three 401s in a row, the url provider called again each time, then closed for good', async () => {
    let calls = 0;
    const socket = new ReconnectingSocket<any, any>(() => `ws://example.test/feed?token=${++calls}`, {
      WebSocket: FakeWsSocket,
      environment: null,
      heartbeat: false,
      jitter: false,
      initialDelayMs: 10,
    });
    created.push(socket);
    socket.on('error', () => {});
    await flushMicrotasks();
    for (let i = 1; i <= 3; i++) {
      refuse(FakeSocket.latest(), 401);
      vi.advanceTimersByTime(1000);
      await flushMicrotasks();
    }
    expect(FakeSocket.instances.map((fake) => fake.url)).toEqual([1, 2, 3].map((n) => `ws://example.test/feed?token=${n}`));
    await expect(socket.closed).resolves.toMatchObject({ cause: 'refused', status: 401, refusals: 3 });
  });

  it('an open resets the count of refusals', async () => {
    const { closes } = await start();
    refuse(FakeSocket.latest(), 401);
    vi.advanceTimersByTime(1000);
    FakeSocket.latest().serverOpen();
    FakeSocket.latest().serverDrop();
    vi.advanceTimersByTime(1000);
    refuse(FakeSocket.latest(), 403);
    expect(closes.filter((c) => c.cause === 'refused').map((c) => c.refusals)).toEqual([1, 1]);
  });

  it('delay(attempt, close) and shouldReconnect(close) see the status and Retry-After', async () => {
    const delay = vi.fn(() => 42);
    const shouldReconnect = vi.fn(() => true);
    const { closes } = await start({ delay, shouldReconnect });
    refuse(FakeSocket.latest(), 404, { 'retry-after': '2' });
    expect(shouldReconnect).toHaveBeenCalledWith(expect.objectContaining({ status: 404, retryAfterMs: 2000 }));
    expect(delay).toHaveBeenCalledWith(1, expect.objectContaining({ status: 404, retryAfterMs: 2000 }));
    expect(closes[0]).toMatchObject({ willReconnect: true, delayMs: 42 });
  });
});

describe('what a closing server says', () => {
  it('1013 (try again later) waits at least maxDelayMs', async () => {
    const { closes } = await start({ maxDelayMs: 5000 });
    FakeSocket.latest().serverOpen();
    FakeSocket.latest().serverClose(1013);
    expect(closes[0]).toMatchObject({ code: 1013, willReconnect: true, delayMs: 5000 });
  });
});

describe('the transport option', () => {
  it('reaches the ws constructor, merged with headers, with maxMessageBytes as maxPayload', async () => {
    const agent = { name: 'proxy agent' };
    await start({ transport: { agent, rejectUnauthorized: false, headers: { a: '1' } }, headers: { b: '2' }, maxMessageBytes: 4096 });
    expect(FakeSocket.latest().handshake).toEqual({ agent, rejectUnauthorized: false, headers: { a: '1', b: '2' }, maxPayload: 4096 });
  });

  it('transport.maxPayload wins over maxMessageBytes; a provider is called per attempt with { signal, attempt }', async () => {
    const transport = vi.fn(async ({ attempt }: { attempt: number }) => ({ maxPayload: 10 + attempt }));
    const { socket } = await start({ transport, maxMessageBytes: 4096 });
    await flushMicrotasks();
    expect(FakeSocket.latest().handshake).toEqual({ maxPayload: 10 });
    expect(transport).toHaveBeenCalledWith(expect.objectContaining({ attempt: 0, signal: expect.any(AbortSignal) }));
    socket.reconnect();
    await flushMicrotasks();
    expect(transport).toHaveBeenCalledTimes(2);
    expect(FakeSocket.instances).toHaveLength(2);
    expect(FakeSocket.latest().handshake).toEqual({ maxPayload: 10 });
  });

  it('a browser WebSocket takes no options: one warning, however many attempts', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { socket } = createQuietSocket(created, { transport: { rejectUnauthorized: false } }, FakeSocket);
    for (let i = 0; i < 3; i++) {
      await flushMicrotasks();
      expect(FakeSocket.latest().handshake).toBeUndefined();
      socket.reconnect();
    }
    expect(warn.mock.calls.filter(([text]) => String(text).includes('transport ignored'))).toHaveLength(1);
  });

  it('bad values are refused, naming the option', () => {
    expect(() => new ReconnectingSocket('ws://example.test', { autoConnect: false, transport: 'proxy' as any })).toThrow(/"transport"/);
    expect(() => new ReconnectingSocket('ws://example.test', { autoConnect: false, maxMessageBytes: 0 })).toThrow(/"maxMessageBytes"/);
  });
});

describe('maxMessageBytes where the implementation cannot enforce it (browsers)', () => {
  it('a larger message ends the connection with 1009, cause protocol, and no reconnect; one at the limit is delivered', async () => {
    const { socket } = createQuietSocket(created, { maxMessageBytes: 4 }, FakeSocket);
    const messages: unknown[] = [];
    const closes: any[] = [];
    socket.on('message', ({ data }) => messages.push(data));
    socket.on('close', (event) => closes.push(event));
    socket.on('error', () => {});
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    FakeSocket.latest().serverMessage('abcd');
    FakeSocket.latest().serverMessage('abcde');
    expect(messages).toEqual(['abcd']);
    expect(closes).toMatchObject([{ code: 1009, cause: 'protocol', willReconnect: false }]);
    expect(socket.state).toBe('closed');
  });
});
