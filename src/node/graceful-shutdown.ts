import { constants } from 'node:os';
import { checkOptionsObject, checkTimeoutMs, describeValue, SHUTDOWN_DEFAULTS, startShutdown, type ShutdownRun } from './shutdown.js';
import { liveSockets } from '../registry.js';

/** What `onShutdown` is told once every socket is closed or forced. */
export interface ShutdownInfo {
  /** The signal that started the shutdown. */
  readonly signal: NodeJS.Signals;
  /** Sockets whose close handshake finished before the deadline. */
  readonly closed: number;
  /** Sockets still open at the deadline, and disposed. */
  readonly forced: number;
}

/** Options of {@link installGracefulShutdown}. */
export interface GracefulShutdownOptions {
  /**
   * The signals that start a shutdown. `SIGKILL` and `SIGSTOP` cannot be caught and are refused.
   * @default ['SIGINT', 'SIGTERM']
   */
  signals?: readonly NodeJS.Signals[];
  /**
   * One deadline for closing every socket together, in milliseconds; sockets still open then are disposed.
   * `Infinity` waits for every close, which each socket's own `closeTimeoutMs` still bounds.
   * @default 5000
   */
  timeoutMs?: number;
  /**
   * Called once every socket is closed or forced, instead of exiting: you decide what happens next (close your
   * HTTP server, flush logs, exit). A second signal still exits at once. If it throws or rejects, the error
   * is rethrown as an uncaught exception. Without it the process dies of the re-raised signal, and
   * `process.on('exit')` hooks do not run: cleanup that must happen on Ctrl+C belongs here.
   * @default undefined
   */
  onShutdown?: (info: ShutdownInfo) => void | Promise<void>;
  /**
   * Exit the process once the shutdown is done (after `onShutdown`, if given), with the signal's conventional
   * status 128 + signal number (SIGINT 130, SIGTERM 143). With `false` the process keeps running and a later
   * signal starts another shutdown.
   * @default true, or false when `onShutdown` is given
   */
  exit?: boolean;
}

interface ResolvedGracefulShutdownOptions {
  signals: NodeJS.Signals[];
  timeoutMs: number;
  onShutdown: ((info: ShutdownInfo) => void | Promise<void>) | undefined;
  exit: boolean;
}

const WHERE = 'installGracefulShutdown';
const UNCATCHABLE = new Set(['SIGKILL', 'SIGSTOP']);

function resolveGracefulShutdownOptions(options: unknown): ResolvedGracefulShutdownOptions {
  const given = checkOptionsObject(WHERE, options, ['signals', 'timeoutMs', 'onShutdown', 'exit']);
  const signals = given.signals ?? SHUTDOWN_DEFAULTS.signals;
  if (!Array.isArray(signals)) {
    throw new TypeError(`${WHERE}: option "signals" must be an array of signal names such as ['SIGINT', 'SIGTERM'], got ${describeValue(signals)}.`);
  }
  if (signals.length === 0) {
    throw new RangeError(`${WHERE}: option "signals" must name at least one signal, got an empty array.`);
  }
  for (const signal of signals) {
    if (typeof signal !== 'string') {
      throw new TypeError(`${WHERE}: option "signals" must contain signal names (strings), got ${describeValue(signal)}.`);
    }
    if (!(signal in constants.signals) || UNCATCHABLE.has(signal)) {
      throw new RangeError(
        `${WHERE}: option "signals" must contain catchable signal names of this platform (such as 'SIGINT', 'SIGTERM', 'SIGHUP'; not SIGKILL or SIGSTOP), got ${describeValue(signal)}.`,
      );
    }
  }
  const timeoutMs = checkTimeoutMs(WHERE, given.timeoutMs);
  const onShutdown = given.onShutdown;
  if (onShutdown !== undefined && typeof onShutdown !== 'function') {
    throw new TypeError(`${WHERE}: option "onShutdown" must be a function, got ${describeValue(onShutdown)}.`);
  }
  const exit = given.exit ?? onShutdown === undefined;
  if (typeof exit !== 'boolean') {
    throw new TypeError(`${WHERE}: option "exit" must be a boolean, got ${describeValue(exit)}.`);
  }
  return {
    signals: [...new Set(signals as NodeJS.Signals[])],
    timeoutMs,
    onShutdown: onShutdown as ResolvedGracefulShutdownOptions['onShutdown'],
    exit,
  };
}

/** 128 + the signal number: what a shell reports for a process a signal ended (SIGINT 130, SIGTERM 143). */
function conventionalStatus(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/**
 * Ends the process as if `signal` had killed it.
 *
 * Why re-raise instead of `process.exit(128 + n)`: both give a shell the status 130/143, but only a process
 * that really died of the signal tells its parent it was interrupted (`waitpid` reports WIFSIGNALED). Shells
 * rely on that ("wait and cooperative exit"): bash stops a script or loop when a child died of SIGINT and carries
 * on when it merely exited 130; supervisors and `child_process` (`signal: 'SIGINT'`) see the same
 * difference. So with no other listener left for the signal we remove ours and send it again: Node then applies
 * the default action and the process dies of it. We fall back to `process.exit(128 + n)` where that cannot work:
 * on Windows (no POSIX signals; `process.kill` would end the process with status 1), when another listener
 * for the signal remains (Node would call it instead of dying), or if the signal is somehow not fatal.
 */
function exitBySignal(signal: NodeJS.Signals, uninstall: () => void): void {
  const status = conventionalStatus(signal);
  uninstall();
  if (process.platform !== 'win32' && process.listenerCount(signal) === 0) {
    // Referenced, so the process cannot drift to a quiet exit 0 if the re-raised signal is not fatal.
    setTimeout(() => process.exit(status), 250);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(status);
}

/**
 * Makes `SIGINT`/`SIGTERM` (by default) shut every live `ReconnectingSocket` down cleanly before the process
 * ends. On the first signal, every socket is closed concurrently with code 1001 and reason `'shutting down'`,
 * under one overall deadline (`timeoutMs`); sockets still open at the deadline are disposed. Then the process
 * exits with the signal's conventional status (SIGINT 130, SIGTERM 143) by re-raising the signal, unless
 * `onShutdown` is given (it is called instead, with how many sockets closed and how many were forced) or
 * `exit` is `false`. A second signal during the shutdown disposes everything at once and exits immediately.
 *
 * Because the process then dies of the signal, `process.on('exit')` hooks never run on Ctrl+C or SIGTERM: Node
 * emits `exit` only when a process ends by itself or through `process.exit()`. Put the cleanup that must run
 * (flushing logs, closing a database) in `onShutdown`, which is called once the sockets are down, and end it with
 * `process.exit(130)` yourself if `exit` hooks should run too.
 *
 * Node only: import it from `resilient-websocket/node`; the main entry never loads it, so browser bundles stay
 * free of it. Throws `TypeError`/`RangeError` naming the bad option.
 *
 * @param options.signals The signals to handle. @default ['SIGINT', 'SIGTERM']
 * @param options.timeoutMs One deadline for all sockets together, in milliseconds. @default 5000
 * @param options.onShutdown Called instead of exiting once the sockets are down: the place for cleanup, since
 * `exit` hooks do not run when the signal ends the process. @default undefined
 * @param options.exit Exit once the shutdown is done. @default true, or false when `onShutdown` is given
 * @returns A function that removes the signal handlers again (safe to call twice).
 *
 * @example
 * ```ts
 * import { ReconnectingSocket } from 'resilient-websocket';
 * import { installGracefulShutdown } from 'resilient-websocket/node';
 *
 * const socket = new ReconnectingSocket('wss://example.com/feed');
 * const uninstall = installGracefulShutdown({ timeoutMs: 3000 });
 * // Ctrl+C: the server receives close 1001 "shutting down", then the process exits with status 130.
 * ```
 */
export function installGracefulShutdown(options?: GracefulShutdownOptions): () => void {
  const { signals, timeoutMs, onShutdown, exit } = resolveGracefulShutdownOptions(options);
  let running: ShutdownRun | undefined;
  let isInstalled = true;

  const onSignal = (signal: NodeJS.Signals): void => {
    if (running) {
      // The second signal means "now": nothing waits any longer, including sockets created since the first.
      running.force();
      for (const socket of [...liveSockets()]) {
        try {
          socket.dispose();
        } catch {
          // dispose() does not throw; if one ever did, the others must still go down.
        }
      }
      exitBySignal(signal, uninstall);
      return;
    }
    const run = startShutdown(timeoutMs);
    running = run;
    run.result
      .then(async ({ closed, forced }) => {
        if (onShutdown) await onShutdown({ signal, closed, forced });
        if (running === run) running = undefined;
        if (exit) exitBySignal(signal, uninstall);
      })
      .catch((error: unknown) => {
        if (running === run) running = undefined;
        // Your onShutdown failed: surface it the way Node surfaces any uncaught error, never swallow it.
        process.nextTick(() => {
          throw error;
        });
      });
  };

  const handlers = new Map(signals.map((signal) => [signal, () => onSignal(signal)] as const));
  for (const [signal, handler] of handlers) process.on(signal, handler);

  function uninstall(): void {
    if (!isInstalled) return;
    isInstalled = false;
    for (const [signal, handler] of handlers) process.off(signal, handler);
  }
  return uninstall;
}
