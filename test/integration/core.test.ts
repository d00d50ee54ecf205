import { describe, expect, it } from 'vitest';
import { ReconnectingSocket, opened } from '../../src/index.js';
import { nextEvent, recordEvents, sleep, startServer, waitFor } from '../helpers/servers.js';
import { seededRandom } from '../helpers/random.js';
import { FAST, socketFactory } from '../helpers/socket.js';
import { cleanup } from '../helpers/teardown.js';

// Real `ws` servers on 127.0.0.1 (port 0), one per test; small real timings, no fake timers.

const createSocket = socketFactory(FAST);

describe('open, echo, close', () => {
  it('opens, echoes a message, and close() performs a clean client close with one close event', async () => {
    const server = await startServer();
    const socket = createSocket(server.url);
    const log = recordEvents(socket);
    expect(socket.state).toBe('connecting');

    const open = await nextEvent(socket, 'open');
    expect(open).toEqual({ attempt: 0, protocol: '' });
    expect(socket.state).toBe('open');

    const message = nextEvent(socket, 'message');
    expect(socket.send('hello')).toBe('sent');
    expect((await message).data).toBe('hello');
    await waitFor(() => server.received.length === 1);
    expect(server.received).toEqual(['hello']);

    const record = await socket.close();
    expect(record).toMatchObject({ code: 1000, wasClean: true, cause: 'client' });
    expect(socket.state).toBe('closed');
    expect(socket.lastClose).toMatchObject({ code: 1000, wasClean: true, cause: 'client' });
    await expect(socket.closed).resolves.toMatchObject({ code: 1000, cause: 'client' });

    // The server saw our close frame, and its side of the connection is gone.
    await waitFor(() => server.clients.size === 0);
    expect(server.closeFrames).toEqual([{ code: 1000, reason: '' }]);

    // Give any stray retry or duplicate event time to show up.
    await sleep(300);
    const closes = log.of('close');
    expect(closes).toHaveLength(1);
    expect(closes[0]).toMatchObject({ code: 1000, wasClean: true, cause: 'client', willReconnect: false, delayMs: undefined });
    expect(log.of('state')).toEqual([
      { from: 'connecting', to: 'open' },
      { from: 'open', to: 'closing' },
      { from: 'closing', to: 'closed' },
    ]);
    expect(log.of('open')).toHaveLength(1);
    expect(log.of('error')).toEqual([]);
    expect(server.connections).toBe(1);
    expect(socket.send('late')).toBe('closed');
  });

  it('sends a custom close code and reason to the server', async () => {
    const server = await startServer();
    const socket = createSocket(server.url);
    await opened(socket);
    const record = await socket.close(4000, 'done here');
    expect(record).toMatchObject({ code: 4000, reason: 'done here', wasClean: true, cause: 'client' });
    await waitFor(() => server.closeFrames.length === 1);
    expect(server.closeFrames).toEqual([{ code: 4000, reason: 'done here' }]);
  });

  it('delivers binary frames as ArrayBuffer by default', async () => {
    const server = await startServer();
    const socket = createSocket(server.url);
    await opened(socket);
    const message = nextEvent(socket, 'message');
    socket.send(new Uint8Array([1, 2, 3]));
    const { data } = await message;
    expect(data).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(data as ArrayBuffer)]).toEqual([1, 2, 3]);
  });

  it('passes the selected subprotocol in the open event', async () => {
    const server = await startServer({ handleProtocols: (protocols) => (protocols.has('v2') ? 'v2' : false) });
    const socket = createSocket(server.url, { protocols: ['v1', 'v2'] });
    const open = await nextEvent(socket, 'open');
    expect(open.protocol).toBe('v2');
  });

  it('calls a url provider before every attempt with the attempt number', async () => {
    const server = await startServer();
    const attempts: number[] = [];
    const withProvider = new ReconnectingSocket<any, any>(
      ({ attempt }) => {
        attempts.push(attempt);
        return server.url;
      },
      { ...FAST },
    );
    cleanup(() => withProvider.dispose());
    await opened(withProvider);
    for (const ws of server.clients) ws.terminate();
    await nextEvent(withProvider, 'open');
    expect(attempts).toEqual([0, 1]);
  });
});

describe('no synchronous events from the constructor', () => {
  it('delivers the first state change and open to listeners attached right after construction', async () => {
    const server = await startServer();
    const socket = createSocket(server.url);
    const log = recordEvents(socket);
    await nextEvent(socket, 'open');
    expect(log.of('open')).toHaveLength(1);
    expect(log.of('state')[0]).toEqual({ from: 'connecting', to: 'open' });
  });

  it('reports a url provider that throws as an asynchronous error event', async () => {
    const socket = new ReconnectingSocket<any, any>(
      () => {
        throw new Error('no token');
      },
      { ...FAST, maxRetries: 0 },
    );
    cleanup(() => socket.dispose());
    // Attached after the constructor returned: had the error fired inside it, these would miss it.
    const log = recordEvents(socket);
    await waitFor(() => log.of('close').length === 1);
    expect(log.of('error').map((event) => event.error.code)).toContain('PROVIDER_FAILED');
    expect(log.of('close')[0]).toMatchObject({ cause: 'provider', code: 1006, willReconnect: false });
  });

  it('reports a WebSocket constructor that throws at once as an asynchronous event (plain string url)', async () => {
    let constructed = 0;
    class ThrowingWebSocket {
      constructor() {
        constructed++;
        throw new Error('cannot construct');
      }
    }
    const socket = new ReconnectingSocket<any, any>('ws://127.0.0.1:1', { ...FAST, maxRetries: 0, WebSocket: ThrowingWebSocket as any });
    cleanup(() => socket.dispose());
    const log = recordEvents(socket);
    expect(constructed).toBe(0);
    await waitFor(() => log.of('close').length === 1);
    expect(constructed).toBe(1);
    expect(log.events[0]!.type).toBe('error');
    expect(log.of('error')[0].error.code).toBe('PROVIDER_FAILED');
    expect(log.of('close')[0]).toMatchObject({ code: 1006, willReconnect: false });
  });

  it('throws synchronously for a url it can never connect to, and reports a provider url asynchronously', async () => {
    expect(() => new ReconnectingSocket<any, any>('nope://127.0.0.1:1', FAST)).toThrow(TypeError);
    const socket = new ReconnectingSocket<any, any>(() => 'nope://127.0.0.1:1', { ...FAST, maxRetries: 0 });
    cleanup(() => socket.dispose());
    const log = recordEvents(socket);
    await waitFor(() => log.of('close').length === 1);
    expect(log.of('error').map((event) => event.error.code)).toContain('PROVIDER_FAILED');
    expect(log.of('close')[0]).toMatchObject({ code: 1006, cause: 'provider', willReconnect: false });
    expect(socket.state).toBe('closed');
  });

  it('emits nothing synchronously when constructed with an already aborted signal', async () => {
    const socket = new ReconnectingSocket<any, any>('ws://127.0.0.1:1', { ...FAST, signal: AbortSignal.abort() });
    cleanup(() => socket.dispose());
    const log = recordEvents(socket);
    await sleep(50);
    expect(socket.state).toBe('closed');
    // Whatever it chose to emit, it reached a listener attached after the constructor returned.
    expect(log.events.every((event) => event.type !== 'open')).toBe(true);
  });
});

describe('server-initiated closes', () => {
  for (const code of [1000, 1001, 1011, 1012, 1013]) {
    it(`reconnects after the server closes with ${code}`, async () => {
      const server = await startServer();
      const socket = createSocket(server.url);
      await opened(socket);
      const close = nextEvent(socket, 'close');
      for (const ws of server.clients) ws.close(code, `code ${code}`);
      expect(await close).toMatchObject({ code, reason: `code ${code}`, wasClean: true, cause: 'server', willReconnect: true });
      const open = await nextEvent(socket, 'open');
      expect(open.attempt).toBe(1);
      expect(server.connections).toBe(2);
      await waitFor(() => server.clients.size === 1);
    });
  }

  for (const code of [1002, 1003, 1008]) {
    it(`stays closed after the server closes with ${code}`, async () => {
      const server = await startServer();
      const socket = createSocket(server.url);
      const log = recordEvents(socket);
      await opened(socket);
      for (const ws of server.clients) ws.close(code, 'go away');
      const final = await socket.closed;
      expect(final).toMatchObject({ code, reason: 'go away', cause: 'server' });
      expect(log.of('close')).toHaveLength(1);
      expect(log.of('close')[0]).toMatchObject({ code, willReconnect: false, delayMs: undefined });
      expect(socket.state).toBe('closed');
      expect(socket.retry).toBeUndefined();
      await sleep(FAST.initialDelayMs! * 6);
      expect(server.connections).toBe(1);
      expect(log.of('reconnecting')).toEqual([]);
    });
  }

  it('lets a custom shouldReconnect override the close-code table both ways', async () => {
    const server = await startServer();
    const seen: number[] = [];
    const socket = createSocket(server.url, {
      shouldReconnect: (close) => {
        seen.push(close.code);
        return close.code === 1008;
      },
    });
    await opened(socket);
    const first = nextEvent(socket, 'close');
    for (const ws of server.clients) ws.close(1008);
    expect(await first).toMatchObject({ code: 1008, willReconnect: true });
    await nextEvent(socket, 'open');

    for (const ws of server.clients) ws.close(1000);
    expect(await socket.closed).toMatchObject({ code: 1000, cause: 'server' });
    expect(seen).toEqual([1008, 1000]);
    await sleep(300);
    expect(server.connections).toBe(2);
  });
});

describe('reconnect()', () => {
  it('drops an open connection and leaves exactly one connection on the server', async () => {
    const server = await startServer();
    const socket = createSocket(server.url);
    await opened(socket);
    const close = nextEvent(socket, 'close');
    const open = nextEvent(socket, 'open');
    socket.reconnect();
    expect(await close).toMatchObject({ code: 1006, cause: 'reconnect', willReconnect: true });
    await open;
    expect(server.connections).toBe(2);
    await waitFor(() => server.clients.size === 1);
    await sleep(200);
    expect(server.clients.size).toBe(1);
    expect(socket.state).toBe('open');
    const echoed = nextEvent(socket, 'message');
    socket.send('still here');
    expect((await echoed).data).toBe('still here');
  });

  it('connect() after close() starts again, and is a no-op while open', async () => {
    const server = await startServer();
    const socket = createSocket(server.url);
    await opened(socket);
    socket.connect();
    await sleep(100);
    expect(server.connections).toBe(1);
    await socket.close();
    socket.connect();
    await nextEvent(socket, 'open');
    expect(server.connections).toBe(2);
    await waitFor(() => server.clients.size === 1);
  });
});

describe('close(), reconnect() and connect() in every state', () => {
  it('never throw, in a scripted tour of every state', async () => {
    const server = await startServer();
    const socket = createSocket(server.url);
    const hammer = () => {
      for (let i = 0; i < 3; i++) {
        expect(() => socket.reconnect()).not.toThrow();
        expect(() => socket.connect()).not.toThrow();
      }
    };
    const closeMany = () => {
      const promises = [];
      for (let i = 0; i < 3; i++) promises.push(socket.close());
      return Promise.all(promises);
    };

    // connecting
    expect(socket.state).toBe('connecting');
    hammer();
    await opened(socket);
    // open
    hammer();
    await opened(socket);
    // closing (close() then reconnect() before the handshake completes)
    void socket.close();
    expect(socket.state).toBe('closing');
    hammer();
    await opened(socket);
    // closing, then close() again many times
    void socket.close();
    const records = await closeMany();
    for (const record of records) expect(record.cause).toBe('client');
    // closed by the user
    expect(socket.state).toBe('closed');
    await closeMany();
    hammer();
    await opened(socket);
    // closed in backoff (server dropped us), then close() during the wait
    await server.close();
    await waitFor(() => socket.state === 'closed' && socket.retry !== undefined);
    await closeMany();
    expect(socket.retry).toBeUndefined();
    await server.restart();
    socket.reconnect();
    await opened(socket);

    await waitFor(() => server.clients.size === 1);
    await sleep(200);
    expect(server.clients.size).toBe(1);
    await socket.close();
    await waitFor(() => server.clients.size === 0);
    await sleep(300);
    expect(server.clients.size).toBe(0);
  });

  for (const seed of [1, 2, 3]) {
    it(`never leave two sockets alive under a random call sequence (seed ${seed})`, async () => {
      const server = await startServer();
      const socket = createSocket(server.url);
      const random = seededRandom(seed);
      let maxClients = 0;
      const unhandled: unknown[] = [];
      for (let step = 0; step < 60; step++) {
        const roll = random();
        try {
          if (roll < 0.35) void socket.close().catch((error) => unhandled.push(error));
          else if (roll < 0.75) socket.reconnect();
          else socket.connect();
        } catch (error) {
          unhandled.push(error);
        }
        const pause = random();
        if (pause < 0.3) await Promise.resolve();
        else if (pause < 0.8) await sleep(Math.floor(pause * 20));
        else await sleep(60);
        maxClients = Math.max(maxClients, server.clients.size);
      }
      expect(unhandled).toEqual([]);

      // Settle: one fresh connection, and only one, must survive.
      socket.reconnect();
      await opened(socket, { timeoutMs: 5_000 });
      await waitFor(() => server.clients.size === 1, 5_000, 'exactly one server-side client');
      await sleep(300);
      expect(server.clients.size).toBe(1);
      expect(socket.state).toBe('open');

      await socket.close();
      await waitFor(() => server.clients.size === 0, 5_000, 'no server-side client');
      await sleep(300);
      expect(server.clients.size).toBe(0);
      expect(socket.state).toBe('closed');
      // Old sockets may linger on the server for a moment after being dropped, never pile up.
      expect(maxClients).toBeLessThanOrEqual(3);
    });
  }
});

describe('calls from inside listeners', () => {
  it('close() from inside a close listener stops the planned retry', async () => {
    const server = await startServer();
    const socket = createSocket(server.url);
    const log = recordEvents(socket);
    await opened(socket);
    let closing: Promise<unknown> | undefined;
    socket.once('close', () => {
      closing = socket.close();
    });
    for (const ws of server.clients) ws.terminate();
    await waitFor(() => closing !== undefined);
    expect(await closing).toMatchObject({ code: 1006, cause: 'network' });
    expect(socket.state).toBe('closed');
    expect(socket.retry).toBeUndefined();
    await sleep(FAST.initialDelayMs! * 6);
    expect(server.connections).toBe(1);
    expect(log.of('open')).toHaveLength(1);
  });

  it('reconnect() from inside a close listener leaves exactly one connection', async () => {
    const server = await startServer();
    const socket = createSocket(server.url, { initialDelayMs: 5_000 });
    await opened(socket);
    socket.once('close', () => socket.reconnect());
    const started = Date.now();
    for (const ws of server.clients) ws.terminate();
    await nextEvent(socket, 'open');
    // It did not wait for the 5 s backoff.
    expect(Date.now() - started).toBeLessThan(3_000);
    await waitFor(() => server.clients.size === 1);
    await sleep(200);
    expect(server.clients.size).toBe(1);
    expect(server.connections).toBe(2);
  });
});

describe('listeners', () => {
  it('a listener that throws does not stop delivery to the others and yields LISTENER_THREW', async () => {
    const server = await startServer();
    const socket = createSocket(server.url);
    const errors: string[] = [];
    socket.on('error', ({ error }) => errors.push(error.code));
    socket.on('message', () => {
      throw new Error('listener bug');
    });
    const received: unknown[] = [];
    socket.on('message', ({ data }) => received.push(data));
    await opened(socket);
    socket.send('one');
    socket.send('two');
    await waitFor(() => received.length === 2);
    expect(received).toEqual(['one', 'two']);
    expect(errors.filter((code) => code === 'LISTENER_THREW')).toHaveLength(2);
    expect(socket.state).toBe('open');
  });

  it('a throwing open listener does not break the connection or later listeners', async () => {
    const server = await startServer();
    const socket = createSocket(server.url);
    const order: string[] = [];
    socket.on('open', () => {
      order.push('first');
      throw new Error('open bug');
    });
    socket.on('open', () => order.push('second'));
    const threw = new Promise<string>((resolve) => socket.on('error', ({ error }) => resolve(error.code)));
    await opened(socket);
    expect(await threw).toBe('LISTENER_THREW');
    await waitFor(() => order.length === 2);
    expect(order).toEqual(['first', 'second']);
    const echoed = nextEvent(socket, 'message');
    socket.send('ok');
    expect((await echoed).data).toBe('ok');
  });

  it('on() returns an unsubscribe that is safe to call twice', async () => {
    const server = await startServer();
    const socket = createSocket(server.url);
    const got: unknown[] = [];
    const off = socket.on('message', ({ data }) => got.push(data));
    await opened(socket);
    socket.send('a');
    await waitFor(() => got.length === 1);
    off();
    off();
    const next = nextEvent(socket, 'message');
    socket.send('b');
    await next;
    expect(got).toEqual(['a']);
  });
});
