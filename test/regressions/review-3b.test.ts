import { describe, expect, it, vi } from 'vitest';
import { ReconnectingSocket, type Environment, messages, opened as whenOpen } from '../../src/index.js';
import { FakeSocket, createQuietSocket, flushMicrotasks, useFakeSockets } from '../helpers/fake-socket.js';
import { sleep, startRecordingServer, startServer, waitFor } from '../helpers/servers.js';
import { cleanup } from '../helpers/teardown.js';

// Review of the review-3 fixes (ae06a18..HEAD). Each test fails on the code as reviewed; src/ is not ours.



/** With fake sockets: the first attempt opens, then close() and the server's answer end it for good. */
async function openThenClose(socket: ReconnectingSocket<any, any>): Promise<void> {
  await flushMicrotasks();
  FakeSocket.latest().serverOpen();
  await flushMicrotasks();
  void socket.close();
  FakeSocket.latest().serverClose(1000, 'bye');
  await flushMicrotasks();
}

describe('core: opened() from an open listener after the same listener queued close() or reconnect()', () => {
  // Guarantee (README "state": "Calls made after such an input, in the same listener, act as they would one
  // line later outside it"; opened() "Rejects with CLOSED (the socket closed for good: close())"). The fix made
  // opened() wait for a queued input only when the socket is already closed for good
  // (reconnecting-socket.ts opened(): `final && !this.#isDisposed && this.#inputs?.length`); its first line,
  // `if (this.#state.name === 'open') return Promise.resolve()`, still answers from the state *before* the
  // queued close(): outside a listener, close() then opened() rejects with CLOSED; here it resolves.
  it('close() then opened(): opened() rejects with CLOSED, as it does one line later outside the listener', async () => {
    const server = await startServer({ echo: false });
    const socket = new ReconnectingSocket<any, any>(server.url, { heartbeat: false, closeTimeoutMs: 500 });
    cleanup(() => socket.dispose());
    let opened: Promise<string> | undefined;
    socket.on('open', () => {
      void socket.close();
      opened = whenOpen(socket, { timeoutMs: 2000 }).then(
        () => 'resolved',
        (error) => `rejected: ${error.code}`,
      );
    });
    await socket.closed;
    expect(await opened, 'opened() called right after close() in an open listener').toBe('rejected: CLOSED');
  });

  // Same cause: reconnect() then opened() resolves at once, for the connection reconnect() is dropping, instead of
  // waiting for the next open (README: "connect() then opened() waits for it").
  it('reconnect() then opened(): opened() waits for the next open', async () => {
    const { url } = await startRecordingServer();
    const socket = new ReconnectingSocket<any, any>(url, { heartbeat: false });
    cleanup(() => socket.dispose());
    let opens = 0;
    let opensWhenResolved: number | undefined;
    socket.on('open', () => {
      if (opens++ > 0) return;
      socket.reconnect();
      void whenOpen(socket, { timeoutMs: 3000 }).then(() => (opensWhenResolved = opens));
    });
    await waitFor(() => opens >= 2, 3000, 'the second open');
    await sleep(20);
    expect(opensWhenResolved, 'open events seen when opened() resolved').toBe(2);
  });
});

describe('core: an option callback that throws while the socket closes for good', () => {
  const created = useFakeSockets<ReconnectingSocket<any, any>>();

  // Guarantee (README): "After dispose() or a final close: no timer, no listener, no socket, no event". The fix
  // collects what policy callbacks throw during a transition (#thrown) and reports it with the transition; but
  // the environment's unsubscribe, called by #stopRunning() from #enterFinal() after the transition was computed
  // (#thrown is undefined again), is still reported by #guard on a microtask: the `error` event arrives after the
  // final `close` event, on a socket closed for good.
  // Rewritten for the small core: the environment's unsubscribe runs as the final state is entered, after that
  // transition's events are queued (user code never runs in the middle of a change), so its CALLBACK_THREW comes
  // right after the final close: once, to the error listener, and nothing after it.
  it('environment unsubscribe that throws at close(): its error reaches the listener once, right after the final close', async () => {
    const environment: Environment = {
      subscribe: () => () => {
        throw new Error('broken unsubscribe');
      },
    };
    const { socket } = createQuietSocket(created, { environment });
    const log: string[] = [];
    socket.on('error', ({ error }) => log.push(`error:${error.code} (${socket.state})`));
    socket.on('close', ({ willReconnect }) => log.push(`close willReconnect=${willReconnect}`));
    await openThenClose(socket);
    expect(socket.state).toBe('closed');
    const closeAt = log.indexOf('close willReconnect=false');
    expect(closeAt, 'the final close').toBeGreaterThanOrEqual(0);
    expect(log.slice(closeAt + 1), 'events after the final close').toEqual(['error:CALLBACK_THREW (closed)']);
  });
});

describe('core: a message queued while open, behind an input that changes nothing', () => {
  const created = useFakeSockets<ReconnectingSocket<any, any>>();

  // Guarantee (README "What send() promises" and the API table: send() "Sends now if open, otherwise queues";
  // "User code that calls back in (listeners, option callbacks, codecs, the debug hook) cannot reorder, lose or
  // misroute anything"). send() now refuses to go straight out while #inputs is non-empty and queues instead,
  // relying on #flushAfter to send the queue once the inputs have run. #flushAfter is set only at open
  // (#enterOpen) and by a flush that stopped (#flush); user code that runs inside #run while the socket stays open
  // (here the debug hook, called by #step for an ignored input; also heartbeat.message from a `probe` action) and
  // queues an input that changes nothing (connect() while open) leaves its send() in the queue with nothing to
  // flush it. The socket is open, the message is 'queued', and every later send() queues behind it (the queue is
  // non-empty) until the connection happens to drop.
  it('connect() then send() from the debug hook while open: the message goes out on the open connection', async () => {
    let socket!: ReconnectingSocket<any, any>;
    let result: string | undefined;
    let env!: ReturnType<typeof createQuietSocket>['env'];
    ({ socket, env } = createQuietSocket(created, {
      debug: (message) => {
        if (result === undefined && message.startsWith('ignored SIGNAL in open')) {
          socket.connect();
          result = socket.send('from the debug hook');
        }
      },
    }));
    await flushMicrotasks();
    const fake = FakeSocket.latest();
    fake.serverOpen();
    await flushMicrotasks();
    expect(socket.state).toBe('open');
    // A `hidden` signal is ignored while open (pauseWhenHidden is off): the debug hook hears of it.
    env.emit('hidden');
    await flushMicrotasks();
    expect(result, 'send() from the hook').toBeDefined();
    const later = socket.send('later');
    await flushMicrotasks();
    expect(socket.state).toBe('open');
    expect.soft(later, 'send() on an open socket with nothing in flight').toBe('sent');
    expect(fake.sent, 'what the open connection got').toEqual(['from the debug hook', 'later']);
    expect(socket.queued, 'left in the queue of an open socket').toEqual([]);
  });
});

describe('core: a message queued while open, behind an input that changes nothing (heartbeat.message)', () => {
  const created = useFakeSockets<ReconnectingSocket<any, any>>();

  // Same cause as above, through a heartbeat function: a `visible` signal while open runs the `probe` action
  // inside #step, which calls heartbeat.message (user code) with the socket still open.
  it('connect() then send() from heartbeat.message during a probe on `visible`: the message goes out', async () => {
    let socket!: ReconnectingSocket<any, any>;
    let isProbing = false;
    let result: string | undefined;
    let env!: ReturnType<typeof createQuietSocket>['env'];
    ({ socket, env } = createQuietSocket(created, {
      heartbeat: {
        intervalMs: 60_000,
        timeoutMs: 10_000,
        message: () => {
          if (isProbing && result === undefined) {
            socket.connect();
            result = socket.send('from heartbeat.message');
          }
          return 'ping';
        },
        isPong: (data: unknown) => data === 'pong',
      },
    }));
    await flushMicrotasks();
    const fake = FakeSocket.latest();
    fake.serverOpen();
    await flushMicrotasks();
    isProbing = true;
    env.emit('visible');
    await flushMicrotasks();
    expect(result).toBeDefined();
    expect(socket.state).toBe('open');
    expect(fake.sent.filter((data) => data !== 'ping'), 'what the open connection got').toEqual(['from heartbeat.message']);
  });
});

describe('core: opened() with a bad timeoutMs, right after connect() from a listener of the final close', () => {
  const created = useFakeSockets<ReconnectingSocket<any, any>>();

  // Guarantees: misuse throws at once (README: "only documented misuse throws, and changes nothing"; STYLE
  // "Misuse ... throws at once"), and `opened()` settles at the final close, and on dispose (README). The fix
  // defers opened() behind the queued connect() (reconnecting-socket.ts opened(): `new Promise(... this
  // #whenDrained(() => opened(this, options).then(resolve, reject)))`). The deferred call validates timeoutMs
  // (waits.ts nextEvent throws RangeError) inside #run, where #safely passes the throw to console.error: the
  // caller gets a promise instead of the RangeError it gets one line later outside the listener, and that
  // promise never settles, not even on dispose().
  it('connect() then opened({ timeoutMs: 0 }): throws RangeError at once (and leaves no promise that never settles)', async () => {
    const { socket } = createQuietSocket(created);
    const reported: unknown[] = [];
    vi.spyOn(console, 'error').mockImplementation((error) => void reported.push(error));
    let outcome = 'pending';
    let isDone = false;
    socket.on('close', ({ willReconnect }) => {
      if (willReconnect || isDone) return;
      isDone = true;
      socket.connect();
      try {
        whenOpen(socket, { timeoutMs: 0 }).then(
          () => (outcome = 'resolved'),
          (error) => (outcome = `rejected: ${error.code ?? error.name}`),
        );
      } catch (error) {
        outcome = `threw: ${(error as Error).name}`;
      }
    });
    await openThenClose(socket);
    socket.dispose();
    await flushMicrotasks();
    expect.soft(reported, 'reported as uncaught').toEqual([]);
    expect(outcome, 'what opened({ timeoutMs: 0 }) did').toBe('threw: RangeError');
  });
});

describe('core: messages() right after connect() from a listener of the final close', () => {
  // Guarantee (README "state": "connect() then opened() waits for it" — calls made after a queued input act as
  // they would one line later outside the listener). The fix taught close(), opened() and send() to decide by the
  // state the queued connect() leads to, but not messages(): reconnecting-socket.ts messages() passes
  // `this.#isDisposed || this.#final() !== undefined` as `isOver`, read before the queued CONNECT runs, so the
  // iterator is over at once although the socket connects again and receives messages.
  it('connect() then messages(): the iterator yields the new connection\'s messages', async () => {
    const server = await startServer({
      echo: false,
      onConnection: (ws) => {
        if (server.connections >= 2) ws.send('hello from connection 2');
      },
    });
    const socket = new ReconnectingSocket<any, any>(server.url, { heartbeat: false, closeTimeoutMs: 500 });
    cleanup(() => socket.dispose());
    await whenOpen(socket, { timeoutMs: 3000 });
    let iterator: AsyncIterableIterator<unknown> | undefined;
    socket.on('close', ({ willReconnect }) => {
      if (willReconnect || iterator) return;
      socket.connect();
      iterator = messages(socket);
    });
    await socket.close();
    const first = await Promise.race([iterator!.next(), sleep(2000).then(() => 'nothing within 2 s')]);
    expect(first, 'the first item of messages()').toEqual({ value: 'hello from connection 2', done: false });
  });
});

describe('core: closed right after connect() in a listener of the final close', () => {
  // Guarantee: calls made after a listener's queued call act as one line later outside it. Outside, connect()
  // then `closed` hands out a promise for the next final close; inside the final close's listener it used to be
  // the close that was just reported.
  it('closed settles with the next final close, not the one being reported', async () => {
    const server = await startServer();
    const socket = new ReconnectingSocket<any, any>(server.url, { heartbeat: false, closeTimeoutMs: 500 });
    cleanup(() => socket.dispose());
    await whenOpen(socket, { timeoutMs: 3000 });
    let next: Promise<{ code: number }> | undefined;
    socket.on('close', ({ willReconnect }) => {
      if (willReconnect || next) return;
      socket.connect();
      next = socket.closed;
    });
    await socket.close(1000);
    await whenOpen(socket, { timeoutMs: 3000 });
    void socket.close(4000, 'second');
    const record = await Promise.race([next!, sleep(3000).then(() => ({ code: -1 }))]);
    expect(record.code).toBe(4000);
  });
});
