import { afterEach, describe, expect, it, vi } from 'vitest';
import { ReconnectingSocket, createManualEnvironment } from '../../src/index.js';
import { SocketEmitter } from '../../src/emitter.js';
import type { SocketError } from '../../src/errors.js';
import { FakeSocket, flushMicrotasks, useFakeSockets } from '../helpers/fake-socket.js';

// The listener contract of on/once/off (STYLE.md, after mitt): emit iterates over a copy, an unsubscribe is
// safe to call twice, a throwing listener never skips the others.

type Events = { tick: number; error: { error: SocketError } };

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('SocketEmitter', () => {
  it('a listener that removes itself during emit does not make the next one miss the event', () => {
    const emitter = new SocketEmitter<Events>();
    const calls: string[] = [];
    const offA = emitter.on('tick', () => {
      calls.push('a');
      offA();
    });
    emitter.on('tick', () => calls.push('b'));
    emitter.on('tick', () => calls.push('c'));
    emitter.emit('tick', 1);
    expect(calls).toEqual(['a', 'b', 'c']);
    emitter.emit('tick', 2);
    expect(calls).toEqual(['a', 'b', 'c', 'b', 'c']);
  });

  it('a listener added during emit hears only the next event', () => {
    const emitter = new SocketEmitter<Events>();
    const heard: number[] = [];
    let isAdded = false;
    emitter.on('tick', () => {
      if (isAdded) return;
      isAdded = true;
      emitter.on('tick', (n) => heard.push(n));
    });
    emitter.on('tick', () => {});
    emitter.emit('tick', 1);
    expect(heard).toEqual([]);
    emitter.emit('tick', 2);
    expect(heard).toEqual([2]);
  });

  it('calling one unsubscribe twice removes only its own registration of a listener added twice', () => {
    const emitter = new SocketEmitter<Events>();
    const heard: number[] = [];
    const listener = (n: number) => heard.push(n);
    const offFirst = emitter.on('tick', listener);
    emitter.on('tick', listener);
    offFirst();
    offFirst();
    emitter.emit('tick', 7);
    expect(heard).toEqual([7]);
  });

  it('once(): a listener that emits the same event again is not called a second time', () => {
    const emitter = new SocketEmitter<Events>();
    let calls = 0;
    emitter.once('tick', () => {
      calls++;
      if (calls === 1) emitter.emit('tick', 2);
    });
    emitter.emit('tick', 1);
    expect(calls).toBe(1);
  });

  it('an error listener that throws is reported once as uncaught, not fed back to itself', () => {
    const reportError = vi.fn();
    vi.stubGlobal('reportError', reportError);
    const emitter = new SocketEmitter<Events>();
    let calls = 0;
    emitter.on('error', () => {
      calls++;
      throw new Error('broken error listener');
    });
    emitter.on('tick', () => {
      throw new Error('broken tick listener');
    });
    emitter.emit('tick', 1);
    expect(calls).toBe(1);
    expect(reportError).toHaveBeenCalledTimes(1);
    expect(reportError.mock.calls[0]![0]).toMatchObject({ code: 'LISTENER_THREW', message: expect.stringContaining('"error" listener threw') });
  });
});

describe('ReconnectingSocket listeners', () => {
  const created = useFakeSockets<ReconnectingSocket<any, any>>();

  it('two once() listeners for the same event both run', async () => {
    const socket = new ReconnectingSocket<any, any>('ws://example.test/feed', {
      WebSocket: FakeSocket,
      environment: createManualEnvironment(),
      heartbeat: false,
      jitter: false,
      initialDelayMs: 1000,
    });
    created.push(socket);
    const calls: string[] = [];
    socket.once('open', () => calls.push('first'));
    socket.once('open', () => calls.push('second'));
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    expect(calls).toEqual(['first', 'second']);
    FakeSocket.latest().serverDrop();
    // Exactly the (unjittered) backoff: the retry starts, and no connect timeout can tear it down first.
    vi.advanceTimersByTime(1000);
    expect(FakeSocket.instances).toHaveLength(2);
    FakeSocket.latest().serverOpen();
    expect(socket.state).toBe('open');
    expect(calls).toEqual(['first', 'second']);
  });
});
