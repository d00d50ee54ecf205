import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ReconnectingSocket, SocketError, type ProviderContext, opened } from '../../src/index.js';
import { trackUnhandledRejections } from '../helpers/messaging.js';
import { nextEvent, recordEvents, waitFor } from '../helpers/servers.js';
import { FAST, socketFactory } from '../helpers/socket.js';
import { startTlsServer, testPki } from '../helpers/tls.js';

// The `transport` option hands ws its TLS settings (issue #13): a private CA, a client certificate, or a provider
// that picks them before each attempt. The server is a real https + ws server on 127.0.0.1 whose certificate a
// CA made in this test signed, so nothing here trusts a certificate the machine already knows.

trackUnhandledRejections();
const createSocket = socketFactory(FAST);

/** What Node says when the server's certificate does not chain to a trusted CA, or a client one is missing. */
const CERTIFICATE_TROUBLE = /certificate/i;

/** The curve of FAST (50 ms doubling, no jitter) for two retries. */
const CURVE = [50, 100];

describe('a server certificate signed by a private CA', () => {
  it('transport: { ca } trusts it: the socket opens over TLS, messages echo, headers still go out', async () => {
    const { ca } = await testPki();
    const seen: IncomingMessage['headers'][] = [];
    const server = await startTlsServer({ onConnection: (_ws, req) => seen.push(req.headers) });
    const socket = createSocket(server.url, { transport: { ca }, headers: { 'x-client': 'tls-test' } });
    const log = recordEvents(socket);
    await opened(socket, { timeoutMs: 3_000 });

    expect(socket.send('over tls')).toBe('sent');
    expect((await nextEvent(socket, 'message')).data).toBe('over tls');
    expect(server.connections).toBe(1);
    expect(server.tcpConnections).toBe(1);
    expect(seen[0]?.['x-client']).toBe('tls-test');
    expect(log.of('error')).toEqual([]);

    expect(await socket.close()).toMatchObject({ code: 1000, wasClean: true, cause: 'client' });
  });

  it('headers given in transport and in the headers option both go out', async () => {
    const { ca } = await testPki();
    const seen: IncomingMessage['headers'][] = [];
    const server = await startTlsServer({ onConnection: (_ws, req) => seen.push(req.headers) });
    const socket = createSocket(server.url, { transport: { ca, headers: { 'x-from-transport': 't' } }, headers: () => ({ 'x-from-headers': 'h' }) });
    await opened(socket, { timeoutMs: 3_000 });
    expect(seen[0]).toMatchObject({ 'x-from-transport': 't', 'x-from-headers': 'h' });
  });

  it('without the CA the attempt fails with a SOCKET_ERROR about the certificate, and is retried on the curve', async () => {
    const server = await startTlsServer();
    const socket = createSocket(server.url, { maxRetries: 2 });
    const log = recordEvents(socket);

    const final = await socket.closed;
    expect(final).toMatchObject({ code: 1006, wasClean: false, cause: 'network' });
    const closes = log.of('close');
    expect(closes.map((close) => [close.willReconnect, close.delayMs])).toEqual([...CURVE.map((delayMs) => [true, delayMs]), [false, undefined]]);
    for (const close of closes) {
      expect(close).toMatchObject({ code: 1006, wasClean: false, cause: 'network' });
      expect(close.error).toBeInstanceOf(SocketError);
      expect(close.error.code).toBe('SOCKET_ERROR');
      expect(close.error.message).toMatch(CERTIFICATE_TROUBLE);
      expect(close).not.toHaveProperty('status');
    }
    expect(log.of('error').map((event) => event.error.code)).toEqual(['SOCKET_ERROR', 'SOCKET_ERROR', 'SOCKET_ERROR']);
    expect(log.of('open')).toEqual([]);
    expect(server.tcpConnections).toBe(3);
    expect(server.connections).toBe(0);
  });

  it('transport: { rejectUnauthorized: false } reaches the ws constructor: the socket opens without the CA', async () => {
    const server = await startTlsServer();
    const socket = createSocket(server.url, { transport: { rejectUnauthorized: false } });
    await opened(socket, { timeoutMs: 3_000 });
    expect(server.connections).toBe(1);
  });
});

describe('a server that requires a client certificate', () => {
  it('transport: { ca, cert, key } presents the client certificate: the socket opens and messages echo', async () => {
    const { ca, clientCert, clientKey } = await testPki();
    const server = await startTlsServer({ requireClientCert: true });
    const socket = createSocket(server.url, { transport: { ca, cert: clientCert, key: clientKey } });
    await opened(socket, { timeoutMs: 3_000 });

    expect(socket.send('mutual')).toBe('sent');
    expect((await nextEvent(socket, 'message')).data).toBe('mutual');
    expect(server.clientNames).toEqual(['test client']);
  });

  it('transport: { ca } alone is refused by the server: SOCKET_ERROR about the certificate, then a retry', async () => {
    const { ca } = await testPki();
    const server = await startTlsServer({ requireClientCert: true });
    const socket = createSocket(server.url, { transport: { ca }, maxRetries: 1 });
    const log = recordEvents(socket);

    expect(await socket.closed).toMatchObject({ code: 1006, wasClean: false });
    const closes = log.of('close');
    expect(closes.map((close) => close.willReconnect)).toEqual([true, false]);
    for (const close of closes) {
      expect(close.error?.code).toBe('SOCKET_ERROR');
      expect(close.error?.message).toMatch(CERTIFICATE_TROUBLE);
    }
    expect(log.of('open')).toEqual([]);
    expect(server.tcpConnections).toBe(2);
    expect(server.connections).toBe(0);
  });
});

describe('transport as a provider', () => {
  it('an async provider is called once per attempt with { signal, attempt }; its value of that attempt is used', async () => {
    const { ca } = await testPki();
    const server = await startTlsServer({
      // The first accepted connection is told to come back later (1012 reconnects), so a third attempt follows.
      onConnection: (ws) => server.connections === 1 && ws.close(1012, 'restart'),
    });
    const contexts: ProviderContext[] = [];
    const socket = createSocket(server.url, {
      // Attempt 0 gets no CA (it fails on the certificate); later attempts get it.
      transport: async (context: ProviderContext) => {
        contexts.push(context);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return context.attempt === 0 ? {} : { ca };
      },
    });
    const log = recordEvents(socket);
    const opens: number[] = [];
    socket.on('open', ({ attempt }) => {
      opens.push(attempt);
    });
    await waitFor(() => opens.length === 2, 5_000, 'two opens');

    expect(contexts.map((context) => context.attempt)).toEqual([0, 1, 2]);
    for (const context of contexts) expect(context.signal).toBeInstanceOf(AbortSignal);
    expect(new Set(contexts.map((context) => context.signal)).size).toBe(3);
    expect(contexts[0]!.signal.aborted).toBe(true);
    expect(contexts[1]!.signal.aborted).toBe(true);
    const [refused, restarted] = log.of('close');
    expect(refused.error?.message).toMatch(CERTIFICATE_TROUBLE);
    expect(restarted).toMatchObject({ code: 1012, cause: 'server', willReconnect: true });
    expect(opens).toEqual([1, 2]);
    expect(server.tcpConnections).toBe(3);
    expect(server.connections).toBe(2);
  });

  it('a sync provider works too; one that throws is PROVIDER_FAILED with cause provider, and is retried', async () => {
    const { ca } = await testPki();
    const server = await startTlsServer();
    let calls = 0;
    const failure = new Error('vault sealed');
    const socket = createSocket(server.url, {
      transport: () => {
        calls++;
        if (calls === 1) throw failure;
        return { ca };
      },
    });
    const log = recordEvents(socket);
    await opened(socket, { timeoutMs: 3_000 });

    expect(calls).toBe(2);
    const [close] = log.of('close');
    expect(close).toMatchObject({ code: 1006, cause: 'provider', willReconnect: true });
    expect(close.error?.code).toBe('PROVIDER_FAILED');
    expect(close.error?.cause).toBe(failure);
    expect(server.tcpConnections).toBe(1);
  });
});

describe('option checks', () => {
  it('a transport that is neither an object nor a function is a TypeError naming the option', () => {
    expect(() => new ReconnectingSocket('wss://127.0.0.1:1', { autoConnect: false, transport: 42 as never })).toThrow(TypeError);
    expect(() => new ReconnectingSocket('wss://127.0.0.1:1', { autoConnect: false, transport: 42 as never })).toThrow(/transport/);
  });
});
