import { describe, expect, it } from 'vitest';
import { SocketError, type CloseRecord, type ProviderContext, opened } from '../../src/index.js';
import { countResources, expectNothingLeaked } from '../helpers/chaos-servers.js';
import { startGateServer, type GateDecision } from '../helpers/gate-server.js';
import { trackUnhandledRejections } from '../helpers/messaging.js';
import { nextEvent, recordEvents, sleep, waitFor } from '../helpers/servers.js';
import { FAST, socketFactory } from '../helpers/socket.js';

// A server may refuse the upgrade with an HTTP status instead of 101 (issue #13). The close record then says so
// (cause 'refused', the status, the Retry-After), and the default policy acts on the status: credentials may be
// fresh on the next attempt (401, 403; three in a row is enough), a client error will not change by retrying
// (404 and most 4xx), and an overloaded server is given the time it asked for (429, 503 with Retry-After).
// Timings are measured on the server, between the upgrade requests it receives.

trackUnhandledRejections();
// Every refusal is an error; tests that do not record them keep them off the console.
const createSocket = socketFactory({ ...FAST, debug: () => {} });

/** FAST's curve (50 ms doubling up to 200 ms, no jitter). */
const CURVE = [50, 100, 200];
/** Timers never fire early; a ms of clock granularity on each side. */
const EARLY_MS = 5;
/** How late a retry on the curve may come on a loaded machine: far below any Retry-After used here. */
const LATE_MS = 400;
/** How long to watch for a retry that must not come: several times the longest backoff of CURVE. */
const NO_RETRY_WINDOW_MS = 400;
/** The default policy's longest wait for a Retry-After. */
const RETRY_AFTER_CAP_MS = 5 * 60_000;

const refuse = (status: number, headers?: Record<string, string>): GateDecision => ({ status, ...(headers && { headers }) });

/** An HTTP date (second resolution) at least `ms` from now. */
function httpDateIn(ms: number): string {
  return new Date(Math.ceil((Date.now() + ms) / 1000) * 1000).toUTCString();
}

function expectRefusedRecord(close: CloseRecord, status: number): void {
  expect(close).toMatchObject({ code: 1006, wasClean: false, cause: 'refused', status });
  expect(close.error).toBeInstanceOf(SocketError);
  expect(close.error?.code).toBe('SOCKET_ERROR');
  expect(close.error?.message).toMatch(new RegExp(`\\b${status}\\b`));
}

/** Each gap at least its planned delay, and not much later. */
function expectGapsOnCurve(gaps: number[], delays: number[]): void {
  expect(gaps).toHaveLength(delays.length);
  gaps.forEach((gap, i) => {
    expect(gap, `gap ${i + 1}`).toBeGreaterThanOrEqual(delays[i]! - EARLY_MS);
    expect(gap, `gap ${i + 1}`).toBeLessThan(delays[i]! + LATE_MS);
  });
}

describe('the close record of a refused upgrade', () => {
  it.each([401, 403, 404, 429, 500, 503])('%i: code 1006, cause refused, the status, a SOCKET_ERROR naming it, no retryAfterMs', async (status) => {
    const gate = await startGateServer(() => refuse(status));
    const socket = createSocket(gate.url, { maxRetries: 0 });
    const log = recordEvents(socket);

    const final = await socket.closed;
    expectRefusedRecord(final, status);
    expect(final).not.toHaveProperty('retryAfterMs');
    const [close] = log.of('close');
    expectRefusedRecord(close, status);
    expect(close.willReconnect).toBe(false);
    const errors = log.of('error').map((event) => event.error);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBe(close.error);
    expect(socket.lastClose).toMatchObject({ cause: 'refused', status });
    expect(log.of('open')).toEqual([]);
    expect(gate.attempts).toBe(1);
  });

  it('the record survives JSON (status, retryAfterMs and the error code kept)', async () => {
    const gate = await startGateServer(() => refuse(503, { 'Retry-After': '1' }));
    const socket = createSocket(gate.url, { maxRetries: 0 });
    const final = await socket.closed;
    const copy = JSON.parse(JSON.stringify(final));
    expect(copy).toMatchObject({ code: 1006, cause: 'refused', status: 503, retryAfterMs: 1_000, error: { code: 'SOCKET_ERROR' } });
  });
});

describe('the default policy', () => {
  it.each([400, 404, 405, 410, 422])('%i does not reconnect: one attempt, then closed for good', async (status) => {
    const gate = await startGateServer(() => refuse(status));
    const socket = createSocket(gate.url);
    const log = recordEvents(socket);

    const final = await socket.closed;
    expectRefusedRecord(final, status);
    expect(log.of('close').map((close) => [close.willReconnect, close.delayMs])).toEqual([[false, undefined]]);
    expect(socket.state).toBe('closed');
    expect(socket.retry).toBeUndefined();
    await expect(opened(socket)).rejects.toMatchObject({ code: 'CLOSED' });
    await sleep(NO_RETRY_WINDOW_MS);
    expect(gate.attempts).toBe(1);
    expect(log.of('reconnecting')).toEqual([]);
  });

  it.each([408, 429, 500, 502, 503])('%i without Retry-After reconnects on the normal curve', async (status) => {
    const gate = await startGateServer(() => refuse(status));
    const socket = createSocket(gate.url, { maxRetries: 3 });
    const log = recordEvents(socket);

    const final = await socket.closed;
    expectRefusedRecord(final, status);
    expect(log.of('close').map((close) => [close.willReconnect, close.delayMs])).toEqual([...CURVE.map((delayMs) => [true, delayMs]), [false, undefined]]);
    for (const close of log.of('close')) expect(close).not.toHaveProperty('retryAfterMs');
    expect(log.of('reconnecting').map((event) => event.delayMs)).toEqual(CURVE);
    expect(gate.attempts).toBe(4);
    expectGapsOnCurve(gate.gaps(), CURVE);
  });

  it.each([401, 403])('%i reconnects on the curve, and three in a row close the socket for good (refusals 1, 2, 3)', async (status) => {
    const gate = await startGateServer(() => refuse(status));
    const socket = createSocket(gate.url);
    const log = recordEvents(socket);

    const final = await socket.closed;
    expectRefusedRecord(final, status);
    expect(final.refusals).toBe(3);
    const closes = log.of('close');
    expect(closes.map((close) => [close.refusals, close.willReconnect, close.delayMs])).toEqual([
      [1, true, CURVE[0]],
      [2, true, CURVE[1]],
      [3, false, undefined],
    ]);
    expectGapsOnCurve(gate.gaps(), CURVE.slice(0, 2));
    await sleep(NO_RETRY_WINDOW_MS);
    expect(gate.attempts).toBe(3);
    expect(socket.state).toBe('closed');
  });

  it('401 and 403 count together: 401, 403, 401 closes for good', async () => {
    const statuses = [401, 403, 401];
    const gate = await startGateServer((_req, index) => refuse(statuses[index] ?? 401));
    const socket = createSocket(gate.url);
    const final = await socket.closed;
    expect(final).toMatchObject({ cause: 'refused', status: 401, refusals: 3 });
    expect(gate.attempts).toBe(3);
  });

  it('an open connection ends the run of refusals: 401, 401, open, 401, 401, open', async () => {
    const plan: GateDecision[] = [refuse(401), refuse(401), 'accept', refuse(401), refuse(401), 'accept'];
    const gate = await startGateServer(
      (_req, index) => plan[index] ?? 'accept',
      // The first accepted connection is told to come back later (1012 reconnects).
      (ws, index) => index === 2 && ws.close(1012, 'restart'),
    );
    const socket = createSocket(gate.url);
    const log = recordEvents(socket);
    await waitFor(() => log.of('open').length === 2, 5_000, 'two opens');

    expect(log.of('close').map((close) => [close.status, close.refusals])).toEqual([
      [401, 1],
      [401, 2],
      [undefined, undefined],
      [401, 1],
      [401, 2],
    ]);
    expect(log.of('close')[2]).toMatchObject({ code: 1012, cause: 'server', willReconnect: true });
    expect(socket.state).toBe('open');
  });
});

describe('Retry-After', () => {
  it.each([429, 503])('%i with Retry-After: 1 (seconds): retryAfterMs 1000, and the next attempt no sooner', async (status) => {
    const gate = await startGateServer((_req, index) => (index === 0 ? refuse(status, { 'Retry-After': '1' }) : 'accept'));
    const socket = createSocket(gate.url);
    const log = recordEvents(socket);
    const [close] = await Promise.all([nextEvent(socket, 'close'), opened(socket, { timeoutMs: 5_000 })]);

    expectRefusedRecord(close, status);
    expect(close.retryAfterMs).toBe(1_000);
    expect(close.willReconnect).toBe(true);
    expect(close.delayMs).toBeGreaterThanOrEqual(1_000);
    expect(close.delayMs).toBeLessThanOrEqual(1_000 + CURVE[0]!);
    expect(log.of('reconnecting')).toEqual([{ attempt: 1, delayMs: close.delayMs }]);
    expect(gate.attempts).toBe(2);
    const [gap] = gate.gaps();
    expect(gap).toBeGreaterThanOrEqual(1_000 - EARLY_MS);
    expect(gap).toBeLessThan(close.delayMs! + LATE_MS);
  });

  it('429 with Retry-After as an HTTP date: retryAfterMs from the date, and the next attempt no sooner', async () => {
    const gate = await startGateServer((_req, index) => (index === 0 ? refuse(429, { 'Retry-After': httpDateIn(1_500) }) : 'accept'));
    const socket = createSocket(gate.url);
    const [close] = await Promise.all([nextEvent(socket, 'close'), opened(socket, { timeoutMs: 6_000 })]);

    expectRefusedRecord(close, 429);
    // The date is 1.5 to 2.5 s ahead of the server's clock; its own Date header, second resolution, may be behind.
    expect(close.retryAfterMs).toBeGreaterThanOrEqual(1_000);
    expect(close.retryAfterMs).toBeLessThanOrEqual(3_000);
    expect(close.delayMs).toBeGreaterThanOrEqual(close.retryAfterMs!);
    const [gap] = gate.gaps();
    expect(gap).toBeGreaterThanOrEqual(close.retryAfterMs! - EARLY_MS);
    expect(gap).toBeLessThan(close.delayMs! + LATE_MS);
  });

  it('503 with Retry-After as an HTTP date, 1 to 2 s ahead: the next attempt comes after it', async () => {
    const gate = await startGateServer((_req, index) => (index === 0 ? refuse(503, { 'Retry-After': httpDateIn(1_000) }) : 'accept'));
    const socket = createSocket(gate.url);
    const [close] = await Promise.all([nextEvent(socket, 'close'), opened(socket, { timeoutMs: 6_000 })]);
    expect(close.retryAfterMs).toBeGreaterThanOrEqual(500);
    expect(gate.gaps()[0]).toBeGreaterThanOrEqual(close.retryAfterMs! - EARLY_MS);
  });

  it('a Retry-After over 5 minutes is capped at 5 minutes', async () => {
    const gate = await startGateServer(() => refuse(503, { 'Retry-After': '3600' }));
    const socket = createSocket(gate.url);
    const close = await nextEvent(socket, 'close');

    expect(close.retryAfterMs).toBe(3_600_000);
    expect(close).toMatchObject({ willReconnect: true, delayMs: RETRY_AFTER_CAP_MS });
    expect(socket.retry).toEqual({ attempt: 1, delayMs: RETRY_AFTER_CAP_MS });
    socket.dispose();
    expect(gate.attempts).toBe(1);
  });

  it('500 with a Retry-After: the record carries it, but the next attempt follows the curve', async () => {
    const gate = await startGateServer((_req, index) => (index === 0 ? refuse(500, { 'Retry-After': '2' }) : 'accept'));
    const socket = createSocket(gate.url);
    const [close] = await Promise.all([nextEvent(socket, 'close'), opened(socket, { timeoutMs: 3_000 })]);

    expectRefusedRecord(close, 500);
    expect(close.retryAfterMs).toBe(2_000);
    expect(close).toMatchObject({ willReconnect: true, delayMs: CURVE[0] });
    expectGapsOnCurve(gate.gaps(), [CURVE[0]!]);
  });

  it('a Retry-After that is neither seconds nor a date is ignored: no retryAfterMs, the curve', async () => {
    const gate = await startGateServer((_req, index) => (index === 0 ? refuse(503, { 'Retry-After': 'soon' }) : 'accept'));
    const socket = createSocket(gate.url);
    const [close] = await Promise.all([nextEvent(socket, 'close'), opened(socket, { timeoutMs: 3_000 })]);

    expectRefusedRecord(close, 503);
    expect(close).not.toHaveProperty('retryAfterMs');
    expect(close).toMatchObject({ willReconnect: true, delayMs: CURVE[0] });
    expectGapsOnCurve(gate.gaps(), [CURVE[0]!]);
  });
});

describe('fresh credentials on the next attempt', () => {
  it('401, then the url provider returns a new token: the server accepts it and the socket opens', async () => {
    const gate = await startGateServer((req) => (new URL(req.url ?? '/', 'ws://x').searchParams.get('token') === 'fresh' ? 'accept' : refuse(401)));
    const contexts: ProviderContext[] = [];
    const socket = createSocket(({ attempt, signal }: ProviderContext) => {
      contexts.push({ attempt, signal });
      return `${gate.url}/?token=${attempt === 0 ? 'stale' : 'fresh'}`;
    });
    const log = recordEvents(socket);
    await opened(socket, { timeoutMs: 3_000 });

    expect(gate.requests.map((request) => [request.path, request.status])).toEqual([
      ['/?token=stale', 401],
      ['/?token=fresh', 101],
    ]);
    expect(contexts.map((context) => context.attempt)).toEqual([0, 1]);
    const [close] = log.of('close');
    expectRefusedRecord(close, 401);
    expect(close).toMatchObject({ refusals: 1, willReconnect: true, delayMs: CURVE[0] });
    // The token is in the query string: it never appears in the error.
    expect(close.error?.message).not.toContain('stale');
    expect(socket.send('authorised')).toBe('sent');
    expect((await nextEvent(socket, 'message')).data).toBe('authorised');
  });

  it('the headers and transport providers are called again too: a fresh Authorization header opens the socket', async () => {
    const gate = await startGateServer((req) => (req.headers.authorization === 'Bearer token-2' ? 'accept' : refuse(403)));
    let headerCalls = 0;
    const transportAttempts: number[] = [];
    const socket = createSocket(gate.url, {
      headers: () => ({ authorization: `Bearer token-${++headerCalls}` }),
      transport: ({ attempt }: ProviderContext) => {
        transportAttempts.push(attempt);
        return { handshakeTimeout: 2_000 };
      },
    });
    const log = recordEvents(socket);
    await opened(socket, { timeoutMs: 3_000 });

    expect(headerCalls).toBe(2);
    expect(transportAttempts).toEqual([0, 1]);
    expect(gate.requests.map((request) => [request.headers.authorization, request.status])).toEqual([
      ['Bearer token-1', 403],
      ['Bearer token-2', 101],
    ]);
    expect(log.of('close')[0]).toMatchObject({ cause: 'refused', status: 403, refusals: 1, willReconnect: true });
  });

  it('three 401s in a row: closed for good with cause refused, status 401, refusals 3; no fourth attempt', async () => {
    const gate = await startGateServer(() => refuse(401));
    const before = await countResources();
    let urlCalls = 0;
    const socket = createSocket(() => (urlCalls++, `${gate.url}/?token=${urlCalls}`));
    const log = recordEvents(socket);
    expect(socket.send('held')).toBe('queued');

    const final = await socket.closed;
    expect(final).toMatchObject({ code: 1006, cause: 'refused', status: 401, refusals: 3 });
    expect(final.error?.code).toBe('SOCKET_ERROR');
    await expect(opened(socket)).rejects.toMatchObject({ code: 'CLOSED', close: { status: 401, refusals: 3 } });
    expect(urlCalls).toBe(3);
    expect(gate.requests.map((request) => request.path)).toEqual(['/?token=1', '/?token=2', '/?token=3']);
    // README: when the policy gives up, the queue is kept for a later connect().
    expect(socket.queued.map((item) => item.message)).toEqual(['held']);
    expect(log.of('drop')).toEqual([]);
    await sleep(NO_RETRY_WINDOW_MS);
    expect(gate.attempts).toBe(3);
    expect(log.of('close')).toHaveLength(3);
    // Closed for good: no retry timer and no TCP connection left behind.
    await expectNothingLeaked(before);
  });
});

describe('a custom policy sees the refusal', () => {
  it('shouldReconnect(close) gets status and retryAfterMs, and its answer is obeyed', async () => {
    const gate = await startGateServer(() => refuse(503, { 'Retry-After': '1' }));
    const seen: CloseRecord[] = [];
    const socket = createSocket(gate.url, {
      shouldReconnect: (close) => {
        seen.push(close);
        return false;
      },
    });
    const final = await socket.closed;

    expect(seen).toHaveLength(1);
    expectRefusedRecord(seen[0]!, 503);
    expect(seen[0]!.retryAfterMs).toBe(1_000);
    expect(final).toMatchObject({ cause: 'refused', status: 503, retryAfterMs: 1_000 });
    expect(gate.attempts).toBe(1);
  });

  it('a shouldReconnect that retries a 404 overrides the default table', async () => {
    const gate = await startGateServer(() => refuse(404));
    const socket = createSocket(gate.url, { shouldReconnect: (close) => close.status === 404, maxRetries: 2 });
    const final = await socket.closed;
    expect(final).toMatchObject({ cause: 'refused', status: 404 });
    expect(gate.attempts).toBe(3);
  });

  it('delay(attempt, close) gets the close record of the attempt that failed, status and retryAfterMs included', async () => {
    const plan: GateDecision[] = [refuse(429, { 'Retry-After': '1' }), refuse(500), 'accept'];
    const gate = await startGateServer((_req, index) => plan[index] ?? 'accept');
    const calls: Array<{ attempt: number; close: CloseRecord }> = [];
    const socket = createSocket(gate.url, {
      delay: (attempt, close) => {
        calls.push({ attempt, close });
        return 10;
      },
    });
    await opened(socket, { timeoutMs: 5_000 });

    expect(calls.map(({ attempt, close }) => [attempt, close.cause, close.status, close.retryAfterMs])).toEqual([
      [1, 'refused', 429, 1_000],
      [2, 'refused', 500, undefined],
    ]);
    expect(gate.attempts).toBe(3);
  });
});
