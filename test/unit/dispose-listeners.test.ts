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
  it('a CALLBACK_THREW still pending at dispose() reaches no error listener, only the debug hook', async () => {
    const debug = vi.fn();
    const { socket } = createQuietSocket(created, { delay: brokenDelay, debug });
    const errors: string[] = [];
    socket.on('error', ({ error }) => errors.push(error.code));
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();

    // The drop consults delay(), which throws: its report is deferred to a microtask.
    FakeSocket.latest().serverDrop();
    expect(errors).toEqual(['SOCKET_ERROR']);
    socket.dispose();
    await flushMicrotasks();

    expect(errors).toEqual(['SOCKET_ERROR']);
    expect(debug.mock.calls.some(([message]) => /option "delay" threw/.test(String(message)))).toBe(true);
  });

  it('control: without dispose(), the same deferred report reaches the error listener', async () => {
    const { socket } = createQuietSocket(created, { delay: brokenDelay });
    const errors: string[] = [];
    socket.on('error', ({ error }) => errors.push(error.code));
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    FakeSocket.latest().serverDrop();
    await flushMicrotasks();
    expect(errors).toEqual(['SOCKET_ERROR', 'CALLBACK_THREW']);
  });
});
