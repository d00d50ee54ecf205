import { beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeSocket, FakeWsSocket, flushMicrotasks } from '../helpers/fake-socket.js';

beforeEach(() => FakeSocket.reset());

function record(socket: FakeSocket): string[] {
  const log: string[] = [];
  for (const type of ['open', 'message', 'error', 'close']) {
    socket.addEventListener(type, (event) => log.push(type === 'close' ? `close ${event.code} ${event.wasClean}` : type === 'message' ? `message ${String(event.data)}` : type));
  }
  return log;
}

describe('FakeSocket (WHATWG behaviour)', () => {
  it('is registered and starts CONNECTING', () => {
    const socket = new FakeSocket('ws://x/', ['a']);
    expect(FakeSocket.instances).toEqual([socket]);
    expect(FakeSocket.latest()).toBe(socket);
    expect(socket.readyState).toBe(0);
    expect(socket.protocols).toEqual(['a']);
  });

  it('close() while OPEN → CLOSING; the close event only on serverClose(), echoing our code', () => {
    const socket = new FakeSocket('ws://x/');
    const log = record(socket);
    socket.serverOpen('chat');
    expect(socket.protocol).toBe('chat');
    socket.close(4000, 'bye');
    expect(socket.readyState).toBe(2);
    expect(log).toEqual(['open']);
    socket.serverClose();
    expect(socket.readyState).toBe(3);
    expect(log).toEqual(['open', 'close 4000 true']);
  });

  it('close() while CONNECTING → CLOSING now, then error + close 1006 asynchronously', async () => {
    const socket = new FakeSocket('ws://x/');
    const log = record(socket);
    socket.close();
    expect(socket.readyState).toBe(2);
    expect(log).toEqual([]);
    await flushMicrotasks();
    expect(log).toEqual(['error', 'close 1006 false']);
    expect(socket.readyState).toBe(3);
  });

  it('close() validates like a browser and never schedules a timer', () => {
    vi.useFakeTimers();
    try {
      const socket = new FakeSocket('ws://x/');
      socket.serverOpen();
      expect(() => socket.close(1001)).toThrow(expect.objectContaining({ name: 'InvalidAccessError' }));
      expect(() => socket.close(1000, 'é'.repeat(62))).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
      socket.close(1000);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('send(): throws while CONNECTING, records while OPEN, discards after close', () => {
    const socket = new FakeSocket('ws://x/');
    expect(() => socket.send('a')).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
    socket.serverOpen();
    socket.send('b');
    socket.close();
    socket.send('€');
    expect(socket.sent).toEqual(['b']);
    expect(socket.discarded).toEqual(['€']);
    expect(socket.bufferedAmount).toBe(3);
  });

  it('counts listeners and dispatches like EventTarget (removed-during-dispatch skipped, throw isolated)', () => {
    const socket = new FakeSocket('ws://x/');
    const second = vi.fn();
    socket.addEventListener('open', () => {
      socket.removeEventListener('open', second);
      throw new Error('boom');
    });
    socket.addEventListener('open', second);
    const third = vi.fn();
    socket.addEventListener('open', third);
    socket.addEventListener('open', third);
    socket.onclose = () => {};
    expect(socket.listenerCount('open')).toBe(3);
    expect(socket.listenerCount()).toBe(4);
    expect(socket.listenerTypes()).toEqual(['close', 'open']);
    socket.serverOpen();
    expect(second).not.toHaveBeenCalled();
    expect(third).toHaveBeenCalledTimes(1);
    expect(FakeSocket.uncaught).toHaveLength(1);
  });

  it('server methods refuse impossible states', () => {
    const socket = new FakeSocket('ws://x/');
    expect(() => socket.serverMessage('x')).toThrow(/needs readyState OPEN or CLOSING/);
    socket.serverDrop();
    expect(socket.readyState).toBe(3);
    expect(() => socket.serverOpen()).toThrow(/CLOSED/);
  });

  it('delivers binary as ArrayBuffer or Blob per binaryType', () => {
    const socket = new FakeSocket('ws://x/');
    const seen: unknown[] = [];
    socket.addEventListener('message', (event) => seen.push(event.data));
    socket.serverOpen();
    socket.binaryType = 'arraybuffer';
    socket.serverMessage(new Uint8Array([1, 2]));
    socket.binaryType = 'blob';
    socket.serverMessage(new Uint8Array([3]));
    expect(seen[0]).toBeInstanceOf(ArrayBuffer);
    expect(seen[1]).toBeInstanceOf(Blob);
  });
});

describe('FakeWsSocket (Node ws behaviour)', () => {
  it('has ping/terminate on its prototype (so it reads as ws), emits pong and message through on()', () => {
    expect(typeof FakeWsSocket.prototype.terminate).toBe('function');
    expect('terminate' in FakeSocket.prototype).toBe(false);
    const socket = new FakeWsSocket('ws://x/');
    const events: unknown[][] = [];
    const onMessage = (...args: unknown[]) => events.push(['message', ...args]);
    socket.on('message', onMessage);
    socket.on('pong', () => events.push(['pong']));
    expect(socket.listenerCount()).toBe(2);
    socket.serverOpen();
    socket.ping();
    expect(socket.pings).toHaveLength(1);
    socket.serverPong();
    socket.serverMessage('hi');
    expect(events[0]).toEqual(['pong']);
    expect(events[1]![0]).toBe('message');
    expect(String(events[1]![1])).toBe('hi');
    expect(events[1]![2]).toBe(false);
    socket.off('message', onMessage);
    expect(socket.listenerCount('message')).toBe(0);
  });

  it('terminate() → close 1006 on a microtask; close() while CONNECTING → error + close', async () => {
    const open = new FakeWsSocket('ws://x/');
    const openLog = record(open);
    open.serverOpen();
    open.terminate();
    expect(open.readyState).toBe(2);
    await flushMicrotasks();
    expect(openLog).toEqual(['open', 'close 1006 false']);
    expect(open.terminateCalls).toBe(1);

    const connecting = new FakeWsSocket('ws://x/');
    const log = record(connecting);
    connecting.close();
    await flushMicrotasks();
    expect(log).toEqual(['error', 'close 1006 false']);
  });

  it('accepts 1001 (valid on the wire), rejects 1005', () => {
    const socket = new FakeWsSocket('ws://x/');
    socket.serverOpen();
    expect(() => socket.close(1005)).toThrow(TypeError);
    socket.close(1001, 'going away');
    expect(socket.readyState).toBe(2);
  });

  it('autoPong answers pings', async () => {
    const socket = new FakeWsSocket('ws://x/');
    socket.autoPong = true;
    const pong = vi.fn();
    socket.on('pong', pong);
    socket.serverOpen();
    socket.ping();
    await flushMicrotasks();
    expect(pong).toHaveBeenCalledTimes(1);
  });
});
