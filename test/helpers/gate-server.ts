import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { closeOnce, destroyAll, HOST, listenOnLoopback, trackSockets } from './listen.js';
import { cleanup } from './teardown.js';

// An HTTP server that decides, upgrade request by upgrade request, whether to accept it (a `ws` echo connection)
// or to refuse it with an HTTP status and headers, the way an auth gateway or a rate limiter in front of a
// WebSocket service does. It records when each request came, so tests can measure the client's backoff on the
// server side.

/** What to do with one upgrade request: accept it, or refuse it with a status and extra headers. */
export type GateDecision = 'accept' | { status: number; headers?: Record<string, string> };

/** One upgrade request the gate saw. */
export interface GateRequest {
  /** `Date.now()` when the request arrived. */
  readonly at: number;
  /** The request path and query (`/?token=...`). */
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  /** The status answered: 101 when accepted. */
  readonly status: number;
}

export interface GateServer {
  /** `ws://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** Every upgrade request, in order. */
  readonly requests: GateRequest[];
  /** Upgrade requests so far. */
  readonly attempts: number;
  /** Milliseconds between consecutive upgrade requests. */
  gaps(): number[];
  /** Server-side sockets of accepted connections that are still open. */
  readonly clients: Set<WebSocket>;
  close(): Promise<void>;
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  410: 'Gone',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

function refuse(socket: Duplex, status: number, headers: Record<string, string>): void {
  const body = `refused with ${status}`;
  const all = { Date: new Date().toUTCString(), ...headers, Connection: 'close', 'Content-Type': 'text/plain', 'Content-Length': String(body.length) };
  const lines = Object.entries(all)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Refused'}\r\n${lines}\r\n${body}`);
}

/**
 * Starts a gate for the current test; `decide(request, index)` is called for each upgrade request (index 0 for
 * the first). Accepted connections echo every message; `onConnection(ws, index)` sees each one once it is open.
 */
export async function startGateServer(
  decide: (request: IncomingMessage, index: number) => GateDecision,
  onConnection?: (ws: WebSocket, index: number) => void,
): Promise<GateServer> {
  const requests: GateRequest[] = [];
  const clients = new Set<WebSocket>();
  const http = createHttpServer((_req, res) => res.writeHead(426, { Connection: 'close' }).end());
  const sockets = trackSockets(http);
  const wss = new WebSocketServer({ noServer: true });
  wss.on('error', () => {});
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const at = Date.now();
    const decision = decide(req, requests.length);
    const status = decision === 'accept' ? 101 : decision.status;
    requests.push({ at, path: req.url ?? '/', headers: req.headers, status });
    if (decision !== 'accept') return refuse(socket, decision.status, decision.headers ?? {});
    const index = requests.length - 1;
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      ws.on('error', () => {});
      ws.on('close', () => clients.delete(ws));
      ws.on('message', (data, isBinary) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(data, { binary: isBinary });
      });
      onConnection?.(ws, index);
    });
  });
  const port = await listenOnLoopback(http);
  const gate: GateServer = {
    url: `ws://${HOST}:${port}`,
    port,
    requests,
    get attempts() {
      return requests.length;
    },
    gaps: () => requests.slice(1).map((request, i) => request.at - requests[i]!.at),
    clients,
    close: closeOnce(http, () => {
      for (const ws of clients) ws.terminate();
      destroyAll(sockets);
    }),
  };
  cleanup(() => gate.close());
  return gate;
}
