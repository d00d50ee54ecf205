import { afterEach, describe, expect, it, vi } from 'vitest';
import PartySocket from '../../src/compat/partysocket-ws.js';
import { sleep, startServer, waitFor } from '../helpers/servers.js';
import { FLAVOURS, create, record } from './helpers.js';

// Messages sent while not open: queued, sent in order before the open event, bounded by maxEnqueuedMessages
// with every drop reported.

afterEach(() => {
  vi.restoreAllMocks();
});

describe.each(FLAVOURS)('$name: queue', ({ name, Class }) => {
  it('queued while connecting, sent in order before the open event: what onopen sends goes after', async () => {
    const server = await startServer();
    const socket = create(Class, server.url);
    socket.onopen = () => socket.send('from onopen');
    socket.send('one');
    socket.send('two');
    await waitFor(() => server.received.length === 3);
    expect(server.received).toEqual(['one', 'two', 'from onopen']);
  });

  it('sent during backoff: delivered after the reconnect', async () => {
    const server = await startServer();
    const socket = create(Class, server.url, undefined, { minReconnectionDelay: 100 });
    const events = record(socket);
    await events.waitFor('open');
    for (const ws of server.clients) ws.terminate();
    await events.waitFor('close');
    socket.send('while down 1');
    socket.send('while down 2');
    expect(socket.bufferedAmount).toBe(24);
    await waitFor(() => server.received.length === 2);
    expect(server.received).toEqual(['while down 1', 'while down 2']);
    expect(socket.bufferedAmount).toBe(0);
  });

  it('maxEnqueuedMessages: the first ones are kept, later ones dropped, each drop reported once', async () => {
    const server = await startServer();
    const socket = create(Class, server.url, undefined, { startClosed: true, maxEnqueuedMessages: 2 });
    const events = record(socket, ['drop']);
    const results = ['a', 'b', 'c', 'd'].map((text) => socket.send(text));
    expect(results).toEqual(name === 'partysocket' ? [false, false, false, false] : [undefined, undefined, undefined, undefined]);
    expect(events.of('drop').map((event) => event.data)).toEqual(['c', 'd']);
    socket.reconnect();
    await waitFor(() => server.received.length === 2);
    await sleep(50);
    expect(server.received).toEqual(['a', 'b']);
  });

  it('maxEnqueuedMessages 0: nothing is held while not open', async () => {
    const server = await startServer();
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const socket = create(Class, server.url, undefined, { maxEnqueuedMessages: 0 });
    const events = record(socket, ['open', 'drop']);
    socket.send('lost');
    await events.waitFor('open');
    socket.send('sent');
    await waitFor(() => server.received.length === 1);
    expect(server.received).toEqual(['sent']);
    expect(events.of('drop').map((event) => event.data)).toEqual(['lost']);
  });

  it('send() after close(): queued and delivered by a later reconnect()', async () => {
    const server = await startServer();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const socket = create(Class, server.url);
    const events = record(socket);
    await events.waitFor('open');
    socket.close();
    await events.waitFor('close');
    socket.send('later 1');
    socket.send('later 2');
    await sleep(30);
    expect(server.received).toEqual([]);
    // partysocket warns once that the message waits for reconnect(); reconnecting-websocket says nothing.
    expect(warn).toHaveBeenCalledTimes(name === 'partysocket' ? 1 : 0);
    socket.reconnect();
    await waitFor(() => server.received.length === 2);
    expect(server.received).toEqual(['later 1', 'later 2']);
  });
});

describe('partysocket: drainQueuedMessages()', () => {
  it('hands back what was queued, oldest first, and clears it: nothing of it is sent later', async () => {
    const server = await startServer();
    const socket = create(PartySocket, server.url, undefined, { startClosed: true });
    socket.send('x');
    socket.send(new Uint8Array([1]));
    const drained = socket.drainQueuedMessages();
    expect(drained).toHaveLength(2);
    expect(drained[0]).toBe('x');
    expect(drained[1]).toBeInstanceOf(Uint8Array);
    expect(socket.drainQueuedMessages()).toEqual([]);
    expect(socket.bufferedAmount).toBe(0);
    socket.reconnect();
    await waitFor(() => socket.readyState === 1);
    socket.send('after');
    await waitFor(() => server.received.length === 1);
    expect(server.received).toEqual(['after']);
  });

  it('shouldReconnect is false with startClosed and after close(), until reconnect()', () => {
    const socket = create(PartySocket, 'ws://127.0.0.1:9', undefined, { startClosed: true });
    expect(socket.shouldReconnect).toBe(false);
    socket.reconnect();
    expect(socket.shouldReconnect).toBe(true);
    socket.close();
    expect(socket.shouldReconnect).toBe(false);
    socket.reconnect();
    expect(socket.shouldReconnect).toBe(true);
  });
});
