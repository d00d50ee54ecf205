import { describe, expect, it, vi } from 'vitest';
import { ReconnectingSocket, opened } from '../../src/index.js';
import { resolveOptions } from '../../src/options.js';
import { startRecordingServer, sleep, waitFor } from '../helpers/servers.js';
import { cleanup } from '../helpers/teardown.js';

// Review of the review-3b core changes and the shared option layers (6a208a3~1..HEAD). Each test fails on the
// code as reviewed; src/ is not ours.

describe('core: send() from an open listener after a call that changes nothing was queued', () => {
  // Guarantee (README "Events": "The queued backlog goes out right after the `open` listeners have run ...:
  // messages they send go first"; and "Calls made after such an input, in the same listener, act as they would
  // one line later outside it"). connect() while open "does nothing", yet it is queued as an input; send() then
  // sees `this.#inputs?.length` (reconnecting-socket.ts send(): `if (isOpen && this.#inputs?.length)
  // this.#flushAfter = socket;`) and queues the message *behind* the backlog instead of sending it first.
  it('a message sent by an open listener goes out before the backlog, even after a no-op connect()', async () => {
    const server = await startRecordingServer();
    const socket = new ReconnectingSocket<string, string>(server.url, { heartbeat: false });
    cleanup(() => socket.dispose());
    expect(socket.send('backlog')).toBe('queued');
    const results: string[] = [];
    socket.on('open', () => socket.connect()); // e.g. an "ensure connected" helper: a no-op while open
    socket.on('open', () => results.push(socket.send('hello')));
    await opened(socket, { timeoutMs: 3000 });
    await waitFor(() => server.received[0]?.length === 2, 3000, 'both messages at the server');
    // 'queued' is documented for a send() behind a queued call; the order is not negotiable.
    expect(results).toEqual([expect.stringMatching(/^(sent|queued)$/)]);
    expect(server.received[0], 'order at the server').toEqual(['hello', 'backlog']);
  });

  // Same cause, worse effect. `queue.maxMessages` is "Most messages held while not open": with 0 nothing is held
  // while not open, but an open socket still sends. An open listener's send() after a no-op connect() is pushed
  // into the (zero-size) queue: it returns 'dropped' with an `overflow` drop, and the message never goes out,
  // on a socket that is open and stays open (README "What send() promises": the queued call left it somewhere
  // to go, the open connection).
  it('queue.maxMessages 0: send() from an open listener after a no-op connect() is sent, not dropped', async () => {
    const server = await startRecordingServer();
    const socket = new ReconnectingSocket<string, string>(server.url, { heartbeat: false, queue: { maxMessages: 0 } });
    cleanup(() => socket.dispose());
    const log: string[] = [];
    socket.on('drop', ({ reason }) => log.push(`drop:${reason}`));
    socket.on('open', () => socket.connect());
    socket.on('open', () => log.push(socket.send('hello')));
    await opened(socket, { timeoutMs: 3000 });
    await sleep(100);
    expect(socket.state).toBe('open');
    expect(log.filter((entry) => entry.startsWith('drop:')), 'drops').toEqual([]);
    expect(server.received[0], 'what the server got').toEqual(['hello']);
  });
});

describe('options: shared layers keyed by text that two different option sets can produce', () => {
  // Guarantee (options.ts resolveOptions: "throws TypeError/RangeError naming the bad one"; README Options: every
  // option with its default). `check(prefix + name)` accepts the dotted rule names ('queue.maxMessages',
  // 'heartbeat.intervalMs', ...) as top-level keys, and layer() keys a top-level layer as `${name}=${value};` with
  // prefix '', which is exactly the key of the `queue` group's layer (prefix 'queue.'). Whichever is built first is
  // handed to the other: here `{ queue: { maxMessages: 7771 } }` gets a layer over the *top-level* defaults, so
  // its queue has no maxMessages, maxBytes or overflow at all.
  it("{ queue: { maxMessages } } is not confused with a top-level 'queue.maxMessages' key", () => {
    let stray: unknown;
    try {
      stray = resolveOptions({ 'queue.maxMessages': 7771 } as any);
    } catch {
      // Rejecting the unknown key is the other right answer.
    }
    const resolved = resolveOptions({ queue: { maxMessages: 7771 } });
    expect(resolved.queue.maxMessages).toBe(7771);
    expect(resolved.queue.overflow).toBe('drop-oldest');
    expect(resolved.queue.maxBytes).toBe(1_048_576);
    expect(resolved.queue).not.toBe(stray);
  });

  // The same confusion through the socket: a socket created with `{ queue: { maxMessages: 1 } }` after another
  // (from JSON config, say) used the dotted key holds every message, with no bound at all.
  it('a socket with queue.maxMessages 1 holds one message while not open, whatever another socket was given', () => {
    try {
      // Disposed before its first attempt starts (a microtask away): no I/O.
      new ReconnectingSocket('ws://127.0.0.1:9', { 'queue.maxMessages': 1 } as any).dispose();
    } catch {
      // Rejecting the unknown key is the other right answer.
    }
    const socket = new ReconnectingSocket<string, string>('ws://127.0.0.1:9', { autoConnect: false, queue: { maxMessages: 1 } });
    cleanup(() => socket.dispose());
    const drops: string[] = [];
    socket.on('drop', ({ reason }) => drops.push(reason));
    const results = [socket.send('a'), socket.send('b'), socket.send('c')];
    expect(results).toEqual(['queued', 'queued', 'queued']);
    expect(socket.queued.length, 'messages held').toBe(1);
    expect(drops).toEqual(['overflow', 'overflow']);
  });
});

describe('core: close() from a final close listener, after connect()', () => {
  // Guarantee (README API: close() "resolves with the final close record: how the last connection ended"; and
  // "Calls made after such an input, in the same listener, act as they would one line later outside it":
  // connect() then close() ends closed, and close() answers for the connection it ended). close() pushes its
  // waiter into #closeWaiters while the *previous* final close is still being entered: #step emits `close` from
  // #endConnection, then #enter -> #enterFinal -> `if (state.last) this.#settleClose(state.last)` settles the new
  // waiter with the previous connection's record, before the CONNECT and CLOSE it queued have even run.
  it('close(4000) after connect() resolves with the close it caused, not the one before', async () => {
    const server = await startRecordingServer();
    const socket = new ReconnectingSocket<string, string>(server.url, { heartbeat: false, closeTimeoutMs: 500 });
    cleanup(() => socket.dispose());
    await opened(socket, { timeoutMs: 3000 });
    const closes: number[] = [];
    let second: Promise<{ code: number; reason: string }> | undefined;
    let closesWhenSettled: number | undefined;
    socket.on('close', ({ code }) => {
      closes.push(code);
      if (closes.length > 1) return;
      socket.connect();
      second = socket.close(4000, 'again');
      void second.then(() => (closesWhenSettled = closes.length));
    });
    const first = await socket.close(1000, 'first');
    expect(first.code).toBe(1000);
    await waitFor(() => second, 3000, 'the second close() call');
    const record = await second!;
    expect(socket.state).toBe('closed');
    expect(closes, 'close events').toEqual([1000, 4000]);
    expect(socket.lastClose?.code, 'lastClose').toBe(4000);
    expect({ code: record.code, reason: record.reason }, 'what the second close() resolved with').toEqual({ code: 4000, reason: 'again' });
    expect(closesWhenSettled, 'close events seen when it resolved').toBe(2);
  });
  // Same cause without any final close: #endConnection settles *every* waiter in #closeWaiters with the record
  // of the connection it ends. reconnect() then close(4000) in an open listener: the RECONNECT step ends the open
  // connection (cause `reconnect`) and hands that record to the close(4000) queued behind it, which then ends the
  // new attempt with a record of its own. Outside a listener the same two lines resolve close() with 4000.
  it('reconnect() then close(4000) in an open listener resolves with the 4000 close, not the reconnect', async () => {
    const server = await startRecordingServer();
    const socket = new ReconnectingSocket<string, string>(server.url, { heartbeat: false, closeTimeoutMs: 500 });
    cleanup(() => socket.dispose());
    let closing: Promise<{ code: number; cause: string }> | undefined;
    socket.once('open', () => {
      socket.reconnect();
      closing = socket.close(4000, 'stop');
    });
    await waitFor(() => closing, 3000, 'the open listener');
    const record = await closing!;
    await waitFor(() => socket.state === 'closed', 3000, 'closed');
    expect(socket.lastClose?.code, 'lastClose').toBe(4000);
    expect({ code: record.code, cause: record.cause }, 'what close(4000) resolved with').toEqual({ code: 4000, cause: 'client' });
  });
});

describe('core: an environment unsubscribe that throws at dispose()', () => {
  // Guarantee (README "Errors never vanish: to `error` listeners, the `debug` hook, or once to console.warn";
  // commit 2ed782d: what an unsubscribe throws at the final close "is reported before the close event"). dispose()
  // still emits the connection's `close` event (cause `dispose`), but #emitError now starts with
  // `if (!this.#isDisposed && this.#events.has('error'))` and ends with `if (... this.#isDisposed ...) return`: the
  // CALLBACK_THREW collected by #thrown during the DISPOSE transition reaches neither the error listener (which
  // is still there: the close listener next to it hears the close) nor console.warn. With no debug hook it vanishes.
  // Rewritten for the small core: the unsubscribe runs as the disposed state is entered, after that transition's
  // events are queued; the listeners stay until every event queued by then has gone out, so the error reaches the
  // error listener (after the close), and console.warn stays silent.
  it('the CALLBACK_THREW reaches the error listener (after the dispose close event), not console.warn', async () => {
    const server = await startRecordingServer();
    const environment = {
      subscribe: () => () => {
        throw new Error('broken unsubscribe');
      },
    };
    const socket = new ReconnectingSocket<string, string>(server.url, { heartbeat: false, environment });
    cleanup(() => socket.dispose());
    await opened(socket, { timeoutMs: 3000 });
    const log: string[] = [];
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    cleanup(() => warn.mockRestore());
    socket.on('error', ({ error }) => log.push(`error:${error.code}`));
    socket.on('close', ({ cause }) => log.push(`close:${cause}`));
    socket.dispose();
    await sleep(20);
    expect({ log, warned: warn.mock.calls.length }).toEqual({ log: ['close:dispose', 'error:CALLBACK_THREW'], warned: 0 });
  });
});

describe('core: opened() right after dispose() inside a listener', () => {
  // Guarantee (README API: opened() "Rejects with DISPOSED"; "Calls made after such an input, in the same
  // listener, act as they would one line later outside it"). #isPending() is false once disposed ("which nothing
  // follows"), so opened() decides at once, but its next line, `if (this.#state.name === 'open') return
  // Promise.resolve()`, reads the state from before the queued DISPOSE: it resolves on a disposed socket.
  it('dispose() then opened() in an open listener rejects with DISPOSED', async () => {
    const server = await startRecordingServer();
    const socket = new ReconnectingSocket<string, string>(server.url, { heartbeat: false });
    cleanup(() => socket.dispose());
    let outcome: Promise<string> | undefined;
    socket.on('open', () => {
      socket.dispose();
      outcome = opened(socket).then(
        () => 'resolved',
        (error) => `rejected: ${error.code}`,
      );
    });
    await waitFor(() => outcome, 3000, 'the open listener');
    expect(socket.isDisposed).toBe(true);
    expect(await outcome).toBe('rejected: DISPOSED');
  });
});

describe('core: what a listener sends after a call that changes nothing', () => {
  // Rewritten for the small core (calls from listeners act at once; there is no list of held messages): an open
  // listener's connect() does nothing while open, so its send() goes straight out; `queued`, `bufferedAmount` and
  // `clearQueue()` see nothing waiting, and nothing is lost or sent twice.
  it('goes out at once: queued, bufferedAmount and clearQueue() see nothing waiting', async () => {
    const { url, received } = await startRecordingServer();
    const socket = new ReconnectingSocket<any, any>(url, { heartbeat: false });
    cleanup(() => socket.dispose());
    const seen: { queued: unknown[]; buffered: number; cleared: unknown[] } = { queued: [], buffered: 0, cleared: [] };
    socket.once('open', () => {
      socket.connect(); // nothing to do while open, but queued as an input
      socket.send('held');
      seen.queued = socket.queued.map((item) => item.message);
      seen.buffered = socket.bufferedAmount;
      seen.cleared = socket.clearQueue().map((item) => item.message);
      socket.send('after');
    });
    await waitFor(() => received.flat().includes('after'), 3000, '"after" on the server');
    await sleep(50);
    expect(seen).toEqual({ queued: [], buffered: 0, cleared: [] });
    expect(received.flat()).toEqual(['held', 'after']);
  });
});
