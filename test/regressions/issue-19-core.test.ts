import { describe, expect, it, vi } from 'vitest';
import { ReconnectingSocket, type Codec } from '../../src/index.js';
import { FakeSocket, flushMicrotasks, useFakeSockets } from '../helpers/fake-socket.js';

// Issue 19, items 6 and 7 (the core): each test failed on the core before its fix (6: send(undefined) threw a
// TypeError while not open and answered 'sent' while open; 7: fixed protocols and headers were accepted and every
// attempt then failed inside the WebSocket constructor).

const URL_ = 'ws://example.test/feed';

describe('issue 19.6: send() of something that is not wire data', () => {
  const created = useFakeSockets<ReconnectingSocket<any, any>>();
  const make = (options: object = {}) => {
    const socket = new ReconnectingSocket<any, any>(URL_, { WebSocket: FakeSocket, environment: null, heartbeat: false, jitter: false, initialDelayMs: 1000, ...options });
    created.push(socket);
    const errors: string[] = [];
    socket.on('error', ({ error }) => errors.push(error.code));
    return { socket, errors };
  };
  const BAD = [undefined, null, 42, true, { an: 'object' }];

  it("is refused the same way in every state: 'failed' and one ENCODE_FAILED, never a throw, nothing queued or sent", async () => {
    const states: Record<string, () => Promise<ReconnectingSocket<any, any>>> = {
      idle: async () => make({ autoConnect: false }).socket,
      connecting: async () => make().socket,
      open: async () => {
        const { socket } = make();
        await flushMicrotasks();
        FakeSocket.latest().serverOpen();
        return socket;
      },
      'waiting to retry': async () => {
        const { socket } = make();
        await flushMicrotasks();
        FakeSocket.latest().serverDrop();
        return socket;
      },
      'closed for good': async () => {
        const { socket } = make({ autoConnect: false });
        await socket.close();
        return socket;
      },
    };
    for (const [name, setup] of Object.entries(states)) {
      const socket = await setup();
      const errors: string[] = [];
      socket.on('error', ({ error }) => errors.push(error.code));
      for (const data of BAD) expect(socket.send(data), `${name}: send(${String(data)})`).toBe('failed');
      expect(errors, name).toEqual(BAD.map(() => 'ENCODE_FAILED'));
      expect(socket.queued, name).toEqual([]);
      expect(FakeSocket.instances.flatMap((inner) => inner.sent), name).toEqual([]);
    }
  });

  it("a codec whose encode() returns undefined for a message gets the same answer, open or not", async () => {
    const codec: Codec<string, string> = { encode: (message) => (message === 'bad' ? (undefined as never) : message), decode: (data) => String(data) };
    const { socket, errors } = make({ codec });
    expect(socket.send('bad')).toBe('failed');
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    expect(socket.send('bad')).toBe('failed');
    expect(socket.send('good')).toBe('sent');
    expect(errors).toEqual(['ENCODE_FAILED', 'ENCODE_FAILED']);
    expect(FakeSocket.latest().sent).toEqual(['good']);
  });
});

describe('issue 19.7: bad protocols and headers', () => {
  const created = useFakeSockets<ReconnectingSocket<any, any>>();

  it.each([
    ['protocols', 42, /option "protocols" must be a subprotocol name \(an HTTP token\) or an array of them, got 42/],
    ['protocols', ['a b'], /option "protocols" must be a subprotocol name/],
    ['protocols', ['x', 'x'], /option "protocols" must be distinct subprotocol names, got an array/],
    ['headers', { 'bad name': 'x' }, /option "headers" must be an object of header names \(HTTP tokens\) and string values, got object/],
    ['headers', { ok: 'line\nbreak' }, /option "headers" must be/],
    ['headers', { ok: 5 }, /option "headers" must be/],
  ])('fixed %s %j: a TypeError when the socket is made, naming the option and the value', (name, value, message) => {
    expect(() => new ReconnectingSocket<any, any>(URL_, { WebSocket: FakeSocket, autoConnect: false, [name]: value })).toThrow(message);
    expect(FakeSocket.instances).toEqual([]);
  });

  it('good values pass: one token, a list of distinct tokens, token header names with string values', () => {
    for (const options of [{ protocols: 'v1' }, { protocols: ['v1', 'v2.json', 'x-y_z'] }, { headers: { 'x-client': 'ingest', Authorization: 'Bearer a.b.c' } }]) {
      const socket = new ReconnectingSocket<any, any>(URL_, { WebSocket: FakeSocket, autoConnect: false, ...options });
      created.push(socket);
    }
  });

  it("a provider's bad result fails that attempt with PROVIDER_FAILED, named, and is retried on the curve, not in a tight loop", async () => {
    const socket = new ReconnectingSocket<any, any>(URL_, {
      WebSocket: FakeSocket,
      environment: null,
      heartbeat: false,
      jitter: false,
      initialDelayMs: 1000,
      protocols: () => ['x', 'x'],
    });
    created.push(socket);
    const errors: string[] = [];
    socket.on('error', ({ error }) => errors.push(`${error.code}: ${error.message}`));
    await flushMicrotasks();
    expect(errors).toEqual([expect.stringMatching(/^PROVIDER_FAILED: .*distinct subprotocol names/)]);
    expect(socket.retry).toEqual({ attempt: 1, delayMs: 1000 });
    // Nothing more until the planned delay has passed.
    vi.advanceTimersByTime(999);
    await flushMicrotasks();
    expect(errors).toHaveLength(1);
    vi.advanceTimersByTime(1);
    await flushMicrotasks();
    expect(errors).toHaveLength(2);
    expect(FakeSocket.instances).toEqual([]);
  });
});
