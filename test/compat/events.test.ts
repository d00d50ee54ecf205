import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CloseEvent, ErrorEvent } from '../../src/compat/partysocket.js';
import { broadcast } from '../helpers/messaging.js';
import { sleep, startServer, waitFor } from '../helpers/servers.js';
import { FLAVOURS, create, record } from './helpers.js';

// The EventTarget surface: listener functions and objects, on* properties, event objects and what they carry.

/** A loopback port with nothing listening on it. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.each(FLAVOURS)('$name: events', ({ Class }) => {
  it('is an EventTarget: listener objects with handleEvent, once, removal, and dispatchEvent', async () => {
    const server = await startServer();
    const socket = create(Class, server.url);
    expect(socket).toBeInstanceOf(EventTarget);
    const calls: string[] = [];
    const object = { handleEvent: (event: Event) => calls.push(`object ${event.type}`) };
    const removed = () => calls.push('removed');
    socket.addEventListener('open', object);
    socket.addEventListener('open', () => calls.push('once'), { once: true });
    socket.addEventListener('open', removed);
    socket.removeEventListener('open', removed);
    await waitFor(() => calls.length === 2);
    expect(calls).toEqual(['object open', 'once']);
    expect(socket.dispatchEvent(new Event('open'))).toBe(true);
    expect(calls).toEqual(['object open', 'once', 'object open']);
  });

  it('on* properties run before the listeners, with the socket as this; they can be replaced and cleared', async () => {
    const server = await startServer();
    const socket = create(Class, server.url);
    const calls: string[] = [];
    socket.addEventListener('message', (event) => calls.push(`listener ${event.data}`));
    // As in the originals, the handler gets an event not yet dispatched (theirs get the inner socket's).
    socket.onopen = function (this: unknown, event) {
      calls.push(`onopen ${this === socket} ${event.type}`);
    };
    socket.onmessage = (event) => calls.push(`first ${event.data}`);
    await waitFor(() => calls.length === 1);
    socket.send('a');
    await waitFor(() => calls.length === 3);
    socket.onmessage = (event) => calls.push(`second ${event.data}`);
    socket.send('b');
    await waitFor(() => calls.length === 5);
    socket.onmessage = null;
    socket.send('c');
    await waitFor(() => calls.length === 6);
    expect(calls).toEqual(['onopen true open', 'first a', 'listener a', 'second b', 'listener b', 'listener c']);
  });

  it('onclose and onerror get the close and error events; listeners and on* survive reconnects', async () => {
    const server = await startServer();
    const socket = create(Class, server.url);
    const closes: number[] = [];
    const opens: number[] = [];
    socket.onclose = (event) => closes.push(event.code);
    socket.onopen = () => opens.push(socket.retryCount);
    await waitFor(() => opens.length === 1);
    for (const ws of server.clients) ws.close(4005);
    await waitFor(() => opens.length === 2);
    for (const ws of server.clients) ws.close(4006);
    await waitFor(() => opens.length === 3);
    expect(closes).toEqual([4005, 4006]);
  });

  it('event objects: CloseEvent (code, reason, wasClean), ErrorEvent (error, message), MessageEvent (data); all with target', async () => {
    const port = await deadPort();
    const failing = create(Class, `ws://127.0.0.1:${port}`, undefined, { maxRetries: 0 });
    const failed = record(failing);
    await failed.waitFor('close');
    const [error] = failed.of('error');
    expect(error!.error).toBeInstanceOf(Error);
    expect((error!.error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect(error!.message).toBe((error!.error as Error).message);
    expect(error!.target).toBe(failing);

    const server = await startServer();
    const socket = create(Class, server.url);
    const types: string[] = [];
    socket.addEventListener('open', (event) => types.push(event.constructor.name));
    socket.addEventListener('message', (event) => types.push(`${event instanceof MessageEvent} ${event.data}`));
    socket.addEventListener('close', (event) => {
      types.push(`${event instanceof CloseEvent} ${event.code} ${event.reason} ${event.wasClean}`);
    });
    socket.addEventListener('error', (event) => types.push(`${event instanceof ErrorEvent}`));
    await waitFor(() => types.length === 1);
    socket.send('x');
    await waitFor(() => types.length === 2);
    for (const ws of server.clients) ws.close(4010, 'why');
    await waitFor(() => types.length === 3);
    expect(types).toEqual(['Event', 'true x', 'true 4010 why true']);
  });

  it("binaryType: 'blob' by default, 'arraybuffer' when set, kept across reconnects; text stays text", async () => {
    const server = await startServer();
    const socket = create(Class, server.url);
    const events = record(socket, ['open', 'message']);
    expect(socket.binaryType).toBe('blob');
    await events.waitFor('open');
    broadcast(server, Buffer.from([1, 2, 3]), true);
    await events.waitFor('message');
    const blob = events.of('message')[0]!.data as Blob;
    expect(blob).toBeInstanceOf(Blob);
    expect([...new Uint8Array(await blob.arrayBuffer())]).toEqual([1, 2, 3]);

    socket.binaryType = 'arraybuffer';
    socket.binaryType = 'nonsense' as BinaryType;
    expect(socket.binaryType).toBe('arraybuffer');
    for (const ws of server.clients) ws.terminate();
    await events.waitFor('open', 2);
    broadcast(server, Buffer.from([4, 5]), true);
    broadcast(server, 'text');
    await events.waitFor('message', 3);
    const [, buffer, text] = events.of('message').map((event) => event.data);
    expect(buffer).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(buffer as ArrayBuffer)]).toEqual([4, 5]);
    expect(text).toBe('text');
  });

  it('sends binary data: ArrayBuffer, typed arrays and Blob', async () => {
    const server = await startServer();
    const socket = create(Class, server.url);
    socket.binaryType = 'arraybuffer';
    const events = record(socket, ['open', 'message']);
    await events.waitFor('open');
    socket.send(new Uint8Array([9, 8]).buffer);
    socket.send(new Uint16Array([1]));
    socket.send(new Blob([new Uint8Array([7])]));
    await events.waitFor('message', 3);
    expect(events.of('message').map((event) => [...new Uint8Array(event.data as ArrayBuffer)])).toEqual([[9, 8], [1, 0], [7]]);
  });

  it('url, protocol, extensions, bufferedAmount', async () => {
    const server = await startServer({ handleProtocols: (protocols) => (protocols.has('chat') ? 'chat' : false) });
    const socket = create(Class, server.url, ['chat', 'other']);
    // '' until the first socket exists, as in the originals; then that socket's (serialized) url.
    expect(socket.url).toBe('');
    expect(socket.protocol).toBe('');
    socket.send('queued');
    expect(socket.bufferedAmount).toBe(6);
    await waitFor(() => socket.readyState === 1);
    expect(socket.url).toBe(`${server.url}/`);
    expect(socket.protocol).toBe('chat');
    expect(typeof socket.extensions).toBe('string');
    await waitFor(() => server.received.length === 1);
    expect(socket.bufferedAmount).toBe(0);
    await sleep(10);
  });
});
