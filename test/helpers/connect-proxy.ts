import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { connect, isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { closeOnce, destroyAll, HOST, listenOnLoopback, trackSockets } from './listen.js';
import { cleanup } from './teardown.js';

// An HTTP forward proxy that only tunnels (RFC 9110 §9.3.6, CONNECT), the way corporate proxies carry WebSocket
// traffic, for ws:// and wss:// alike. It tunnels to loopback targets only: any other target is refused with 403
// before a connection is tried, so no test can send a packet off this machine through it.

export interface ConnectProxyOptions {
  /**
   * The `Proxy-Authorization` header value a CONNECT must carry (e.g. `Basic dXNlcjpwYXNz`); without it, or with
   * another value, the proxy answers 407. @default undefined (no authentication)
   */
  requireAuthorization?: string;
}

/** One CONNECT request the proxy received. */
export interface ConnectRequest {
  /** The `host:port` asked for. */
  readonly target: string;
  /** The `Proxy-Authorization` header, if any. */
  readonly authorization: string | undefined;
  /** The status the proxy answered: 200 (tunnel), 403 (not loopback), 407 (credentials) or 502 (target down). */
  status: number;
}

export interface ConnectProxy {
  /** `http://127.0.0.1:PORT`, for a proxy agent. */
  readonly url: string;
  readonly port: number;
  /** Every CONNECT received, in order. */
  readonly requests: ConnectRequest[];
  /** Tunnels established (CONNECT answered 200 and piped to the target). */
  readonly tunnels: number;
  /** Tunnels still open. */
  readonly openTunnels: number;
  /** Requests that were not CONNECT (answered 405). */
  readonly plainRequests: number;
  close(): Promise<void>;
}

/** Whether `host` (as written in a CONNECT target) is a loopback address or name. */
export function isLoopback(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.split('.')[0] === '127';
  if (isIP(bare) === 6) return bare === '::1';
  return false;
}

/** Splits `host:port` (IPv6 in brackets); `undefined` when it is not one. */
function parseTarget(target: string): { host: string; port: number } | undefined {
  const match = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(target);
  if (!match) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65_535) return undefined;
  const host = match[1]!.startsWith('[') ? match[1]!.slice(1, -1) : match[1]!;
  return { host, port };
}

function answer(socket: Duplex, status: number, text: string, extra = ''): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\n${extra}Connection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** Starts a CONNECT proxy on 127.0.0.1, port 0, for the current test; it is closed after the test. */
export async function startConnectProxy(options: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  const requests: ConnectRequest[] = [];
  const upstreams = new Set<Socket>();
  let tunnels = 0;
  let plainRequests = 0;
  const http = createHttpServer((_req, res) => {
    plainRequests++;
    res.writeHead(405, { Allow: 'CONNECT', Connection: 'close' }).end();
  });
  const sockets = trackSockets(http);

  http.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    client.on('error', () => {});
    const authorization = req.headers['proxy-authorization'];
    const request: ConnectRequest = { target: req.url ?? '', authorization, status: 0 };
    requests.push(request);
    const target = parseTarget(request.target);
    if (!target || !isLoopback(target.host)) {
      request.status = 403;
      return answer(client, 403, 'Forbidden');
    }
    if (options.requireAuthorization !== undefined && authorization !== options.requireAuthorization) {
      request.status = 407;
      return answer(client, 407, 'Proxy Authentication Required', 'Proxy-Authenticate: Basic realm="test"\r\n');
    }
    const upstream = connect({ host: target.host, port: target.port });
    upstreams.add(upstream);
    const drop = () => {
      upstreams.delete(upstream);
      upstream.destroy();
      client.destroy();
    };
    upstream.on('error', () => {
      if (request.status === 0) {
        request.status = 502;
        upstreams.delete(upstream);
        return answer(client, 502, 'Bad Gateway');
      }
      drop();
    });
    upstream.on('connect', () => {
      request.status = 200;
      tunnels++;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
      upstream.on('close', drop);
      client.on('close', drop);
    });
  });

  const port = await listenOnLoopback(http);
  const proxy: ConnectProxy = {
    url: `http://${HOST}:${port}`,
    port,
    requests,
    get tunnels() {
      return tunnels;
    },
    get openTunnels() {
      return upstreams.size;
    },
    get plainRequests() {
      return plainRequests;
    },
    close: closeOnce(http, () => {
      destroyAll(upstreams);
      destroyAll(sockets);
    }),
  };
  cleanup(() => proxy.close());
  return proxy;
}
