import type { EnvironmentSignal } from './environment.js';
import type { SocketError } from './errors.js';

/** The public state names. */
export type StateName = 'connecting' | 'open' | 'closing' | 'closed';

/**
 * Who or what ended a connection:
 * `server` (the peer sent a close frame), `network` (the connection dropped without one, or the attempt failed),
 * `protocol` (the peer broke the protocol and this side failed the connection with 1002, 1007 or 1009, RFC 6455
 * §7.1.7), `refused` (the server answered the upgrade with an HTTP status instead of 101), `client` (`close()`),
 * `connect-timeout`, `close-timeout`, `heartbeat-timeout`, `provider` (a url/protocols/headers/transport provider
 * failed, or the WebSocket constructor threw), `reconnect` (`reconnect()` dropped it), `dispose`, `pagehide`
 * (back-forward cache).
 */
export type CloseCause =
  | 'server'
  | 'network'
  | 'protocol'
  | 'refused'
  | 'client'
  | 'connect-timeout'
  | 'close-timeout'
  | 'heartbeat-timeout'
  | 'provider'
  | 'reconnect'
  | 'dispose'
  | 'pagehide';

/** How a connection ended. Connections this library forces down report code 1006 and a `cause`. */
export interface CloseRecord {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  readonly cause: CloseCause;
  readonly error?: SocketError;
  /** The HTTP status of a refused upgrade (cause `refused`). */
  readonly status?: number;
  /** The server's `Retry-After` on a refused upgrade, in milliseconds. */
  readonly retryAfterMs?: number;
  /** How many 401/403/407 refusals came in a row, this one included. */
  readonly refusals?: number;
}

/** What pauses a planned retry until a signal releases it. */
export type Hold = 'offline' | 'hidden' | 'pagehide';

/** A planned retry: its number, its delay, and what holds it (if anything). */
export interface Retry {
  readonly attempt: number;
  readonly delayMs: number;
  readonly hold?: Hold;
}

/**
 * The machine's states. `attempt` counts retries since the last stable connection (0 for a first connection).
 * `closing` knows what follows the handshake we started: stay closed (`stop`, after `close()`), wait for
 * `pageshow` (`suspend`, after `pagehide`) or connect again (`resume`). A `closed` state has a `retry` (waiting
 * in backoff, or held) or an `end`: never started (`idle`), closed by you (`user`), given up (`policy`), disposed.
 */
export interface State {
  readonly name: StateName;
  readonly attempt: number;
  readonly then?: 'stop' | 'suspend' | 'resume';
  readonly retry?: Retry;
  readonly end?: 'idle' | 'user' | 'policy' | 'disposed';
}

/**
 * Everything the machine reacts to, with its data. The machine decides nothing that needs user code: the class
 * asks the policy first and passes the answer in. `END` is the end of the current connection however it came,
 * with the retry the policy planned (none: stop); `SIGNAL` comes with what holds a retry now.
 */
export interface Inputs {
  CONNECT: undefined;
  RECONNECT: undefined;
  OPENED: undefined;
  RETRY: undefined;
  DISPOSE: undefined;
  END: readonly [close: CloseRecord, plan: Retry | undefined];
  CLOSE: readonly [code: number, reason: string];
  SIGNAL: readonly [signal: EnvironmentSignal, hold: Hold | undefined];
}

/** The result of a transition, which the class performs. */
export interface Transition {
  readonly to: State;
  /** The current connection ends with this record (its one `close` event). */
  readonly end?: CloseRecord;
  /** Start the closing handshake: send a close frame with this code and reason. */
  readonly frame?: readonly [code: number, reason: string];
  /** Check liveness now (a signal says the network or the page changed). */
  readonly probe?: true;
  /** The state's timers and heartbeat carry on. */
  readonly keep?: true;
}

type Handler<K extends keyof Inputs> = (state: State, data: Inputs[K]) => Transition | undefined;
/** The transition table: state × input → transition. A missing entry means the input is ignored there. */
export type Table = { readonly [N in StateName]: { readonly [K in keyof Inputs]?: Handler<K> } };

const state = (name: StateName, attempt = 0, more?: Partial<State>): State => ({ name, attempt, ...more });
const forced = (cause: CloseCause): CloseRecord => ({ code: 1006, reason: '', wasClean: false, cause });

/** A connection that ended on its own: the planned retry, or a final close when the policy said stop. */
const ended: Handler<'END'> = (s, [close, plan]) => ({ to: plan ? state('closed', plan.attempt, { retry: plan }) : state('closed', s.attempt, { end: 'policy' }), end: close });
const dropped: Handler<'RECONNECT'> = () => ({ to: state('connecting'), end: forced('reconnect') });
const disposed: Handler<'DISPOSE'> = (s) => ({ to: state('closed', s.attempt, { end: 'disposed' }), end: forced('dispose') });
const then = (s: State, next: State['then']): Transition | undefined => (s.then === next ? undefined : { to: { ...s, then: next }, keep: true });
/** A held retry released (or held by something else now). */
const resume = (s: State, retry: Retry, hold: Hold | undefined): Transition | undefined =>
  !hold ? { to: state('connecting', retry.attempt) } : retry.hold === hold ? undefined : { to: { ...s, retry: { ...retry, hold } } };

/** The transition table. Pure: no I/O, no timers, no user code. */
export const table: Table = {
  connecting: {
    OPENED: (s) => ({ to: state('open', s.attempt) }),
    END: ended,
    CLOSE: (s, [code, reason]) => ({ to: state('closed', s.attempt, { end: 'user' }), end: { code, reason, wasClean: false, cause: 'client' } }),
    RECONNECT: dropped,
    DISPOSE: disposed,
  },
  open: {
    END: ended,
    CLOSE: (s, frame) => ({ to: state('closing', s.attempt, { then: 'stop' }), frame }),
    RECONNECT: dropped,
    SIGNAL: (s, [signal]) =>
      signal === 'pagehide'
        ? { to: state('closing', s.attempt, { then: 'suspend' }), frame: [1001, 'page hidden'] }
        : signal === 'hidden' || signal === 'pageshow'
          ? undefined
          : { to: s, probe: true, keep: true },
    DISPOSE: disposed,
  },
  closing: {
    // Whatever the peer answered, the close was ours (RFC 6455 §7.1.2: we started the closing handshake).
    END: (s, [close]) => ({
      to: s.then === 'resume' ? state('connecting') : s.then === 'suspend' ? state('closed', 0, { retry: { attempt: 0, delayMs: 0, hold: 'pagehide' } }) : state('closed', s.attempt, { end: 'user' }),
      end: close.cause === 'close-timeout' ? close : { ...close, cause: s.then === 'suspend' ? 'pagehide' : 'client' },
    }),
    CLOSE: (s) => then(s, 'stop'),
    // The handshake under way finishes first (bounded by closeTimeoutMs); then a new attempt starts.
    CONNECT: (s) => then(s, 'resume'),
    SIGNAL: (s, [signal]) => (signal === 'pageshow' && s.then === 'suspend' ? then(s, 'resume') : signal === 'pagehide' && s.then === 'resume' ? then(s, 'suspend') : undefined),
    RECONNECT: dropped,
    DISPOSE: disposed,
  },
  closed: {
    RETRY: (s) => (s.retry && !s.retry.hold ? { to: state('connecting', s.retry.attempt) } : undefined),
    // An explicit call overrides any hold: navigator.onLine is often wrong, and the caller asked for it now.
    CONNECT: (s) => (s.end === 'disposed' ? undefined : { to: state('connecting', s.retry?.attempt) }),
    RECONNECT: (s) => (s.end === 'disposed' ? undefined : { to: state('connecting') }),
    CLOSE: (s) => (s.end && s.end !== 'idle' ? undefined : { to: state('closed', s.attempt, { end: 'user' }) }),
    SIGNAL: (s, [signal, hold]) => {
      const retry = s.retry;
      if (!retry) return undefined;
      const held = (next: Hold): Transition | undefined => (retry.hold === next ? undefined : { to: { ...s, retry: { ...retry, hold: next } } });
      // A page in the back-forward cache stays suspended until pageshow, whatever the network does.
      if (signal === 'pagehide') return held('pagehide');
      if (retry.hold === 'pagehide') return signal === 'pageshow' ? resume(s, retry, hold) : undefined;
      if (signal === 'offline' || (signal === 'hidden' && hold === 'hidden' && !retry.hold)) return held(signal);
      return signal === 'online' || signal === 'visible' ? resume(s, retry, hold) : undefined;
    },
    DISPOSE: (s) => (s.end === 'disposed' ? undefined : { to: state('closed', s.attempt, { end: 'disposed' }) }),
  },
};

/** Looks up and runs the table entry; `undefined` means the input is ignored in this state. */
export function transition<K extends keyof Inputs>(s: State, type: K, data: Inputs[K]): Transition | undefined {
  return (table[s.name][type] as Handler<K> | undefined)?.(s, data);
}
