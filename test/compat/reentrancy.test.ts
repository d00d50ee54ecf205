import { beforeEach, describe, expect, it } from 'vitest';
import { FakeSocket, FakeWsSocket, flushMicrotasks } from '../helpers/fake-socket.js';
import { cleanup } from '../helpers/teardown.js';
import { FLAVOURS, record, type CompatClass } from './helpers.js';

// Listeners that call back into the socket (close() from an open listener, reconnect() from a message listener,
// …), with a scripted WebSocket of each kind (browser-like and ws-like) and no timers: every connection still
// ends with exactly one close event, and nothing is left running that should not be. The recorder is added
// before the listener that calls back: a close event that close() or reconnect() dispatches synchronously is
// nested in the dispatch under way, so listeners added after the caller see it first (as in partysocket).

beforeEach(() => {
  FakeSocket.reset();
});

const KINDS = [
  { kind: 'browser-like', WebSocket: FakeSocket },
  { kind: 'ws-like', WebSocket: FakeWsSocket },
] as const;

function open(Class: CompatClass, WebSocket: typeof FakeSocket) {
  const socket = new Class('ws://example.test/', undefined, { WebSocket, minReconnectionDelay: 60_000 });
  cleanup(() => socket.close());
  return socket;
}

describe.each(FLAVOURS)('$name: re-entrant listeners', ({ Class, afterClose }) => {
  describe.each(KINDS)('$kind', ({ WebSocket }) => {
    it('close() from an open listener: one close event, no message of that connection after it', async () => {
      const socket = open(Class, WebSocket);
      const events = record(socket);
      socket.addEventListener('open', () => socket.close(4000, 'from onopen'));
      await flushMicrotasks();
      FakeSocket.latest().serverOpen();
      expect(socket.readyState).toBe(afterClose);
      if (FakeSocket.latest().readyState === 2) FakeSocket.latest().serverClose();
      await flushMicrotasks();
      expect(events.types()).toEqual(['open', 'close']);
      expect(events.of('close')[0]).toMatchObject({ code: 4000, reason: 'from onopen', readyState: 3 });
      expect(FakeSocket.instances).toHaveLength(1);
    });

    it('reconnect() from a message listener: one close for the old connection, then the new one opens', async () => {
      const socket = open(Class, WebSocket);
      const events = record(socket);
      socket.addEventListener('message', () => socket.reconnect(4001, 'again'));
      await flushMicrotasks();
      FakeSocket.latest().serverOpen();
      FakeSocket.latest().serverMessage('go');
      await flushMicrotasks();
      expect(FakeSocket.instances).toHaveLength(2);
      expect(FakeSocket.instances[0]!.closeCalls[0]).toEqual({ code: 4001, reason: 'again' });
      FakeSocket.latest().serverOpen();
      expect(events.types()).toEqual(['open', 'message', 'close', 'open']);
      expect(events.of('close')[0]).toMatchObject({ code: 4001, reason: 'again' });
    });

    it('close() from an error listener of a failed attempt: one close event, no retry', async () => {
      const socket = open(Class, WebSocket);
      const events = record(socket);
      socket.addEventListener('error', () => socket.close());
      await flushMicrotasks();
      FakeSocket.latest().serverDrop();
      await flushMicrotasks();
      // The originals' order: the clean close of the failed attempt, then the error.
      expect(events.types()).toEqual(['close', 'error']);
      expect(socket.readyState).toBe(3);
      expect(FakeSocket.instances).toHaveLength(1);
    });

    it('reconnect() from onclose after a server close: exactly one new attempt, at once', async () => {
      const socket = open(Class, WebSocket);
      const events = record(socket);
      socket.onclose = () => socket.reconnect();
      await flushMicrotasks();
      FakeSocket.latest().serverOpen();
      FakeSocket.latest().serverClose(4002, 'bye');
      await flushMicrotasks();
      expect(FakeSocket.instances).toHaveLength(2);
      expect(socket.readyState).toBe(0);
      FakeSocket.latest().serverOpen();
      expect(events.types()).toEqual(['open', 'close', 'open']);
    });

    it('close() from the close event that reconnect() dispatches: every connection is reported once, then CLOSED', async () => {
      const socket = open(Class, WebSocket);
      const events = record(socket);
      await flushMicrotasks();
      FakeSocket.latest().serverOpen();
      socket.onclose = () => {
        socket.onclose = null;
        socket.close();
      };
      socket.reconnect();
      for (const fake of FakeSocket.instances) if (fake.readyState === 2) fake.serverClose();
      await flushMicrotasks();
      expect(socket.readyState).toBe(3);
      // The old connection's close only: close() ends the new attempt before it has a socket, which the
      // originals do not report either (their reconnect() then connects nothing).
      expect(events.types()).toEqual(['open', 'close']);
      expect(FakeSocket.instances.every((fake) => fake.readyState === 3)).toBe(true);
    });
  });
});
