import { connect } from 'node:net';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { describe, expect, it } from 'vitest';
import { type ProviderContext, opened } from '../../src/index.js';
import { isLoopback, startConnectProxy } from '../helpers/connect-proxy.js';
import { HOST } from '../helpers/listen.js';
import { trackUnhandledRejections } from '../helpers/messaging.js';
import { nextEvent, recordEvents, startServer, waitFor } from '../helpers/servers.js';
import { FAST, socketFactory } from '../helpers/socket.js';
import { startTlsServer, testPki } from '../helpers/tls.js';

// The `transport` option carries an `agent` to ws (issue #13): here https-proxy-agent, which tunnels ws:// and
// wss:// alike through an HTTP CONNECT proxy, the way a client behind a corporate proxy reaches a WebSocket
// service. The proxy is this test's own (test/helpers/connect-proxy.ts) and tunnels to loopback only.

trackUnhandledRejections();
const createSocket = socketFactory(FAST);

const CREDENTIALS = 'user:secret';
const AUTHORIZATION = `Basic ${Buffer.from(CREDENTIALS).toString('base64')}`;

describe('through an HTTP CONNECT proxy', () => {
  it('ws:// with transport: { agent }: exactly one tunnel per attempt, and messages echo through it', async () => {
    const server = await startServer({
      // The first connection is told to come back later (1012 reconnects): a second attempt, a second tunnel.
      onConnection: (ws) => server.connections === 1 && ws.close(1012, 'restart'),
    });
    const proxy = await startConnectProxy();
    const agent = new HttpsProxyAgent(proxy.url);
    const socket = createSocket(server.url, { transport: { agent } });
    const log = recordEvents(socket);
    await waitFor(() => log.of('open').length === 2, 5_000, 'two opens');

    expect(socket.send('through the tunnel')).toBe('sent');
    expect((await nextEvent(socket, 'message')).data).toBe('through the tunnel');
    expect(server.received).toEqual(['through the tunnel']);
    expect(server.connections).toBe(2);
    expect(proxy.tunnels).toBe(2);
    expect(proxy.requests.map((request) => [request.target, request.status])).toEqual([
      [`${HOST}:${server.port}`, 200],
      [`${HOST}:${server.port}`, 200],
    ]);
    expect(proxy.plainRequests).toBe(0);
    expect(log.of('close')[0]).toMatchObject({ code: 1012, cause: 'server', willReconnect: true });

    await socket.close();
    await waitFor(() => proxy.openTunnels === 0, 2_000, 'the tunnels close with the connections');
  });

  it('wss:// through the tunnel, with the private CA given beside the agent', async () => {
    const { ca } = await testPki();
    const server = await startTlsServer();
    const proxy = await startConnectProxy();
    const socket = createSocket(server.url, { transport: { agent: new HttpsProxyAgent(proxy.url), ca } });
    await opened(socket, { timeoutMs: 3_000 });

    expect(socket.send('tls in a tunnel')).toBe('sent');
    expect((await nextEvent(socket, 'message')).data).toBe('tls in a tunnel');
    expect(proxy.tunnels).toBe(1);
    expect(server.connections).toBe(1);
  });

  it('a proxy that refuses CONNECT with 407: an error naming the status, and a retry (one CONNECT per attempt)', async () => {
    const server = await startServer();
    const proxy = await startConnectProxy({ requireAuthorization: AUTHORIZATION });
    const socket = createSocket(server.url, { transport: { agent: new HttpsProxyAgent(proxy.url) }, maxRetries: 2 });
    const log = recordEvents(socket);

    const final = await socket.closed;
    expect(final).toMatchObject({ code: 1006, wasClean: false });
    const closes = log.of('close');
    expect(closes.map((close) => close.willReconnect)).toEqual([true, true, false]);
    for (const close of closes) {
      // https-proxy-agent hands the proxy's answer to ws as the response to the upgrade: a refused upgrade.
      expect(close).toMatchObject({ code: 1006, cause: 'refused', status: 407 });
      expect(close.error?.code).toBe('SOCKET_ERROR');
      expect(close.error?.message).toMatch(/\b407\b/);
    }
    expect(log.of('error')).toHaveLength(3);
    expect(log.of('reconnecting')).toHaveLength(2);
    expect(proxy.requests.map((request) => request.status)).toEqual([407, 407, 407]);
    expect(proxy.tunnels).toBe(0);
    expect(server.connections).toBe(0);
  });

  it('407, then a transport provider that brings proxy credentials on the next attempt: the socket opens', async () => {
    const server = await startServer();
    const proxy = await startConnectProxy({ requireAuthorization: AUTHORIZATION });
    const attempts: number[] = [];
    const socket = createSocket(server.url, {
      transport: ({ attempt }: ProviderContext) => {
        attempts.push(attempt);
        const url = attempt === 0 ? proxy.url : proxy.url.replace('http://', `http://${CREDENTIALS}@`);
        return { agent: new HttpsProxyAgent(url) };
      },
    });
    const log = recordEvents(socket);
    await opened(socket, { timeoutMs: 3_000 });

    expect(attempts).toEqual([0, 1]);
    expect(log.of('close')).toHaveLength(1);
    expect(log.of('close')[0].error?.message).toMatch(/\b407\b/);
    expect(log.of('close')[0].willReconnect).toBe(true);
    expect(proxy.requests.map((request) => [request.authorization, request.status])).toEqual([
      [undefined, 407],
      [AUTHORIZATION, 200],
    ]);
    expect(proxy.tunnels).toBe(1);
    expect(server.connections).toBe(1);
  });
});

describe('the test proxy itself', () => {
  it('knows loopback from the rest', () => {
    for (const host of ['127.0.0.1', '127.3.2.1', 'localhost', '::1', '[::1]']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['192.0.2.1', '10.0.0.1', '::ffff:192.0.2.1', 'example.com', '0.0.0.0', '']) expect(isLoopback(host), host).toBe(false);
  });

  it('refuses a CONNECT to a target off loopback with 403, without connecting anywhere', async () => {
    const proxy = await startConnectProxy();
    const client = connect({ host: HOST, port: proxy.port });
    client.on('error', () => {});
    // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): documentation only. The proxy must refuse it before any connect.
    client.end('CONNECT 192.0.2.1:80 HTTP/1.1\r\nHost: 192.0.2.1:80\r\n\r\n');
    let response = '';
    client.on('data', (chunk: Buffer) => (response += chunk.toString('latin1')));
    await new Promise((resolve) => client.on('close', resolve));

    expect(response).toMatch(/^HTTP\/1\.1 403 /);
    expect(proxy.requests).toEqual([{ target: '192.0.2.1:80', authorization: undefined, status: 403 }]);
    expect(proxy.tunnels).toBe(0);
    expect(proxy.openTunnels).toBe(0);
  });
});
