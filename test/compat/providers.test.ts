import { describe, expect, it } from 'vitest';
import { sleep, startServer, waitFor } from '../helpers/servers.js';
import { FLAVOURS, create, record } from './helpers.js';

// URL and protocol providers: values, sync and async functions called before every attempt, and functions
// that throw or reject: an error event and a retry, never an unhandled rejection (reconnecting-websocket hung
// there; partysocket reports the error, preceded by a close once there has been a socket, as here).

/** A server that records the subprotocols each connection offered, and selects the first. */
async function protocolServer() {
  const offered: string[][] = [];
  const server = await startServer({
    handleProtocols: (protocols) => {
      offered.push([...protocols]);
      return protocols.values().next().value ?? false;
    },
  });
  return { server, offered };
}

describe.each(FLAVOURS)('$name: providers', ({ Class }) => {
  it('a sync URL provider is called before every attempt; url shows the latest', async () => {
    const first = await startServer();
    const second = await startServer();
    const urls = [first.url, second.url];
    let calls = 0;
    const socket = create(Class, () => urls[calls++ % 2]!);
    expect(socket.url).toBe('');
    const events = record(socket);
    await events.waitFor('open');
    // The inner socket's url, serialized (a bare host gets its slash).
    expect(socket.url).toBe(`${first.url}/`);
    socket.reconnect();
    await events.waitFor('open', 2);
    expect(socket.url).toBe(`${second.url}/`);
    expect([first.connections, second.connections]).toEqual([1, 1]);
    expect(calls).toBe(2);
  });

  it('an async URL provider: awaited before every attempt (a fresh token each time)', async () => {
    const server = await startServer();
    const paths: string[] = [];
    server.wss.on('connection', (_ws, req) => paths.push(req.url ?? ''));
    let token = 0;
    const socket = create(Class, async () => {
      await sleep(20);
      return `${server.url}/?token=${++token}`;
    });
    const events = record(socket);
    await events.waitFor('open');
    for (const ws of server.clients) ws.close(4000);
    await events.waitFor('open', 2);
    expect(paths).toEqual(['/?token=1', '/?token=2']);
    expect(socket.url).toBe(`${server.url}/?token=2`);
  });

  it('a URL provider that throws, then one that rejects: error events (no socket, so no close), retried, then it opens', async () => {
    const server = await startServer();
    let calls = 0;
    const socket = create(Class, () => {
      calls++;
      if (calls === 1) throw new Error('no token yet');
      if (calls === 2) return Promise.reject(new Error('token service down'));
      return server.url;
    });
    const events = record(socket);
    await events.waitFor('open');
    expect(events.types()).toEqual(['error', 'error', 'open']);
    expect(events.of('error').map((event) => event.message)).toEqual(['no token yet', 'token service down']);
    expect(events.of('error').map((event) => (event.error as Error).message)).toEqual(['no token yet', 'token service down']);
  });

  it('a URL provider still pending when close() is called: no connection is made afterwards', async () => {
    const server = await startServer();
    const socket = create(Class, async () => {
      await sleep(80);
      return server.url;
    });
    await sleep(20);
    socket.close();
    await sleep(150);
    expect(server.connections).toBe(0);
    expect(socket.readyState).toBe(3);
  });

  it("protocols: a value, or a sync or async function; null, '' and [] mean none", async () => {
    const { server, offered } = await protocolServer();
    const a = create(Class, server.url, 'one');
    const b = create(Class, server.url, ['two', 'three']);
    await waitFor(() => a.readyState === 1 && b.readyState === 1);
    const c = create(Class, server.url, () => 'four');
    await waitFor(() => c.readyState === 1);
    const d = create(Class, server.url, async () => ['five']);
    await waitFor(() => d.readyState === 1);
    const e = create(Class, server.url, null);
    const f = create(Class, server.url, () => null);
    const g = create(Class, server.url, '');
    const h = create(Class, server.url, []);
    await waitFor(() => [e, f, g, h].every((socket) => socket.readyState === 1));
    expect(offered).toEqual([['one'], ['two', 'three'], ['four'], ['five']]);
    expect([a, b, c, d, e, f, g, h].map((socket) => socket.protocol)).toEqual(['one', 'two', 'four', 'five', '', '', '', '']);
  });

  it('a protocols function is called before every attempt', async () => {
    const { server, offered } = await protocolServer();
    let round = 0;
    const socket = create(Class, server.url, () => `v${++round}`);
    const events = record(socket);
    await events.waitFor('open');
    socket.reconnect();
    await events.waitFor('open', 2);
    expect(offered).toEqual([['v1'], ['v2']]);
    expect(socket.protocol).toBe('v2');
  });

  it('a protocols function that throws or rejects: an error event and a retry', async () => {
    const { server } = await protocolServer();
    let calls = 0;
    const socket = create(Class, server.url, () => {
      calls++;
      if (calls === 1) throw new Error('bad protocols');
      if (calls === 2) return Promise.reject(new Error('still bad'));
      return 'ok';
    });
    const events = record(socket);
    await events.waitFor('open');
    expect(events.types()).toEqual(['error', 'error', 'open']);
    expect(socket.protocol).toBe('ok');
    // Once a socket existed, a failed provider is reported as the originals report a failed attempt.
    calls = 0;
    socket.reconnect();
    await events.waitFor('open', 2);
    expect(events.types().slice(3)).toEqual(['close', 'close', 'error', 'close', 'error', 'open']);
  });
});
