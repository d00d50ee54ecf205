import { describe, expect, it, vi } from 'vitest';
import { ReconnectingSocket } from '../../src/index.js';
import { FakeSocket, FakeWsSocket, createQuietSocket, flushMicrotasks, useFakeSockets } from '../helpers/fake-socket.js';
import { watchStream } from '../helpers/stream.js';

// Second adversarial review, core findings. Rewritten for the small core's rule (events go out one at a time, in
// order; a call from a listener acts at once and its events come after those already waiting): an event that is
// going out reaches every listener, in a stream that still says where it happened; the call's own events follow,
// and after dispose()'s own events nothing more. Each still fails on a build that breaks that.

describe('core: events emitted outside a dispatch (message, heartbeat, socket error) and listeners that call back in', () => {
  const created = useFakeSockets<ReconnectingSocket<any, any>>();

  it('a message listener that disposes: the message still reaches the next listener (while open, in the stream), then the close, then nothing', async () => {
    const { socket } = createQuietSocket(created);
    const stream = watchStream(socket);
    const log: string[] = [];
    socket.on('message', () => socket.dispose());
    socket.on('message', () => log.push(`message in ${stream.announced}`));
    socket.on('close', () => log.push('close'));
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    FakeSocket.latest().serverMessage('x');
    FakeSocket.latest().serverMessage('y');
    expect(log).toEqual(['message in open', 'close']);
    expect(stream.violations).toEqual([]);
  });

  it('a message listener that reconnects: the next listener gets that message while the stream says open, then the close; the next message of the old connection goes nowhere', async () => {
    const { socket } = createQuietSocket(created);
    const stream = watchStream(socket);
    const log: string[] = [];
    socket.on('message', () => socket.reconnect());
    socket.on('message', ({ data }) => log.push(`${data} in ${stream.announced}`));
    socket.on('close', () => log.push('close'));
    await flushMicrotasks();
    const first = FakeSocket.latest();
    first.serverOpen();
    first.serverMessage('x');
    first.serverMessage('y');
    expect(log).toEqual(['x in open', 'close']);
    expect(stream.violations).toEqual([]);
  });

  it('an error listener that disposes: the next error listener still gets that error, then the close, then nothing', async () => {
    const { socket } = createQuietSocket(created, {}, FakeWsSocket);
    const log: string[] = [];
    socket.on('error', () => socket.dispose());
    socket.on('error', () => log.push('error'));
    socket.on('close', () => log.push('close'));
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    FakeSocket.latest().serverError('boom');
    FakeSocket.latest().serverError('again');
    expect(log).toEqual(['error', 'close']);
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
