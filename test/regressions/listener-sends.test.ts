import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { ReconnectingSocket, opened, type SocketError } from '../../src/index.js';
import { HOST } from '../helpers/listen.js';
import { resumable, startResumeServer, until } from '../helpers/resume.js';

// Found by the shared-tabs fuzz once its listeners sent too: a ResumableSocket ran its listeners in the middle of
// taking WELCOME (its drops and deliveries went out before it resent what the server had not acknowledged), so a
// send() from such a listener was written, then written again by the resend: the server got it twice, and the
// session broke (`lost`). Each event of the inner socket is now one change, done before any listener runs.

async function recordingServer(options: { ackDelayMs?: number; sessionTtlMs?: number } = {}) {
  const got: string[] = [];
  const server = await startResumeServer({ ...options, onSession: (s) => s.on('message', ({ data }) => got.push(String(data))) });
  return { server, got };
}

describe('ResumableSocket: a listener that sends while WELCOME is taken', () => {
  it('a send() from the drop listener of a message that expired before open reaches the server once', async () => {
    const { server, got } = await recordingServer();
    const socket = resumable<string, string>(server.url);
    const drops: unknown[] = [];
    socket.on('drop', ({ message, reason }) => {
      drops.push([message, reason]);
      if (message === 'first') expect(socket.send('second')).toBe('sent');
    });
    expect(socket.send('first', { ttlMs: 1 })).toBe('queued');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await until(() => got.length >= 1, 'the second message');
    const delivered: string[] = [];
    socket.on('delivered', ({ message }) => delivered.push(message));
    await until(() => delivered.length === 1, 'its delivery');
    await socket.close();
    expect(got).toEqual(['second']);
    expect(drops).toEqual([['first', 'expired']]);
    expect(server.errors).toEqual([]);
  });

  it('a send() from the delivered listener of a message WELCOME acknowledges reaches the server once', async () => {
    // Acknowledgements only at a resume: the server's timer never fires in this test.
    const { server, got } = await recordingServer({ ackDelayMs: 60_000 });
    const socket = resumable<string, string>(server.url);
    const opens: string[] = [];
    socket.on('open', ({ resume }) => opens.push(resume));
    const drops: unknown[] = [];
    socket.on('drop', ({ message, reason }) => drops.push([message, reason]));
    socket.on('delivered', ({ message }) => {
      if (message === 'a') expect(socket.send('b')).toBe('sent');
    });
    await until(() => opens.length === 1, 'the first open');
    expect(socket.send('a')).toBe('sent');
    await until(() => got.length === 1, 'the first message at the server');
    socket.reconnect();
    await until(() => opens.length === 2 && got.length >= 2, 'the resume and the second message');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(opens).toEqual(['new', 'resumed']);
    expect(got).toEqual(['a', 'b']);
    expect(drops).toEqual([]);
    await socket.close();
    expect(server.errors).toEqual([]);
  });

  it('a send() from the drop listener of an expired message goes behind the messages that waited, as in the core', async () => {
    const { server, got } = await recordingServer();
    const socket = resumable<string, string>(server.url);
    socket.on('drop', ({ message }) => {
      if (message === 'first') socket.send('third');
    });
    expect(socket.send('first', { ttlMs: 1 })).toBe('queued');
    expect(socket.send('second')).toBe('queued');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await until(() => got.length === 2, 'the two messages');
    await socket.close();
    expect(got).toEqual(['second', 'third']);
  });
});

describe('ReconnectingSocket: the same order', () => {
  it('a send() from the drop listener of an expired message goes behind the messages that waited', async () => {
    const got: string[] = [];
    const server = new WebSocketServer({ host: HOST, port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    server.on('connection', (ws) => ws.on('message', (data) => got.push(String(data))));
    const socket = new ReconnectingSocket(`ws://${HOST}:${(server.address() as { port: number }).port}`);
    socket.on('drop', ({ message }) => {
      if (message === 'first') socket.send('third');
    });
    try {
      expect(socket.send('first', { ttlMs: 1 })).toBe('queued');
      expect(socket.send('second')).toBe('queued');
      await until(() => got.length === 2, 'the two messages');
      expect(got).toEqual(['second', 'third']);
    } finally {
      await socket.close();
      server.close();
    }
  });
});

// Found by the resume re-entrancy fuzz (test/resume/reentrant-fuzz.test.ts): dispose() promises a `drop`
// (`disposed`) for every message still held, but from a listener it removed the listeners and the events waiting
// with them, so those drops never went out. The listeners are now removed once the events waiting have gone out.
describe('ResumableSocket: dispose() from a listener', () => {
  it('reports every message still held with a drop', async () => {
    const { server } = await recordingServer();
    const socket = resumable<string, string>(server.url);
    const drops: unknown[] = [];
    socket.on('drop', ({ message, reason, wasSent }) => drops.push([message, reason, wasSent]));
    socket.on('open', () => socket.dispose());
    expect(socket.send('a')).toBe('queued');
    await until(() => socket.isDisposed, 'the open listener to dispose');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(drops).toEqual([['a', 'disposed', false]]);
  });
});

// Found by the resume re-entrancy fuzz: when a WELCOME said the session was lost, the `drop` (`lost`) of a message
// it had not acknowledged went out before the messages that waited for the connection were written, so what a drop
// listener sent then went ahead of them. What a WELCOME settles (deliveries, drops) is now reported after the
// backlog's turn, as expiries already were: only `open` and `state` listeners go ahead of it.
describe('ResumableSocket: a listener that sends when a WELCOME settles earlier messages', () => {
  /** A socket that records its opens and drops, and sends 'c' from the drop listener of 'a'. */
  function sendingOnDrop(url: string) {
    const socket = resumable<string, string>(url);
    const opens: string[] = [];
    socket.on('open', ({ resume }) => opens.push(resume));
    const drops: unknown[] = [];
    socket.on('drop', ({ message, reason, wasSent }) => {
      drops.push([message, reason, wasSent]);
      if (message === 'a') socket.send('c');
    });
    return { socket, opens, drops };
  }

  it('a send() from the drop listener of a message the lost session took goes behind the messages that waited', async () => {
    // Acknowledgements never come in time; a session whose connection ended is gone at once.
    const { server, got } = await recordingServer({ ackDelayMs: 60_000, sessionTtlMs: 1 });
    const { socket, opens, drops } = sendingOnDrop(server.url);
    socket.once('close', () => expect(socket.send('b')).toBe('queued'));
    await until(() => opens.length === 1, 'the first open');
    expect(socket.send('a')).toBe('sent');
    await until(() => got.length === 1, 'the first message at the server');
    for (const client of server.wss.clients) client.terminate();
    await until(() => opens.length === 2 && got.length === 3, 'the new session and both messages', 15_000, () => got);
    expect(opens).toEqual(['new', 'unknown']);
    expect(drops).toEqual([['a', 'lost', true]]);
    expect(got).toEqual(['a', 'b', 'c']);
  });
  it('the same when the next server does not speak the protocol (plain)', async () => {
    const got: string[] = [];
    // Acknowledgements never come in time. Once the helper is gone, the ws server selects no subprotocol.
    const server = await startResumeServer({
      ackDelayMs: 60_000,
      handleProtocols: () => false,
      onSession: (s) => s.on('message', ({ data }) => got.push(String(data))),
    });
    const { socket, opens, drops } = sendingOnDrop(server.url);
    await until(() => opens.length === 1, 'the first open');
    expect(socket.send('a')).toBe('sent');
    await until(() => got.length === 1, 'the first message at the server');
    socket.once('close', () => {
      expect(socket.send('b')).toBe('queued');
      server.wss.on('connection', (ws) => ws.on('message', (data) => got.push(String(data))));
    });
    server.resume.close(1012, 'restarting', { keepSessions: true });
    await until(() => opens.length === 2 && got.length === 3, 'the plain connection and both messages', 15_000, () => got);
    expect(opens).toEqual(['new', 'unsupported']);
    expect(drops).toEqual([['a', 'lost', true]]);
    expect(got).toEqual(['a', 'b', 'c']);
  });
});


// Found by the resume re-entrancy fuzz: close() and an overflowing send() reported the messages they gave up one
// `drop` at a time while the change went on, so a drop listener that disposed the socket cut the rest of them off
// (dispose() then removed the listeners). Each of these changes now queues all its events before any listener runs.
describe('ResumableSocket: dispose() from the drop listener of a change that drops several messages', () => {
  it('close(): every message it gives up is reported', async () => {
    const { server } = await recordingServer();
    const socket = resumable<string, string>(server.url);
    const drops: unknown[] = [];
    socket.on('drop', ({ message, reason }) => {
      drops.push([message, reason]);
      if (message === 'a') socket.dispose();
    });
    expect(socket.send('a')).toBe('queued');
    expect(socket.send('b')).toBe('queued');
    await socket.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(drops).toEqual([
      ['a', 'closed'],
      ['b', 'closed'],
    ]);
  });

  it('send() that evicts two messages: both are reported, and the new one with disposed', async () => {
    const { server } = await recordingServer();
    const socket = resumable<string, string>(server.url, { queue: { maxBytes: 10 } });
    const drops: unknown[] = [];
    socket.on('drop', ({ message, reason }) => {
      drops.push([message, reason]);
      if (message === 'aaaa') socket.dispose();
    });
    expect(socket.send('aaaa')).toBe('queued');
    expect(socket.send('bbbb')).toBe('queued');
    socket.send('cccccccc');
    expect(drops).toEqual([
      ['aaaa', 'overflow'],
      ['bbbb', 'overflow'],
      ['cccccccc', 'disposed'],
    ]);
  });
});

// Found by the resume re-entrancy fuzz, counting `close` events: a ResumableSocket never passed on the inner socket's
// `end`, so `opened()` and `messages()` waited on through a final close; and dispose() removed the listeners before
// the inner socket's last events (`close`, `state`) came, which, from a listener, wait behind the event under way.
// The socket now passes `end` on, and the listeners go with the `end` of a dispose, as in the core.
describe('ResumableSocket: the end of a run', () => {
  it('dispose() from an open listener: the connection still ends with close, state and end', async () => {
    const { server } = await recordingServer();
    const socket = resumable<string, string>(server.url);
    const events: string[] = [];
    socket.on('close', ({ cause }) => events.push(`close ${cause}`));
    socket.on('state', ({ to }) => events.push(`state ${to}`));
    socket.on('end', ({ isDisposed }) => events.push(`end ${isDisposed}`));
    socket.on('open', () => socket.dispose());
    await until(() => socket.isDisposed, 'the open listener to dispose');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(events).toEqual(['state open', 'close dispose', 'state closed', 'end true']);
  });

  it('opened() settles when close() ends the run before the connection opens', async () => {
    const { server } = await recordingServer();
    const socket = resumable<string, string>(server.url);
    const waiting = opened(socket, { timeoutMs: 2_000 }).then(
      () => 'open',
      (error: SocketError) => error.code,
    );
    await socket.close();
    expect(await waiting).toBe('CLOSED');
  });
});

// Found by the resume re-entrancy fuzz, with a server that upgrades and then never sends its WELCOME: the timeout
// gave up the session and reported its messages one `drop` at a time as that change went on, so a drop listener
// that disposed cut the rest off. A protocol failure is now one change too, its events queued before any listener.
describe('ResumableSocket: dispose() from the drop listener of a WELCOME timeout', () => {
  it('every message the session held is reported', async () => {
    const got: string[] = [];
    // Once the helper is gone, the ws server itself selects the resume protocol: nobody sends a WELCOME.
    const server = await startResumeServer({
      ackDelayMs: 60_000,
      handleProtocols: (protocols) => (protocols.has('rws-resume.v1') ? 'rws-resume.v1' : false),
      onSession: (s) => s.on('message', ({ data }) => got.push(String(data))),
    });
    const socket = resumable<string, string>(server.url, { connectTimeoutMs: 300 });
    const errors: string[] = [];
    socket.on('error', ({ error }) => errors.push(error.code));
    const drops: unknown[] = [];
    socket.on('drop', ({ message, reason }) => {
      drops.push([message, reason]);
      if (message === 'a') socket.dispose();
    });
    await until(() => socket.state === 'open', 'the first open');
    expect(socket.send('a')).toBe('sent');
    expect(socket.send('b')).toBe('sent');
    await until(() => got.length === 2, 'both messages at the server');
    server.resume.close(1012, 'restarting', { keepSessions: true });
    await until(() => socket.isDisposed, 'the WELCOME timeout');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(errors).toEqual(['WELCOME_TIMEOUT']);
    expect(drops).toEqual([
      ['a', 'lost'],
      ['b', 'lost'],
    ]);
  });
});

// Review of the fuzz's fixes: a ResumableSocket's dispose() reported what it held before the connection's last
// `close` and `state`, where the core (docs/reference.md) reports it after them, just before `end`. The held
// messages are now reported when the inner socket's `end` comes, so the order is the core's in both cases.
describe('ResumableSocket: dispose() reports in the core\'s order', () => {
  async function openWithUnacknowledged() {
    // Acknowledgements only at a resume: the server's timer never fires in this test, so 'a' stays held.
    const { server, got } = await recordingServer({ ackDelayMs: 60_000 });
    const socket = resumable<string, string>(server.url);
    const events: string[] = [];
    socket.on('close', ({ cause }) => events.push(`close ${cause}`));
    socket.on('state', ({ to }) => events.push(`state ${to}`));
    socket.on('drop', ({ message, reason, wasSent }) => events.push(`drop ${message} ${reason} ${wasSent}`));
    socket.on('end', ({ isDisposed }) => events.push(`end ${isDisposed}`));
    await until(() => socket.state === 'open', 'the open');
    expect(socket.send('a')).toBe('sent');
    await until(() => got.length === 1, 'the message at the server');
    events.length = 0;
    return { server, socket, events };
  }

  it('called directly: close, state, the drop, end', async () => {
    const { socket, events } = await openWithUnacknowledged();
    socket.dispose();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(events).toEqual(['close dispose', 'state closed', 'drop a disposed true', 'end true']);
  });

  it('called from a message listener: the same order, after the message', async () => {
    const { server, socket, events } = await openWithUnacknowledged();
    socket.on('message', ({ data }) => {
      events.push(`message ${data}`);
      socket.dispose();
    });
    for (const session of server.sessions) session.send('m');
    await until(() => events.includes('end true'), 'the end');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(events).toEqual(['message m', 'close dispose', 'state closed', 'drop a disposed true', 'end true']);
  });
});
