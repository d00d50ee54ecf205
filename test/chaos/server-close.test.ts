import { describe, expect, it } from 'vitest';
import { SocketError, opened } from '../../src/index.js';
import { CHAOS_TIMINGS, countResources, expectNothingLeaked } from '../helpers/chaos-servers.js';
import { trackUnhandledRejections } from '../helpers/messaging.js';
import { nextEvent, recordEvents, sleep, startServer, startSilentServer, waitFor } from '../helpers/servers.js';
import { socketFactory } from '../helpers/socket.js';

// Chaos matrix, part 3: the server ends a healthy connection with a close frame, each code of the default table
// (README, "Which closes reconnect"); and a peer that never answers our close frame. Heartbeats run at short
// intervals here, so their timers are part of what must be released.

trackUnhandledRejections();
const createSocket = socketFactory({ ...CHAOS_TIMINGS, heartbeat: { intervalMs: 40, timeoutMs: 400 } });

/** How long to watch for a retry that must not come: several times the first backoff delay (30 ms). */
const NO_RETRY_WINDOW_MS = 300;

describe('the server closes with a status code', () => {
  it.each([
    { code: 1002, reconnects: false },
    { code: 1003, reconnects: false },
    { code: 1007, reconnects: false },
    { code: 1008, reconnects: false },
    { code: 1009, reconnects: false },
    { code: 1011, reconnects: true },
    { code: 1012, reconnects: true },
    { code: 1013, reconnects: true },
    { code: 4000, reconnects: true },
    { code: 4999, reconnects: true },
    { code: 1005, reconnects: true },
  ])('$code: cause server, wasClean, willReconnect $reconnects', async ({ code, reconnects }) => {
    // 1005 is never on the wire: it is what a close frame with no status reports (RFC 6455 §7.1.5).
    const reason = code === 1005 ? '' : `chaos ${code}`;
    let accepted = 0;
    const server = await startServer({
      echo: false,
      onConnection: (ws) => {
        if (++accepted > 1) return;
        if (code === 1005) ws.close();
        else ws.close(code, reason);
      },
    });
    const before = await countResources();
    const socket = createSocket(server.url);
    const log = recordEvents(socket);

    const close = await nextEvent(socket, 'close', 3_000);
    expect(close).toMatchObject({ code, reason, wasClean: true, cause: 'server', willReconnect: reconnects });
    expect(close.error).toBeUndefined();
    expect(log.of('error')).toEqual([]);
    expect(log.of('open')).toHaveLength(1);

    if (reconnects) {
      // 1013 (try again later) waits at least maxDelayMs; the others follow the curve.
      expect(close.delayMs).toBe(code === 1013 ? CHAOS_TIMINGS.maxDelayMs : 30);
      // Sent during the backoff, it is queued and goes out on the next connection.
      expect(socket.send('queued during backoff')).toBe('queued');
      await waitFor(() => server.received.length === 1, 2_000, 'the queued message reaches the second connection');
      expect(server.received).toEqual(['queued during backoff']);
      expect(server.connections).toBe(2);
      expect(log.of('open')).toHaveLength(2);
      expect(await socket.close()).toMatchObject({ code: 1000, wasClean: true, cause: 'client' });
      expect(socket.state).toBe('closed');
    } else {
      expect(close.delayMs).toBeUndefined();
      expect(socket.state).toBe('closed');
      await expect(socket.closed).resolves.toMatchObject({ code, reason, wasClean: true, cause: 'server' });
      expect(socket.send('late')).toBe('closed');
      await sleep(NO_RETRY_WINDOW_MS);
      expect(server.connections).toBe(1);
      expect(log.of('reconnecting')).toEqual([]);
    }
    expect(log.of('drop')).toEqual([]);
    // Our side answered the server's close frame with its code (ws records 1005 as no frame at all).
    if (code !== 1005) expect(server.closeFrames[0]).toEqual({ code, reason });
    await waitFor(() => server.clients.size === 0, 2_000, 'the server sees no client left');
    await expectNothingLeaked(before);
  });
});

describe('a peer that never answers the close frame', () => {
  it('close() resolves within closeTimeoutMs + margin with cause close-timeout; the server sees the TCP connection end', async () => {
    const closeTimeoutMs = 300;
    const silent = await startSilentServer();
    const before = await countResources();
    // The silent peer ignores pings too: a heartbeat would end the connection before close() is tested.
    const socket = createSocket(silent.url, { closeTimeoutMs, heartbeat: false });
    const log = recordEvents(socket);
    await opened(socket);
    expect(socket.send('a')).toBe('sent');

    const started = Date.now();
    const record = await socket.close();
    const elapsed = Date.now() - started;

    expect(record).toMatchObject({ code: 1006, wasClean: false, cause: 'close-timeout' });
    expect(record.error).toBeInstanceOf(SocketError);
    expect(record.error?.code).toBe('CLOSE_TIMEOUT');
    expect(elapsed).toBeGreaterThanOrEqual(closeTimeoutMs - 20);
    expect(elapsed).toBeLessThan(closeTimeoutMs + 700);
    expect(socket.state).toBe('closed');
    expect(log.of('close')).toEqual([expect.objectContaining({ cause: 'close-timeout', willReconnect: false, delayMs: undefined })]);
    expect(log.of('error').map((event) => event.error.code)).toEqual(['CLOSE_TIMEOUT']);

    await waitFor(() => silent.openSockets === 0, 2_000, 'the server sees the TCP connection end');
    await sleep(NO_RETRY_WINDOW_MS);
    expect(silent.connections).toBe(1);
    await expectNothingLeaked(before);
  });
});
