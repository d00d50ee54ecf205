import type { IncomingMessage } from 'node:http';
import type { WebSocketServer } from 'ws';
import type { OverflowPolicy } from '../index.js';
import { MemoryStore, type SessionStore } from './store.js';

/** What `authorizeResume` is asked. */
export interface ResumeAuthorization {
  /** The upgrade request of the connection that wants to resume. */
  readonly request: IncomingMessage;
  /** What `identify()` returned for it. */
  readonly identity: unknown;
  /** The session it wants: its id and the identity of the connection that created it. */
  readonly session: { readonly id: string; readonly identity: unknown };
}

/** Options of `attachResume()`. */
export interface ResumeServerOptions {
  /**
   * How long a session whose connection ended waits for its client, in milliseconds. Then it ends (`expired`)
   * and what it held is dropped.
   * @default 120000
   */
  sessionTtlMs?: number;
  /**
   * Most messages a session keeps for resending (sent or waiting, not yet acknowledged).
   * @default 1000
   */
  maxMessages?: number;
  /**
   * Most bytes a session keeps for resending.
   * @default 1048576 (1 MiB)
   */
  maxBytes?: number;
  /**
   * How long a message is kept for resending, in milliseconds; an older one is given up (`drop`, `expired`).
   * @default 120000
   */
  maxAgeMs?: number;
  /**
   * What `session.send()` does when the buffer is full: `drop-oldest` gives up the oldest message (`drop`,
   * `overflow`), `drop-newest` refuses the new one with a `drop` (`dropped`), `reject` refuses it without one.
   * @default 'drop-oldest'
   */
  overflow?: OverflowPolicy;
  /**
   * How long a received message may wait for its (cumulative) acknowledgement, in milliseconds.
   * @default 100
   */
  ackDelayMs?: number;
  /**
   * Acknowledge at once after this many unacknowledged messages (or 256 KiB).
   * @default 64
   */
  ackEvery?: number;
  /**
   * Ping every connection this often, in milliseconds; one that has not answered (or sent anything) since the
   * last ping is terminated, so its session is parked and can expire. `false` turns it off.
   * @default 30000
   */
  pingIntervalMs?: number | false;
  /**
   * Where sessions wait between connections. The default keeps them in this process.
   * @default new MemoryStore()
   */
  store?: SessionStore;
  /**
   * Who is connecting (a user id from a cookie or token, say). Kept with a new session and compared on resume.
   * Throwing or rejecting closes the connection (1011).
   * @default () => undefined
   */
  identify?: (request: IncomingMessage) => unknown;
  /**
   * Whether a connection may resume a session. A refused one gets a new session (`refused`), and the session
   * stays for its owner.
   * @default the identities are the same (Object.is)
   */
  authorizeResume?: (context: ResumeAuthorization) => boolean | Promise<boolean>;
}

const DEFAULTS = {
  sessionTtlMs: 120_000,
  maxMessages: 1000,
  maxBytes: 1_048_576,
  maxAgeMs: 120_000,
  overflow: 'drop-oldest' as OverflowPolicy,
  ackDelayMs: 100,
  ackEvery: 64,
  pingIntervalMs: 30_000 as number | false,
};

/** The settings in effect (defaults filled in) and the store; throws `TypeError`/`RangeError` for bad options. */
export function resolveOptions(wss: WebSocketServer, options: ResumeServerOptions): { settings: typeof DEFAULTS; store: SessionStore } {
  const settings = { ...DEFAULTS, ...withoutUndefined(options) };
  check('sessionTtlMs', settings.sessionTtlMs, 1);
  check('maxMessages', settings.maxMessages, 0, true);
  check('maxBytes', settings.maxBytes, 0);
  check('maxAgeMs', settings.maxAgeMs, 1);
  check('ackDelayMs', settings.ackDelayMs, 1);
  check('ackEvery', settings.ackEvery, 1, true);
  if (settings.pingIntervalMs !== false) check('pingIntervalMs', settings.pingIntervalMs, 1);
  if (!['drop-oldest', 'drop-newest', 'reject'].includes(settings.overflow)) {
    throw new TypeError(`attachResume: option "overflow" must be 'drop-oldest', 'drop-newest' or 'reject', got ${JSON.stringify(settings.overflow)}.`);
  }
  for (const name of ['identify', 'authorizeResume'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') throw new TypeError(`attachResume: option "${name}" must be a function.`);
  }
  const store = options.store ?? new MemoryStore();
  if (!['get', 'set', 'delete'].every((name) => typeof (store as unknown as Record<string, unknown>)[name] === 'function')) {
    throw new TypeError('attachResume: option "store" must have get(), set() and delete().');
  }
  if (typeof (wss as { on?: unknown })?.on !== 'function' || typeof wss.options !== 'object') {
    throw new TypeError('attachResume(wss): wss must be a WebSocketServer from the ws package.');
  }
  return { settings, store };
}

function check(name: string, value: unknown, min: number, isWhole = false): void {
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || (isWhole && !Number.isInteger(value) && value !== Infinity)) {
    throw new RangeError(`attachResume: option "${name}" must be a ${isWhole ? 'whole ' : ''}number >= ${min}, got ${String(value)}.`);
  }
}

function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
