import { liveSockets } from '../registry.js';

/** Options of {@link shutdownAll}. */
export interface ShutdownAllOptions {
  /**
   * One deadline for every socket together, in milliseconds (not one per socket). Sockets whose close
   * handshake has not finished by then are disposed. `Infinity` waits for every `close()`, which each socket's
   * own `closeTimeoutMs` still bounds.
   * @default 5000
   */
  timeoutMs?: number;
}

/** What a shutdown did. */
export interface ShutdownResult {
  /** Sockets whose `close()` finished before the deadline (including those their own `closeTimeoutMs` forced down). */
  readonly closed: number;
  /** Sockets still not closed at the deadline (or forced by a second signal), and disposed. */
  readonly forced: number;
}

/** The close code every socket sends on shutdown: 1001 "going away" (RFC 6455 §7.4.1). */
export const SHUTDOWN_CLOSE_CODE = 1001;
/** The close reason every socket sends on shutdown. */
export const SHUTDOWN_CLOSE_REASON = 'shutting down';

/** The defaults of the Node entry, in one place. */
export const SHUTDOWN_DEFAULTS = {
  timeoutMs: 5_000,
  signals: ['SIGINT', 'SIGTERM'],
} as const satisfies { timeoutMs: number; signals: readonly NodeJS.Signals[] };

// setTimeout fires at once for delays above 2^31 - 1 ms; longer deadlines mean "no deadline".
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A shutdown in progress: its outcome, and the way to cut it short. */
export interface ShutdownRun {
  readonly result: Promise<ShutdownResult>;
  /** Disposes every socket not yet closed now and settles `result`. Idempotent. */
  force(): void;
}

/** A value as it appears in an error message. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Validates a `timeoutMs` option the way the core validates its durations. */
export function checkTimeoutMs(where: string, value: unknown): number {
  if (value === undefined) return SHUTDOWN_DEFAULTS.timeoutMs;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`${where}: option "timeoutMs" must be a number, got ${describeValue(value)}.`);
  }
  if (value < 0) {
    throw new RangeError(`${where}: option "timeoutMs" must be a number >= 0 (or Infinity), got ${describeValue(value)}.`);
  }
  return value;
}

/** Checks that `options` is an object with only `known` keys; returns it. */
export function checkOptionsObject(where: string, options: unknown, known: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${where}: options must be an object, got ${describeValue(options)}.`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new TypeError(`${where}: unknown option "${key}". Expected one of: ${known.join(', ')}.`);
    }
  }
  return options as Record<string, unknown>;
}

function disposeQuietly(socket: { dispose(): void }): void {
  try {
    socket.dispose();
  } catch {
    // dispose() is documented never to throw; a shutdown must reach every socket even if one breaks that.
  }
}

/**
 * Closes the given sockets concurrently with 1001 "shutting down", under one overall deadline; at the deadline
 * (or on `force()`) disposes whatever is still open.
 */
export function startShutdown(timeoutMs: number): ShutdownRun {
  type Socket = ReturnType<typeof liveSockets> extends Set<infer S> ? S : never;
  const handled = new Set<Socket>();
  const pending = new Set<Socket>();
  let closed = 0;
  let forced = 0;
  let isFinished = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let resolve!: (result: ShutdownResult) => void;
  const result = new Promise<ShutdownResult>((r) => (resolve = r));

  const finish = () => {
    if (isFinished) return;
    isFinished = true;
    if (timer !== undefined) clearTimeout(timer);
    // Whatever is still live now (still closing, or started again by the application meanwhile) is forced.
    for (const socket of new Set([...pending, ...liveSockets()])) {
      forced++;
      disposeQuietly(socket);
    }
    pending.clear();
    resolve({ closed, forced });
  };

  const settle = (socket: Socket) => {
    if (isFinished || !pending.delete(socket)) return;
    closed++;
    if (pending.size > 0) return;
    // Sockets that became live meanwhile (an application opening a replacement, say) get the handshake too.
    sweep();
    if (pending.size === 0) finish();
  };

  const sweep = () => {
    for (const socket of liveSockets()) {
      if (handled.has(socket)) continue;
      handled.add(socket);
      pending.add(socket);
      let closing: Promise<unknown>;
      try {
        closing = socket.close(SHUTDOWN_CLOSE_CODE, SHUTDOWN_CLOSE_REASON);
      } catch {
        // close() throws only on a bad code or reason, which ours are not; if it ever does, force that socket.
        pending.delete(socket);
        forced++;
        disposeQuietly(socket);
        continue;
      }
      const done = () => settle(socket);
      Promise.resolve(closing).then(done, done);
    }
  };

  sweep();
  if (pending.size === 0) {
    // Settle after the current tick like every other outcome, so callers see one consistent order.
    queueMicrotask(finish);
  } else if (timeoutMs <= MAX_TIMER_MS) {
    // Kept referenced on purpose: if every socket were stuck, an unref'd deadline would let the process end
    // with status 0 before the shutdown finished and chose the exit status.
    timer = setTimeout(finish, timeoutMs);
  }
  return { result, force: finish };
}

/**
 * Closes every live `ReconnectingSocket` in the process (every socket neither disposed nor finally closed,
 * from the ESM and CJS copies of the package alike) with close code 1001 and reason `'shutting down'`,
 * all at once, under one overall deadline. Sockets still open at the deadline are disposed. Sockets waiting to
 * reconnect stop at once. Never rejects; throws `TypeError`/`RangeError` synchronously on bad options.
 *
 * @param options.timeoutMs One deadline for all sockets together, in milliseconds. @default 5000
 * @returns How many sockets closed in time and how many had to be forced.
 *
 * @example
 * ```ts
 * import { shutdownAll } from 'resilient-websocket/node';
 *
 * server.on('close', async () => {
 *   const { closed, forced } = await shutdownAll({ timeoutMs: 2000 });
 *   console.log(`websockets: ${closed} closed, ${forced} forced`);
 * });
 * ```
 */
export function shutdownAll(options?: ShutdownAllOptions): Promise<ShutdownResult> {
  const given = checkOptionsObject('shutdownAll', options, ['timeoutMs']);
  return startShutdown(checkTimeoutMs('shutdownAll', given.timeoutMs)).result;
}
