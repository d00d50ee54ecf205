import { describe, expect, it } from 'vitest';
import { SocketError, type WebSocketConstructor } from '../../src/index.js';
import { CHAOS_TIMINGS, countResources, expectNothingLeaked, frame, limitedWebSocket, OPCODE, startCraftedServer, within } from '../helpers/chaos-servers.js';
import { trackUnhandledRejections } from '../helpers/messaging.js';
import { nextEvent, recordEvents, sleep, waitFor } from '../helpers/servers.js';
import { socketFactory } from '../helpers/socket.js';

// Chaos matrix, part 2: the server sends a frame the client must reject (RFC 6455 §5.2, §8.1, §10.4). The
// client fails the connection, and the close record says so: the status code of the failure (1002 protocol
// error, 1007 invalid payload, 1009 too big), wasClean false, cause 'protocol', the error a SOCKET_ERROR. The
// default table does not retry those codes, so the socket ends closed after exactly one connection.

trackUnhandledRejections();
const createSocket = socketFactory(CHAOS_TIMINGS);

/** How long to watch for a retry that must not come: several times the first backoff delay (30 ms). */
const NO_RETRY_WINDOW_MS = 300;

const MAX_PAYLOAD = 1024;

describe('a frame the client must reject', () => {
  it.each<{ what: string; code: number; bytes: Buffer; WebSocket?: WebSocketConstructor }>([
    { what: 'RSV1 set without a negotiated extension', code: 1002, bytes: frame(OPCODE.text, 'hi', { rsv1: true }) },
    { what: 'a reserved opcode (0x3)', code: 1002, bytes: frame(OPCODE.reserved, 'hi') },
    { what: 'a text frame with invalid UTF-8', code: 1007, bytes: frame(OPCODE.text, Buffer.from([0x68, 0xc3, 0x28, 0xff])) },
    { what: `a frame over maxPayload (${MAX_PAYLOAD} bytes)`, code: 1009, bytes: frame(OPCODE.binary, Buffer.alloc(2 * MAX_PAYLOAD)), WebSocket: limitedWebSocket(MAX_PAYLOAD) },
  ])('$what: close $code, cause protocol, SOCKET_ERROR, no reconnect', async ({ code, bytes, WebSocket }) => {
    const server = await startCraftedServer({ onUpgrade: (peer) => peer.write(bytes) });
    const before = await countResources();
    const socket = createSocket(server.url, WebSocket ? { WebSocket } : {});
    const log = recordEvents(socket);
    // The bad frame follows the 101 at once: the connection can end before an `await opened()` would return.
    const close = await nextEvent(socket, 'close', 3_000);
    expect(log.of('open')).toHaveLength(1);
    expect(close).toMatchObject({ code, wasClean: false, cause: 'protocol', willReconnect: false, delayMs: undefined });
    expect(close.error).toBeInstanceOf(SocketError);
    expect(close.error?.code).toBe('SOCKET_ERROR');
    expect(socket.state).toBe('closed');
    const final = await within(socket.closed, 1_000);
    expect(final).toMatchObject({ code, wasClean: false, cause: 'protocol' });
    expect(log.of('error').map((event) => event.error.code)).toEqual(['SOCKET_ERROR']);

    await sleep(NO_RETRY_WINDOW_MS);
    expect(server.connections).toBe(1);
    expect(log.of('reconnecting')).toEqual([]);
    expect(log.of('close')).toHaveLength(1);
    // Closed by the policy, the socket refuses new messages instead of queueing them for a retry that never comes.
    expect(socket.send('late')).toBe('closed');
    expect(log.of('drop')).toEqual([]);

    await waitFor(() => server.openSockets === 0, 2_000, 'the server sees the connection end');
    await expectNothingLeaked(before);
  });
});

describe('the maxPayload WebSocket subclass (control: the 1009 case fails for the right reason)', () => {
  it.each([
    { how: 'new Ctor(url, protocols)', headers: undefined },
    { how: 'new Ctor(url, protocols, { headers })', headers: { 'x-chaos': '1' } },
  ])('delivers a frame at the limit when built with $how, and stays open', async ({ headers }) => {
    const atLimit = Buffer.alloc(MAX_PAYLOAD, 7);
    const server = await startCraftedServer({ onUpgrade: (peer) => peer.write(frame(OPCODE.binary, atLimit)) });
    const before = await countResources();
    const socket = createSocket(server.url, { WebSocket: limitedWebSocket(MAX_PAYLOAD), ...(headers && { headers }) });
    const message = await nextEvent(socket, 'message');
    expect(Buffer.from(message.data as ArrayBuffer).equals(atLimit)).toBe(true);
    expect(socket.state).toBe('open');

    const record = await socket.close();
    expect(record).toMatchObject({ code: 1000, wasClean: true, cause: 'client' });
    expect(server.closeCodes).toEqual([1000]);
    await waitFor(() => server.openSockets === 0, 2_000, 'the server sees the connection end');
    await expectNothingLeaked(before);
  });
});
