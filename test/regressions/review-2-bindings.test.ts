import { beforeEach, describe, expect, it } from 'vitest';
import PartySocket from '../../src/compat/partysocket-ws.js';
import { ReconnectingSocket } from '../../src/index.js';
import { SocketBinding } from '../../src/react/binding.js';
import { FakeSocket, FakeWsSocket, createQuietSocket, flushMicrotasks, useFakeSockets } from '../helpers/fake-socket.js';
import { cleanup } from '../helpers/teardown.js';

// Second adversarial review: what the compat and React layers promise once a connection was reported closed,
// or a binding detached, while the core still delivers that connection's events. These kill mutants the
// suites let through (the muting of a closed connection's messages and errors; the binding's detached guard).

describe('compat partysocket: after close() reported CLOSED, that connection is silent', () => {
  beforeEach(() => FakeSocket.reset());

  function opened() {
    const socket = new PartySocket('ws://example.test/', undefined, { WebSocket: FakeWsSocket, minReconnectionDelay: 60_000 });
    cleanup(() => socket.close());
    const seen: string[] = [];
    for (const type of ['open', 'message', 'close', 'error']) socket.addEventListener(type, () => seen.push(type));
    return { socket, seen };
  }

  it('a message the server sends before answering the close frame is not dispatched after the close event', async () => {
    const { socket, seen } = opened();
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    socket.close(4000, 'bye');
    FakeSocket.latest().serverMessage('late');
    FakeSocket.latest().serverClose();
    await flushMicrotasks();
    expect(seen).toEqual(['open', 'close']);
  });

  it('an error of the closing connection is not dispatched after the close event', async () => {
    const { socket, seen } = opened();
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    socket.close(4000, 'bye');
    FakeSocket.latest().serverDrop();
    await flushMicrotasks();
    expect(seen).toEqual(['open', 'close']);
  });
});

describe('react SocketBinding: a binding detached during an event it was about to hear', () => {
  const created = useFakeSockets<ReconnectingSocket<any, any>>();

  it('publishes nothing and calls no handler, and raises no LISTENER_THREW', async () => {
    const { socket } = createQuietSocket(created);
    const errors: string[] = [];
    socket.on('error', ({ error }) => errors.push(error.code));
    const calls: string[] = [];
    const binding = new SocketBinding<any, any>(() => ({ onClose: () => calls.push('onClose') }));
    // Another user of the socket, registered first, makes this binding let go (an unmount, a disable).
    socket.on('close', () => binding.detach());
    binding.attach('k', socket);
    let published = 0;
    binding.subscribe(() => published++);
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    published = 0;
    FakeSocket.latest().serverClose(1001);
    await flushMicrotasks();
    expect(calls).toEqual([]);
    expect(errors).toEqual([]);
    expect(binding.getSnapshot().view.state).toBe('closed');
    expect(binding.getSnapshot().key).toBeUndefined();
  });
});
