import { describe, expect, it } from 'vitest';
import { ReconnectingSocket, SocketError, jsonCodec, messages, opened } from '../../src/index.js';
import { broadcast, trackUnhandledRejections } from '../helpers/messaging.js';
import { nextEvent, recordEvents, sleep, startServer, startStallServer, waitFor } from '../helpers/servers.js';
import { FASTER, socketFactory } from '../helpers/socket.js';
import { cleanup } from '../helpers/teardown.js';

// Cancellation and lifetime: the signal option, using / await using, opened(), closed, messages().

const createSocket = socketFactory(FASTER);
const rejections = trackUnhandledRejections();

/** Settles to 'resolved', 'rejected' or 'pending' after the current microtasks have run. */
async function settledState(promise: Promise<unknown>): Promise<'resolved' | 'rejected' | 'pending'> {
  let state: 'resolved' | 'rejected' | 'pending' = 'pending';
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  await sleep(0);
  return state;
}

describe('the signal option', () => {
  it('aborting it disposes the socket and the server sees the connection end', async () => {
    const server = await startServer();
    const controller = new AbortController();
    const socket = createSocket(server.url, { signal: controller.signal });
    const log = recordEvents(socket, ['close', 'state']);
    await nextEvent(socket, 'open');
    const closed = socket.closed;
    expect(server.clients.size).toBe(1);

    controller.abort(new Error('page navigated away'));
    expect(socket.isDisposed).toBe(true);
    expect(socket.state).toBe('closed');
    expect(log.of('close')).toEqual([expect.objectContaining({ code: 1006, cause: 'dispose', willReconnect: false })]);
    await expect(closed).resolves.toMatchObject({ cause: 'dispose' });
    await waitFor(() => server.clients.size === 0);
    expect(socket.send('x')).toBe('disposed');
    await sleep(200);
    expect(server.connections).toBe(1);
  });

  it('aborting it during backoff stops the retries', async () => {
    const server = await startServer();
    const controller = new AbortController();
    const socket = createSocket(server.url, { signal: controller.signal, initialDelayMs: 150 });
    await nextEvent(socket, 'open');
    const lost = nextEvent(socket, 'close');
    for (const ws of server.clients) ws.terminate();
    expect(await lost).toMatchObject({ willReconnect: true });
    controller.abort();
    expect(socket.isDisposed).toBe(true);
    expect(socket.retry).toBeUndefined();
    await sleep(400);
    expect(server.connections).toBe(1);
  });

  it('an already aborted signal means the socket never connects', async () => {
    const server = await startServer();
    const socket = createSocket(server.url, { signal: AbortSignal.abort() });
    expect(socket.isDisposed).toBe(true);
    await sleep(200);
    expect(server.connections).toBe(0);
    expect(socket.state).toBe('closed');
  });
});

describe('explicit resource management', () => {
  it('`using` disposes the socket at the end of the block', async () => {
    const server = await startServer();
    let escaped: ReconnectingSocket | undefined;
    {
      using socket = new ReconnectingSocket(server.url, FASTER);
      escaped = socket;
      await opened(socket);
      expect(socket.isDisposed).toBe(false);
    }
    expect(escaped.isDisposed).toBe(true);
    expect(escaped.state).toBe('closed');
    await waitFor(() => server.clients.size === 0);
  });

  it('`using` disposes even when the block throws', async () => {
    const server = await startServer();
    let escaped: ReconnectingSocket | undefined;
    const run = async () => {
      using socket = new ReconnectingSocket(server.url, FASTER);
      escaped = socket;
      await opened(socket);
      throw new Error('boom');
    };
    await expect(run()).rejects.toThrow('boom');
    expect(escaped!.isDisposed).toBe(true);
  });

  it('`await using` closes with the handshake, then disposes', async () => {
    const server = await startServer();
    let escaped: ReconnectingSocket | undefined;
    {
      await using socket = new ReconnectingSocket(server.url, FASTER);
      escaped = socket;
      await opened(socket);
    }
    expect(escaped.isDisposed).toBe(true);
    expect(escaped.lastClose).toMatchObject({ code: 1000, wasClean: true, cause: 'client' });
    await waitFor(() => server.clients.size === 0);
    expect(server.closeFrames).toEqual([{ code: 1000, reason: '' }]);
  });

  it('Symbol.dispose and Symbol.asyncDispose can be called directly, more than once', async () => {
    const server = await startServer();
    const first = createSocket(server.url);
    await opened(first);
    first[Symbol.dispose]();
    first[Symbol.dispose]();
    expect(first.isDisposed).toBe(true);

    const second = createSocket(server.url);
    await opened(second);
    await second[Symbol.asyncDispose]();
    await second[Symbol.asyncDispose]();
    expect(second.isDisposed).toBe(true);
    await waitFor(() => server.clients.size === 0);
    expect(server.closeFrames).toEqual([{ code: 1000, reason: '' }]);
  });

  it('Symbol.asyncDispose on a socket that never opened settles quickly', async () => {
    const stall = await startStallServer();
    const socket = createSocket(stall.url, { connectTimeoutMs: 10_000 });
    await waitFor(() => stall.sockets === 1);
    const started = Date.now();
    await socket[Symbol.asyncDispose]();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(socket.isDisposed).toBe(true);
    await waitFor(() => stall.openSockets === 0);
  });
});

describe('opened()', () => {
  it('rejects with TIMEOUT against a server that never completes the upgrade, leaving the attempt running', async () => {
    const stall = await startStallServer();
    const socket = createSocket(stall.url, { connectTimeoutMs: 10_000 });
    const started = Date.now();
    const error = await opened(socket, { timeoutMs: 150 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SocketError);
    expect(error).toMatchObject({ name: 'SocketError', code: 'TIMEOUT' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    // Only the wait timed out: the socket keeps trying.
    expect(socket.state).toBe('connecting');
    expect(stall.openSockets).toBe(1);
  });

  it('rejects with ABORTED when its signal aborts, and at once for an aborted signal', async () => {
    const stall = await startStallServer();
    const socket = createSocket(stall.url, { connectTimeoutMs: 10_000 });
    const controller = new AbortController();
    const waiting = opened(socket, { signal: controller.signal });
    await sleep(30);
    expect(await settledState(waiting)).toBe('pending');
    const reason = new Error('user went away');
    controller.abort(reason);
    await expect(waiting).rejects.toMatchObject({ name: 'SocketError', code: 'ABORTED', cause: reason });

    const already = opened(socket, { signal: AbortSignal.abort() });
    expect(await settledState(already)).toBe('rejected');
    await expect(already).rejects.toMatchObject({ code: 'ABORTED' });
    expect(socket.state).toBe('connecting');
  });

  it('rejects with DISPOSED on dispose(), and at once once disposed', async () => {
    const stall = await startStallServer();
    const socket = createSocket(stall.url, { connectTimeoutMs: 10_000 });
    const waiting = opened(socket);
    const withTimeout = opened(socket, { timeoutMs: 5_000 });
    await sleep(20);
    socket.dispose();
    await expect(waiting).rejects.toMatchObject({ name: 'SocketError', code: 'DISPOSED' });
    await expect(withTimeout).rejects.toMatchObject({ code: 'DISPOSED' });
    await expect(opened(socket)).rejects.toMatchObject({ code: 'DISPOSED' });
  });

  it('resolves at once when already open', async () => {
    const server = await startServer();
    const socket = createSocket(server.url);
    await nextEvent(socket, 'open');
    expect(await settledState(opened(socket))).toBe('resolved');
    expect(await settledState(opened(socket, { timeoutMs: 1 }))).toBe('resolved');
  });

  it('waits through failed attempts and resolves on the next open', async () => {
    const server = await startServer();
    const port = server.port;
    await server.close();
    const socket = createSocket(`ws://127.0.0.1:${port}`);
    const waiting = opened(socket, { timeoutMs: 5_000 });
    await nextEvent(socket, 'close');
    expect(await settledState(waiting)).toBe('pending');
    await server.restart();
    await expect(waiting).resolves.toBeUndefined();
    expect(socket.state).toBe('open');
  });
});

describe('closed', () => {
  it('resolves with the final close record after close()', async () => {
    const server = await startServer();
    const socket = createSocket(server.url);
    const closed = socket.closed;
    await nextEvent(socket, 'open');
    expect(await settledState(closed)).toBe('pending');
    const record = await socket.close(4001, 'bye');
    expect(record).toMatchObject({ code: 4001, reason: 'bye', wasClean: true, cause: 'client' });
    await expect(closed).resolves.toEqual(record);
    await expect(socket.closed).resolves.toEqual(record);
    expect(socket.lastClose).toEqual(record);
  });

  it('does not resolve on a close that will be retried, but does when the policy gives up', async () => {
    const server = await startServer({
      onConnection: (ws) => {
        if (server.connections === 1) ws.terminate();
        else ws.close(1008, 'policy violation');
      },
    });
    const socket = createSocket(server.url);
    const closed = socket.closed;
    const first = await nextEvent(socket, 'close');
    expect(first).toMatchObject({ willReconnect: true });
    expect(await settledState(closed)).toBe('pending');
    const record = await closed;
    expect(record).toMatchObject({ code: 1008, reason: 'policy violation', cause: 'server' });
    expect(socket.state).toBe('closed');
  });

  it('resolves with cause dispose on dispose()', async () => {
    const server = await startServer();
    const socket = createSocket(server.url);
    await nextEvent(socket, 'open');
    const closed = socket.closed;
    socket.dispose();
    await expect(closed).resolves.toMatchObject({ code: 1006, wasClean: false, cause: 'dispose' });
  });

  it('hands out a new promise when the socket is started again', async () => {
    const server = await startServer();
    const socket = createSocket(server.url);
    await nextEvent(socket, 'open');
    const first = await socket.close(1000, 'first');
    const reopened = nextEvent(socket, 'open');
    socket.connect();
    const again = socket.closed;
    expect(await settledState(again)).toBe('pending');
    await reopened;
    await socket.close(1000, 'second');
    await expect(again).resolves.toMatchObject({ reason: 'second' });
    expect(first.reason).toBe('first');
  });
});

describe('messages()', () => {
  it('yields decoded messages in order, including ones that arrived before the loop pulled them', async () => {
    const server = await startServer({
      echo: false,
      onConnection: (ws) => {
        for (let i = 0; i < 5; i++) ws.send(JSON.stringify({ seq: i }));
      },
    });
    const socket = createSocket<{ seq: number }, unknown>(server.url, { codec: jsonCodec });
    const iterator = messages(socket);
    await nextEvent(socket, 'open');
    await sleep(100); // all five are waiting in the iterator now
    const seen: number[] = [];
    for await (const message of iterator) {
      seen.push(message.seq);
      if (seen.length === 5) break;
    }
    expect(seen).toEqual([0, 1, 2, 3, 4]);
  });

  it('ends cleanly when the socket is disposed', async () => {
    const server = await startServer({ echo: false });
    const socket = createSocket<{ n: number }, unknown>(server.url, { codec: jsonCodec });
    const seen: number[] = [];
    const loop = (async () => {
      for await (const message of messages(socket)) seen.push(message.n);
      return 'ended';
    })();
    await nextEvent(socket, 'open');
    broadcast(server, '{"n":1}');
    broadcast(server, '{"n":2}');
    await waitFor(() => seen.length === 2);
    socket.dispose();
    await expect(loop).resolves.toBe('ended');
    expect(seen).toEqual([1, 2]);
  });

  it('ends when the socket is closed for good, and when its signal aborts', async () => {
    const server = await startServer({ echo: false });
    const socket = createSocket(server.url);
    const controller = new AbortController();
    const untilClose = (async () => {
      const got: unknown[] = [];
      for await (const message of messages(socket)) got.push(message);
      return got;
    })();
    const untilAbort = (async () => {
      const got: unknown[] = [];
      for await (const message of messages(socket, { signal: controller.signal })) got.push(message);
      return got;
    })();
    await nextEvent(socket, 'open');
    broadcast(server, 'a');
    await nextEvent(socket, 'message');
    controller.abort();
    await expect(untilAbort).resolves.toEqual(['a']);
    broadcast(server, 'b');
    await nextEvent(socket, 'message');
    await socket.close();
    await expect(untilClose).resolves.toEqual(['a', 'b']);
  });

  it('is done at once on a disposed socket or with an aborted signal', async () => {
    const server = await startServer();
    const socket = createSocket(server.url);
    await expect(messages(socket, { signal: AbortSignal.abort() }).next()).resolves.toEqual({ value: undefined, done: true });
    socket.dispose();
    await expect(messages(socket).next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('leaving a for-await loop with break ends that iterator; a new one still works and dispose() is clean', async () => {
    const server = await startServer({ echo: false });
    const socket = createSocket(server.url);
    const log = recordEvents(socket, ['message']);
    await nextEvent(socket, 'open');
    const first = messages(socket);
    let returned: IteratorResult<unknown> | undefined;
    const originalReturn = first.return!.bind(first);
    first.return = async (value?: unknown) => (returned = await originalReturn(value));

    broadcast(server, 'one');
    broadcast(server, 'two');
    const seen: unknown[] = [];
    for await (const message of first) {
      seen.push(message);
      break;
    }
    expect(seen).toEqual(['one']);
    // The loop called return(), which resolved as done, and the iterator stays finished: the message after
    // the break was not kept for it.
    expect(returned).toEqual({ value: undefined, done: true });
    await waitFor(() => log.of('message').length === 2);
    await expect(first.next()).resolves.toEqual({ value: undefined, done: true });

    const second = messages(socket);
    broadcast(server, 'three');
    await expect(second.next()).resolves.toEqual({ value: 'three', done: false });

    expect(() => socket.dispose()).not.toThrow();
    await expect(second.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('two pending next() calls each receive a message, in order', async () => {
    const server = await startServer({ echo: false });
    const socket = createSocket(server.url);
    await nextEvent(socket, 'open');
    const iterator = messages(socket);
    const log = recordEvents(socket, ['message']);
    const results: Record<'a' | 'b', IteratorResult<unknown> | 'pending'> = { a: 'pending', b: 'pending' };
    void iterator.next().then((result) => (results.a = result));
    void iterator.next().then((result) => (results.b = result));
    broadcast(server, 'first');
    broadcast(server, 'second');
    await waitFor(() => log.of('message').length === 2);
    await sleep(50);
    const afterMessages = { ...results };
    // Disposing must settle whatever is still pending.
    socket.dispose();
    await sleep(50);
    expect({ afterMessages, afterDispose: results }).toEqual({
      afterMessages: { a: { value: 'first', done: false }, b: { value: 'second', done: false } },
      afterDispose: { a: { value: 'first', done: false }, b: { value: 'second', done: false } },
    });
  });

  it('a message listener that is not the iterator still sees everything (the iterator takes nothing away)', async () => {
    const server = await startServer({ echo: false });
    const socket = createSocket(server.url);
    const log = recordEvents(socket, ['message']);
    const iterator = messages(socket);
    await nextEvent(socket, 'open');
    broadcast(server, 'x');
    await expect(iterator.next()).resolves.toEqual({ value: 'x', done: false });
    expect(log.of('message')).toEqual([{ data: 'x' }]);
    cleanup(() => iterator.return?.());
  });
});

describe('unhandled rejections', () => {
  it('none so far in this file', () => {
    expect(rejections.list).toEqual([]);
  });
});
