import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startFaultProxy } from '../helpers/proxy.js';
import { startRefusingServer, startServer, startSilentServer, startStallServer, sleep, waitFor, WebSocket } from '../helpers/servers.js';
import { cleanup } from '../helpers/teardown.js';

// The helpers other tests stand on, checked with a plain `ws` client so a failure here points at the helper.

function openRaw(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  ws.on('error', () => {});
  cleanup(() => ws.terminate());
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => ws.once('message', (data) => resolve(data.toString())));
}

describe('test helpers', () => {
  it('startServer echoes, records messages and close frames, and restarts on the same port', async () => {
    const server = await startServer();
    expect(server.url).toBe(`ws://127.0.0.1:${server.port}`);
    const ws = await openRaw(server.url);
    ws.send('hello');
    expect(await nextMessage(ws)).toBe('hello');
    expect(server.received).toEqual(['hello']);
    expect(server.connections).toBe(1);
    expect(server.clients.size).toBe(1);
    ws.close(1000, 'bye');
    await waitFor(() => server.clients.size === 0);
    expect(server.closeFrames).toEqual([{ code: 1000, reason: 'bye' }]);

    await server.close();
    await server.restart();
    const again = await openRaw(server.url);
    again.send('again');
    expect(await nextMessage(again)).toBe('again');
    expect(server.connections).toBe(2);
  });

  it('startServer.close() terminates clients without a close frame', async () => {
    const server = await startServer();
    const ws = await openRaw(server.url);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await server.close();
    expect(await closed).toBe(1006);
  });

  it('startStallServer never answers the upgrade and sees the client hang up', async () => {
    const stall = await startStallServer();
    const ws = new WebSocket(stall.url);
    ws.on('error', () => {});
    cleanup(() => ws.terminate());
    await waitFor(() => stall.sockets === 1);
    await sleep(100);
    expect(ws.readyState).toBe(WebSocket.CONNECTING);
    ws.terminate();
    await waitFor(() => stall.closedSockets === 1 && stall.openSockets === 0);
  });

  it('startSilentServer completes the upgrade and ignores the close frame', async () => {
    const silent = await startSilentServer();
    const ws = await openRaw(silent.url);
    expect(silent.connections).toBe(1);
    ws.close(1000);
    await waitFor(() => silent.ignoredBytes > 0);
    await sleep(200);
    expect(ws.readyState).toBe(WebSocket.CLOSING);
    expect(silent.openSockets).toBe(1);
  });

  it('startRefusingServer answers the upgrade with the given status', async () => {
    const refusing = await startRefusingServer(503);
    const ws = new WebSocket(refusing.url);
    cleanup(() => ws.terminate());
    const error = await new Promise<Error>((resolve) => ws.once('error', resolve));
    expect(error.message).toMatch(/503/);
    expect(refusing.attempts).toBe(1);
  });

  it('startFaultProxy forwards, delays, black-holes, resets and refuses', async () => {
    const server = await startServer();
    const proxy = await startFaultProxy(server.port);
    const ws = await openRaw(proxy.url);
    ws.send('direct');
    expect(await nextMessage(ws)).toBe('direct');

    proxy.setDelay(150);
    const started = Date.now();
    ws.send('slow');
    expect(await nextMessage(ws)).toBe('slow');
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    proxy.setDelay(0);

    proxy.blackhole(true);
    let got: string | undefined;
    ws.once('message', (data) => (got = data.toString()));
    ws.send('lost');
    await sleep(200);
    expect(got).toBeUndefined();
    expect(ws.readyState).toBe(WebSocket.OPEN);
    expect(server.clients.size).toBe(1);
    proxy.blackhole(false);
    ws.send('after');
    await waitFor(() => got !== undefined);
    expect(got).toBe('after');
    expect(server.received).toEqual(['direct', 'slow', 'after']);

    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    proxy.reset();
    expect(await closed).toBe(1006);
    await waitFor(() => server.clients.size === 0);

    proxy.refuse(true);
    const refused = new Promise<boolean>((resolve) => {
      const raw = connect(proxy.port, '127.0.0.1');
      raw.on('error', () => resolve(true));
      raw.on('close', () => resolve(true));
      cleanup(() => raw.destroy());
    });
    expect(await refused).toBe(true);
    expect(proxy.connections).toBe(2);
    expect(server.connections).toBe(1);
  });
});
