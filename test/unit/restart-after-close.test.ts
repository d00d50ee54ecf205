import { describe, expect, it, vi } from 'vitest';
import { ReconnectingSocket, type ReconnectingSocketOptions } from '../../src/index.js';
import { FakeSocket, flushMicrotasks, createQuietSocket, useFakeSockets } from '../helpers/fake-socket.js';

// A socket started again after its final close follows the environment and its signal again (README: "After
// close(), or when the policy gives up, those listeners are removed too ... connect() adds them again").

type Socket = ReconnectingSocket<any, any>;

const created = useFakeSockets<Socket>();

async function openedThenClosed(options: ReconnectingSocketOptions<any, any> = {}) {
  const { socket, env } = createQuietSocket(created, options);
  await flushMicrotasks();
  FakeSocket.latest().serverOpen();
  const closed = socket.close();
  FakeSocket.latest().serverClose();
  await closed;
  expect(socket.state).toBe('closed');
  return { socket, env };
}

describe('connect() after close()', () => {
  it('subscribes to the environment again, and an offline signal then holds the retry', async () => {
    const { socket, env } = await openedThenClosed();
    expect(env.listenerCount).toBe(0);

    socket.connect();
    expect(env.listenerCount).toBe(1);
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    FakeSocket.latest().serverDrop();
    expect(socket.retry).toMatchObject({ attempt: 1, delayMs: 1000 });

    env.emit('offline');
    expect(socket.retry).toMatchObject({ attempt: 1, hold: 'offline' });
    vi.advanceTimersByTime(10_000);
    expect(FakeSocket.instances).toHaveLength(2);

    env.emit('online');
    expect(socket.state).toBe('connecting');
    expect(FakeSocket.instances).toHaveLength(3);
  });

  it('follows the signal again: aborting it disposes the restarted socket', async () => {
    const controller = new AbortController();
    const { socket } = await openedThenClosed({ signal: controller.signal });

    socket.connect();
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    expect(socket.state).toBe('open');

    controller.abort();
    expect(socket.isDisposed).toBe(true);
    expect(socket.state).toBe('closed');
    expect(FakeSocket.latest().readyState).toBeGreaterThanOrEqual(FakeSocket.CLOSING);
    expect(vi.getTimerCount()).toBe(0);
  });
});
