import { describe, expect, it, vi } from 'vitest';
import { ReconnectingSocket } from '../../src/index.js';
import { FakeSocket, FakeWsSocket, createQuietSocket, flushMicrotasks, useFakeSockets } from '../helpers/fake-socket.js';

// Second adversarial review, core findings (src/*.ts, not ours to fix): each test fails until the core is fixed.

describe('core: events emitted outside a dispatch (message, heartbeat, socket error) and listeners that call back in', () => {
  const created = useFakeSockets<ReconnectingSocket<any, any>>();

  // Core bug: the emitter calls every listener registered when the emit began. A `message` arrives outside the
  // run-to-completion unit, so a first listener's dispose() runs at once (close event, state closed, listeners
  // cleared) and the second listener is still handed the message: an event after dispose(), after `close`.
  it('no message reaches a listener after another listener of the same message disposed the socket', async () => {
    const { socket } = createQuietSocket(created);
    const log: string[] = [];
    socket.on('message', () => socket.dispose());
    socket.on('message', () => log.push(`message in ${socket.state}, disposed ${socket.isDisposed}`));
    socket.on('close', () => log.push('close'));
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    FakeSocket.latest().serverMessage('x');
    expect(log).toEqual(['close']);
  });

  // Core bug, same cause: reconnect() from the first message listener ends the connection (close event, state
  // connecting); the second listener then gets a message of the dropped connection while not open.
  it('no message of a connection a message listener dropped with reconnect() reaches the next listener', async () => {
    const { socket } = createQuietSocket(created);
    const log: string[] = [];
    socket.on('message', () => socket.reconnect());
    socket.on('message', () => log.push(`message in ${socket.state}`));
    socket.on('close', () => log.push('close'));
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    FakeSocket.latest().serverMessage('x');
    expect(log).toEqual(['close']);
  });

  // Core bug, same cause, for socket errors: an error listener that disposes does not stop the next one.
  it('no error event reaches a listener after another error listener disposed the socket', async () => {
    const { socket } = createQuietSocket(created, {}, FakeWsSocket);
    const log: string[] = [];
    socket.on('error', () => socket.dispose());
    socket.on('error', () => log.push(`error, disposed ${socket.isDisposed}`));
    socket.on('close', () => log.push('close'));
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    FakeSocket.latest().serverError('boom');
    expect(log).toEqual(['close']);
  });
});

describe('core: announcements a listener cancels (kills a mutant the suite let through)', () => {
  const created = useFakeSockets<ReconnectingSocket<any, any>>();

  it('a close() from a close listener cancels the retry before it is announced: no reconnecting event, no timer', async () => {
    const { socket } = createQuietSocket(created);
    const log: string[] = [];
    socket.on('close', ({ willReconnect }) => {
      log.push(`close willReconnect=${willReconnect}`);
      void socket.close();
    });
    socket.on('reconnecting', () => log.push('reconnecting'));
    socket.on('hold', () => log.push('hold'));
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    FakeSocket.latest().serverClose(1001, 'restart');
    await flushMicrotasks();
    expect(log).toEqual(['close willReconnect=true']);
    expect(socket.state).toBe('closed');
    expect(socket.retry).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a close() from a close listener while offline cancels the held retry: no hold event', async () => {
    const { socket, env } = createQuietSocket(created);
    const log: string[] = [];
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    env.emit('offline');
    socket.on('close', () => void socket.close());
    socket.on('hold', () => log.push('hold'));
    socket.on('reconnecting', () => log.push('reconnecting'));
    FakeSocket.latest().serverDrop();
    await flushMicrotasks();
    expect(log).toEqual([]);
    expect(socket.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
  });
});
