import type { ClientRequestArgs } from 'node:http';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type LookupFunction, type Socket } from 'node:net';
import { expect } from 'vitest';
import { WebSocket, type ClientOptions } from 'ws';
import type { ReconnectingSocketOptions, WebSocketConstructor } from '../../src/index.js';
import { closeOnce, destroyAll, HOST, listenOnLoopback, trackSockets } from './listen.js';
import { acceptKey, waitFor } from './servers.js';
import { cleanup } from './teardown.js';

// Servers that misbehave on purpose, for the chaos matrix (test/chaos): every one binds 127.0.0.1 on a port the
// OS picks, counts what it saw, and is closed once the current test finishes.

/**
 * Short real timings for the chaos matrix: first retry after 30 ms, doubling up to 120 ms, no jitter, so the
 * expected delays are exact. Heartbeats are off unless a test turns them on.
 */
export const CHAOS_TIMINGS: ReconnectingSocketOptions<any, any> = {
  connectTimeoutMs: 1_000,
  closeTimeoutMs: 300,
  initialDelayMs: 30,
  delayFactor: 2,
  maxDelayMs: 120,
  jitter: false,
  heartbeat: false,
};

// ── frames ────────────────────────────────────────────────────────────────────────────────────────────────

/** Opcodes of RFC 6455 §5.2; 0x3-0x7 and 0xB-0xF are reserved. */
export const OPCODE = { text: 0x1, binary: 0x2, reserved: 0x3, close: 0x8, ping: 0x9, pong: 0xa } as const;

/**
 * One unmasked frame, as a server sends it (RFC 6455 §5.2). `rsv1` sets the bit that only a negotiated extension
 * (permessage-deflate) may use; `fin: false` starts a fragmented message.
 */
export function frame(opcode: number, payload: Buffer | string = Buffer.alloc(0), { fin = true, rsv1 = false } = {}): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  let header: Buffer;
  if (body.length < 126) {
    header = Buffer.from([0, body.length]);
  } else if (body.length < 0x10000) {
    header = Buffer.from([0, 126, 0, 0]);
    header.writeUInt16BE(body.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(body.length), 2);
  }
  header[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (opcode & 0x0f);
  return Buffer.concat([header, body]);
}

/** A close frame with `code` (and `reason`), or with an empty body (the peer then reports 1005). */
export function closeFrame(code?: number, reason = ''): Buffer {
  if (code === undefined) return frame(OPCODE.close);
  const body = Buffer.alloc(2 + Buffer.byteLength(reason));
  body.writeUInt16BE(code, 0);
  body.write(reason, 2, 'utf8');
  return frame(OPCODE.close, body);
}

interface ClientFrame {
  opcode: number;
  payload: Buffer;
}

/** Takes every complete (masked) client frame off the front of `buffer`; returns them and what is left. */
function readClientFrames(buffer: Buffer): { frames: ClientFrame[]; rest: Buffer } {
  const frames: ClientFrame[] = [];
  let offset = 0;
  for (;;) {
    if (buffer.length - offset < 2) break;
    const opcode = buffer[offset]! & 0x0f;
    const isMasked = (buffer[offset + 1]! & 0x80) !== 0;
    let length = buffer[offset + 1]! & 0x7f;
    let at = offset + 2;
    if (length === 126) {
      if (buffer.length < at + 2) break;
      length = buffer.readUInt16BE(at);
      at += 2;
    } else if (length === 127) {
      if (buffer.length < at + 8) break;
      length = Number(buffer.readBigUInt64BE(at));
      at += 8;
    }
    const mask = isMasked ? buffer.subarray(at, at + 4) : undefined;
    if (mask) at += 4;
    if (buffer.length < at + length) break;
    const payload = Buffer.from(buffer.subarray(at, at + length));
    if (mask) for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
    frames.push({ opcode, payload });
    offset = at + length;
  }
  return { frames, rest: buffer.subarray(offset) };
}

// ── a server that completes the upgrade by hand ───────────────────────────────────────────────────────────

/** One upgraded connection of a crafted server. */
export interface CraftedPeer {
  /** The subprotocols the client asked for, in order. */
  readonly requestedProtocols: string[];
  /** Writes raw bytes (crafted frames) to the client. */
  write(bytes: Buffer): void;
}

export interface CraftedServerOptions {
  /**
   * What to answer in `Sec-WebSocket-Protocol`: a fixed name, `null` to leave the header out, or a function of
   * the requested names. @default the first requested name, or no header when none was requested
   */
  protocol?: string | null | ((requested: string[]) => string | null);
  /** Called once the `101` is written: write crafted frames through `peer.write`. */
  onUpgrade?: (peer: CraftedPeer) => void;
}

/** A raw TCP server that answers the upgrade by hand and then writes whatever frames a test crafts. */
export interface CraftedServer {
  readonly url: string;
  readonly port: number;
  /** TCP connections accepted. */
  readonly accepted: number;
  /** Upgrades answered with `101`. */
  readonly connections: number;
  /** TCP connections still open. */
  readonly openSockets: number;
  /** Codes of the close frames clients sent (1005 for an empty one), in order. */
  readonly closeCodes: number[];
  close(): Promise<void>;
}

/**
 * Starts a crafted server. Like a well-behaved peer, it answers a client's ping with a pong and a client's close
 * frame with the same close frame, then ends the TCP connection; everything else the client sends is ignored.
 */
export async function startCraftedServer(options: CraftedServerOptions = {}): Promise<CraftedServer> {
  let accepted = 0;
  let upgraded = 0;
  const closeCodes: number[] = [];
  const server = createTcpServer();
  const sockets = trackSockets(server);
  server.on('connection', (socket: Socket) => {
    accepted++;
    let pending: Buffer = Buffer.alloc(0);
    let isUpgraded = false;
    let hasAnsweredClose = false;
    const onFrame = ({ opcode, payload }: ClientFrame) => {
      if (opcode === OPCODE.ping && !hasAnsweredClose) socket.write(frame(OPCODE.pong, payload));
      if (opcode !== OPCODE.close) return;
      closeCodes.push(payload.length >= 2 ? payload.readUInt16BE(0) : 1005);
      if (hasAnsweredClose) return;
      hasAnsweredClose = true;
      socket.end(frame(OPCODE.close, payload));
    };
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (!isUpgraded) {
        const end = pending.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = pending.subarray(0, end).toString('latin1');
        pending = pending.subarray(end + 4);
        const key = /^sec-websocket-key:\s*(\S+)\s*$/im.exec(head)?.[1];
        if (!key) {
          socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
          return;
        }
        const requested = (/^sec-websocket-protocol:(.*)$/im.exec(head)?.[1] ?? '')
          .split(',')
          .map((name) => name.trim())
          .filter(Boolean);
        const answer = options.protocol;
        const protocol = typeof answer === 'function' ? answer(requested) : answer === undefined ? (requested[0] ?? null) : answer;
        isUpgraded = true;
        upgraded++;
        socket.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n` +
            (protocol === null ? '' : `Sec-WebSocket-Protocol: ${protocol}\r\n`) +
            '\r\n',
        );
        options.onUpgrade?.({ requestedProtocols: requested, write: (bytes) => void (socket.writable && socket.write(bytes)) });
      }
      const { frames, rest } = readClientFrames(pending);
      pending = rest;
      frames.forEach(onFrame);
    });
  });
  const port = await listenOnLoopback(server);
  const crafted: CraftedServer = {
    url: `ws://${HOST}:${port}`,
    port,
    get accepted() {
      return accepted;
    },
    get connections() {
      return upgraded;
    },
    get openSockets() {
      return sockets.size;
    },
    closeCodes,
    close: closeOnce(server, () => destroyAll(sockets)),
  };
  cleanup(() => crafted.close());
  return crafted;
}

// ── a server that refuses the upgrade with a status ───────────────────────────────────────────────────────

export interface StatusServer {
  readonly url: string;
  readonly port: number;
  /** Upgrade requests answered so far. */
  readonly attempts: number;
  /** `Date.now()` of each upgrade request, in order. */
  readonly attemptTimes: number[];
  /** TCP connections still open. */
  readonly openSockets: number;
  close(): Promise<void>;
}

/** An HTTP server that answers every upgrade request with `status` and `headers` (`Retry-After`, say). */
export async function startStatusServer(status: number, headers: Record<string, string> = {}): Promise<StatusServer> {
  const attemptTimes: number[] = [];
  const body = `refused with ${status}`;
  const http = createHttpServer((_req, res) => res.writeHead(status, { Connection: 'close' }).end(body));
  const sockets = trackSockets(http);
  http.on('upgrade', (_req, socket: Socket) => {
    attemptTimes.push(Date.now());
    const lines = Object.entries({ ...headers, Connection: 'close', 'Content-Type': 'text/plain', 'Content-Length': String(body.length) })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    socket.end(`HTTP/1.1 ${status} Refused\r\n${lines}\r\n${body}`);
  });
  const port = await listenOnLoopback(http);
  const refusing: StatusServer = {
    url: `ws://${HOST}:${port}`,
    port,
    get attempts() {
      return attemptTimes.length;
    },
    attemptTimes,
    get openSockets() {
      return sockets.size;
    },
    close: closeOnce(http, () => destroyAll(sockets)),
  };
  cleanup(() => refusing.close());
  return refusing;
}

/** A loopback port that was listened on and then closed, so connecting to it is refused (ECONNREFUSED). */
export async function closedPort(): Promise<number> {
  const server = createTcpServer();
  const port = await listenOnLoopback(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// ── WebSocket constructors for the `WebSocket` option ─────────────────────────────────────────────────────

type WsOptions = ClientOptions | ClientRequestArgs;

/** ws's WebSocket with `maxPayload` set: a bigger incoming frame is a protocol error (1009) on the client. */
export function limitedWebSocket(maxPayload: number): WebSocketConstructor {
  return class LimitedWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[], options?: WsOptions) {
      super(url, protocols, { ...options, maxPayload });
    }
  } as unknown as WebSocketConstructor;
}

/**
 * ws's WebSocket whose host-name lookup fails with ENOTFOUND, as a name that does not resolve does. The failure
 * is injected through the socket's `lookup` hook (ws passes it to `net.connect`), so the real error path of ws
 * runs while no DNS query leaves the machine. `constructed` counts the attempts.
 */
export function unresolvableWebSocket(): { WebSocket: WebSocketConstructor; readonly constructed: number } {
  let constructed = 0;
  const lookup: LookupFunction = (hostname, _options, callback) => {
    const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', errno: -3008, syscall: 'getaddrinfo', hostname });
    process.nextTick(() => callback(error, '', 4));
  };
  class UnresolvableWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[], options?: WsOptions) {
      const withLookup: ClientRequestArgs = { ...(options as ClientRequestArgs), lookup };
      super(url, protocols, withLookup);
      constructed++;
    }
  }
  return {
    WebSocket: UnresolvableWebSocket as unknown as WebSocketConstructor,
    get constructed() {
      return constructed;
    },
  };
}

/**
 * Resolves with what `promise` resolves to, or with `'timed out'` after `ms`; its timer is cleared either way,
 * so the wait itself leaves nothing for `expectNothingLeaked` to find.
 */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timed out'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timed out'>((resolve) => (timer = setTimeout(() => resolve('timed out'), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ── leak checks ───────────────────────────────────────────────────────────────────────────────────────────

/** The resources a socket could leak: referenced timers and TCP sockets (both ends, since servers run here). */
export interface ResourceCount {
  Timeout: number;
  TCPSocketWrap: number;
}

function countNow(): ResourceCount {
  const count: ResourceCount = { Timeout: 0, TCPSocketWrap: 0 };
  for (const name of process.getActiveResourcesInfo()) if (name === 'Timeout' || name === 'TCPSocketWrap') count[name]++;
  return count;
}

/**
 * The baseline for `expectNothingLeaked`: the `Timeout` and `TCPSocketWrap` entries of
 * `process.getActiveResourcesInfo()`, counted once vitest's own task-update timer (a 100 ms throttle in
 * @vitest/runner, armed as a test starts) has fired. Counted earlier, that timer would be in the baseline and gone
 * by the check, and would hide one leaked timer of ours.
 */
export async function countResources(): Promise<ResourceCount> {
  await new Promise((resolve) => setTimeout(resolve, 120));
  return countNow();
}

/**
 * Waits (up to `timeoutMs`, as the server's side of a connection closes a moment after ours) until no more timers
 * or TCP sockets are active than in `before`, then asserts it: `before` is a count taken before the socket was
 * created, so the test servers' own handles are allowed.
 */
export async function expectNothingLeaked(before: ResourceCount, timeoutMs = 2_000): Promise<void> {
  const leaked = () => {
    const now = countNow();
    return { Timeout: Math.max(0, now.Timeout - before.Timeout), TCPSocketWrap: Math.max(0, now.TCPSocketWrap - before.TCPSocketWrap) };
  };
  await waitFor(() => leaked().Timeout === 0 && leaked().TCPSocketWrap === 0, timeoutMs).catch(() => undefined);
  expect(leaked(), `active resources beyond those before the socket existed (${process.getActiveResourcesInfo().join(', ')})`).toEqual({ Timeout: 0, TCPSocketWrap: 0 });
}
