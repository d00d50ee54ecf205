import { connect, createServer, type Socket } from 'node:net';
import { closeOnce, HOST, listenOnLoopback } from './listen.js';
import { cleanup } from './teardown.js';

/** A TCP proxy between a client and 127.0.0.1:targetPort that can simulate network faults. */
export interface FaultProxy {
  /** `ws://127.0.0.1:PORT` (the proxy's own port). */
  readonly url: string;
  readonly port: number;
  /** Total client connections accepted (refused ones included). */
  readonly connections: number;
  /** Connection pairs currently open. */
  readonly active: number;
  /**
   * Stops forwarding in both directions while keeping both TCP connections open; data arriving meanwhile is
   * discarded, and a side that closes meanwhile is not told to the other side (a dead network carries no
   * FIN either) until black-holing ends.
   */
  blackhole(on: boolean): void;
  /** Destroys every connection pair with a TCP RST on both sides. */
  reset(): void;
  /** Delays each chunk by `ms`, in both directions, preserving order. 0 forwards at once. */
  setDelay(ms: number): void;
  /** While on, new connections are destroyed as soon as they are accepted. */
  refuse(on: boolean): void;
  /** Destroys every pair and stops listening. Idempotent. */
  close(): Promise<void>;
}

interface Pipe {
  queue: Array<{ chunk: Buffer; dueAt: number }>;
  timer: NodeJS.Timeout | undefined;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  pipes: Pipe[];
  /** A side ended while black-holed; the other is destroyed when black-holing stops. */
  isHalfDead: boolean;
}

/** Starts a fault-injecting TCP proxy for the current test; it is closed after the test. */
export async function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  const pairs = new Set<Pair>();
  let connections = 0;
  let isBlackholed = false;
  let isRefusing = false;
  let delayMs = 0;

  const destroyPair = (pair: Pair, hard: boolean) => {
    if (!pairs.delete(pair)) return;
    for (const pipe of pair.pipes) {
      clearTimeout(pipe.timer);
      pipe.queue.length = 0;
    }
    for (const socket of [pair.client, pair.upstream]) {
      if (socket.destroyed) continue;
      if (hard) socket.resetAndDestroy();
      else socket.destroy();
    }
  };

  const pump = (pair: Pair, pipe: Pipe, to: Socket) => {
    pipe.timer = undefined;
    while (pipe.queue.length > 0) {
      const head = pipe.queue[0]!;
      const wait = head.dueAt - Date.now();
      if (wait > 0) {
        pipe.timer = setTimeout(() => pump(pair, pipe, to), wait);
        return;
      }
      pipe.queue.shift();
      if (!isBlackholed && !to.destroyed) to.write(head.chunk);
    }
  };

  const forward = (pair: Pair, from: Socket, to: Socket) => {
    const pipe: Pipe = { queue: [], timer: undefined };
    pair.pipes.push(pipe);
    from.on('data', (chunk: Buffer) => {
      if (isBlackholed) return;
      if (delayMs <= 0 && pipe.queue.length === 0) {
        if (!to.destroyed) to.write(chunk);
        return;
      }
      pipe.queue.push({ chunk, dueAt: Date.now() + delayMs });
      if (!pipe.timer) pump(pair, pipe, to);
    });
    from.on('close', () => {
      if (isBlackholed) {
        pair.isHalfDead = true;
        return;
      }
      // Let queued (delayed) data reach the other side before its connection goes.
      const finish = () => destroyPair(pair, false);
      if (pipe.queue.length === 0) finish();
      else setTimeout(finish, Math.max(0, pipe.queue.at(-1)!.dueAt - Date.now()) + 5);
    });
  };

  const server = createServer((client) => {
    connections++;
    client.on('error', () => {});
    if (isRefusing) {
      client.destroy();
      return;
    }
    client.setNoDelay(true);
    const upstream = connect({ host: HOST, port: targetPort });
    upstream.on('error', () => {});
    upstream.setNoDelay(true);
    const pair: Pair = { client, upstream, pipes: [], isHalfDead: false };
    pairs.add(pair);
    forward(pair, client, upstream);
    forward(pair, upstream, client);
  });
  const port = await listenOnLoopback(server);

  const proxy: FaultProxy = {
    url: `ws://${HOST}:${port}`,
    port,
    get connections() {
      return connections;
    },
    get active() {
      return pairs.size;
    },
    blackhole(on) {
      isBlackholed = on;
      if (on) return;
      for (const pair of [...pairs]) if (pair.isHalfDead) destroyPair(pair, false);
    },
    reset() {
      for (const pair of [...pairs]) destroyPair(pair, true);
    },
    setDelay(ms) {
      delayMs = Math.max(0, ms);
    },
    refuse(on) {
      isRefusing = on;
    },
    close: closeOnce(server, () => {
      for (const pair of [...pairs]) destroyPair(pair, false);
    }),
  };
  cleanup(() => proxy.close());
  return proxy;
}
