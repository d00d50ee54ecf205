import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ReconnectingSocket, type CloseRecord } from '../../src/index.js';
import { closeOnce, destroyAll, HOST, listenOnLoopback, trackSockets } from '../helpers/listen.js';
import { sleep, waitFor } from '../helpers/servers.js';
import { FAST, socketFactory } from '../helpers/socket.js';
import { cleanup } from '../helpers/teardown.js';

// Second adversarial review: refused upgrades against a real `ws` client, with user code that calls back in.

const createSocket = socketFactory(FAST);

/** An HTTP server that refuses every upgrade with `status` and `headers`, after `delayMs`. */
async function refuse(status: number, headers: Record<string, string> = {}, delayMs = 0) {
  let attempts = 0;
  const http = createServer((_req, res) => res.writeHead(status).end());
  const sockets = trackSockets(http);
  http.on('upgrade', (_req, socket) => {
    attempts++;
    socket.on('error', () => {});
    const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    setTimeout(() => socket.end(`HTTP/1.1 ${status} No\r\nConnection: close\r\nContent-Length: 0\r\n${lines}\r\n`), delayMs);
  });
  const port = await listenOnLoopback(http);
  const close = closeOnce(http, () => destroyAll(sockets));
  cleanup(close);
  return { url: `ws://${HOST}:${port}`, get attempts() { return attempts; } };
}

function closes(socket: ReconnectingSocket<any, any>) {
  const list: CloseRecord[] = [];
  socket.on('close', (c) => list.push(c));
  return list;
}

describe('refused upgrades and re-entrant user code (real ws)', () => {
  it('an error listener that calls close() on a refusal: one close event, close() settles, no retry', async () => {
    const server = await refuse(503);
    const socket = createSocket(server.url);
    const seen = closes(socket);
    let closing: Promise<CloseRecord> | undefined;
    socket.on('error', () => (closing ??= socket.close()));
    await waitFor(() => closing, 3000, 'the refusal');
    // The error goes out once the refusal has ended the attempt: close() stops the planned retry.
    const record = await closing!;
    expect(record).toMatchObject({ cause: 'refused', status: 503 });
    await sleep(150);
    expect(seen).toHaveLength(1);
    expect(server.attempts).toBe(1);
    expect(socket.state).toBe('closed');
  });

  it('an error listener that calls reconnect() on each refusal: one close event per attempt, no leaked sockets', async () => {
    const server = await refuse(503);
    const socket = createSocket(server.url);
    const seen = closes(socket);
    let n = 0;
    socket.on('error', () => n++ < 3 && socket.reconnect());
    await waitFor(() => server.attempts >= 5, 3000, 'five attempts');
    await socket.close();
    await sleep(100);
    const attempts = server.attempts;
    expect(seen.length).toBe(attempts);
    // Each refusal had ended its attempt before its error went out: reconnect() starts the next one at once, and
    // no close says `reconnect`. The last close may be close()'s own, when it caught an attempt on its way (`client`).
    const causes = seen.map((c) => c.cause);
    expect(causes.slice(0, -1)).toEqual(causes.slice(0, -1).map(() => 'refused'));
    expect(['refused', 'client']).toContain(causes.at(-1));

  });

  it('an error listener that disposes on a refusal: one close event, nothing afterwards', async () => {
    const server = await refuse(401);
    const socket = createSocket(server.url);
    const seen = closes(socket);
    socket.on('error', () => socket.dispose());
    await waitFor(() => socket.isDisposed, 3000, 'dispose');
    await sleep(150);
    expect(seen.map((c) => c.cause)).toEqual(['refused']);
    expect(server.attempts).toBe(1);
  });

  it('close() while the refusal is on its way settles at once and the late refusal changes nothing', async () => {
    const server = await refuse(503, { 'Retry-After': '1' }, 150);
    const socket = createSocket(server.url);
    const seen = closes(socket);
    await waitFor(() => server.attempts === 1, 3000, 'the attempt');
    const started = Date.now();
    const record = await socket.close();
    expect(Date.now() - started).toBeLessThan(100);
    expect(record.cause).toBe('client');
    await sleep(250);
    expect(seen).toHaveLength(1);
    expect(socket.lastClose?.cause).toBe('client');
  });

  it('Retry-After that is garbage, negative or huge: garbage and negative mean the curve, huge is capped', async () => {
    for (const [value, check] of [
      ['soon', (ms: number) => ms <= 50],
      ['-5', (ms: number) => ms <= 50],
      ['99999999999999999999999', (ms: number) => ms === 300_000],
    ] as const) {
      const server = await refuse(429, { 'Retry-After': value });
      const socket = createSocket(server.url, { initialDelayMs: 50 });
      const plan = await new Promise<{ delayMs: number }>((resolve) => socket.once('reconnecting', resolve));
      expect(check(plan.delayMs), `${value}: ${plan.delayMs}`).toBe(true);
      socket.dispose();
    }
  });

  it('a transport provider that disposes the socket: no socket is made, one close event', async () => {
    const server = await refuse(503);
    let socket!: ReconnectingSocket<any, any>;
    socket = createSocket(server.url, { transport: () => (socket.dispose(), {}) });
    const seen = closes(socket);
    await sleep(150);
    expect(server.attempts).toBe(0);
    expect(seen.map((c) => c.cause)).toEqual(['dispose']);
  });

  it('407 from a proxy counts as an auth refusal: three in a row, then the policy stops', async () => {
    const server = await refuse(407);
    const socket = createSocket(server.url, { initialDelayMs: 20, maxDelayMs: 40 });
    const seen = closes(socket);
    const final = await Promise.race([socket.closed, sleep(2000).then(() => undefined)]);
    expect(server.attempts).toBe(3);
    expect(seen.map((c) => c.refusals)).toEqual([1, 2, 3]);
    expect(final).toMatchObject({ cause: 'refused', status: 407, refusals: 3 });
  });

  // Core (policy) finding: the auth refusal count is kept across an explicit connect(), so a user who refreshed
  // credentials after the policy gave up gets one attempt instead of MAX_AUTH_REFUSALS.
  it('connect() after the policy gave up on 401s gives the fresh credentials MAX_AUTH_REFUSALS attempts again', async () => {
    const server = await refuse(401);
    const socket = createSocket(server.url, { initialDelayMs: 20, maxDelayMs: 40 });
    await socket.closed;
    expect(server.attempts).toBe(3);
    socket.connect();
    await socket.closed;
    expect(server.attempts).toBe(6);
  });
});
