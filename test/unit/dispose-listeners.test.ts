import { describe, expect, it, vi } from 'vitest';
import { ReconnectingSocket } from '../../src/index.js';
import { FakeSocket, flushMicrotasks, createQuietSocket, useFakeSockets } from '../helpers/fake-socket.js';

// dispose() "removes every listener (yours too)" (README): a report that was already on its way when dispose()
// ran must not reach a listener of the disposed socket.

type Socket = ReconnectingSocket<any, any>;

const created = useFakeSockets<Socket>();

const brokenDelay = () => {
  throw new Error('broken delay');
};

describe('dispose() removes your listeners', () => {
  // A callback that throws inside a transition (delay, shouldReconnect) is reported with it; one that throws
  // outside any (isPong, on a message) is reported on a microtask, which dispose() may come before.
  const brokenIsPong = {
    message: 'ping',
    isPong: () => {
      throw new Error('broken isPong');
    },
  };

  // The small core reports a callback's throw with the event that called it, not on a later microtask, so no
  // report is left pending when dispose() comes: it reaches the error listener first, and nothing follows dispose().
  it('a CALLBACK_THREW is reported with the message that caused it; after dispose() nothing more', async () => {
    const debug = vi.fn();
    const { socket } = createQuietSocket(created, { heartbeat: brokenIsPong, debug });
    const errors: string[] = [];
    socket.on('error', ({ error }) => errors.push(error.code));
    await flushMicrotasks();
    const inner = FakeSocket.latest();
    inner.serverOpen();

    inner.serverMessage('hello');
    expect(errors).toEqual(['CALLBACK_THREW']);
    socket.dispose();
    inner.serverMessage('again');
    await flushMicrotasks();

    expect(errors).toEqual(['CALLBACK_THREW']);
    expect(debug).not.toHaveBeenCalledWith(expect.stringMatching(/heartbeat.isPong/), expect.anything());
  });

  it('nor an error listener added after dispose()', async () => {
    const { socket } = createQuietSocket(created, { heartbeat: brokenIsPong, debug: () => {} });
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    FakeSocket.latest().serverMessage('hello');
    socket.dispose();
    const errors: string[] = [];
    socket.on('error', ({ error }) => errors.push(error.code));
    await flushMicrotasks();
    expect(errors).toEqual([]);
  });

  it('control: without dispose(), the same deferred report reaches the error listener', async () => {
    const { socket } = createQuietSocket(created, { heartbeat: brokenIsPong });
    const errors: string[] = [];
    socket.on('error', ({ error }) => errors.push(error.code));
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    FakeSocket.latest().serverMessage('hello');
    await flushMicrotasks();
    expect(errors).toEqual(['CALLBACK_THREW']);
  });

  it('a callback that throws inside a transition (delay) is reported with it, before dispose() can come', () => {
    const { socket } = createQuietSocket(created, { delay: brokenDelay });
    const errors: string[] = [];
    socket.on('error', ({ error }) => errors.push(error.code));
    return flushMicrotasks().then(() => {
      FakeSocket.latest().serverOpen();
      FakeSocket.latest().serverDrop();
      expect(errors).toEqual(['SOCKET_ERROR', 'CALLBACK_THREW']);
    });
  });
});
