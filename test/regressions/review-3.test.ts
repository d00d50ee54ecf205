import { describe, expect, it, vi } from 'vitest';
import { create, FLAVOURS, record, WS } from '../compat/helpers.js';
import { sleep, startRecordingServer, startServer, waitFor } from '../helpers/servers.js';
import { ReconnectingSocket, opened as whenOpen } from '../../src/index.js';
import { FakeSocket, createQuietSocket, flushMicrotasks, useFakeSockets } from '../helpers/fake-socket.js';
import { cleanup } from '../helpers/teardown.js';

// Third adversarial review: re-entrant user code. Each test fails on the code as reviewed; src/ is not ours.

describe('compat: the backlog resent at open, and handlers that call back in', () => {
  // Guarantee: events follow the state (README "Events follow the state"; partysocket: a connection reported
  // closed is silent afterwards). compat-socket.ts #onOpen resends the core's backlog with core.send() and then
  // dispatches `open` without re-checking #isMuted: an onerror handler that close()s (partysocket reports the
  // close at once) during that resend gets `close` and then `open` for the same, already closed, connection.
  it('partysocket: close() from onerror while the backlog is resent at open: no open event after the close event', async () => {
    const { Class } = FLAVOURS[0];
    const server = await startServer({ echo: false });
    const socket = create(Class, server.url, undefined, { WebSocket: WS });
    const events = record(socket, ['open', 'close', 'error']);
    // ws refuses `true` (it cannot make a Buffer of it): queued now, refused when the backlog goes out at open.
    socket.send(true as any);
    socket.onerror = () => socket.close(4000, 'from onerror');
    await waitFor(() => events.types().includes('close'), 3000, 'a close event');
    await sleep(100);
    // The close event is dispatched nested inside the error dispatch, so the recorder sees it before the error.
    expect(events.types().filter((type) => type !== 'error'), 'open and close events').toEqual(['close']);
    expect(events.of('open').map((e) => e.readyState), 'readyState inside open listeners').not.toContain(3);
  });

  // Same cause, with reconnect() (both flavours report the dropped connection's close at once).
  it.each(FLAVOURS)('$name: reconnect() from onerror while the backlog is resent: the dropped connection does not open after its close', async ({ Class }) => {
    const server = await startServer({ echo: false });
    const socket = create(Class, server.url, undefined, { WebSocket: WS });
    const events = record(socket, ['open', 'close', 'error']);
    socket.send(true as any);
    let calls = 0;
    socket.onerror = () => {
      if (calls++ === 0) socket.reconnect(4001, 'again');
    };
    await waitFor(() => events.of('open').length >= 1 && server.connections >= 2, 3000, 'a second connection');
    await sleep(100);
    // Expected: close (synthetic, for connection 1; nested in the error dispatch), open (connection 2).
    // Not: close, open (connection 1, already reported closed), open (connection 2).
    expect(events.types().filter((type) => type !== 'error')).toEqual(['close', 'open']);
  });

  // Guarantee: every message send() accepted is delivered once, in order, or reported by exactly one `drop`.
  // The core's own flush (reconnecting-socket.ts #flush) reports a refused backlog message with a `drop`
  // (reason failed); compat-socket.ts #onOpen takes the backlog with clearQueue() and resends it with
  // core.send(), which reports a refusal as an error only: the accepted (queued) message is lost with no drop.
  it.each(FLAVOURS)('$name: a queued message refused at open is reported by a drop event', async ({ Class }) => {
    const server = await startServer({ echo: false });
    const socket = create(Class, server.url, undefined, { WebSocket: WS });
    const events = record(socket, ['open', 'error', 'drop']);
    const accepted = (socket.send as (data: unknown) => unknown)(true);
    socket.send('after');
    await waitFor(() => server.received.includes('after'), 3000, '"after" on the server');
    expect(accepted === false || accepted === undefined, 'send() queued it').toBe(true);
    expect(events.of('drop').map((e) => e.data), 'drop events').toEqual([true]);
  });
});

describe('compat: close() whose close event handler calls reconnect()', () => {
  // Guarantee: readyState follows the connection (compat-socket.ts: OPEN while open; CLOSING only after close()
  // and until its close event). With reconnecting-websocket's flavour, close() during an attempt makes the core
  // end that attempt synchronously, so the `close` event is dispatched inside core.close(); an onclose handler
  // that calls reconnect() clears #isCloseCalled, and close() then sets it again after core.close() returns
  // (compat-socket.ts close(): `this.#isCloseCalled = true` after the call). The socket reconnects and opens, but
  // readyState says CLOSING for good.
  it('reconnecting-websocket: the connection that reconnect() opens reports readyState OPEN', async () => {
    const { Class } = FLAVOURS[1];
    const server = await startServer();
    const socket = create(Class, server.url, undefined, { WebSocket: WS });
    const events = record(socket, ['open', 'close']);
    await sleep(0);
    expect(socket.readyState, 'the first attempt is under way').toBe(0);
    socket.onclose = () => {
      socket.onclose = null;
      socket.reconnect();
    };
    socket.close();
    await events.waitFor('open');
    await sleep(50);
    expect(events.types()).toEqual(['close', 'open']);
    expect(socket.readyState, 'readyState while the new connection is open').toBe(1);
  });
});

describe('core: the debug hook calls back in', () => {
  // Guarantee: after close() or dispose(), no socket and no listener is left (README "After dispose() or a final
  // close"). With an async provider, #openSocket runs outside the run-to-completion unit (from the providers'
  // promise). Its one-time warning goes through the debug hook (reconnecting-socket.ts #warnOnce, called
  // before `new Ctor(...)`): a hook that closes or disposes there runs at once, ends the attempt (its close
  // event is emitted with no socket yet), and #openSocket then goes on to create the inner socket, attach its
  // listeners and keep it as the current socket of a socket that is closed for good.
  for (const method of ['close', 'dispose'] as const) {
    it(`${method}() from the debug hook during the headers warning of an async attempt: no inner socket is left`, async () => {
      FakeSocket.reset();
      let socket!: ReconnectingSocket<any, any>;
      socket = new ReconnectingSocket<any, any>(async () => 'ws://example.test/feed', {
        WebSocket: FakeSocket,
        environment: null,
        heartbeat: false,
        // A browser-like WebSocket cannot send headers: the socket says so once, through debug.
        headers: { authorization: 'x' },
        debug: (message) => {
          if (message.startsWith('headers ignored')) void socket[method]();
        },
      });
      cleanup(() => socket.dispose());
      const closes: string[] = [];
      socket.on('close', ({ cause }) => closes.push(cause));
      await flushMicrotasks();
      expect(socket.state).toBe('closed');
      const left = FakeSocket.instances.filter((inner) => !inner.isClosed);
      expect(left.map((inner) => inner.listenerCount()), 'inner sockets still connecting, and their listeners').toEqual([]);
    });
  }
});

describe('core: calls made from a listener while an earlier call of the same listener is still queued', () => {
  // Guarantee: close() "stops reconnecting and closes ... safe in any state"; after a final close nothing is left
  // running. Inside a listener, inputs wait their turn (run-to-completion), but close() decides from the state
  // *before* the queued input: reconnecting-socket.ts close() returns `this.closed` when #final() is set, so
  // connect() then close() from a listener of the final close loses the close(): CONNECT runs afterwards and the
  // socket connects and stays open.
  it('connect() then close() from a close listener of the final close: the socket ends closed', async () => {
    const server = await startServer();
    const socket = new ReconnectingSocket<any, any>(server.url, { heartbeat: false, closeTimeoutMs: 500, initialDelayMs: 50, jitter: false });
    cleanup(() => socket.dispose());
    await whenOpen(socket, { timeoutMs: 3000 });
    let isDone = false;
    socket.on('close', ({ willReconnect }) => {
      if (willReconnect || isDone) return;
      isDone = true;
      socket.connect();
      void socket.close();
    });
    await socket.close();
    await sleep(300);
    expect(socket.state, 'state after connect(); close() from the listener').toBe('closed');
    expect(server.clients.size, 'connections the server still holds').toBe(0);
  });

  // Same cause, the other way round: connect() from a listener of the final close is queued, so opened() and
  // send() right after it still see the final close. opened() rejects with CLOSED although the socket is about
  // to connect (and does); send() refuses with 'closed' what it would queue one line later outside a listener.
  it('connect() then opened() and send() from a close listener of the final close: the wait and the message follow the new attempt', async () => {
    const server = await startServer({ echo: false });
    const socket = new ReconnectingSocket<any, any>(server.url, { heartbeat: false, closeTimeoutMs: 500, initialDelayMs: 50, jitter: false });
    cleanup(() => socket.dispose());
    await whenOpen(socket, { timeoutMs: 3000 });
    let opened: Promise<string> | undefined;
    let sent: string | undefined;
    socket.on('close', ({ willReconnect }) => {
      if (willReconnect || opened) return;
      socket.connect();
      opened = whenOpen(socket, { timeoutMs: 3000 }).then(
        () => 'opened',
        (error) => `rejected: ${error.code}`,
      );
      sent = socket.send('hello again');
    });
    await socket.close();
    await waitFor(() => socket.state === 'open', 3000, 'the new connection');
    expect.soft(await opened, 'opened() called right after connect()').toBe('opened');
    expect.soft(sent, 'send() right after connect()').toBe('queued');
    await sleep(100);
    expect(server.received, 'what the server got').toContain('hello again');
  });
});

describe('core: probe() from heartbeat.isPong', () => {
  const created = useFakeSockets<ReconnectingSocket<any, any>>();

  // Guarantee: a dead peer is detected (README), and a probe keeps its deadline (the earlier fix for probe()
  // from a `heartbeat` listener, test/regressions/unit-state-bugs.test.ts). heartbeat.ts onMessage() calls
  // isPong (user code) and only then #alive(true), which takes #sentAt and clears the deadline: a probe() made
  // from isPong has by then sent its ping and armed its deadline, and the pong being handled "answers" it at once
  // (rtt about 0) and cancels that deadline. A peer that never answers the probe is not detected by it.
  it('a probe started while isPong looks at the pong keeps its deadline', async () => {
    let hasProbed = false;
    const { socket } = createQuietSocket(created, {
      heartbeat: {
        intervalMs: 10_000,
        timeoutMs: 5_000,
        probeTimeoutMs: 1_000,
        message: 'ping',
        isPong: (data: unknown) => {
          if (data !== 'pong') return false;
          if (!hasProbed) {
            hasProbed = true;
            socket.probe(500);
          }
          return true;
        },
      },
    });
    const errors: string[] = [];
    socket.on('error', ({ error }) => errors.push(error.code));
    await flushMicrotasks();
    const fake = FakeSocket.latest();
    fake.serverOpen();
    vi.advanceTimersByTime(10_000);
    expect(fake.sent).toEqual(['ping']);
    fake.serverMessage('pong');
    expect(fake.sent, 'the probe went out').toEqual(['ping', 'ping']);
    // The peer never answers the probe: its 500 ms deadline must fire.
    vi.advanceTimersByTime(1_000);
    expect(errors).toContain('HEARTBEAT_TIMEOUT');
    expect(socket.state).not.toBe('open');
  });
});

describe('core: a callback that throws in the step that ends the socket for good', () => {
  const created = useFakeSockets<ReconnectingSocket<any, any>>();

  // Guarantee: after a final close, no event (README "After dispose() or a final close: no timer, no listener,
  // no socket, no event"). #guard (reconnecting-socket.ts) reports a throwing option callback on a microtask
  // (queueMicrotask(() => this.#emitError(error))): when the step that called it was the final close (here
  // shouldReconnect throws and the default policy stops on 1008), the `error` event arrives after the final
  // `close` event, with the socket already closed for good. Only dispose() keeps it away (it clears listeners).
  it('shouldReconnect that throws when the server closes with 1008: its error is reported before the final close event', async () => {
    const { socket } = createQuietSocket(created, {
      shouldReconnect: () => {
        throw new Error('broken policy');
      },
    });
    const log: string[] = [];
    socket.on('error', ({ error }) => log.push(`error:${error.code} (${socket.state})`));
    socket.on('close', ({ willReconnect }) => log.push(`close willReconnect=${willReconnect}`));
    await flushMicrotasks();
    FakeSocket.latest().serverOpen();
    FakeSocket.latest().serverClose(1008, 'policy');
    await flushMicrotasks();
    expect(socket.state).toBe('closed');
    const closeAt = log.indexOf('close willReconnect=false');
    expect(closeAt, 'the final close').toBeGreaterThanOrEqual(0);
    expect(log.slice(closeAt + 1), 'events after the final close').toEqual([]);
  });
});

describe('core: a listener called while the backlog goes out calls back in', () => {
  // Guarantee (README "What send() promises"): a queued message is sent after the next open, and the backlog
  // waits when a listener closed or reconnected (#run). A refusal during the flush reports an error; an error
  // listener that reconnects queues its input, and the flush used to go on handing the rest of the backlog to
  // the connection about to be dropped, where it may be lost without a report.
  it('reconnect() from an error listener during the flush: the rest of the backlog goes out on the new connection', async () => {
    // What each connection received, by connection.
    const { url, received } = await startRecordingServer();
    const socket = new ReconnectingSocket<any, any>(url, { heartbeat: false, initialDelayMs: 50, jitter: false });
    cleanup(() => socket.dispose());
    let hasReconnected = false;
    socket.on('error', () => {
      if (hasReconnected) return;
      hasReconnected = true;
      socket.reconnect();
    });
    socket.send('a');
    // ws cannot make a Buffer of `true`: refused when the backlog goes out at open.
    socket.send(true as any);
    socket.send('b');
    await waitFor(() => received.flat().includes('b'), 3000, '"b" on the server');
    await sleep(50);
    // The backlog goes out as one step, before any listener runs: 'a' and 'b' on the first connection (the refused
    // one reported by its error and a drop); the error listener's reconnect() comes after, and nothing is left.
    expect(received[0]).toEqual(['a', 'b']);
    expect(received.flat()).toEqual(['a', 'b']);
    expect(socket.queued).toEqual([]);
  });
});

describe('core: send() from an open listener after a queued close() or reconnect()', () => {
  // Guarantee: the later call wins, as it does outside a listener. While `open` listeners run, their sends go
  // straight out (ahead of the backlog); one made after the same listener's reconnect() or close() used to go
  // into the connection about to be dropped or closed.

  it('reconnect() then send(): the message goes out on the new connection', async () => {
    const { url, received } = await startRecordingServer();
    const socket = new ReconnectingSocket<any, any>(url, { heartbeat: false });
    cleanup(() => socket.dispose());
    let opens = 0;
    socket.on('open', () => {
      if (opens++ > 0) return;
      socket.reconnect();
      socket.send('after reconnect');
    });
    await waitFor(() => received.flat().length > 0, 3000, 'the message on the server');
    await sleep(50);
    expect(received).toEqual([[], ['after reconnect']]);
  });

  it('close() then send(): the message is not sent, and is reported as dropped (closed)', async () => {
    const { url, received } = await startRecordingServer();
    const socket = new ReconnectingSocket<any, any>(url, { heartbeat: false });
    cleanup(() => socket.dispose());
    const drops: string[] = [];
    socket.on('drop', ({ message, reason }) => drops.push(`${message}:${reason}`));
    let result: string | undefined;
    socket.on('open', () => {
      void socket.close();
      result = socket.send('after close');
    });
    await socket.closed;
    await sleep(50);
    // The call acts at once on the state close() left: the message is refused, and no drop follows.
    expect(received).toEqual([[]]);
    expect(result).toBe('closed');
    expect(drops).toEqual([]);
  });
});
