import type { EnvironmentSignal } from './environment.js';
import type { SocketError } from './errors.js';

/** The public state names. */
export type StateName = 'connecting' | 'open' | 'closing' | 'closed';

/**
 * Who or what ended a connection:
 * `server` (the peer sent a close frame), `network` (the connection dropped without one), `protocol` (the peer
 * broke the protocol and this side failed the connection with 1002, 1007 or 1009, RFC 6455 §7.1.7), `refused`
 * (the server answered the upgrade with an HTTP status instead of 101), `client`
 * (`close()`), `connect-timeout`, `close-timeout`, `heartbeat-timeout`, `provider` (a url/protocols/headers
 * provider failed), `reconnect` (`reconnect()` dropped it), `dispose`, `pagehide` (back-forward cache).
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

/**
 * What follows a closing handshake we started: stay closed (`close()`), wait for `pageshow` (the page went into
 * the back-forward cache), or connect again (`connect()` or `pageshow` arrived before the handshake finished).
 */
export type ClosingThen = 'stop' | 'suspend' | 'resume';

/** What pauses a planned retry until a signal releases it. */
export type Hold = 'offline' | 'hidden' | 'pagehide';

/** A planned retry: its number, its delay, and what holds it (if anything). */
export interface Retry {
  readonly attempt: number;
  readonly delayMs: number;
  readonly hold?: Hold;
}

/** Why a closed socket is not retrying: never started, closed by you, the policy said stop, disposed. */
export type EndReason = 'idle' | 'user' | 'policy' | 'disposed';

/**
 * The machine's states. `attempt` counts retries since the last stable connection (0 for a first
 * connection). A closed state has either a `retry` (waiting in backoff or held) or an `end`.
 */
export type State =
  | { readonly name: 'connecting'; readonly attempt: number }
  | { readonly name: 'open'; readonly attempt: number }
  | { readonly name: 'closing'; readonly attempt: number; readonly code: number; readonly reason: string; readonly then: ClosingThen }
  | { readonly name: 'closed'; readonly attempt: number; readonly retry?: Retry; readonly end?: EndReason; readonly last?: CloseRecord };

/** Everything the machine reacts to. */
export type Input =
  | { readonly type: 'CONNECT' }
  | { readonly type: 'RECONNECT' }
  | { readonly type: 'OPENED' }
  | { readonly type: 'SOCKET_CLOSED'; readonly close: CloseRecord }
  | { readonly type: 'PROVIDER_FAILED'; readonly error: SocketError }
  | { readonly type: 'CONNECT_TIMEOUT'; readonly error: SocketError }
  | { readonly type: 'HEARTBEAT_TIMEOUT'; readonly error: SocketError }
  | { readonly type: 'CLOSE_TIMEOUT'; readonly error: SocketError }
  | { readonly type: 'CLOSE'; readonly code: number; readonly reason: string }
  | { readonly type: 'STABLE' }
  | { readonly type: 'RETRY_DUE' }
  | { readonly type: 'SIGNAL'; readonly signal: EnvironmentSignal }
  | { readonly type: 'DISPOSE' };

export type InputType = Input['type'];

/**
 * One-shot effects of a transition, run by the class: start the close handshake; end the connection
 * (release its scope and emit its one `close` event); probe liveness now.
 */
export type Action =
  | { readonly type: 'sendClose'; readonly code: number; readonly reason: string }
  | { readonly type: 'endConnection'; readonly close: CloseRecord }
  | { readonly type: 'probe' };

/** The result of a transition. `keep` means the state's scope (its timers) carries on unchanged. */
export interface Transition {
  readonly state: State;
  readonly actions: readonly Action[];
  readonly keep?: boolean;
}

/** The decisions a transition may consult: pure functions and a snapshot of the environment. */
export interface Policy {
  shouldReconnect(close: CloseRecord): boolean;
  delay(attempt: number, close: CloseRecord): number;
  readonly maxRetries: number;
  readonly isOnline: boolean;
  readonly isHidden: boolean;
  readonly pauseWhenHidden: boolean;
}

type StateOf<N extends StateName> = Extract<State, { name: N }>;
type InputOf<T extends InputType> = Extract<Input, { type: T }>;
type Handler<N extends StateName, T extends InputType> = (state: StateOf<N>, input: InputOf<T>, policy: Policy) => Transition | undefined;
/** The transition table: state × input → transition. A missing entry means the input is ignored there. */
export type Table = { readonly [N in StateName]: { readonly [T in InputType]?: Handler<N, T> } };

const forced = (cause: CloseCause, reason: string, error?: SocketError): CloseRecord =>
  error ? { code: 1006, reason, wasClean: false, cause, error } : { code: 1006, reason, wasClean: false, cause };

const endWith = (state: State, close: CloseRecord, actions: Action[] = []): Transition => ({
  state,
  actions: [...actions, { type: 'endConnection', close }],
});

function holdFor(policy: Policy): Hold | undefined {
  if (!policy.isOnline) return 'offline';
  if (policy.pauseWhenHidden && policy.isHidden) return 'hidden';
  return undefined;
}

/** Where a connection that ended on its own goes: a planned retry, or a final close. */
function afterEnd(attempt: number, close: CloseRecord, policy: Policy): State {
  const next = attempt + 1;
  if (!policy.shouldReconnect(close) || next > policy.maxRetries) return { name: 'closed', attempt, end: 'policy', last: close };
  const hold = holdFor(policy);
  const delayMs = policy.delay(next, close);
  const retry: Retry = hold ? { attempt: next, delayMs, hold } : { attempt: next, delayMs };
  return { name: 'closed', attempt: next, retry, last: close };
}

const ended = (attempt: number, close: CloseRecord, policy: Policy): Transition => endWith(afterEnd(attempt, close, policy), close);

/** Starts a retry now if nothing holds it, else records what holds it (a held retry is never an end). */
function resume(state: StateOf<'closed'>, attempt: number, policy: Policy): Transition {
  const hold = holdFor(policy);
  if (!hold) return { state: { name: 'connecting', attempt }, actions: [] };
  const retry = state.retry;
  if (!state.end && retry?.hold === hold && retry.attempt === attempt) return { state, actions: [], keep: true };
  const next: State = { name: 'closed', attempt, retry: { attempt, delayMs: retry?.delayMs ?? 0, hold } };
  return { state: state.last ? { ...next, last: state.last } : next, actions: [] };
}

const dropped = (cause: CloseCause, reason: string) => (): Transition => endWith({ name: 'connecting', attempt: 0 }, forced(cause, reason));
const disposed = (state: State): Transition => {
  const close = forced('dispose', 'disposed');
  return endWith({ name: 'closed', attempt: state.attempt, end: 'disposed', last: close }, close);
};

/** Where a closing handshake we started ends: stopped for good, suspended until pageshow, or a new attempt. */
function closingEnded(s: StateOf<'closing'>, close: CloseRecord): Transition {
  if (s.then === 'resume') return endWith({ name: 'connecting', attempt: 0 }, close);
  if (s.then === 'suspend') return endWith({ name: 'closed', attempt: 0, retry: { attempt: 0, delayMs: 0, hold: 'pagehide' }, last: close }, close);
  return endWith({ name: 'closed', attempt: s.attempt, end: 'user', last: close }, close);
}

const keepClosing = (s: StateOf<'closing'>, then: ClosingThen): Transition | undefined =>
  s.then === then ? undefined : { state: { ...s, then }, actions: [], keep: true };

/** The transition table. Pure: no I/O, no timers, no `this`. */
export const table: Table = {
  connecting: {
    OPENED: (s) => ({ state: { name: 'open', attempt: s.attempt }, actions: [] }),
    SOCKET_CLOSED: (s, i, p) => ended(s.attempt, i.close, p),
    PROVIDER_FAILED: (s, i, p) => ended(s.attempt, forced('provider', 'provider failed', i.error), p),
    CONNECT_TIMEOUT: (s, i, p) => ended(s.attempt, forced('connect-timeout', 'connect timeout', i.error), p),
    CLOSE: (s, i) => {
      const close: CloseRecord = { code: i.code, reason: i.reason, wasClean: false, cause: 'client' };
      return endWith({ name: 'closed', attempt: s.attempt, end: 'user', last: close }, close);
    },
    RECONNECT: dropped('reconnect', 'reconnect'),
    DISPOSE: disposed,
  },
  open: {
    SOCKET_CLOSED: (s, i, p) => ended(s.attempt, i.close, p),
    HEARTBEAT_TIMEOUT: (s, i, p) => ended(s.attempt, forced('heartbeat-timeout', 'heartbeat timeout', i.error), p),
    CLOSE: (s, i) => ({
      state: { name: 'closing', attempt: s.attempt, code: i.code, reason: i.reason, then: 'stop' },
      actions: [{ type: 'sendClose', code: i.code, reason: i.reason }],
    }),
    RECONNECT: dropped('reconnect', 'reconnect'),
    STABLE: (s) => (s.attempt === 0 ? undefined : { state: { name: 'open', attempt: 0 }, actions: [], keep: true }),
    SIGNAL: (s, i) => {
      if (i.signal === 'visible' || i.signal === 'offline' || i.signal === 'online') return { state: s, actions: [{ type: 'probe' }], keep: true };
      if (i.signal === 'pagehide') {
        return {
          state: { name: 'closing', attempt: s.attempt, code: 1001, reason: 'page hidden', then: 'suspend' },
          actions: [{ type: 'sendClose', code: 1001, reason: 'page hidden' }],
        };
      }
      return undefined;
    },
    DISPOSE: disposed,
  },
  closing: {
    SOCKET_CLOSED: (s, i) => {
      // Whatever the peer answered, the close was ours (RFC 6455 §7.1.2: we started the closing handshake).
      return closingEnded(s, { ...i.close, cause: s.then === 'suspend' ? 'pagehide' : 'client' });
    },
    CLOSE_TIMEOUT: (s, i) => closingEnded(s, forced('close-timeout', 'close timeout', i.error)),
    CLOSE: (s) => keepClosing(s, 'stop'),
    // The handshake already under way finishes first (bounded by closeTimeoutMs); then a new attempt starts.
    CONNECT: (s) => keepClosing(s, 'resume'),
    SIGNAL: (s, i) => (i.signal === 'pageshow' && s.then === 'suspend' ? keepClosing(s, 'resume') : i.signal === 'pagehide' && s.then === 'resume' ? keepClosing(s, 'suspend') : undefined),
    RECONNECT: dropped('reconnect', 'reconnect'),
    DISPOSE: disposed,
  },
  closed: {
    RETRY_DUE: (s) => (s.retry && !s.retry.hold ? { state: { name: 'connecting', attempt: s.retry.attempt }, actions: [] } : undefined),
    // An explicit call overrides any hold: navigator.onLine is often wrong, and the caller asked for it now.
    CONNECT: (s) => (s.end === 'disposed' ? undefined : { state: { name: 'connecting', attempt: s.retry?.attempt ?? 0 }, actions: [] }),
    RECONNECT: (s) => (s.end === 'disposed' ? undefined : { state: { name: 'connecting', attempt: 0 }, actions: [] }),
    CLOSE: (s, i) =>
      s.end && s.end !== 'idle'
        ? undefined
        : { state: { name: 'closed', attempt: s.attempt, end: 'user', last: s.last ?? { code: i.code, reason: i.reason, wasClean: true, cause: 'client' } }, actions: [] },
    SIGNAL: (s, i, p) => {
      const retry = s.retry;
      if (!retry) return undefined;
      switch (i.signal) {
        case 'offline':
          // A page in the back-forward cache stays suspended until pageshow, whatever the network does.
          return retry.hold === 'offline' || retry.hold === 'pagehide' ? undefined : { state: { ...s, retry: { ...retry, hold: 'offline' } }, actions: [] };
        case 'hidden':
          return p.pauseWhenHidden && !retry.hold ? { state: { ...s, retry: { ...retry, hold: 'hidden' } }, actions: [] } : undefined;
        case 'online':
        case 'visible':
          return retry.hold === 'pagehide' ? undefined : resume(s, retry.attempt, p);
        case 'pageshow':
          return retry.hold === 'pagehide' ? resume(s, retry.attempt, p) : undefined;
        case 'pagehide':
          // Into the back-forward cache while waiting to retry: no attempt until the page is shown again.
          return retry.hold === 'pagehide' ? undefined : { state: { ...s, retry: { ...retry, hold: 'pagehide' } }, actions: [] };
        default:
          return undefined;
      }
    },
    DISPOSE: (s) =>
      s.end === 'disposed' ? undefined : { state: { name: 'closed', attempt: s.attempt, end: 'disposed', last: s.last ?? forced('dispose', 'disposed') }, actions: [] },
  },
};

/** Looks up and runs the table entry; `undefined` means the input is ignored in this state. */
export function transition(state: State, input: Input, policy: Policy): Transition | undefined {
  const handler = (table[state.name] as Record<string, Handler<StateName, InputType> | undefined>)[input.type];
  return handler?.(state as never, input as never, policy);
}
