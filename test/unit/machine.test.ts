import { describe, expect, it, vi } from 'vitest';
import type { EnvironmentSignal } from '../../src/environment.js';
import { SocketError } from '../../src/errors.js';
import { table, transition } from '../../src/machine.js';
import type { CloseRecord, Input, InputType, Policy, State, StateName, Transition } from '../../src/machine.js';
import { defaultShouldReconnect } from '../../src/options.js';

// `satisfies Record<…, true>` makes the compiler reject a missing or an extra name, so a new state or input
// type cannot be added without this file noticing.
const STATE_NAMES = Object.keys({ connecting: true, open: true, closing: true, closed: true } satisfies Record<StateName, true>) as StateName[];
const INPUT_TYPES = Object.keys({
  CONNECT: true,
  RECONNECT: true,
  OPENED: true,
  SOCKET_CLOSED: true,
  PROVIDER_FAILED: true,
  CONNECT_TIMEOUT: true,
  HEARTBEAT_TIMEOUT: true,
  CLOSE_TIMEOUT: true,
  CLOSE: true,
  STABLE: true,
  RETRY_DUE: true,
  SIGNAL: true,
  DISPOSE: true,
} satisfies Record<InputType, true>) as InputType[];
const SIGNALS = Object.keys({ online: true, offline: true, visible: true, hidden: true, pagehide: true, pageshow: true } satisfies Record<EnvironmentSignal, true>) as EnvironmentSignal[];

/** The table rows that exist. Every other (state, input) pair must be ignored. */
const DEFINED: Record<StateName, InputType[]> = {
  connecting: ['OPENED', 'SOCKET_CLOSED', 'PROVIDER_FAILED', 'CONNECT_TIMEOUT', 'CLOSE', 'RECONNECT', 'DISPOSE'],
  open: ['SOCKET_CLOSED', 'HEARTBEAT_TIMEOUT', 'CLOSE', 'RECONNECT', 'STABLE', 'SIGNAL', 'DISPOSE'],
  closing: ['SOCKET_CLOSED', 'CLOSE_TIMEOUT', 'CLOSE', 'CONNECT', 'SIGNAL', 'RECONNECT', 'DISPOSE'],
  closed: ['RETRY_DUE', 'CONNECT', 'RECONNECT', 'CLOSE', 'SIGNAL', 'DISPOSE'],
};

function policy(overrides: Partial<Policy> = {}): Policy {
  return {
    shouldReconnect: () => true,
    delay: (attempt) => attempt * 100,
    maxRetries: Infinity,
    isOnline: true,
    isHidden: false,
    pauseWhenHidden: false,
    ...overrides,
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

const err = (code: SocketError['code']) => new SocketError(code, `test ${code}`);
const serverClose: CloseRecord = deepFreeze({ code: 1000, reason: 'bye', wasClean: true, cause: 'server' });
const networkClose: CloseRecord = deepFreeze({ code: 1006, reason: '', wasClean: false, cause: 'network' });

function sampleInput(type: InputType): Input {
  switch (type) {
    case 'SOCKET_CLOSED':
      return { type, close: networkClose };
    case 'PROVIDER_FAILED':
    case 'CONNECT_TIMEOUT':
    case 'HEARTBEAT_TIMEOUT':
    case 'CLOSE_TIMEOUT':
      return { type, error: err(type === 'PROVIDER_FAILED' ? 'PROVIDER_FAILED' : type) };
    case 'CLOSE':
      return { type, code: 1000, reason: 'done' };
    case 'SIGNAL':
      return { type, signal: 'online' };
    default:
      return { type } as Input;
  }
}

const connecting = (attempt = 0): State => deepFreeze({ name: 'connecting', attempt });
const open = (attempt = 0): State => deepFreeze({ name: 'open', attempt });
const closing = (then: 'stop' | 'suspend' | 'resume' = 'stop', attempt = 0): State =>
  deepFreeze({ name: 'closing', attempt, code: then === 'stop' ? 1000 : 1001, reason: then === 'stop' ? 'done' : 'page hidden', then });
const closed = (fields: Omit<Extract<State, { name: 'closed' }>, 'name' | 'attempt'> & { attempt?: number } = {}): State =>
  deepFreeze({ name: 'closed', attempt: 0, ...fields });

/** A representative of every kind of state, so "ignored" is checked across sub-phases too. */
const SAMPLE_STATES: State[] = [
  connecting(0),
  connecting(4),
  open(0),
  open(2),
  closing('stop'),
  closing('suspend', 1),
  closing('resume', 1),
  closed({ end: 'idle' }),
  closed({ end: 'user', last: serverClose }),
  closed({ end: 'policy', attempt: 3, last: networkClose }),
  closed({ end: 'disposed', last: networkClose }),
  closed({ attempt: 2, retry: { attempt: 2, delayMs: 200 }, last: networkClose }),
  closed({ attempt: 2, retry: { attempt: 2, delayMs: 200, hold: 'offline' }, last: networkClose }),
  closed({ attempt: 2, retry: { attempt: 2, delayMs: 200, hold: 'hidden' }, last: networkClose }),
  closed({ retry: { attempt: 0, delayMs: 0, hold: 'pagehide' } }),
];

const forced = (cause: CloseRecord['cause'], reason: string, error?: SocketError): CloseRecord =>
  error ? { code: 1006, reason, wasClean: false, cause, error } : { code: 1006, reason, wasClean: false, cause };

function run(state: State, input: Input, p: Policy = policy()): Transition | undefined {
  return transition(state, deepFreeze(input), p);
}

describe('transition table: coverage', () => {
  it('defines exactly the expected rows', () => {
    expect(Object.keys(table).sort()).toEqual([...STATE_NAMES].sort());
    for (const name of STATE_NAMES) {
      expect(Object.keys(table[name]).sort(), `rows of ${name}`).toEqual([...DEFINED[name]].sort());
    }
  });

  it('ignores (returns undefined for) every pair without a row, in every sub-phase', () => {
    let checked = 0;
    for (const state of SAMPLE_STATES) {
      for (const type of INPUT_TYPES) {
        if (DEFINED[state.name].includes(type)) continue;
        expect(run(state, sampleInput(type)), `${JSON.stringify(state)} × ${type}`).toBeUndefined();
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('never mutates the state or input it is given, and never leaves a closed state with both a retry and an end', () => {
    for (const state of SAMPLE_STATES) {
      for (const type of INPUT_TYPES) {
        const inputs = type === 'SIGNAL' ? SIGNALS.map((signal): Input => ({ type, signal })) : [sampleInput(type)];
        for (const input of inputs) {
          for (const p of [policy(), policy({ isOnline: false }), policy({ isHidden: true, pauseWhenHidden: true })]) {
            // Frozen inputs: a mutation would throw in strict mode.
            const result = run(state, input, p);
            if (result?.state.name === 'closed') {
              const s = result.state;
              const label = `${JSON.stringify(state)} × ${JSON.stringify(input)} (online ${p.isOnline}, hidden ${p.isHidden})`;
              expect(s.retry !== undefined && s.end !== undefined, `closed with both retry and end: ${label}`).toBe(false);
              expect(s.retry !== undefined || s.end !== undefined, `closed with neither retry nor end: ${label}`).toBe(true);
            }
          }
        }
      }
    }
  });

  it('is deterministic: the same call gives an equal result', () => {
    for (const state of SAMPLE_STATES) {
      for (const type of INPUT_TYPES) {
        expect(run(state, sampleInput(type))).toEqual(run(state, sampleInput(type)));
      }
    }
  });
});

describe('connecting', () => {
  it('OPENED → open, same attempt, no actions, fresh scope', () => {
    expect(run(connecting(3), { type: 'OPENED' })).toStrictEqual({ state: { name: 'open', attempt: 3 }, actions: [] });
  });

  it('SOCKET_CLOSED → closed with a planned retry (attempt + 1, delay(attempt + 1)) and ends the connection', () => {
    const delay = vi.fn((n: number) => n * 100);
    expect(run(connecting(2), { type: 'SOCKET_CLOSED', close: networkClose }, policy({ delay }))).toStrictEqual({
      state: { name: 'closed', attempt: 3, retry: { attempt: 3, delayMs: 300 }, last: networkClose },
      actions: [{ type: 'endConnection', close: networkClose }],
    });
    expect(delay).toHaveBeenCalledWith(3, networkClose);
  });

  it('SOCKET_CLOSED → closed with end "policy" when shouldReconnect says no (it is given the close record)', () => {
    const shouldReconnect = vi.fn(() => false);
    const delay = vi.fn(() => 1);
    expect(run(connecting(2), { type: 'SOCKET_CLOSED', close: networkClose }, policy({ shouldReconnect, delay }))).toStrictEqual({
      state: { name: 'closed', attempt: 2, end: 'policy', last: networkClose },
      actions: [{ type: 'endConnection', close: networkClose }],
    });
    expect(shouldReconnect).toHaveBeenCalledWith(networkClose);
    expect(delay).not.toHaveBeenCalled();
  });

  it('PROVIDER_FAILED → 1006 close with cause "provider" and the error, then a retry', () => {
    const error = err('PROVIDER_FAILED');
    const close = forced('provider', 'provider failed', error);
    expect(run(connecting(0), { type: 'PROVIDER_FAILED', error })).toStrictEqual({
      state: { name: 'closed', attempt: 1, retry: { attempt: 1, delayMs: 100 }, last: close },
      actions: [{ type: 'endConnection', close }],
    });
  });

  it('CONNECT_TIMEOUT → 1006 close with cause "connect-timeout" and the error, then a retry', () => {
    const error = err('CONNECT_TIMEOUT');
    const close = forced('connect-timeout', 'connect timeout', error);
    expect(run(connecting(1), { type: 'CONNECT_TIMEOUT', error })).toStrictEqual({
      state: { name: 'closed', attempt: 2, retry: { attempt: 2, delayMs: 200 }, last: close },
      actions: [{ type: 'endConnection', close }],
    });
  });

  it('CLOSE → closed, end "user", with the code and reason asked for (not clean: nothing was open)', () => {
    const close: CloseRecord = { code: 4000, reason: 'stop', wasClean: false, cause: 'client' };
    expect(run(connecting(2), { type: 'CLOSE', code: 4000, reason: 'stop' })).toStrictEqual({
      state: { name: 'closed', attempt: 2, end: 'user', last: close },
      actions: [{ type: 'endConnection', close }],
    });
  });

  it('RECONNECT → a fresh connecting state at attempt 0, ending the current attempt with cause "reconnect"', () => {
    const result = run(connecting(5), { type: 'RECONNECT' });
    expect(result).toStrictEqual({
      state: { name: 'connecting', attempt: 0 },
      actions: [{ type: 'endConnection', close: forced('reconnect', 'reconnect') }],
    });
    expect(result?.keep).toBeUndefined();
  });

  it('DISPOSE → closed, end "disposed", 1006 cause "dispose"', () => {
    const close = forced('dispose', 'disposed');
    expect(run(connecting(3), { type: 'DISPOSE' })).toStrictEqual({
      state: { name: 'closed', attempt: 3, end: 'disposed', last: close },
      actions: [{ type: 'endConnection', close }],
    });
  });
});

describe('retry decisions after a connection ends on its own', () => {
  const end = (attempt: number, p: Policy) => run(open(attempt), { type: 'SOCKET_CLOSED', close: networkClose }, p)?.state;

  it('maxRetries bounds the number of consecutive retries', () => {
    expect(end(0, policy({ maxRetries: 0 }))).toStrictEqual({ name: 'closed', attempt: 0, end: 'policy', last: networkClose });
    expect(end(0, policy({ maxRetries: 1 }))).toMatchObject({ attempt: 1, retry: { attempt: 1 } });
    expect(end(2, policy({ maxRetries: 3 }))).toMatchObject({ attempt: 3, retry: { attempt: 3 } });
    expect(end(3, policy({ maxRetries: 3 }))).toStrictEqual({ name: 'closed', attempt: 3, end: 'policy', last: networkClose });
    expect(end(1000, policy({ maxRetries: Infinity }))).toMatchObject({ retry: { attempt: 1001 } });
  });

  it('uses the injected backoff for the retry number', () => {
    expect(end(4, policy({ delay: (n) => n * 7 }))).toMatchObject({ retry: { attempt: 5, delayMs: 35 } });
  });

  it('holds the retry while offline (the delay is still planned)', () => {
    expect(end(0, policy({ isOnline: false }))).toStrictEqual({
      name: 'closed',
      attempt: 1,
      retry: { attempt: 1, delayMs: 100, hold: 'offline' },
      last: networkClose,
    });
  });

  it('holds the retry while hidden only with pauseWhenHidden', () => {
    expect(end(0, policy({ isHidden: true, pauseWhenHidden: true }))).toMatchObject({ retry: { attempt: 1, delayMs: 100, hold: 'hidden' } });
    expect(end(0, policy({ isHidden: true, pauseWhenHidden: false }))?.name).toBe('closed');
    expect((end(0, policy({ isHidden: true, pauseWhenHidden: false })) as { retry?: { hold?: string } }).retry).toStrictEqual({ attempt: 1, delayMs: 100 });
    expect(end(0, policy({ isHidden: false, pauseWhenHidden: true }))).toMatchObject({ retry: { attempt: 1, delayMs: 100 } });
  });

  it('offline wins over hidden', () => {
    expect(end(0, policy({ isOnline: false, isHidden: true, pauseWhenHidden: true }))).toMatchObject({ retry: { hold: 'offline' } });
  });

  it('shouldReconnect decides per close code (with the default table)', () => {
    const withCode = (code: number) =>
      run(open(0), { type: 'SOCKET_CLOSED', close: { code, reason: '', wasClean: true, cause: 'server' } }, policy({ shouldReconnect: defaultShouldReconnect }))?.state;
    expect(withCode(1008)).toMatchObject({ end: 'policy' });
    expect(withCode(3000)).toMatchObject({ end: 'policy' });
    expect(withCode(1001)).toMatchObject({ retry: { attempt: 1 } });
    expect(withCode(4000)).toMatchObject({ retry: { attempt: 1 } });
  });
});

describe('open', () => {
  it('SOCKET_CLOSED → closed with a retry, ending the connection with the peer record', () => {
    expect(run(open(0), { type: 'SOCKET_CLOSED', close: serverClose })).toStrictEqual({
      state: { name: 'closed', attempt: 1, retry: { attempt: 1, delayMs: 100 }, last: serverClose },
      actions: [{ type: 'endConnection', close: serverClose }],
    });
  });

  it('HEARTBEAT_TIMEOUT → 1006 cause "heartbeat-timeout" with the error, then a retry', () => {
    const error = err('HEARTBEAT_TIMEOUT');
    const close = forced('heartbeat-timeout', 'heartbeat timeout', error);
    expect(run(open(0), { type: 'HEARTBEAT_TIMEOUT', error })).toStrictEqual({
      state: { name: 'closed', attempt: 1, retry: { attempt: 1, delayMs: 100 }, last: close },
      actions: [{ type: 'endConnection', close }],
    });
  });

  it('CLOSE → closing (then "stop") and sends the close frame', () => {
    expect(run(open(2), { type: 'CLOSE', code: 4001, reason: 'later' })).toStrictEqual({
      state: { name: 'closing', attempt: 2, code: 4001, reason: 'later', then: 'stop' },
      actions: [{ type: 'sendClose', code: 4001, reason: 'later' }],
    });
  });

  it('RECONNECT → connecting attempt 0, cause "reconnect"', () => {
    expect(run(open(3), { type: 'RECONNECT' })).toStrictEqual({
      state: { name: 'connecting', attempt: 0 },
      actions: [{ type: 'endConnection', close: forced('reconnect', 'reconnect') }],
    });
  });

  it('STABLE resets the attempt (keeping the scope) and is ignored at attempt 0', () => {
    expect(run(open(3), { type: 'STABLE' })).toStrictEqual({ state: { name: 'open', attempt: 0 }, actions: [], keep: true });
    expect(run(open(0), { type: 'STABLE' })).toBeUndefined();
  });

  it.each(['visible', 'offline', 'online'] as const)('SIGNAL %s → probe now, same state, scope kept', (signal) => {
    const state = open(2);
    expect(run(state, { type: 'SIGNAL', signal })).toStrictEqual({ state, actions: [{ type: 'probe' }], keep: true });
  });

  it('SIGNAL pagehide → closing with 1001 "page hidden", then "suspend"', () => {
    expect(run(open(2), { type: 'SIGNAL', signal: 'pagehide' })).toStrictEqual({
      state: { name: 'closing', attempt: 2, code: 1001, reason: 'page hidden', then: 'suspend' },
      actions: [{ type: 'sendClose', code: 1001, reason: 'page hidden' }],
    });
  });

  it.each(['hidden', 'pageshow'] as const)('SIGNAL %s is ignored', (signal) => {
    expect(run(open(2), { type: 'SIGNAL', signal })).toBeUndefined();
    expect(run(open(2), { type: 'SIGNAL', signal }, policy({ pauseWhenHidden: true, isHidden: true }))).toBeUndefined();
  });

  it('DISPOSE → closed "disposed"', () => {
    const close = forced('dispose', 'disposed');
    expect(run(open(1), { type: 'DISPOSE' })).toStrictEqual({
      state: { name: 'closed', attempt: 1, end: 'disposed', last: close },
      actions: [{ type: 'endConnection', close }],
    });
  });
});

describe('closing', () => {
  it('SOCKET_CLOSED (stop) → closed "user"; the record keeps the peer code/reason/wasClean but the cause is "client"', () => {
    const close: CloseRecord = { ...serverClose, cause: 'client' };
    expect(run(closing('stop', 2), { type: 'SOCKET_CLOSED', close: serverClose })).toStrictEqual({
      state: { name: 'closed', attempt: 2, end: 'user', last: close },
      actions: [{ type: 'endConnection', close }],
    });
  });

  it('SOCKET_CLOSED (suspend) → closed, retry held by "pagehide" at attempt 0, cause "pagehide"', () => {
    const close: CloseRecord = { ...networkClose, cause: 'pagehide' };
    const result = run(closing('suspend', 2), { type: 'SOCKET_CLOSED', close: networkClose });
    expect(result?.actions).toStrictEqual([{ type: 'endConnection', close }]);
    expect(result?.state).toMatchObject({ name: 'closed', attempt: 0, retry: { attempt: 0, delayMs: 0, hold: 'pagehide' } });
  });

  it('CLOSE_TIMEOUT (stop) → closed "user", 1006 cause "close-timeout" with the error', () => {
    const error = err('CLOSE_TIMEOUT');
    const close = forced('close-timeout', 'close timeout', error);
    expect(run(closing('stop', 1), { type: 'CLOSE_TIMEOUT', error })).toStrictEqual({
      state: { name: 'closed', attempt: 1, end: 'user', last: close },
      actions: [{ type: 'endConnection', close }],
    });
  });

  it('CLOSE_TIMEOUT (suspend) → closed, retry held by "pagehide"', () => {
    const error = err('CLOSE_TIMEOUT');
    const result = run(closing('suspend', 1), { type: 'CLOSE_TIMEOUT', error });
    expect(result?.actions).toStrictEqual([{ type: 'endConnection', close: forced('close-timeout', 'close timeout', error) }]);
    expect(result?.state).toMatchObject({ name: 'closed', attempt: 0, retry: { attempt: 0, delayMs: 0, hold: 'pagehide' } });
  });

  it('the close record of a suspended connection is kept as `last`, like every other end', () => {
    const result = run(closing('suspend', 1), { type: 'SOCKET_CLOSED', close: networkClose });
    expect(result?.state).toMatchObject({ last: { ...networkClose, cause: 'pagehide' } });
  });

  it('CLOSE is ignored while already stopping, and turns a suspend into a stop (scope kept, no second close frame)', () => {
    expect(run(closing('stop'), { type: 'CLOSE', code: 1000, reason: '' })).toBeUndefined();
    const suspending = closing('suspend', 1);
    expect(run(suspending, { type: 'CLOSE', code: 4000, reason: 'x' })).toStrictEqual({
      state: { name: 'closing', attempt: 1, code: 1001, reason: 'page hidden', then: 'stop' },
      actions: [],
      keep: true,
    });
  });

  it('CONNECT lets the handshake finish, then starts a new attempt (resume); ignored when already resuming', () => {
    for (const then of ['stop', 'suspend'] as const) {
      expect(run(closing(then, 2), { type: 'CONNECT' })).toStrictEqual({ state: { ...(closing(then, 2) as object), then: 'resume' }, actions: [], keep: true });
    }
    expect(run(closing('resume', 2), { type: 'CONNECT' })).toBeUndefined();
  });

  it('pageshow during a pagehide handshake resumes; pagehide during a resume suspends again; other signals are ignored', () => {
    expect(run(closing('suspend', 1), { type: 'SIGNAL', signal: 'pageshow' })?.state).toMatchObject({ then: 'resume' });
    expect(run(closing('resume', 1), { type: 'SIGNAL', signal: 'pagehide' })?.state).toMatchObject({ then: 'suspend' });
    expect(run(closing('stop', 1), { type: 'SIGNAL', signal: 'pageshow' })).toBeUndefined();
    for (const signal of ['online', 'offline', 'visible', 'hidden'] as const) {
      for (const then of ['stop', 'suspend', 'resume'] as const) expect(run(closing(then), { type: 'SIGNAL', signal })).toBeUndefined();
    }
  });

  it('SOCKET_CLOSED and CLOSE_TIMEOUT (resume) → connecting attempt 0 at once', () => {
    const close: CloseRecord = { ...serverClose, cause: 'client' };
    expect(run(closing('resume', 2), { type: 'SOCKET_CLOSED', close: serverClose })).toStrictEqual({
      state: { name: 'connecting', attempt: 0 },
      actions: [{ type: 'endConnection', close }],
    });
    const error = err('CLOSE_TIMEOUT');
    expect(run(closing('resume', 2), { type: 'CLOSE_TIMEOUT', error })?.state).toStrictEqual({ name: 'connecting', attempt: 0 });
  });

  it('CLOSE turns a resume into a stop', () => {
    expect(run(closing('resume', 1), { type: 'CLOSE', code: 1000, reason: '' })?.state).toMatchObject({ then: 'stop' });
  });

  it('RECONNECT → connecting attempt 0, cause "reconnect"', () => {
    expect(run(closing('stop', 3), { type: 'RECONNECT' })).toStrictEqual({
      state: { name: 'connecting', attempt: 0 },
      actions: [{ type: 'endConnection', close: forced('reconnect', 'reconnect') }],
    });
  });

  it('DISPOSE → closed "disposed"', () => {
    const close = forced('dispose', 'disposed');
    expect(run(closing('suspend', 2), { type: 'DISPOSE' })).toStrictEqual({
      state: { name: 'closed', attempt: 2, end: 'disposed', last: close },
      actions: [{ type: 'endConnection', close }],
    });
  });
});

describe('closed', () => {
  const waiting = closed({ attempt: 3, retry: { attempt: 3, delayMs: 400 }, last: networkClose });
  const heldOffline = closed({ attempt: 3, retry: { attempt: 3, delayMs: 400, hold: 'offline' }, last: networkClose });
  const heldHidden = closed({ attempt: 3, retry: { attempt: 3, delayMs: 400, hold: 'hidden' }, last: networkClose });
  const heldPagehide = closed({ retry: { attempt: 0, delayMs: 0, hold: 'pagehide' } });
  const idle = closed({ end: 'idle' });
  const userEnd = closed({ attempt: 2, end: 'user', last: serverClose });
  const policyEnd = closed({ attempt: 4, end: 'policy', last: networkClose });
  const disposedEnd = closed({ attempt: 1, end: 'disposed', last: networkClose });

  describe('RETRY_DUE', () => {
    it('starts the planned retry when nothing holds it', () => {
      expect(run(waiting, { type: 'RETRY_DUE' })).toStrictEqual({ state: { name: 'connecting', attempt: 3 }, actions: [] });
    });
    it.each([heldOffline, heldHidden, heldPagehide, idle, userEnd, policyEnd, disposedEnd])('is ignored without a free retry (%j)', (state) => {
      expect(run(state, { type: 'RETRY_DUE' })).toBeUndefined();
    });
  });

  describe('CONNECT', () => {
    it.each([idle, userEnd, policyEnd])('starts attempt 0 from an end (%j)', (state) => {
      expect(run(state, { type: 'CONNECT' })).toStrictEqual({ state: { name: 'connecting', attempt: 0 }, actions: [] });
    });
    it('is ignored once disposed', () => {
      expect(run(disposedEnd, { type: 'CONNECT' })).toBeUndefined();
    });
    it('starts a waiting retry now, keeping its attempt', () => {
      expect(run(waiting, { type: 'CONNECT' })).toStrictEqual({ state: { name: 'connecting', attempt: 3 }, actions: [] });
    });
    it('an explicit connect() overrides every hold: offline, hidden or pagehide (navigator.onLine is often wrong)', () => {
      for (const p of [policy(), policy({ isOnline: false }), policy({ isHidden: true, pauseWhenHidden: true })]) {
        expect(run(heldOffline, { type: 'CONNECT' }, p)).toStrictEqual({ state: { name: 'connecting', attempt: 3 }, actions: [] });
        expect(run(heldHidden, { type: 'CONNECT' }, p)).toStrictEqual({ state: { name: 'connecting', attempt: 3 }, actions: [] });
        expect(run(heldPagehide, { type: 'CONNECT' }, p)).toStrictEqual({ state: { name: 'connecting', attempt: 0 }, actions: [] });
      }
    });
    it('from idle or an end while offline: connects anyway', () => {
      for (const state of [idle, userEnd]) {
        expect(run(state, { type: 'CONNECT' }, policy({ isOnline: false }))).toStrictEqual({ state: { name: 'connecting', attempt: 0 }, actions: [] });
      }
    });
  });

  describe('RECONNECT', () => {
    it.each([waiting, heldPagehide, idle, userEnd, policyEnd])('starts attempt 0 now (%j)', (state) => {
      expect(run(state, { type: 'RECONNECT' })).toStrictEqual({ state: { name: 'connecting', attempt: 0 }, actions: [] });
    });
    it('is ignored once disposed', () => {
      expect(run(disposedEnd, { type: 'RECONNECT' })).toBeUndefined();
    });
    it('while offline or held: starts attempt 0 anyway, as an explicit call', () => {
      for (const state of [waiting, heldOffline, heldHidden]) {
        expect(run(state, { type: 'RECONNECT' }, policy({ isOnline: false }))).toStrictEqual({ state: { name: 'connecting', attempt: 0 }, actions: [] });
      }
    });
  });

  describe('CLOSE', () => {
    it.each([waiting, heldOffline, heldHidden])('stops a planned retry: end "user", attempt and last kept (%j)', (state) => {
      expect(run(state, { type: 'CLOSE', code: 1000, reason: '' })).toStrictEqual({
        state: { name: 'closed', attempt: 3, end: 'user', last: networkClose },
        actions: [],
      });
    });
    it('stops a pagehide suspension; with no last close, records the one asked for', () => {
      expect(run(heldPagehide, { type: 'CLOSE', code: 4000, reason: 'x' })).toStrictEqual({
        state: { name: 'closed', attempt: 0, end: 'user', last: { code: 4000, reason: 'x', wasClean: true, cause: 'client' } },
        actions: [],
      });
    });
    it('turns idle into a user end', () => {
      expect(run(idle, { type: 'CLOSE', code: 1000, reason: '' })).toStrictEqual({
        state: { name: 'closed', attempt: 0, end: 'user', last: { code: 1000, reason: '', wasClean: true, cause: 'client' } },
        actions: [],
      });
    });
    it.each([userEnd, policyEnd, disposedEnd])('is ignored at a final end (%j)', (state) => {
      expect(run(state, { type: 'CLOSE', code: 1000, reason: '' })).toBeUndefined();
    });
  });

  describe('SIGNAL', () => {
    it.each([idle, userEnd, policyEnd, disposedEnd])('is ignored without a planned retry (%j)', (state) => {
      for (const signal of SIGNALS) {
        for (const p of [policy(), policy({ isOnline: false }), policy({ isHidden: true, pauseWhenHidden: true })]) {
          expect(run(state, { type: 'SIGNAL', signal }, p), signal).toBeUndefined();
        }
      }
    });

    it('offline holds a waiting retry (attempt and delay kept, fresh scope so its timer stops)', () => {
      const result = run(waiting, { type: 'SIGNAL', signal: 'offline' }, policy({ isOnline: false }));
      expect(result).toStrictEqual({ state: { ...waiting, retry: { attempt: 3, delayMs: 400, hold: 'offline' } }, actions: [] });
      expect(result?.keep).toBeUndefined();
    });
    it('offline replaces a hidden hold, and is ignored when already held offline', () => {
      expect(run(heldHidden, { type: 'SIGNAL', signal: 'offline' })?.state).toMatchObject({ retry: { hold: 'offline' } });
      expect(run(heldOffline, { type: 'SIGNAL', signal: 'offline' })).toBeUndefined();
    });
    it('offline does not release a pagehide suspension', () => {
      // Going offline and back online while in the back-forward cache must not reconnect before pageshow.
      const afterOffline = run(heldPagehide, { type: 'SIGNAL', signal: 'offline' }, policy({ isOnline: false }))?.state ?? heldPagehide;
      expect(run(afterOffline, { type: 'SIGNAL', signal: 'online' })?.state.name ?? 'closed').toBe('closed');
    });

    it('hidden holds a waiting retry only with pauseWhenHidden', () => {
      expect(run(waiting, { type: 'SIGNAL', signal: 'hidden' }, policy({ isHidden: true, pauseWhenHidden: true }))).toStrictEqual({
        state: { ...waiting, retry: { attempt: 3, delayMs: 400, hold: 'hidden' } },
        actions: [],
      });
      expect(run(waiting, { type: 'SIGNAL', signal: 'hidden' }, policy({ isHidden: true }))).toBeUndefined();
      expect(run(heldOffline, { type: 'SIGNAL', signal: 'hidden' }, policy({ isHidden: true, pauseWhenHidden: true }))).toBeUndefined();
      expect(run(heldHidden, { type: 'SIGNAL', signal: 'hidden' }, policy({ isHidden: true, pauseWhenHidden: true }))).toBeUndefined();
    });

    it.each(['online', 'visible'] as const)('%s starts a waiting retry at once', (signal) => {
      expect(run(waiting, { type: 'SIGNAL', signal })).toStrictEqual({ state: { name: 'connecting', attempt: 3 }, actions: [] });
    });
    it('online releases an offline hold; visible releases a hidden hold', () => {
      expect(run(heldOffline, { type: 'SIGNAL', signal: 'online' })).toStrictEqual({ state: { name: 'connecting', attempt: 3 }, actions: [] });
      expect(run(heldHidden, { type: 'SIGNAL', signal: 'visible' }, policy({ pauseWhenHidden: true }))).toStrictEqual({
        state: { name: 'connecting', attempt: 3 },
        actions: [],
      });
    });
    it('online/visible keep the hold (scope kept) while its reason still applies', () => {
      expect(run(heldOffline, { type: 'SIGNAL', signal: 'visible' }, policy({ isOnline: false }))).toStrictEqual({ state: heldOffline, actions: [], keep: true });
      const hidden = policy({ isHidden: true, pauseWhenHidden: true });
      expect(run(heldHidden, { type: 'SIGNAL', signal: 'online' }, hidden)).toStrictEqual({ state: heldHidden, actions: [], keep: true });
    });
    it('online while still hidden (pauseWhenHidden) turns an offline hold into a hidden hold', () => {
      expect(run(heldOffline, { type: 'SIGNAL', signal: 'online' }, policy({ isHidden: true, pauseWhenHidden: true }))).toStrictEqual({
        state: { ...heldOffline, retry: { attempt: 3, delayMs: 400, hold: 'hidden' } },
        actions: [],
      });
    });
    it.each(['online', 'visible'] as const)('%s does not release a pagehide suspension', (signal) => {
      expect(run(heldPagehide, { type: 'SIGNAL', signal })).toBeUndefined();
    });

    it('pageshow releases a pagehide suspension at attempt 0 (or parks it offline)', () => {
      expect(run(heldPagehide, { type: 'SIGNAL', signal: 'pageshow' })).toStrictEqual({ state: { name: 'connecting', attempt: 0 }, actions: [] });
      expect(run(heldPagehide, { type: 'SIGNAL', signal: 'pageshow' }, policy({ isOnline: false }))).toStrictEqual({
        state: { ...heldPagehide, retry: { attempt: 0, delayMs: 0, hold: 'offline' } },
        actions: [],
      });
    });
    it.each([waiting, heldOffline, heldHidden])('pageshow is ignored otherwise (%j)', (state) => {
      expect(run(state, { type: 'SIGNAL', signal: 'pageshow' })).toBeUndefined();
    });
    it.each([waiting, heldOffline, heldHidden])('pagehide holds a planned retry until pageshow (%j)', (state) => {
      const s = state as Extract<State, { name: 'closed' }>;
      expect(run(state, { type: 'SIGNAL', signal: 'pagehide' })).toStrictEqual({
        state: { ...s, retry: { ...s.retry!, hold: 'pagehide' } },
        actions: [],
      });
      expect(run(heldPagehide, { type: 'SIGNAL', signal: 'pagehide' })).toBeUndefined();
    });
  });

  describe('DISPOSE', () => {
    it.each([waiting, heldOffline, heldPagehide, idle, userEnd, policyEnd])('ends as "disposed", keeping attempt and last, dropping the retry (%j)', (state) => {
      const s = state as Extract<State, { name: 'closed' }>;
      expect(run(state, { type: 'DISPOSE' })).toStrictEqual({
        state: { name: 'closed', attempt: s.attempt, end: 'disposed', last: s.last ?? forced('dispose', 'disposed') },
        actions: [],
      });
    });
    it('is ignored when already disposed', () => {
      expect(run(disposedEnd, { type: 'DISPOSE' })).toBeUndefined();
    });
  });
});
