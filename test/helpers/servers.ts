import { createHash } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { WebSocket, WebSocketServer, type ServerOptions } from 'ws';
import type { SocketEvents } from '../../src/events.js';
import { closeOnce, destroyAll, HOST, listenOnLoopback, trackSockets } from './listen.js';
import { cleanup } from './teardown.js';

export { WebSocket, WebSocketServer };

/** A real `ws` server on 127.0.0.1, port chosen by the OS. */
export interface TestServer {
  /** `ws://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** The current `ws` server (a new one after `restart()`). */
  readonly wss: WebSocketServer;
  /** Server-side sockets that are currently connected (a socket leaves the set when its TCP connection ends). */
  readonly clients: Set<WebSocket>;
  /** Total connections accepted since start, across restarts. */
  readonly connections: number;
  /** Text messages received from clients, in order, across all connections. */
  readonly received: unknown[];
  /** Close frames received from clients (code and reason as the server saw them), in order. */
  readonly closeFrames: Array<{ code: number; reason: string }>;
  /** Terminates every client (no close frame) and stops listening. Idempotent. */
  close(): Promise<void>;
  /** Listens again on the same port after `close()`. */
  restart(): Promise<void>;
}

export interface StartServerOptions {
  /** Called for every accepted connection, after the helper's own bookkeeping listeners are attached. */
  onConnection?: (ws: WebSocket, req: IncomingMessage) => void;
  /** Echo every message back to its sender (text as text, binary as binary). @default true */
  echo?: boolean;
  handleProtocols?: ServerOptions['handleProtocols'];
  verifyClient?: ServerOptions['verifyClient'];
}

function listenWss(port: number, options: StartServerOptions): Promise<WebSocketServer> {
  return new Promise((resolve, reject) => {
    const wss = new WebSocketServer({
      host: HOST,
      port,
      ...(options.handleProtocols && { handleProtocols: options.handleProtocols }),
      ...(options.verifyClient && { verifyClient: options.verifyClient }),
    });
    const onError = (error: Error) => reject(error);
    wss.once('error', onError);
    wss.once('listening', () => {
      wss.off('error', onError);
      // A late server error (e.g. a client that vanished mid-handshake) must not crash the test run.
      wss.on('error', () => {});
      resolve(wss);
    });
  });
}

/** Starts a real `ws` server for the current test; it is closed after the test. */
export async function startServer(options: StartServerOptions = {}): Promise<TestServer> {
  const echo = options.echo ?? true;
  const clients = new Set<WebSocket>();
  const received: unknown[] = [];
  const closeFrames: Array<{ code: number; reason: string }> = [];
  let connections = 0;
  let wss = await listenWss(0, options);
  const port = (wss.address() as { port: number }).port;
  let closing: Promise<void> | undefined;

  const attach = (server: WebSocketServer) => {
    server.on('connection', (ws, req) => {
      connections++;
      clients.add(ws);
      ws.on('error', () => {});
      ws.on('close', (code, reason) => {
        clients.delete(ws);
        // 1005/1006 are never on the wire: they mean no close frame arrived.
        if (code !== 1005 && code !== 1006) closeFrames.push({ code, reason: reason.toString() });
      });
      ws.on('message', (data, isBinary) => {
        if (!isBinary) received.push(data.toString());
        if (echo && ws.readyState === WebSocket.OPEN) ws.send(data, { binary: isBinary });
      });
      options.onConnection?.(ws, req);
    });
  };
  attach(wss);

  const server: TestServer = {
    url: `ws://${HOST}:${port}`,
    port,
    get wss() {
      return wss;
    },
    clients,
    get connections() {
      return connections;
    },
    received,
    closeFrames,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        for (const ws of clients) ws.terminate();
        wss.close(() => resolve());
      });
      return closing;
    },
    async restart() {
      await server.close();
      wss = await listenWss(port, options);
      attach(wss);
      closing = undefined;
    },
  };
  cleanup(() => server.close());
  return server;
}

/** A raw TCP server bookkeeping its sockets; destroys them all on close. */
interface RawServer {
  port: number;
  sockets: Set<Socket>;
  close(): Promise<void>;
}

async function listenRaw(onSocket: (socket: Socket) => void): Promise<RawServer> {
  const server = createTcpServer();
  const sockets = trackSockets(server);
  server.on('connection', onSocket);
  const port = await listenOnLoopback(server);
  return { port, sockets, close: closeOnce(server, () => destroyAll(sockets)) };
}

/** A TCP server that accepts connections and never answers the HTTP upgrade. */
/** A `ws` server on 127.0.0.1 that records the text messages of each connection apart, in order. */
export interface RecordingServer {
  readonly url: string;
  /** One list per connection, in the order they were accepted. */
  readonly received: string[][];
}

export async function startRecordingServer(): Promise<RecordingServer> {
  const wss = new WebSocketServer({ host: HOST, port: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  cleanup(() => new Promise((resolve) => wss.close(resolve)));
  const received: string[][] = [];
  wss.on('connection', (ws) => {
    const mine: string[] = [];
    received.push(mine);
    ws.on('message', (data) => mine.push(String(data)));
  });
  return { url: `ws://${HOST}:${(wss.address() as { port: number }).port}`, received };
}

export interface StallServer {
  readonly url: string;
  readonly port: number;
  /** Total TCP connections accepted. */
  readonly sockets: number;
  /** TCP connections accepted and still open. */
  readonly openSockets: number;
  /** TCP connections accepted that have since been closed (by the peer). */
  readonly closedSockets: number;
  close(): Promise<void>;
}

export async function startStallServer(): Promise<StallServer> {
  let accepted = 0;
  let closed = 0;
  const raw = await listenRaw((socket) => {
    accepted++;
    socket.resume(); // read and drop the upgrade request
    socket.on('close', () => closed++);
  });
  const stall: StallServer = {
    url: `ws://${HOST}:${raw.port}`,
    port: raw.port,
    get sockets() {
      return accepted;
    },
    get openSockets() {
      return raw.sockets.size;
    },
    get closedSockets() {
      return closed;
    },
    close: () => raw.close(),
  };
  cleanup(() => stall.close());
  return stall;
}

/** RFC 6455 §4.2.2: base64(SHA-1(key + GUID)). */
export function acceptKey(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

/**
 * A server that completes the WebSocket upgrade by hand, then reads and ignores every frame (the close frame
 * and pings included) and never closes the TCP connection itself.
 */
export interface SilentServer {
  readonly url: string;
  readonly port: number;
  /** Upgrades completed. */
  readonly connections: number;
  /** TCP connections still open. */
  readonly openSockets: number;
  /** Bytes received after the upgrade, across connections (frames the server ignored). */
  readonly ignoredBytes: number;
  close(): Promise<void>;
}

export async function startSilentServer(): Promise<SilentServer> {
  let upgraded = 0;
  let ignoredBytes = 0;
  const raw = await listenRaw((socket) => {
    let head = Buffer.alloc(0);
    let isUpgraded = false;
    socket.on('data', (chunk: Buffer) => {
      if (isUpgraded) {
        ignoredBytes += chunk.length;
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      const key = /^sec-websocket-key:\s*(\S+)\s*$/im.exec(head.subarray(0, end).toString('latin1'))?.[1];
      if (!key) {
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      isUpgraded = true;
      upgraded++;
      ignoredBytes += head.length - end - 4;
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\n' +
          'Upgrade: websocket\r\n' +
          'Connection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`,
      );
    });
  });
  const silent: SilentServer = {
    url: `ws://${HOST}:${raw.port}`,
    port: raw.port,
    get connections() {
      return upgraded;
    },
    get openSockets() {
      return raw.sockets.size;
    },
    get ignoredBytes() {
      return ignoredBytes;
    },
    close: () => raw.close(),
  };
  cleanup(() => silent.close());
  return silent;
}

/** An HTTP server that answers every upgrade request with an error status. */
export interface RefusingServer {
  readonly url: string;
  readonly port: number;
  /** Upgrade requests refused so far. */
  readonly attempts: number;
  /** `Date.now()` of each refused request, in order. */
  readonly attemptTimes: number[];
  close(): Promise<void>;
}

export async function startRefusingServer(status = 503): Promise<RefusingServer> {
  let attempts = 0;
  const attemptTimes: number[] = [];
  const http = createHttpServer((_req, res) => {
    res.writeHead(status, { Connection: 'close', 'Content-Length': '0' });
    res.end();
  });
  const sockets = trackSockets(http);
  http.on('upgrade', (_req, socket) => {
    attempts++;
    attemptTimes.push(Date.now());
    socket.on('error', () => {});
    socket.end(`HTTP/1.1 ${status} Refused\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
  const port = await listenOnLoopback(http);
  const refusing: RefusingServer = {
    url: `ws://${HOST}:${port}`,
    port,
    get attempts() {
      return attempts;
    },
    attemptTimes,
    close: closeOnce(http, () => destroyAll(sockets)),
  };
  cleanup(() => refusing.close());
  return refusing;
}

/** Polls `predicate` (sync or async) every 10 ms until it returns truthy; rejects after `timeoutMs`. */
export async function waitFor<T>(predicate: () => T | Promise<T>, timeoutMs = 5000, what = 'condition'): Promise<Exclude<T, false | 0 | '' | null | undefined>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value as Exclude<T, false | 0 | '' | null | undefined>;
    if (Date.now() >= deadline) throw new Error(`waitFor: ${what} not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The event surface `nextEvent` needs: anything with `once(type, fn) -> unsubscribe`. */
export interface OnceSource {
  once(type: any, listener: (payload: any) => void): () => void;
}

/**
 * Resolves with the payload of the next `type` event of a ReconnectingSocket; rejects after `timeoutMs`.
 * The listener is removed either way.
 */
export function nextEvent<K extends keyof SocketEvents<any, any>>(socket: OnceSource, type: K, timeoutMs = 5000): Promise<SocketEvents<any, any>[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`nextEvent: no '${type}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = socket.once(type, (payload: SocketEvents<any, any>[K]) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}

/** The event surface `recordEvents` needs: anything with `on(type, fn) -> unsubscribe`. */
export interface OnSource {
  on(type: any, listener: (payload: any) => void): () => void;
}

/** One recorded event: its type, its payload and when it fired (`Date.now()`). */
export interface RecordedEvent {
  type: string;
  payload: any;
  at: number;
}

/** The socket events of the public contract. */
export const EVENT_TYPES = ['open', 'message', 'close', 'error', 'state', 'reconnecting', 'hold', 'drop', 'heartbeat'] as const;

/**
 * Records every event of `types` into one ordered list, so a test can assert sequences across event types.
 * `of(type)` returns the payloads of one type.
 */
export function recordEvents(socket: OnSource, types: readonly string[] = EVENT_TYPES) {
  const events: RecordedEvent[] = [];
  const offs = types.map((type) => socket.on(type, (payload: unknown) => events.push({ type, payload, at: Date.now() })));
  return {
    events,
    of: (type: string): any[] => events.filter((event) => event.type === type).map((event) => event.payload),
    stop: () => offs.forEach((off) => off()),
  };
}
