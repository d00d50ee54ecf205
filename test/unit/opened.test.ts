import { describe, expect, it, vi } from 'vitest';
import { ReconnectingSocket, createManualEnvironment, opened } from '../../src/index.js';
import { FakeSocket, flushMicrotasks, useFakeSockets } from '../helpers/fake-socket.js';

// opened(): resolves at the next open; rejects with DISPOSED, CLOSED (a final close), ABORTED or TIMEOUT.

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
  it('a final close() rejects a wait under way with CLOSED and the close record; after connect() a new wait resolves', async () => {
    const socket = create();
    await flushMicrotasks();
    let outcome = 'pending';
    let record: unknown;
    opened(socket).then(
      () => (outcome = 'resolved'),
      (error: { code?: string; close?: unknown }) => {
        outcome = `rejected ${error.code}`;
        record = error.close;
      },
    );
    const closing = socket.close(4001, 'bye');
    await flushMicrotasks();
    const final = await closing;
    expect(socket.state).toBe('closed');
    expect(outcome).toBe('rejected CLOSED');
    expect(record).toEqual(final);
    await expect(opened(socket), 'already closed for good: at once').rejects.toMatchObject({ code: 'CLOSED', close: final });

    socket.connect();
    const again = opened(socket);
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    await expect(again).resolves.toBeUndefined();
  });

  it('rejects with CLOSED when the reconnect policy gives up', async () => {
    const socket = new ReconnectingSocket<any, any>('ws://example.test/feed', {
      WebSocket: FakeSocket,
      environment: createManualEnvironment(),
      heartbeat: false,
      maxRetries: 0,
    });
    created.push(socket);
    const wait = opened(socket);
    await flushMicrotasks();
    FakeSocket.latest().serverDrop();
    await expect(wait).rejects.toMatchObject({ code: 'CLOSED', close: { code: 1006, cause: 'network' } });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('accepts timeoutMs up to the setTimeout limit (2147483647 ms) and refuses one above it', async () => {
    const socket = create();
    const before = vi.getTimerCount();
    const atLimit = opened(socket, { timeoutMs: 2_147_483_647 });
    expect(() => opened(socket, { timeoutMs: 2_147_483_648 })).toThrow(RangeError);
    // One timer for the wait at the limit, none for the refused one.
    expect(vi.getTimerCount()).toBe(before + 1);
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    await expect(atLimit).resolves.toBeUndefined();
  });
});
