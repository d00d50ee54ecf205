import { describe, expect, it } from 'vitest';
import { sleep, startRefusingServer, startServer, startStallServer, waitFor } from '../helpers/servers.js';
import { FLAVOURS, create, record, waitForState } from './helpers.js';

// Event order and readyState through connect, close and reconnect, for each flavour, against real loopback
// servers. Where the flavours differ (close(), reconnect()), each expectation says which. readyState is the inner
// socket's, as in the originals (see differential.test.ts for the same scenarios run against them).
// Rewritten for issue 20: a failed attempt is a clean close (1000) then the error; readyState right after
// reconnect() is the old socket's until the new one exists.

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

describe.each(FLAVOURS)('$name: lifecycle', ({ name, Class, afterClose }) => {
  it('connects at once: CONNECTING, then open with OPEN, then messages', async () => {
    const server = await startServer();
    const socket = create(Class, server.url);
    const events = record(socket);
    expect(socket.readyState).toBe(CONNECTING);
    expect(socket.retryCount).toBe(0);
    await events.waitFor('open');
    expect(events.of('open')[0]).toMatchObject({ readyState: OPEN, target: socket });
    socket.send('hello');
    await events.waitFor('message');
    expect(events.types()).toEqual(['open', 'message']);
    expect(events.of('message')[0]).toMatchObject({ data: 'hello', readyState: OPEN, target: socket });
  });

  it(`close() while open: readyState ${afterClose} at once, exactly one close event, the server sees the code`, async () => {
    const server = await startServer();
    const socket = create(Class, server.url);
    const events = record(socket);
    await events.waitFor('open');
    socket.close(4000, 'done');
    expect(socket.readyState).toBe(afterClose);
    if (name === 'partysocket') {
      // Dispatched inside close(): a listener removed right after it still saw the end.
      expect(events.of('close')).toMatchObject([{ code: 4000, reason: 'done', wasClean: true, readyState: CLOSED }]);
    } else {
      expect(events.of('close')).toEqual([]);
      await events.waitFor('close');
      expect(events.of('close')).toMatchObject([{ code: 4000, reason: 'done', wasClean: true, readyState: CLOSED }]);
    }
    await waitFor(() => server.closeFrames.length === 1);
    expect(server.closeFrames).toEqual([{ code: 4000, reason: 'done' }]);
    await sleep(100);
    expect(events.types()).toEqual(['open', 'close']);
    expect(socket.readyState).toBe(CLOSED);
    expect(server.connections).toBe(1);
  });

  it('close() while connecting: one close event, no retry', async () => {
    const stall = await startStallServer();
    const socket = create(Class, stall.url);
    const events = record(socket);
    await waitFor(() => stall.sockets === 1);
    socket.close();
    expect(socket.readyState).toBe(afterClose);
    expect(events.of('close')).toMatchObject([{ code: 1000, readyState: afterClose }]);
    await sleep(150);
    expect(events.types()).toEqual(['close']);
    expect(stall.sockets).toBe(1);
  });

  it('the server closes: close (CLOSED inside it), then CONNECTING, then open again; listeners survive', async () => {
    const server = await startServer();
    const socket = create(Class, server.url);
    const events = record(socket);
    await events.waitFor('open');
    for (const ws of server.clients) ws.close(4100, 'bye');
    await events.waitFor('close');
    expect(events.of('close')[0]).toMatchObject({ code: 4100, reason: 'bye', wasClean: true, readyState: CLOSED });
    await events.waitFor('open', 2);
    expect(events.types()).toEqual(['open', 'close', 'open']);
    expect(server.connections).toBe(2);
    socket.send('still listening');
    await events.waitFor('message');
  });

  it('a failed attempt: a clean close (1000), then the error; retryCount already counts the retry; CLOSING inside both', async () => {
    const refusing = await startRefusingServer();
    const socket = create(Class, refusing.url);
    const events = record(socket);
    await events.waitFor('error');
    expect(events.types()).toEqual(['close', 'error']);
    expect(events.of('close')[0]).toMatchObject({ code: 1000, wasClean: true, readyState: CLOSING });
    expect(events.of('error')[0]).toMatchObject({ readyState: CLOSING });
    expect(events.of('error')[0]!.error).toBeInstanceOf(Error);
    expect(events.of('error')[0]!.message).toMatch(/503/);
    expect(socket.retryCount).toBe(1);
  });

  it('reconnect() while open: a close event with its code at once, the server sees the code, then open', async () => {
    const server = await startServer();
    const socket = create(Class, server.url);
    const events = record(socket);
    await events.waitFor('open');
    socket.reconnect(4001, 'again');
    expect(events.of('close')).toMatchObject([{ code: 4001, reason: 'again', readyState: CLOSING }]);
    // The old socket's, until the new one exists (a tick later), as in the originals.
    expect(socket.readyState).toBe(CLOSING);
    await events.waitFor('open', 2);
    await waitFor(() => server.closeFrames.length === 1);
    expect(server.closeFrames).toEqual([{ code: 4001, reason: 'again' }]);
    await sleep(50);
    expect(events.types()).toEqual(['open', 'close', 'open']);
    expect(server.connections).toBe(2);
  });

  it('readyState in every phase: startClosed, connecting, open, backoff, connecting, open, closed, reconnect', async () => {
    // Each handshake takes 60 ms, so that CONNECTING lasts long enough to be seen.
    const server = await startServer({ verifyClient: (_info, accept) => void setTimeout(() => accept(true), 60) });
    const socket = create(Class, server.url, undefined, { startClosed: true, minReconnectionDelay: 150 });
    const events = record(socket);
    expect(socket.readyState).toBe(CLOSED);
    await sleep(30);
    expect(server.connections).toBe(0);

    socket.reconnect();
    expect(socket.readyState).toBe(CLOSED); // no socket yet, and startClosed
    await waitForState(socket, CONNECTING);
    await events.waitFor('open');
    expect(socket.readyState).toBe(OPEN);

    for (const ws of server.clients) ws.terminate();
    await events.waitFor('close');
    expect(socket.readyState).toBe(CLOSED); // waiting 150 ms for the retry
    await waitForState(socket, CONNECTING);
    await events.waitFor('open', 2);
    expect(socket.readyState).toBe(OPEN);

    socket.close();
    expect(socket.readyState).toBe(afterClose);
    await events.waitFor('close', 2);
    expect(socket.readyState).toBe(CLOSED);

    // The old socket's until the new one exists: CLOSED here. (partysocket's close() reported the close before
    // the handshake ended, so there that socket may still be CLOSING.)
    socket.reconnect();
    if (name === 'reconnecting-websocket') expect(socket.readyState).toBe(CLOSED);
    await events.waitFor('open', 3);
    expect(socket.readyState).toBe(OPEN);
    expect(events.types()).toEqual(['open', 'close', 'open', 'close', 'open']);
  });

  it('the constants are on the class and on the instance', () => {
    const socket = create(Class, 'ws://127.0.0.1:9', undefined, { startClosed: true });
    for (const target of [Class, socket]) {
      expect([target.CONNECTING, target.OPEN, target.CLOSING, target.CLOSED]).toEqual([CONNECTING, OPEN, CLOSING, CLOSED]);
    }
  });
});

describe('where the flavours differ', () => {
  const [party, rws] = FLAVOURS;

  it('partysocket: close() dispatches its close event synchronously and exactly once, even called twice', async () => {
    const server = await startServer();
    const socket = create(party.Class, server.url);
    const events = record(socket);
    await events.waitFor('open');
    let heardInside = 0;
    socket.onclose = () => heardInside++;
    socket.close();
    socket.close();
    expect(heardInside).toBe(1);
    socket.onclose = null;
    await sleep(150);
    expect(events.of('close')).toHaveLength(1);
  });

  it('reconnecting-websocket: CLOSING until the close event, CLOSED inside it', async () => {
    const server = await startServer();
    const socket = create(rws.Class, server.url);
    const events = record(socket);
    await events.waitFor('open');
    socket.close();
    expect(socket.readyState).toBe(CLOSING);
    expect(events.of('close')).toEqual([]);
    await events.waitFor('close');
    expect(events.of('close')[0]!.readyState).toBe(CLOSED);
  });

  it('send(): a boolean in partysocket, nothing in reconnecting-websocket', async () => {
    const server = await startServer();
    const a = create(party.Class, server.url);
    const b = create(rws.Class, server.url);
    expect(a.send('early')).toBe(false);
    expect(b.send('early')).toBeUndefined();
    await waitFor(() => a.readyState === OPEN && b.readyState === OPEN);
    expect(a.send('now')).toBe(true);
    expect(b.send('now')).toBeUndefined();
    await waitFor(() => server.received.length === 4);
  });
});
