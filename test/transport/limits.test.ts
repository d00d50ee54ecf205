import { describe, expect, it } from 'vitest';
import { ReconnectingSocket, SocketError } from '../../src/index.js';
import { trackUnhandledRejections } from '../helpers/messaging.js';
import { nextEvent, recordEvents, sleep, startServer, waitFor } from '../helpers/servers.js';
import { FAST, socketFactory } from '../helpers/socket.js';

// maxMessageBytes (issue #13): in Node it becomes ws's maxPayload, so a frame over it is refused before it is
// buffered; the connection ends with 1009 (cause 'protocol'), which the default table does not retry. A
// transport.maxPayload of the user's own wins over it. And a server that closes with 1013 (try again later) is
// given at least maxDelayMs before the next attempt.

trackUnhandledRejections();
const createSocket = socketFactory(FAST);

const LIMIT = 1024;
/** Several times FAST's first backoff (50 ms): a retry that was planned would have come. */
const NO_RETRY_WINDOW_MS = 400;

/** A server that sends one binary frame of `bytes` bytes as soon as a client connects. */
function serverSending(bytes: number) {
  return startServer({ onConnection: (ws) => ws.send(Buffer.alloc(bytes, 7)) });
}

describe('maxMessageBytes', () => {
  it('a 2 KB frame over a 1 KB limit: close 1009, cause protocol, SOCKET_ERROR, and no second connection', async () => {
    const server = await serverSending(2 * LIMIT);
    const socket = createSocket(server.url, { maxMessageBytes: LIMIT });
    const log = recordEvents(socket);

    const close = await nextEvent(socket, 'close', 3_000);
    expect(close).toMatchObject({ code: 1009, wasClean: false, cause: 'protocol', willReconnect: false, delayMs: undefined });
    expect(close.error).toBeInstanceOf(SocketError);
    expect(close.error?.code).toBe('SOCKET_ERROR');
    expect(log.of('open')).toHaveLength(1);
    expect(log.of('message')).toEqual([]);
    expect(await socket.closed).toMatchObject({ code: 1009, cause: 'protocol' });
    expect(socket.state).toBe('closed');

    await sleep(NO_RETRY_WINDOW_MS);
    expect(server.connections).toBe(1);
    expect(log.of('reconnecting')).toEqual([]);
    expect(log.of('close')).toHaveLength(1);
    // The peer is told why (RFC 6455 §7.4.1: 1009, message too big).
    await waitFor(() => server.closeFrames.length > 0, 2_000, 'the server receives a close frame');
    expect(server.closeFrames.map((frame) => frame.code)).toEqual([1009]);
  });

  it('a frame of exactly maxMessageBytes is delivered, and the connection stays open', async () => {
    const server = await serverSending(LIMIT);
    const socket = createSocket(server.url, { maxMessageBytes: LIMIT });
    const message = await nextEvent(socket, 'message', 3_000);
    expect(new Uint8Array(message.data as ArrayBuffer)).toEqual(new Uint8Array(LIMIT).fill(7));
    expect(socket.state).toBe('open');
    expect(await socket.close()).toMatchObject({ code: 1000, wasClean: true, cause: 'client' });
  });

  it('a text message over the limit ends the connection with 1009 as well', async () => {
    const server = await startServer({ onConnection: (ws) => ws.send('x'.repeat(LIMIT + 1)) });
    const socket = createSocket(server.url, { maxMessageBytes: LIMIT });
    const log = recordEvents(socket);
    const close = await nextEvent(socket, 'close', 3_000);
    expect(close).toMatchObject({ code: 1009, cause: 'protocol', willReconnect: false });
    expect(log.of('message')).toEqual([]);
  });

  it('transport: { maxPayload } wins over maxMessageBytes: a larger maxPayload lets the 2 KB frame through', async () => {
    const server = await serverSending(2 * LIMIT);
    const socket = createSocket(server.url, { maxMessageBytes: LIMIT, transport: { maxPayload: 4 * LIMIT } });
    const message = await nextEvent(socket, 'message', 3_000);
    expect((message.data as ArrayBuffer).byteLength).toBe(2 * LIMIT);
    expect(socket.state).toBe('open');
  });

  it('transport: { maxPayload } wins over maxMessageBytes: a smaller maxPayload refuses a frame at maxMessageBytes', async () => {
    const server = await serverSending(LIMIT);
    const socket = createSocket(server.url, { maxMessageBytes: LIMIT, transport: { maxPayload: LIMIT / 2 } });
    const log = recordEvents(socket);
    const close = await nextEvent(socket, 'close', 3_000);
    expect(close).toMatchObject({ code: 1009, cause: 'protocol', willReconnect: false });
    expect(log.of('message')).toEqual([]);
  });

  it('without maxMessageBytes, a 2 KB frame is delivered (ws keeps its own 100 MiB default)', async () => {
    const server = await serverSending(2 * LIMIT);
    const socket = createSocket(server.url);
    const message = await nextEvent(socket, 'message', 3_000);
    expect((message.data as ArrayBuffer).byteLength).toBe(2 * LIMIT);
  });

  it.each([0, -1])('maxMessageBytes %i is a RangeError naming the option', (value) => {
    expect(() => new ReconnectingSocket('ws://127.0.0.1:1', { autoConnect: false, maxMessageBytes: value })).toThrow(RangeError);
    expect(() => new ReconnectingSocket('ws://127.0.0.1:1', { autoConnect: false, maxMessageBytes: value })).toThrow(/maxMessageBytes/);
  });
});

describe('a server close with 1013 (try again later)', () => {
  const timings = { initialDelayMs: 20, maxDelayMs: 400 };

  /** A server that closes the first connection with `code` and keeps the second; records when each came. */
  async function serverClosingFirstWith(code: number) {
    const arrivals: number[] = [];
    const server = await startServer({
      onConnection: (ws) => {
        arrivals.push(Date.now());
        if (arrivals.length === 1) ws.close(code, 'later');
      },
    });
    return { server, arrivals };
  }

  it('waits at least maxDelayMs before the next attempt, though the curve would say 20 ms', async () => {
    const { server, arrivals } = await serverClosingFirstWith(1013);
    const socket = createSocket(server.url, timings);
    const log = recordEvents(socket);
    await waitFor(() => log.of('open').length === 2, 5_000, 'the second open');

    const [close] = log.of('close');
    expect(close).toMatchObject({ code: 1013, reason: 'later', cause: 'server', willReconnect: true });
    expect(close.delayMs).toBeGreaterThanOrEqual(timings.maxDelayMs);
    expect(log.of('reconnecting')).toEqual([{ attempt: 1, delayMs: close.delayMs }]);
    expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(timings.maxDelayMs);
    expect(server.connections).toBe(2);
  });

  it('control: 1012 (service restart) follows the curve, 20 ms', async () => {
    const { server, arrivals } = await serverClosingFirstWith(1012);
    const socket = createSocket(server.url, timings);
    const log = recordEvents(socket);
    await waitFor(() => log.of('open').length === 2, 5_000, 'the second open');

    expect(log.of('close')[0]).toMatchObject({ code: 1012, cause: 'server', willReconnect: true, delayMs: timings.initialDelayMs });
    expect(arrivals[1]! - arrivals[0]!).toBeLessThan(timings.maxDelayMs);
  });
});
