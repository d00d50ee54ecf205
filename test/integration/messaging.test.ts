import { describe, expect, it } from 'vitest';
import { SocketError, jsonCodec, type Codec, type OverflowPolicy, type ReconnectingSocketOptions, type SendResult } from '../../src/index.js';
import { broadcast, receivedExactly, startFlakyServer, trackUnhandledRejections } from '../helpers/messaging.js';
import { nextEvent, recordEvents, sleep, startServer, waitFor } from '../helpers/servers.js';
import { FASTER, socketFactory } from '../helpers/socket.js';

// Issue 3: messaging that loses nothing. Real `ws` servers on 127.0.0.1 (port 0), one per test, torn down
// after it; outages are made by killing the server or by a fault proxy that resets and refuses.

const createSocket = socketFactory(FASTER);
const rejections = trackUnhandledRejections();

/**
 * A socket through a flaky server (no echo) that opened, then lost its network: the `close` event has fired.
 * Events of `types` are recorded from the start.
 */
async function openThenCut(options: ReconnectingSocketOptions<any, any> = {}, types: readonly string[] = ['drop']) {
  const flaky = await startFlakyServer({ echo: false });
  const socket = createSocket(flaky.url, options);
  const log = recordEvents(socket, types);
  await nextEvent(socket, 'open');
  const lost = nextEvent(socket, 'close');
  flaky.cut();
  await lost;
  return { flaky, socket, log };
}

describe('sending through an outage', () => {
  it('queues while the server is down and delivers everything once, in order, after the reconnect', async () => {
    const server = await startServer({ echo: false });
    const socket = createSocket(server.url);
    const log = recordEvents(socket, ['drop']);
    await nextEvent(socket, 'open');
    expect(socket.send('before')).toBe('sent');
    await waitFor(() => server.received.length === 1);

    const lost = nextEvent(socket, 'close');
    await server.close();
    expect(await lost).toMatchObject({ cause: 'network', willReconnect: true });

    const batch = Array.from({ length: 20 }, (_, i) => `during-${i}`);
    const results = batch.map((message) => socket.send(message));
    expect(results).toEqual(batch.map(() => 'queued'));
    expect(socket.queued.map((item) => item.message)).toEqual(batch);
    expect(socket.bufferedAmount).toBe(batch.reduce((sum, message) => sum + message.length, 0));

    // Let a few refused retries go by; the queue must survive them.
    await sleep(200);
    expect(socket.send('late')).toBe('queued');
    const reopened = nextEvent(socket, 'open');
    await server.restart();
    expect((await reopened).attempt).toBeGreaterThan(0);

    expect(await receivedExactly(server, 22)).toEqual(['before', ...batch, 'late']);
    expect(socket.queued).toEqual([]);
    await waitFor(() => socket.bufferedAmount === 0);
    expect(socket.send('after')).toBe('sent');
    expect(await receivedExactly(server, 23)).toEqual(['before', ...batch, 'late', 'after']);
    expect(log.of('drop')).toEqual([]);
  });

  it('survives a network reset: sends during backoff are queued and delivered in order on the next connection', async () => {
    const flaky = await startFlakyServer({ echo: false });
    const socket = createSocket(flaky.url);
    await nextEvent(socket, 'open');
    expect(socket.send('one')).toBe('sent');
    await waitFor(() => flaky.perConnection[0]?.length === 1);

    const lost = nextEvent(socket, 'close');
    flaky.cut();
    await lost;
    // In backoff (or in a refused attempt): either way, not open.
    await waitFor(() => socket.state !== 'open' && socket.attempt >= 1);
    const results: SendResult[] = [];
    for (let i = 0; i < 5; i++) {
      results.push(socket.send(`two-${i}`));
      await sleep(20);
    }
    expect(results).toEqual(['queued', 'queued', 'queued', 'queued', 'queued']);

    const reopened = nextEvent(socket, 'open');
    flaky.restore();
    await reopened;
    await waitFor(() => flaky.perConnection.at(-1)?.length === 5);
    await sleep(100);
    expect(flaky.perConnection[0]).toEqual(['one']);
    expect(flaky.perConnection.at(-1)).toEqual(['two-0', 'two-1', 'two-2', 'two-3', 'two-4']);
    expect(flaky.perConnection.flat()).toEqual(['one', 'two-0', 'two-1', 'two-2', 'two-3', 'two-4']);
  });

  it('queues what is sent before the first open and flushes it when the connection opens', async () => {
    const server = await startServer({ echo: false });
    const socket = createSocket(server.url);
    expect(socket.state).toBe('connecting');
    expect(socket.send('a')).toBe('queued');
    expect(socket.send('b')).toBe('queued');
    await nextEvent(socket, 'open');
    expect(socket.queued).toEqual([]);
    expect(await receivedExactly(server, 2)).toEqual(['a', 'b']);
  });
});

describe('a frame sent from an open listener', () => {
  it('goes out before the queued backlog, and the backlog before anything sent after open', async () => {
    const flaky = await startFlakyServer({ echo: false });
    const socket = createSocket(flaky.url);
    const listenerResults: SendResult[] = [];
    socket.on('open', ({ attempt }) => {
      listenerResults.push(socket.send(`hello-${attempt === 0 ? 'first' : 'again'}`));
      listenerResults.push(socket.send('auth'));
    });
    await nextEvent(socket, 'open');
    expect(listenerResults).toEqual(['sent', 'sent']);
    // Let the first connection's frames through the proxy before cutting it.
    await waitFor(() => flaky.perConnection[0]?.length === 2);

    const lost = nextEvent(socket, 'close');
    flaky.cut();
    await lost;
    expect(['q1', 'q2', 'q3'].map((m) => socket.send(m))).toEqual(['queued', 'queued', 'queued']);

    const reopened = nextEvent(socket, 'open');
    flaky.restore();
    await reopened;
    // The open event has been delivered and the backlog flushed synchronously after it: sends now go straight out.
    expect(socket.queued).toEqual([]);
    expect(socket.send('after-open')).toBe('sent');
    expect(listenerResults).toEqual(['sent', 'sent', 'sent', 'sent']);

    await waitFor(() => flaky.perConnection.at(-1)?.length === 6);
    await sleep(100);
    expect(flaky.perConnection[0]).toEqual(['hello-first', 'auth']);
    expect(flaky.perConnection.at(-1)).toEqual(['hello-again', 'auth', 'q1', 'q2', 'q3', 'after-open']);
  });

  it('several open listeners all get ahead of the backlog, in listener order', async () => {
    const server = await startServer({ echo: false });
    const socket = createSocket(server.url, { autoConnect: false });
    socket.on('open', () => socket.send('first-listener'));
    socket.on('open', () => socket.send('second-listener'));
    expect(socket.send('backlog-1')).toBe('queued');
    expect(socket.send('backlog-2')).toBe('queued');
    socket.connect();
    await nextEvent(socket, 'open');
    expect(await receivedExactly(server, 4)).toEqual(['first-listener', 'second-listener', 'backlog-1', 'backlog-2']);
  });
});

describe('overflow policies at the bound', () => {
  const bounds = [
    { bound: 'maxMessages', queue: { maxMessages: 3 }, fill: ['m1', 'm2', 'm3'], extra: 'm4' },
    { bound: 'maxBytes', queue: { maxBytes: 6 }, fill: ['aa', 'bb', 'cc'], extra: 'dd' },
  ] as const;
  const policies: Array<{ overflow: OverflowPolicy; result: SendResult; drops: (fill: readonly string[], extra: string) => string[]; delivered: (fill: readonly string[], extra: string) => string[] }> = [
    { overflow: 'drop-oldest', result: 'queued', drops: (fill) => [fill[0]!], delivered: (fill, extra) => [...fill.slice(1), extra] },
    { overflow: 'drop-newest', result: 'dropped', drops: (_fill, extra) => [extra], delivered: (fill) => [...fill] },
    { overflow: 'reject', result: 'rejected', drops: () => [], delivered: (fill) => [...fill] },
  ];

  for (const { bound, queue, fill, extra } of bounds) {
    for (const { overflow, result, drops, delivered } of policies) {
      it(`${overflow} at ${bound}: send() returns '${result}' and the server gets what the policy kept`, async () => {
        const server = await startServer({ echo: false });
        const socket = createSocket(server.url, { autoConnect: false, queue: { ...queue, overflow } });
        const log = recordEvents(socket, ['drop']);
        expect(fill.map((m) => socket.send(m))).toEqual(['queued', 'queued', 'queued']);
        expect(log.of('drop')).toEqual([]);

        expect(socket.send(extra)).toBe(result);
        expect(log.of('drop')).toEqual(drops(fill, extra).map((message) => ({ message, reason: 'overflow' })));
        expect(socket.queued.map((item) => item.message)).toEqual(delivered(fill, extra));
        expect(socket.bufferedAmount).toBe(6);

        socket.connect();
        await nextEvent(socket, 'open');
        expect(await receivedExactly(server, 3)).toEqual(delivered(fill, extra));
        // Drained, the socket sends again whatever the policy.
        expect(socket.send('later')).toBe('sent');
        expect(await receivedExactly(server, 4)).toEqual([...delivered(fill, extra), 'later']);
      });
    }
  }

  it('drop-oldest evicts as many old messages as a big one needs, oldest first', async () => {
    const server = await startServer({ echo: false });
    const socket = createSocket(server.url, { autoConnect: false, queue: { maxBytes: 10, overflow: 'drop-oldest' } });
    const log = recordEvents(socket, ['drop']);
    expect(socket.send('aaa')).toBe('queued');
    expect(socket.send('bbb')).toBe('queued');
    expect(socket.send('ccc')).toBe('queued');
    expect(socket.send('dddddddd')).toBe('queued');
    expect(log.of('drop')).toEqual([
      { message: 'aaa', reason: 'overflow' },
      { message: 'bbb', reason: 'overflow' },
      { message: 'ccc', reason: 'overflow' },
    ]);
    expect(socket.queued.map((item) => item.message)).toEqual(['dddddddd']);
    socket.connect();
    expect(await receivedExactly(server, 1)).toEqual(['dddddddd']);
  });

  it('a message larger than maxBytes never empties the queue: dropped (drop-oldest, drop-newest) or rejected', async () => {
    const expectations: Array<[OverflowPolicy, SendResult, number]> = [
      ['drop-oldest', 'dropped', 1],
      ['drop-newest', 'dropped', 1],
      ['reject', 'rejected', 0],
    ];
    for (const [overflow, result, dropEvents] of expectations) {
      const socket = createSocket('ws://127.0.0.1:9', { autoConnect: false, queue: { maxBytes: 4, overflow } });
      const log = recordEvents(socket, ['drop']);
      expect(socket.send('ok')).toBe('queued');
      expect(socket.send('far too long')).toBe(result);
      expect(log.of('drop')).toHaveLength(dropEvents);
      if (dropEvents) expect(log.of('drop')[0]).toEqual({ message: 'far too long', reason: 'overflow' });
      expect(socket.queued.map((item) => item.message)).toEqual(['ok']);
      socket.dispose();
    }
  });
});

describe('time-to-live', () => {
  it('drops a message whose ttl is shorter than the outage (reason expired); a longer ttl is delivered', async () => {
    const { flaky, socket, log } = await openThenCut();

    const before = Date.now();
    expect(socket.send('short', { ttlMs: 80 })).toBe('queued');
    expect(socket.send('long', { ttlMs: 30_000 })).toBe('queued');
    expect(socket.send('forever')).toBe('queued');
    const [short, long, forever] = socket.queued;
    expect(short!.expiresAt! - short!.queuedAt).toBe(80);
    expect(long!.expiresAt! - long!.queuedAt).toBe(30_000);
    expect(forever!.expiresAt).toBeUndefined();
    expect(short!.queuedAt).toBeGreaterThanOrEqual(before);

    await sleep(250);
    const reopened = nextEvent(socket, 'open');
    flaky.restore();
    await reopened;
    await waitFor(() => flaky.perConnection.at(-1)?.length === 2);
    await sleep(150);
    expect(flaky.perConnection.at(-1)).toEqual(['long', 'forever']);
    expect(flaky.perConnection.flat()).not.toContain('short');
    expect(log.of('drop')).toEqual([{ message: 'short', reason: 'expired' }]);
  });

  it('queue.ttlMs is the default ttl; send(message, { ttlMs }) overrides it', async () => {
    const server = await startServer({ echo: false });
    const socket = createSocket(server.url, { autoConnect: false, queue: { ttlMs: 60 } });
    const log = recordEvents(socket, ['drop']);
    expect(socket.send('default-ttl')).toBe('queued');
    expect(socket.send('own-ttl', { ttlMs: 30_000 })).toBe('queued');
    await sleep(200);
    socket.connect();
    await nextEvent(socket, 'open');
    expect(await receivedExactly(server, 1)).toEqual(['own-ttl']);
    expect(log.of('drop')).toEqual([{ message: 'default-ttl', reason: 'expired' }]);
  });

  it('an invalid ttlMs is handled the same way whether the socket is open or not', async () => {
    const server = await startServer({ echo: false });
    const socket = createSocket(server.url, { autoConnect: false });
    const outcome = (fn: () => unknown) => {
      try {
        return { returned: fn() };
      } catch (error) {
        return { threw: (error as Error).constructor.name };
      }
    };
    const whileQueued = outcome(() => socket.send('x', { ttlMs: 0 }));
    socket.connect();
    await nextEvent(socket, 'open');
    const whileOpen = outcome(() => socket.send('x', { ttlMs: 0 }));
    // The result of a call must not depend on whether the network happened to be up.
    expect(whileOpen).toEqual(whileQueued);
  });
});

describe('byte accounting', () => {
  it('bufferedAmount counts UTF-8 bytes, and maxBytes bounds bytes, not string length', async () => {
    const server = await startServer({ echo: false });
    const socket = createSocket(server.url, { autoConnect: false, queue: { maxBytes: 9, overflow: 'reject' } });
    expect('€€€'.length).toBe(3);
    expect(socket.send('€€€')).toBe('queued');
    expect(socket.bufferedAmount).toBe(9);
    expect(socket.queued[0]!.bytes).toBe(9);
    // 4 characters in all, but 10 bytes: over the bound.
    expect(socket.send('a')).toBe('rejected');
    expect(socket.bufferedAmount).toBe(9);

    expect(socket.clearQueue().map((item) => item.message)).toEqual(['€€€']);
    expect(socket.bufferedAmount).toBe(0);
    expect(socket.send('€€€€')).toBe('rejected'); // 4 characters, 12 bytes
    expect(socket.send('abcdefghi')).toBe('queued'); // 9 characters, 9 bytes
    expect(socket.bufferedAmount).toBe(9);
    socket.clearQueue();

    expect(socket.send('😀')).toBe('queued'); // a surrogate pair: 2 UTF-16 units, 4 bytes
    expect(socket.send('é€')).toBe('queued'); // 2 + 3 bytes
    expect(socket.bufferedAmount).toBe(9);
    expect(socket.queued.map((item) => item.bytes)).toEqual([4, 5]);
    expect(socket.send('x')).toBe('rejected');

    socket.connect();
    expect(await receivedExactly(server, 2)).toEqual(['😀', 'é€']);
    await waitFor(() => socket.bufferedAmount === 0);
  });

  it('binary messages count their byteLength', async () => {
    const socket = createSocket('ws://127.0.0.1:9', { autoConnect: false });
    expect(socket.send(new Uint8Array(5))).toBe('queued');
    expect(socket.send(new ArrayBuffer(7))).toBe('queued');
    expect(socket.send(new Uint16Array(3))).toBe('queued');
    expect(socket.bufferedAmount).toBe(18);
    expect(socket.queued.map((item) => item.bytes)).toEqual([5, 7, 6]);
  });
});

describe('close(), dispose() and the queue', () => {
  it('after close(), queued messages are dropped with reason closed and send() returns closed', async () => {
    const { flaky, socket, log } = await openThenCut({}, ['drop', 'open']);
    expect(socket.send('q1')).toBe('queued');
    expect(socket.send('q2')).toBe('queued');

    await socket.close();
    expect(log.of('drop')).toEqual([
      { message: 'q1', reason: 'closed' },
      { message: 'q2', reason: 'closed' },
    ]);
    expect(socket.queued).toEqual([]);
    expect(socket.bufferedAmount).toBe(0);
    expect(socket.send('q3')).toBe('closed');
    expect(socket.queued).toEqual([]);

    // Nothing comes back to life behind our back.
    flaky.restore();
    await sleep(300);
    expect(log.of('open')).toHaveLength(1);
    expect(flaky.perConnection.flat()).toEqual([]);
  });

  it('send() during the close handshake returns closed', async () => {
    const server = await startServer({ echo: false });
    const socket = createSocket(server.url);
    await nextEvent(socket, 'open');
    const closing = socket.close();
    expect(socket.state).toBe('closing');
    expect(socket.send('too late')).toBe('closed');
    await closing;
    expect(socket.send('still too late')).toBe('closed');
    await sleep(100);
    expect(server.received).toEqual([]);
  });

  it('with queueWhileClosed, close() keeps the queue and reconnect() delivers it in order', async () => {
    const { flaky, socket, log } = await openThenCut({ queue: { queueWhileClosed: true } });
    expect(socket.send('q1')).toBe('queued');
    await socket.close();
    expect(socket.state).toBe('closed');
    expect(log.of('drop')).toEqual([]);
    expect(socket.send('q2')).toBe('queued');
    expect(socket.queued.map((item) => item.message)).toEqual(['q1', 'q2']);

    flaky.restore();
    await sleep(150);
    expect(flaky.perConnection.flat()).toEqual([]); // closed means closed, even with a queue

    socket.reconnect();
    await nextEvent(socket, 'open');
    await waitFor(() => flaky.perConnection.at(-1)?.length === 2);
    expect(flaky.perConnection.at(-1)).toEqual(['q1', 'q2']);
    expect(socket.queued).toEqual([]);
  });

  it('with queueWhileClosed, sends during the close handshake are kept for the next connection', async () => {
    const server = await startServer({ echo: false });
    const socket = createSocket(server.url, { queue: { queueWhileClosed: true } });
    await nextEvent(socket, 'open');
    const closing = socket.close();
    expect(socket.send('during-close')).toBe('queued');
    await closing;
    socket.connect();
    await nextEvent(socket, 'open');
    expect(await receivedExactly(server, 1)).toEqual(['during-close']);
  });

  it('dispose() drops the queue with reason disposed; send() then returns disposed', async () => {
    const { socket, log } = await openThenCut();
    socket.send('q1');
    socket.send('q2');
    socket.dispose();
    expect(log.of('drop')).toEqual([
      { message: 'q1', reason: 'disposed' },
      { message: 'q2', reason: 'disposed' },
    ]);
    expect(socket.send('q3')).toBe('disposed');
    expect(socket.queued).toEqual([]);
    expect(socket.bufferedAmount).toBe(0);
    expect(socket.clearQueue()).toEqual([]);
  });

  it('dispose() while open makes send() return disposed and nothing more reaches the server', async () => {
    const server = await startServer({ echo: false });
    const socket = createSocket(server.url);
    await nextEvent(socket, 'open');
    expect(socket.send('last')).toBe('sent');
    await waitFor(() => server.received.length === 1);
    socket.dispose();
    expect(socket.send('after')).toBe('disposed');
    await sleep(100);
    expect(server.received).toEqual(['last']);
  });

  it('queued is a snapshot, and clearQueue() empties the queue silently and returns what it held', async () => {
    const server = await startServer({ echo: false });
    const socket = createSocket<unknown, { n: number }>(server.url, { autoConnect: false, codec: jsonCodec });
    const log = recordEvents(socket, ['drop']);
    const one = { n: 1 };
    expect(socket.send(one, { ttlMs: 5_000 })).toBe('queued');
    expect(socket.send({ n: 2 })).toBe('queued');

    const snapshot = socket.queued;
    expect(snapshot).toHaveLength(2);
    expect(snapshot[0]).toMatchObject({ message: one, data: '{"n":1}', bytes: 7 });
    expect(snapshot[0]!.message).toBe(one);
    expect(snapshot[0]!.expiresAt).toBe(snapshot[0]!.queuedAt + 5_000);
    expect(snapshot[1]).toMatchObject({ data: '{"n":2}', bytes: 7, expiresAt: undefined });
    snapshot.length = 0;
    expect(socket.queued).toHaveLength(2);

    const cleared = socket.clearQueue();
    expect(cleared.map((item) => item.message)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(socket.queued).toEqual([]);
    expect(socket.bufferedAmount).toBe(0);
    expect(log.of('drop')).toEqual([]);
    expect(socket.clearQueue()).toEqual([]);

    expect(socket.send({ n: 3 })).toBe('queued');
    socket.connect();
    expect(await receivedExactly(server, 1)).toEqual(['{"n":3}']);
  });
});

describe('typed codec', () => {
  type ClientMessage = { type: 'add'; a: number; b: number } | { type: 'ping' };
  type ServerMessage = { type: 'sum'; value: number } | { type: 'pong' };

  it('jsonCodec round-trips typed messages', async () => {
    const server = await startServer({
      echo: false,
      onConnection(ws) {
        ws.on('message', (raw) => {
          const message = JSON.parse(String(raw)) as ClientMessage;
          const reply: ServerMessage = message.type === 'add' ? { type: 'sum', value: message.a + message.b } : { type: 'pong' };
          ws.send(JSON.stringify(reply));
        });
      },
    });
    const socket = createSocket<ServerMessage, ClientMessage>(server.url, { codec: jsonCodec });
    const received: ServerMessage[] = [];
    socket.on('message', ({ data }) => received.push(data));
    expect(socket.send({ type: 'add', a: 2, b: 3 })).toBe('queued');
    await nextEvent(socket, 'open');
    expect(socket.send({ type: 'ping' })).toBe('sent');
    await waitFor(() => received.length === 2);
    expect(received).toEqual([{ type: 'sum', value: 5 }, { type: 'pong' }]);
    expect(server.received).toEqual(['{"type":"add","a":2,"b":3}', '{"type":"ping"}']);
  });

  it('jsonCodec decodes JSON that arrives in binary frames', async () => {
    const server = await startServer({ echo: false, onConnection: (ws) => ws.send(Buffer.from('{"fromBinary":true}'), { binary: true }) });
    const socket = createSocket(server.url, { codec: jsonCodec });
    expect((await nextEvent(socket, 'message')).data).toEqual({ fromBinary: true });
  });

  it('a message the codec cannot decode is an error event with the raw data; the socket stays open', async () => {
    const server = await startServer({ echo: false });
    const socket = createSocket<{ ok: number }, unknown>(server.url, { codec: jsonCodec });
    const log = recordEvents(socket, ['message', 'error', 'close']);
    await nextEvent(socket, 'open');
    broadcast(server, '{"ok":1}');
    broadcast(server, 'not json {');
    broadcast(server, '{"ok":2}');
    await waitFor(() => log.of('message').length === 2);

    expect(log.of('message').map((event) => event.data)).toEqual([{ ok: 1 }, { ok: 2 }]);
    const errors = log.of('error').map((event) => event.error as SocketError);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(SocketError);
    expect(errors[0]!.code).toBe('DECODE_FAILED');
    expect(errors[0]!.data).toBe('not json {');
    expect(errors[0]!.cause).toBeInstanceOf(SyntaxError);
    // Order across types: the error sits between the two good messages.
    expect(log.events.filter((e) => e.type !== 'close').map((e) => e.type)).toEqual(['message', 'error', 'message']);
    expect(log.of('close')).toEqual([]);
    expect(socket.state).toBe('open');
    expect(socket.send({ still: 'working' })).toBe('sent');
  });

  it('a decode failure with no error listener is not thrown and does not stop later messages', async () => {
    const server = await startServer({ echo: false });
    const socket = createSocket(server.url, { codec: jsonCodec });
    await nextEvent(socket, 'open');
    const message = nextEvent(socket, 'message');
    broadcast(server, '<<<');
    broadcast(server, '[1,2]');
    expect((await message).data).toEqual([1, 2]);
    expect(socket.state).toBe('open');
  });

  it('an encode failure returns failed with an ENCODE_FAILED error event and never throws, in any state', async () => {
    const server = await startServer({ echo: false });
    const socket = createSocket<unknown, unknown>(server.url, { codec: jsonCodec });
    const errors: SocketError[] = [];
    socket.on('error', ({ error }) => errors.push(error));
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    const big = { amount: 10n };

    // While connecting (would be queued).
    expect(socket.send(big)).toBe('failed');
    expect(socket.queued).toEqual([]);
    await nextEvent(socket, 'open');
    // While open (would be sent).
    expect(socket.send(circular)).toBe('failed');
    expect(socket.send(undefined)).toBe('failed');
    expect(socket.send(() => 1)).toBe('failed');

    expect(errors.map((error) => error.code)).toEqual(['ENCODE_FAILED', 'ENCODE_FAILED', 'ENCODE_FAILED', 'ENCODE_FAILED']);
    expect(errors[0]!.data).toBe(big);
    expect(errors[1]!.data).toBe(circular);
    expect(errors.every((error) => error instanceof SocketError)).toBe(true);

    // Nothing went on the wire, and the socket still works.
    expect(socket.send({ fine: true })).toBe('sent');
    expect(await receivedExactly(server, 1)).toEqual(['{"fine":true}']);
    expect(socket.state).toBe('open');
  });

  it('an encode failure with no error listener still returns failed without throwing', () => {
    const socket = createSocket('ws://127.0.0.1:9', { autoConnect: false, codec: jsonCodec });
    expect(() => socket.send(1n)).not.toThrow();
    expect(socket.send(1n)).toBe('failed');
  });

  it('a custom codec with its own types encodes on send and decodes on receive', async () => {
    const server = await startServer();
    const upper: Codec<{ text: string }, string> = {
      encode: (message) => `>${message}`,
      decode: (data) => ({ text: String(data).toUpperCase() }),
    };
    const socket = createSocket(server.url, { codec: upper });
    await nextEvent(socket, 'open');
    const echoed = nextEvent(socket, 'message');
    socket.send('abc');
    expect((await echoed).data).toEqual({ text: '>ABC' });
    expect(server.received).toEqual(['>abc']);
  });
});

describe('unhandled rejections', () => {
  it('none so far in this file', () => {
    expect(rejections.list).toEqual([]);
  });
});
