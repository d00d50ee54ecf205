import { describe, expect, it } from 'vitest';
import { nextEvent, recordEvents, sleep, startServer, waitFor } from '../helpers/servers.js';
import { FASTER, socketFactory } from '../helpers/socket.js';

const createSocket = socketFactory(FASTER);

describe('close() semantics at the edges', () => {
  it('close() from a close listener cancels the retry and announces none', async () => {
    const server = await startServer();
    const socket = createSocket(server.url);
    await nextEvent(socket, 'open');
    const log = recordEvents(socket, ['close', 'reconnecting', 'state']);
    socket.once('close', () => void socket.close());
    for (const client of server.wss.clients) client.terminate();
    await waitFor(() => socket.state === 'closed' && socket.retry === undefined);
    await sleep(150);
    expect(log.events.map((e) => e.type)).toEqual(['close', 'state']);
    expect(server.connections).toBe(1);
  });

  it('a close() overtaken by reconnect() still settles once its connection is down', async () => {
    const server = await startServer();
    const socket = createSocket(server.url);
    await nextEvent(socket, 'open');
    const closing = socket.close(1000, 'bye');
    socket.reconnect();
    const record = await closing;
    expect(record.cause).toBe('reconnect');
    await nextEvent(socket, 'open');
    expect(socket.state).toBe('open');
  });

  it('close() while waiting to retry resolves at once with how the last connection ended', async () => {
    const server = await startServer();
    const socket = createSocket(server.url, { initialDelayMs: 5_000, jitter: false });
    await nextEvent(socket, 'open');
    const dropped = nextEvent(socket, 'close');
    for (const client of server.wss.clients) client.terminate();
    expect((await dropped).willReconnect).toBe(true);
    const record = await socket.close();
    expect(record).toMatchObject({ code: 1006, cause: 'network' });
    expect(socket.state).toBe('closed');
    expect(socket.retry).toBeUndefined();
  });
});
