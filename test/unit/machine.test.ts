import { describe, expect, it } from 'vitest';
import type { EnvironmentSignal } from '../../src/environment.js';
import { table, transition, type CloseRecord, type Inputs, type Retry, type State, type StateName } from '../../src/machine.js';

// The pure transition table: state × input → transition. It decides nothing that needs user code (the class asks
// the policy and passes the answer in), so every row is checked here with plain data.

// `satisfies Record<…, true>` makes the compiler reject a missing or an extra name.
const STATE_NAMES = Object.keys({ connecting: true, open: true, closing: true, closed: true } satisfies Record<StateName, true>) as StateName[];
const INPUTS = Object.keys({ CONNECT: true, RECONNECT: true, OPENED: true, RETRY: true, DISPOSE: true, END: true, CLOSE: true, SIGNAL: true } satisfies Record<keyof Inputs, true>) as (keyof Inputs)[];
const SIGNALS: EnvironmentSignal[] = ['online', 'offline', 'visible', 'hidden', 'pagehide', 'pageshow'];

/** The rows that exist; every other pair is ignored. */
const DEFINED: Record<StateName, (keyof Inputs)[]> = {
  connecting: ['OPENED', 'END', 'CLOSE', 'RECONNECT', 'DISPOSE'],
  open: ['END', 'CLOSE', 'RECONNECT', 'SIGNAL', 'DISPOSE'],
  closing: ['END', 'CLOSE', 'CONNECT', 'SIGNAL', 'RECONNECT', 'DISPOSE'],
  closed: ['RETRY', 'CONNECT', 'RECONNECT', 'CLOSE', 'SIGNAL', 'DISPOSE'],
};

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

const network: CloseRecord = deepFreeze({ code: 1006, reason: '', wasClean: false, cause: 'network' });
const server: CloseRecord = deepFreeze({ code: 1000, reason: 'bye', wasClean: true, cause: 'server' });
const plan = (attempt: number, delayMs = 100, hold?: Retry['hold']): Retry => (hold ? { attempt, delayMs, hold } : { attempt, delayMs });

const sample: { [K in keyof Inputs]: Inputs[K] } = {
  CONNECT: undefined,
  RECONNECT: undefined,
  OPENED: undefined,
  RETRY: undefined,
  DISPOSE: undefined,
  END: [network, plan(1)],
  CLOSE: [1000, 'done'],
  SIGNAL: ['online', undefined],
};

const s = (name: StateName, attempt = 0, more: Partial<State> = {}): State => deepFreeze({ name, attempt, ...more });
const run = <K extends keyof Inputs>(state: State, type: K, data: Inputs[K] = sample[type]) => transition(state, type, deepFreeze(data));

/** Every sub-phase of every state. */
const PHASES: State[] = [
  s('connecting', 2),
  s('open', 1),
  s('closing', 0, { then: 'stop' }),
  s('closing', 0, { then: 'suspend' }),
  s('closing', 0, { then: 'resume' }),
  s('closed', 0, { end: 'idle' }),
  s('closed', 1, { retry: plan(1) }),
  s('closed', 1, { retry: plan(1, 100, 'offline') }),
  s('closed', 0, { retry: plan(0, 0, 'pagehide') }),
  s('closed', 3, { end: 'user' }),
  s('closed', 3, { end: 'policy' }),
  s('closed', 3, { end: 'disposed' }),
];

describe('transition table: coverage', () => {
  it('defines exactly the expected rows', () => {
    expect(Object.keys(table).sort()).toEqual([...STATE_NAMES].sort());
    for (const name of STATE_NAMES) expect(Object.keys(table[name]).sort(), `rows of ${name}`).toEqual([...DEFINED[name]].sort());
  });

  it('ignores (returns undefined for) every pair without a row, in every sub-phase', () => {
    for (const state of PHASES) {
      for (const type of INPUTS) if (!DEFINED[state.name].includes(type)) expect(run(state, type), `${state.name} × ${type}`).toBeUndefined();
    }
  });

  it('never mutates what it is given, and never makes a closed state with both a retry and an end', () => {
    for (const state of PHASES) {
      for (const type of INPUTS) {
        for (const signal of SIGNALS) {
          const result = run(state, type, type === 'SIGNAL' ? ([signal, undefined] as Inputs['SIGNAL']) : sample[type]);
          if (result) expect(result.to.retry && result.to.end, `${state.name} × ${type}`).toBeFalsy();
        }
      }
    }
  });
});

describe('connecting', () => {
  it('OPENED → open, same attempt', () => {
    expect(run(s('connecting', 2), 'OPENED')).toEqual({ to: { name: 'open', attempt: 2 } });
  });

  it('END with a plan → closed with that retry, ending the connection with its record', () => {
    expect(run(s('connecting', 0), 'END', [network, plan(1, 300)])).toEqual({ to: { name: 'closed', attempt: 1, retry: plan(1, 300) }, end: network });
    expect(run(s('connecting', 0), 'END', [network, plan(1, 300, 'offline')])).toEqual({ to: { name: 'closed', attempt: 1, retry: plan(1, 300, 'offline') }, end: network });
  });

  it('END with no plan → closed for good ("policy"), keeping the attempt', () => {
    expect(run(s('connecting', 4), 'END', [network, undefined])).toEqual({ to: { name: 'closed', attempt: 4, end: 'policy' }, end: network });
  });

  it('CLOSE → closed "user", ending the attempt with the code and reason asked for (not clean: nothing was open)', () => {
    expect(run(s('connecting', 1), 'CLOSE', [4000, 'bye'])).toEqual({
      to: { name: 'closed', attempt: 1, end: 'user' },
      end: { code: 4000, reason: 'bye', wasClean: false, cause: 'client' },
    });
  });

  it('RECONNECT → a fresh attempt 0, ending this one with cause "reconnect"', () => {
    expect(run(s('connecting', 3), 'RECONNECT')).toEqual({ to: { name: 'connecting', attempt: 0 }, end: { code: 1006, reason: '', wasClean: false, cause: 'reconnect' } });
  });

  it('DISPOSE → closed "disposed", 1006 cause "dispose"', () => {
    expect(run(s('connecting', 3), 'DISPOSE')).toEqual({ to: { name: 'closed', attempt: 3, end: 'disposed' }, end: { code: 1006, reason: '', wasClean: false, cause: 'dispose' } });
  });
});

describe('open', () => {
  it('END → the planned retry (or the policy end), with the record', () => {
    expect(run(s('open', 0), 'END', [server, plan(1, 50)])).toEqual({ to: { name: 'closed', attempt: 1, retry: plan(1, 50) }, end: server });
    expect(run(s('open', 2), 'END', [server, undefined])).toEqual({ to: { name: 'closed', attempt: 2, end: 'policy' }, end: server });
  });

  it('CLOSE → closing ("stop") and a close frame with the code and reason', () => {
    expect(run(s('open', 1), 'CLOSE', [3001, 'x'])).toEqual({ to: { name: 'closing', attempt: 1, then: 'stop' }, frame: [3001, 'x'] });
  });

  it('RECONNECT → connecting attempt 0, cause "reconnect"', () => {
    expect(run(s('open', 1), 'RECONNECT')).toMatchObject({ to: { name: 'connecting', attempt: 0 }, end: { cause: 'reconnect' } });
  });

  it('SIGNAL: online, offline and visible probe (scope kept); pagehide closes with 1001 and suspends; hidden and pageshow are ignored', () => {
    const open = s('open', 1);
    for (const signal of ['online', 'offline', 'visible'] as const) expect(run(open, 'SIGNAL', [signal, undefined])).toEqual({ to: open, probe: true, keep: true });
    expect(run(open, 'SIGNAL', ['pagehide', undefined])).toEqual({ to: { name: 'closing', attempt: 1, then: 'suspend' }, frame: [1001, 'page hidden'] });
    expect(run(open, 'SIGNAL', ['hidden', 'hidden'])).toBeUndefined();
    expect(run(open, 'SIGNAL', ['pageshow', undefined])).toBeUndefined();
  });

  it('DISPOSE → closed "disposed"', () => {
    expect(run(s('open', 1), 'DISPOSE')).toMatchObject({ to: { name: 'closed', end: 'disposed' }, end: { cause: 'dispose' } });
  });
});

describe('closing', () => {
  const timedOut: CloseRecord = deepFreeze({ code: 1006, reason: '', wasClean: false, cause: 'close-timeout' });

  it('END (stop) → closed "user"; the record keeps the peer code, reason and wasClean, the cause becomes "client"', () => {
    expect(run(s('closing', 2, { then: 'stop' }), 'END', [server, undefined])).toEqual({ to: { name: 'closed', attempt: 2, end: 'user' }, end: { ...server, cause: 'client' } });
  });

  it('END (suspend) → a retry held by "pagehide" at attempt 0; cause "pagehide"', () => {
    expect(run(s('closing', 2, { then: 'suspend' }), 'END', [server, undefined])).toEqual({
      to: { name: 'closed', attempt: 0, retry: plan(0, 0, 'pagehide') },
      end: { ...server, cause: 'pagehide' },
    });
  });

  it('END (resume) → a new attempt 0 at once', () => {
    expect(run(s('closing', 2, { then: 'resume' }), 'END', [server, undefined])).toEqual({ to: { name: 'connecting', attempt: 0 }, end: { ...server, cause: 'client' } });
  });

  it('a close timeout keeps its own cause, whatever follows', () => {
    for (const then of ['stop', 'suspend', 'resume'] as const) expect(run(s('closing', 0, { then }), 'END', [timedOut, undefined])?.end).toBe(timedOut);
  });

  it('CLOSE stops (scope kept, no second frame); CONNECT resumes; each ignored when already so', () => {
    expect(run(s('closing', 0, { then: 'suspend' }), 'CLOSE')).toEqual({ to: { name: 'closing', attempt: 0, then: 'stop' }, keep: true });
    expect(run(s('closing', 0, { then: 'resume' }), 'CLOSE')).toEqual({ to: { name: 'closing', attempt: 0, then: 'stop' }, keep: true });
    expect(run(s('closing', 0, { then: 'stop' }), 'CLOSE')).toBeUndefined();
    expect(run(s('closing', 0, { then: 'stop' }), 'CONNECT')).toEqual({ to: { name: 'closing', attempt: 0, then: 'resume' }, keep: true });
    expect(run(s('closing', 0, { then: 'resume' }), 'CONNECT')).toBeUndefined();
  });

  it('pageshow during a pagehide handshake resumes; pagehide during a resume suspends again; other signals are ignored', () => {
    expect(run(s('closing', 0, { then: 'suspend' }), 'SIGNAL', ['pageshow', undefined])).toMatchObject({ to: { then: 'resume' }, keep: true });
    expect(run(s('closing', 0, { then: 'resume' }), 'SIGNAL', ['pagehide', undefined])).toMatchObject({ to: { then: 'suspend' }, keep: true });
    for (const signal of ['online', 'offline', 'visible', 'hidden'] as const) expect(run(s('closing', 0, { then: 'suspend' }), 'SIGNAL', [signal, undefined])).toBeUndefined();
  });

  it('RECONNECT drops the handshake for a new attempt 0; DISPOSE ends it', () => {
    expect(run(s('closing', 1, { then: 'stop' }), 'RECONNECT')).toMatchObject({ to: { name: 'connecting', attempt: 0 }, end: { cause: 'reconnect' } });
    expect(run(s('closing', 1, { then: 'stop' }), 'DISPOSE')).toMatchObject({ to: { name: 'closed', end: 'disposed' }, end: { cause: 'dispose' } });
  });
});

describe('closed', () => {
  const waiting = s('closed', 2, { retry: plan(2, 400) });
  const offline = s('closed', 2, { retry: plan(2, 400, 'offline') });
  const hidden = s('closed', 2, { retry: plan(2, 400, 'hidden') });
  const suspended = s('closed', 0, { retry: plan(0, 0, 'pagehide') });

  it('RETRY starts the planned retry unless something holds it', () => {
    expect(run(waiting, 'RETRY')).toEqual({ to: { name: 'connecting', attempt: 2 } });
    expect(run(offline, 'RETRY')).toBeUndefined();
    expect(run(s('closed', 0, { end: 'user' }), 'RETRY')).toBeUndefined();
  });

  it('CONNECT starts now, overriding any hold (navigator.onLine is often wrong), keeping the retry number; ignored once disposed', () => {
    for (const state of [waiting, offline, hidden, suspended]) expect(run(state, 'CONNECT')).toEqual({ to: { name: 'connecting', attempt: state.retry!.attempt } });
    for (const end of ['idle', 'user', 'policy'] as const) expect(run(s('closed', 3, { end }), 'CONNECT')).toEqual({ to: { name: 'connecting', attempt: 0 } });
    expect(run(s('closed', 3, { end: 'disposed' }), 'CONNECT')).toBeUndefined();
  });

  it('RECONNECT starts attempt 0 at once, held or not; ignored once disposed', () => {
    for (const state of [waiting, offline, suspended, s('closed', 3, { end: 'user' })]) expect(run(state, 'RECONNECT')).toEqual({ to: { name: 'connecting', attempt: 0 } });
    expect(run(s('closed', 3, { end: 'disposed' }), 'RECONNECT')).toBeUndefined();
  });

  it('CLOSE cancels a planned or held retry and turns idle into a user end; ignored once closed for good', () => {
    for (const state of [waiting, offline, suspended, s('closed', 0, { end: 'idle' })]) expect(run(state, 'CLOSE')).toEqual({ to: { name: 'closed', attempt: state.attempt, end: 'user' } });
    for (const end of ['user', 'policy', 'disposed'] as const) expect(run(s('closed', 1, { end }), 'CLOSE')).toBeUndefined();
  });

  it('DISPOSE → disposed (no connection to end); ignored when already disposed', () => {
    expect(run(waiting, 'DISPOSE')).toEqual({ to: { name: 'closed', attempt: 2, end: 'disposed' } });
    expect(run(s('closed', 1, { end: 'disposed' }), 'DISPOSE')).toBeUndefined();
  });

  describe('SIGNAL', () => {
    it('is ignored without a retry', () => {
      for (const signal of SIGNALS) for (const end of ['idle', 'user', 'policy', 'disposed'] as const) expect(run(s('closed', 0, { end }), 'SIGNAL', [signal, 'offline'])).toBeUndefined();
    });

    it('offline holds a waiting retry (attempt and delay kept) and replaces a hidden hold; ignored when already offline', () => {
      expect(run(waiting, 'SIGNAL', ['offline', 'offline'])).toEqual({ to: offline });
      expect(run(hidden, 'SIGNAL', ['offline', 'offline'])).toEqual({ to: offline });
      expect(run(offline, 'SIGNAL', ['offline', 'offline'])).toBeUndefined();
    });

    it('hidden holds a waiting retry only when the policy says the page holds it (pauseWhenHidden)', () => {
      expect(run(waiting, 'SIGNAL', ['hidden', 'hidden'])).toEqual({ to: hidden });
      expect(run(waiting, 'SIGNAL', ['hidden', undefined])).toBeUndefined();
      expect(run(offline, 'SIGNAL', ['hidden', 'hidden'])).toBeUndefined();
    });

    it('online and visible release a hold when nothing else holds it, or move it to what still does', () => {
      expect(run(offline, 'SIGNAL', ['online', undefined])).toEqual({ to: { name: 'connecting', attempt: 2 } });
      expect(run(hidden, 'SIGNAL', ['visible', undefined])).toEqual({ to: { name: 'connecting', attempt: 2 } });
      expect(run(offline, 'SIGNAL', ['online', 'hidden'])).toEqual({ to: hidden });
      expect(run(offline, 'SIGNAL', ['visible', 'offline'])).toBeUndefined();
      // A retry waiting on its timer starts at once when the network comes back.
      expect(run(waiting, 'SIGNAL', ['online', undefined])).toEqual({ to: { name: 'connecting', attempt: 2 } });
    });

    it('a pagehide suspension holds whatever the network does, until pageshow', () => {
      for (const signal of ['online', 'offline', 'visible', 'hidden', 'pagehide'] as const) expect(run(suspended, 'SIGNAL', [signal, undefined])).toBeUndefined();
      expect(run(suspended, 'SIGNAL', ['pageshow', undefined])).toEqual({ to: { name: 'connecting', attempt: 0 } });
      expect(run(suspended, 'SIGNAL', ['pageshow', 'offline'])).toEqual({ to: { ...suspended, retry: plan(0, 0, 'offline') } });
    });

    it('pagehide suspends a waiting or held retry', () => {
      for (const state of [waiting, offline, hidden]) expect(run(state, 'SIGNAL', ['pagehide', undefined])).toEqual({ to: { ...state, retry: { ...state.retry!, hold: 'pagehide' } } });
    });
  });
});
