import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { closedPort } from '../helpers/chaos-servers.js';
import { exitWithin, spawnNode } from '../helpers/child.js';
import { sleep, startRefusingServer, startServer, startSilentServer, startStallServer, waitFor } from '../helpers/servers.js';
import { FLAVOURS, create, record } from './helpers.js';
import { StuckOnErrorWebSocket } from './whatwg-socket.js';

// Where an original hangs, crashes or loses data, and ours does not (docs/migration.md, "Fixes"). Each test
// names the original's failure; everything else is compared with the originals in differential.test.ts.

const CLOSED = 3;

describe.each(FLAVOURS)('$name: where the originals hang or crash', ({ name, Class, afterClose }) => {
  it('an error without a close event (readyState stuck at 0) ends the attempt: retried on the backoff curve, not after connectionTimeout', async () => {
    // Issue 20, item 1: Node 20's global WebSocket and some polyfills never fire close after a refused connection.
    const port = await closedPort();
    const socket = create(Class, `ws://127.0.0.1:${port}`, undefined, { WebSocket: StuckOnErrorWebSocket, connectionTimeout: 60_000, maxRetries: 2 });
    const events = record(socket);
    await events.waitFor('error', 3, 5_000);
    await sleep(100);
    expect(events.types()).toEqual(['close', 'error', 'close', 'error', 'close', 'error']);
    expect(events.of('error').map((event) => event.message)).toEqual(Array(3).fill(`connect ECONNREFUSED 127.0.0.1:${port}`));
  });

  it('close() during the wait before a retry cancels it: no attempt (and no timer) afterwards', async () => {
    // The originals' retry timer still fired, called the URL provider and kept a Node process alive.
    const refusing = await startRefusingServer();
    let calls = 0;
    const socket = create(Class, () => (calls++, refusing.url), undefined, { minReconnectionDelay: 100 });
    const events = record(socket);
    await events.waitFor('error');
    socket.close();
    await sleep(300);
    expect([refusing.attempts, calls]).toEqual([1, 1]);
    expect(socket.readyState).toBe(CLOSED);
    expect(events.types()).toEqual(['close', 'error']);
  });

  it('attempts that time out under Node ws crash nothing, and their sockets are closed at once', async () => {
    // reconnecting-websocket crashed the process with an uncaught "WebSocket was closed before the connection
    // was established": it detached its listeners from the socket it was aborting.
    const stall = await startStallServer();
    const socket = create(Class, stall.url, undefined, { connectionTimeout: 50, minReconnectionDelay: 10, maxReconnectionDelay: 20 });
    const events = record(socket);
    await events.waitFor('error', 4, 3_000);
    socket.close();
    await waitFor(() => stall.openSockets === 0, 2_000);
    expect(events.of('error').every((event) => event.message === 'TIMEOUT')).toBe(true);
    expect(events.of('close').every((event) => event.code === 1000 && event.reason === 'timeout')).toBe(true);
  });

  it('reconnect() while connecting under Node ws crashes nothing and connects', async () => {
    // reconnecting-websocket crashed the same way here.
    const server = await startServer({ verifyClient: (_info, accept) => void setTimeout(() => accept(true), 100) });
    const socket = create(Class, server.url);
    const events = record(socket);
    await waitFor(() => socket.readyState === 0 && socket.url !== '');
    socket.reconnect();
    await events.waitFor('open');
    await sleep(200);
    expect(events.types()).toEqual(['close', 'open']);
  });

  it('reconnect() after the retries ran out opens again, and the retries count from 0', async () => {
    // reconnecting-websocket kept a lock taken when it gave up: reconnect() then did nothing, for good.
    const refusing = await startRefusingServer();
    const socket = create(Class, refusing.url, undefined, { minReconnectionDelay: 10, maxRetries: 1 });
    const events = record(socket, ['close']);
    await events.waitFor('close', 2);
    await sleep(60);
    expect(refusing.attempts).toBe(2);
    socket.reconnect();
    await events.waitFor('close', 4);
    await sleep(60);
    expect(refusing.attempts).toBe(4);
    expect(socket.retryCount).toBe(1);
  });

  it('close() before the first socket exists: CLOSED, and reconnect() connects', async () => {
    // reconnecting-websocket stayed CONNECTING, and reconnect() could not recover it.
    const server = await startServer();
    const socket = create(Class, server.url);
    const events = record(socket);
    socket.close();
    expect(socket.readyState).toBe(CLOSED);
    await sleep(50);
    expect(server.connections).toBe(0);
    socket.reconnect();
    await events.waitFor('open');
    expect(events.types()).toEqual(['open']);
  });

  it('a URL provider that throws: an error event and a retry, no unhandled rejection', async () => {
    // reconnecting-websocket left an unhandled rejection and stayed CONNECTING with no retry.
    const server = await startServer();
    let calls = 0;
    const socket = create(Class, () => {
      if (++calls === 1) throw new Error('no token yet');
      return server.url;
    });
    const events = record(socket);
    await events.waitFor('open');
    expect(events.types()).toEqual(['error', 'open']);
  });

  it('close() then reconnect() during the handshake: one clean close (1000), then a new connection', async () => {
    // Issue 20, item 5: the restart idiom reports what the originals report.
    const server = await startServer();
    const socket = create(Class, server.url);
    const events = record(socket);
    await events.waitFor('open');
    socket.close();
    expect(socket.readyState).toBe(afterClose);
    socket.reconnect();
    await events.waitFor('open', 2);
    await sleep(100);
    expect(events.types()).toEqual(['open', 'close', 'open']);
    expect(events.of('close')).toMatchObject([{ code: 1000, wasClean: true }]);
    expect(server.connections).toBe(2);
  });

  it('a peer that never answers the close frame: the handshake is bounded, and the Node process exits', async () => {
    // The originals waited for ws's own 30 s close timer.
    const entry = name === 'partysocket' ? 'partysocket/ws' : name;
    const dist = fileURLToPath(new URL(`../../dist/compat/${entry}.js`, import.meta.url));
    await waitFor(() => existsSync(dist), 15_000, `dist/compat/${entry}.js (run \`npm run build\`)`);
    const silent = await startSilentServer();
    const child = spawnNode(fileURLToPath(new URL('./fixtures/close-exit.mjs', import.meta.url)), [entry, silent.url]);
    await child.waitFor(/closing/, 5_000);
    const closingAt = performance.now();
    const exit = await exitWithin(child, 9_000);
    expect(exit).not.toBe('still running');
    await child.drained;
    expect(child.stderr()).toBe('');
    expect(exit).toMatchObject({ code: 0, signal: null });
    // Bounded by the core's close timeout (5 s), not ws's 30 s.
    expect((exit as { at: number }).at - closingAt).toBeLessThan(7_000);
    expect(child.stdout()).toContain(`readyState ${afterClose}`);
    // partysocket reported its close at once; reconnecting-websocket reports it when the handshake gives up.
    expect(child.stdout().match(/^close /gm)).toHaveLength(1);
  }, 20_000);
});
