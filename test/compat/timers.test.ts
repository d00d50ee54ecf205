import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeSocket, flushMicrotasks } from '../helpers/fake-socket.js';
import { FLAVOURS } from './helpers.js';

// Exact timings with fake timers and a scripted WebSocket (no real socket anywhere in this file): the backoff
// curve to the millisecond, and no timer left after close() in any phase.

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.reset();
});

afterEach(() => {
  vi.useRealTimers();
});

const OPTIONS = { WebSocket: FakeSocket, minReconnectionDelay: 1000, reconnectionDelayGrowFactor: 1.5, maxReconnectionDelay: 3000, minUptime: 500, connectionTimeout: 700 };

describe.each(FLAVOURS)('$name: timers', ({ Class }) => {
  it('the backoff to the millisecond: 1000, 1500, 2250, 3000, 3000; a stable connection starts it again', async () => {
    const socket = new Class('ws://example.test/', undefined, OPTIONS);
    await flushMicrotasks();
    expect(FakeSocket.instances).toHaveLength(1);
    for (const [i, delay] of [1000, 1500, 2250, 3000, 3000].entries()) {
      FakeSocket.latest().serverDrop();
      await vi.advanceTimersByTimeAsync(delay - 1);
      expect(FakeSocket.instances).toHaveLength(i + 1);
      await vi.advanceTimersByTimeAsync(1);
      expect(FakeSocket.instances).toHaveLength(i + 2);
      expect(socket.retryCount).toBe(i + 1);
    }
    FakeSocket.latest().serverOpen();
    await vi.advanceTimersByTimeAsync(499);
    expect(socket.retryCount).toBe(5);
    await vi.advanceTimersByTimeAsync(1);
    expect(socket.retryCount).toBe(0);
    FakeSocket.latest().serverDrop();
    await vi.advanceTimersByTimeAsync(999);
    expect(FakeSocket.instances).toHaveLength(6);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.instances).toHaveLength(7);
    socket.close();
  });

  it('connectionTimeout to the millisecond', async () => {
    const socket = new Class('ws://example.test/', undefined, OPTIONS);
    const errors: string[] = [];
    socket.addEventListener('error', (event) => errors.push(event.message));
    await flushMicrotasks();
    await vi.advanceTimersByTimeAsync(699);
    expect(errors).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(errors).toEqual(['TIMEOUT']);
    socket.close();
  });

  it('close() leaves no timer, whatever the phase', async () => {
    const phases: Record<string, (socket: InstanceType<typeof Class>) => Promise<void>> = {
      'before the first attempt': async () => {},
      connecting: async () => flushMicrotasks(),
      'open, not yet stable': async () => {
        await flushMicrotasks();
        FakeSocket.latest().serverDrop();
        await vi.advanceTimersByTimeAsync(1000);
        FakeSocket.latest().serverOpen();
      },
      'waiting to retry': async () => {
        await flushMicrotasks();
        FakeSocket.latest().serverDrop();
      },
      'after the retries ran out': async (socket) => {
        await flushMicrotasks();
        FakeSocket.latest().serverDrop();
        await vi.advanceTimersByTimeAsync(1000);
        FakeSocket.latest().serverDrop();
        expect(socket.readyState).toBe(3);
      },
    };
    for (const [phase, reach] of Object.entries(phases)) {
      FakeSocket.reset();
      const socket = new Class('ws://example.test/', undefined, { ...OPTIONS, maxRetries: 1 });
      await reach(socket);
      socket.close();
      // An open socket waits for the peer's close frame (a timer bounds that wait); the peer answers.
      const latest = FakeSocket.instances.at(-1);
      if (latest && latest.readyState === 2) latest.serverClose();
      await flushMicrotasks();
      expect(vi.getTimerCount(), phase).toBe(0);
      expect(socket.readyState, phase).toBe(3);
    }
  });

  it('a peer that never answers the close frame: forced down after 5 s, then no timer', async () => {
    const socket = new Class('ws://example.test/', undefined, OPTIONS);
    const closes: number[] = [];
    socket.addEventListener('close', (event) => closes.push(event.code));
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    socket.close(4000);
    await vi.advanceTimersByTimeAsync(4999);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(vi.getTimerCount()).toBe(0);
    // The inner socket's readyState, as in the originals: the engine forced it down, its own close may follow.
    expect(socket.readyState).toBeGreaterThanOrEqual(2);
    expect(closes).toHaveLength(1);
  });
});
