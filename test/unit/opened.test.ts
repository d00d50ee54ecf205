import { describe, expect, it, vi } from 'vitest';
import { ReconnectingSocket, createManualEnvironment } from '../../src/index.js';
import { FakeSocket, flushMicrotasks, useFakeSockets } from '../helpers/fake-socket.js';

// opened(): resolves at the next open; rejects only with DISPOSED, ABORTED or TIMEOUT.

type Socket = ReconnectingSocket<any, any>;

const created = useFakeSockets<Socket>();

function create() {
  const socket = new ReconnectingSocket<any, any>('ws://example.test/feed', {
    WebSocket: FakeSocket,
    environment: createManualEnvironment(),
    heartbeat: false,
    jitter: false,
  });
  created.push(socket);
  return socket;
}

describe('opened()', () => {
  it('close() is not dispose(): a wait under way keeps waiting and resolves when connect() opens again', async () => {
    const socket = create();
    await flushMicrotasks();
    let outcome = 'pending';
    socket.opened().then(
      () => (outcome = 'resolved'),
      (error: { code?: string }) => (outcome = `rejected ${error.code}`),
    );
    const closing = socket.close();
    await flushMicrotasks();
    await closing;
    expect(socket.state).toBe('closed');
    expect(outcome).toBe('pending');

    socket.connect();
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    await flushMicrotasks();
    expect(outcome).toBe('resolved');
  });

  it('accepts timeoutMs up to the setTimeout limit (2147483647 ms) and refuses one above it', async () => {
    const socket = create();
    const atLimit = socket.opened({ timeoutMs: 2_147_483_647 });
    expect(() => socket.opened({ timeoutMs: 2_147_483_648 })).toThrow(RangeError);
    expect(vi.getTimerCount()).toBe(1);
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    await expect(atLimit).resolves.toBeUndefined();
  });
});
