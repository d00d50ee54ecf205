import type { IncomingMessage } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { generate } from 'selfsigned';
import { WebSocket, WebSocketServer } from 'ws';
import { closeOnce, destroyAll, HOST, listenOnLoopback, trackSockets } from './listen.js';
import { cleanup } from './teardown.js';

// A throwaway PKI made in the test process (selfsigned: pure JS on Node's WebCrypto, no openssl binary), and a
// `wss:` echo server on 127.0.0.1 whose certificate that CA signed.

/** PEM strings of a test CA, a server certificate it signed (localhost, 127.0.0.1) and a client certificate. */
export interface TestPki {
  /** The CA certificate: what a client passes as `ca` to trust the server. */
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** A client certificate (CN `test client`, extended key usage clientAuth) signed by the same CA. */
  readonly clientCert: string;
  readonly clientKey: string;
}

const EC = { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' } as const;

async function makePki(): Promise<TestPki> {
  const ca = await generate([{ name: 'commonName', value: 'resilient-websocket test CA' }], {
    ...EC,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const signer = { key: ca.private, cert: ca.cert };
  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    ...EC,
    ca: signer,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: HOST }] },
    ],
  });
  const client = await generate([{ name: 'commonName', value: 'test client' }], {
    ...EC,
    ca: signer,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true },
      { name: 'extKeyUsage', clientAuth: true },
    ],
  });
  return { ca: ca.cert, serverCert: server.cert, serverKey: server.private, clientCert: client.cert, clientKey: client.private };
}

let pki: Promise<TestPki> | undefined;

/** The PKI of this test file, made once (EC P-256 keys: a few tens of milliseconds). */
export function testPki(): Promise<TestPki> {
  return (pki ??= makePki());
}

export interface TlsServerOptions {
  /** Ask every client for a certificate and refuse a connection without one the CA signed. @default false */
  requireClientCert?: boolean;
  /** Called for every accepted WebSocket, after the echo listener is attached. */
  onConnection?: (ws: WebSocket, req: IncomingMessage) => void;
}

/** A `wss:` echo server (https + ws) on 127.0.0.1, port 0. */
export interface TlsTestServer {
  /** `wss://127.0.0.1:PORT` (the certificate names the IP address too). */
  readonly url: string;
  readonly port: number;
  /** TCP connections accepted: one per attempt, whether its TLS handshake succeeded or not. */
  readonly tcpConnections: number;
  /** WebSocket connections accepted (TLS and upgrade both succeeded). */
  readonly connections: number;
  /** The common name of the client certificate of each accepted WebSocket (`undefined` without one). */
  readonly clientNames: Array<string | string[] | undefined>;
  close(): Promise<void>;
}

export async function startTlsServer(options: TlsServerOptions = {}): Promise<TlsTestServer> {
  const { ca, serverCert, serverKey } = await testPki();
  const requireClientCert = options.requireClientCert ?? false;
  const https = createHttpsServer({ key: serverKey, cert: serverCert, ca, requestCert: requireClientCert, rejectUnauthorized: requireClientCert }, (_req, res) => {
    res.writeHead(426, { Connection: 'close' }).end();
  });
  https.on('tlsClientError', () => {});
  const sockets = trackSockets(https);
  let tcpConnections = 0;
  https.on('connection', () => tcpConnections++);
  const wss = new WebSocketServer({ server: https });
  wss.on('error', () => {});
  const clientNames: Array<string | string[] | undefined> = [];
  wss.on('connection', (ws, req) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    clientNames.push(peer && 'subject' in peer ? peer.subject?.CN : undefined);
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(data, { binary: isBinary });
    });
    options.onConnection?.(ws, req);
  });
  const port = await listenOnLoopback(https);
  const stopListening = closeOnce(https, () => {
    for (const ws of wss.clients) ws.terminate();
    destroyAll(sockets);
  });
  const server: TlsTestServer = {
    url: `wss://${HOST}:${port}`,
    port,
    get tcpConnections() {
      return tcpConnections;
    },
    get connections() {
      return clientNames.length;
    },
    clientNames,
    close: async () => {
      await stopListening();
      wss.close();
    },
  };
  cleanup(() => server.close());
  return server;
}
