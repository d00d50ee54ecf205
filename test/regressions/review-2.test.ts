import { beforeEach, describe, expect, it } from 'vitest';
import PartySocket from '../../src/compat/partysocket-ws.js';
import ReconnectingWebSocket from '../../src/compat/reconnecting-websocket.js';
import { FakeSocket, FakeWsSocket, flushMicrotasks } from '../helpers/fake-socket.js';
import { cleanup } from '../helpers/teardown.js';

// Second adversarial review: re-entrant user code in the compat classes and the core. Each test names the
// behaviour it holds; the ones marked "core bug" fail until the core is fixed.

const FLAVOURS = [
  { name: 'partysocket', Class: PartySocket },
  { name: 'reconnecting-websocket', Class: ReconnectingWebSocket },
] as const;

function compat(Class: typeof PartySocket | typeof ReconnectingWebSocket) {
  const socket = new Class('ws://example.test/', undefined, { WebSocket: FakeWsSocket, minReconnectionDelay: 60_000, maxReconnectionDelay: 60_000 });
  cleanup(() => socket.close());
  const seen: { type: string; readyState: number; code?: number }[] = [];
  for (const type of ['open', 'close']) socket.addEventListener(type, (event: any) => seen.push({ type, readyState: socket.readyState, code: event.code }));
  return { socket, seen };
}

describe.each(FLAVOURS)('compat $name: re-entrant calls from an open handler', ({ Class }) => {
  beforeEach(() => FakeSocket.reset());

  it('reconnect() twice from one open handler reports the old connection as the original does, and nothing more', async () => {
    const { socket, seen } = compat(Class);
    let calls = 0;
    socket.onopen = () => {
      if (calls++ > 0) return;
      socket.reconnect(4001, 'a');
      socket.reconnect(4002, 'b');
    };
    await flushMicrotasks();
    FakeSocket.instances[0]!.serverOpen();
    await flushMicrotasks();
    // As the originals report it (each run against ours on loopback and with this fake): reconnect() reports the
    // socket it leaves unless that socket is closed (partysocket: or closing). The second call finds the first
    // connection still closing: partysocket reports nothing more, reconnecting-websocket reports it again (4002).
    // Nothing else follows: the first connection's own end is not reported a second (or third) time, and the
    // attempt the first reconnect() started, ended by the second before it had a socket, reports nothing.
    expect(FakeSocket.instances).toHaveLength(2);
    const closes = seen.filter((e) => e.type === 'close').map((e) => e.code);
    expect(closes).toEqual(Class === ReconnectingWebSocket ? [4001, 4002] : [4001]);
    expect(socket.readyState).toBe(0);
  });

  it('reconnect() then close() from one open handler: the first connection is reported closed once', async () => {
    const { socket, seen } = compat(Class);
    socket.onopen = () => {
      socket.reconnect(4001, 'a');
      socket.close(4002, 'b');
    };
    await flushMicrotasks();
    FakeSocket.instances[0]!.serverOpen();
    await flushMicrotasks();
    for (const s of FakeSocket.instances) if (s.readyState === 2) s.serverClose();
    await flushMicrotasks();
    // One close event per connection: the first one once, and the attempt reconnect() started (if any) once.
    const closes = seen.filter((e) => e.type === 'close');
    expect(closes.length).toBe(FakeSocket.instances.length);
    expect(closes[0]).toMatchObject({ code: 4001 });
    expect(closes[1]?.code).not.toBe(4001);
    expect(socket.readyState).toBe(3);
  });

  it('the close event of reconnect() called from an open handler does not show readyState OPEN', async () => {
    const { socket, seen } = compat(Class);
    let calls = 0;
    socket.onopen = () => {
      if (calls++ === 0) socket.reconnect();
    };
    await flushMicrotasks();
    FakeSocket.instances[0]!.serverOpen();
    await flushMicrotasks();
    const close = seen.find((e) => e.type === 'close')!;
    expect(close).toBeDefined();
    expect(close.readyState).not.toBe(1);
  });

  it('close() then reconnect() from one open handler: one close event, then the socket connects again', async () => {
    const { socket, seen } = compat(Class);
    let calls = 0;
    socket.onopen = () => {
      if (calls++ > 0) return;
      socket.close(4003, 'c');
      socket.reconnect();
    };
    await flushMicrotasks();
    FakeSocket.instances[0]!.serverOpen();
    await flushMicrotasks();
    expect(seen.filter((e) => e.type === 'close')).toHaveLength(1);
    expect(FakeSocket.instances).toHaveLength(2);
    expect(socket.readyState).toBe(0);
    FakeSocket.instances[1]!.serverOpen();
    expect(socket.readyState).toBe(1);
    // partysocket's close event is synchronous, so it is nested in the open dispatch: count, not order.
    expect(seen.filter((e) => e.type === 'open')).toHaveLength(2);
    expect(seen.filter((e) => e.type === 'close')).toHaveLength(1);
  });
});
