import fc from 'fast-check';
import type { EnvironmentSignal } from '../../src/index.js';

// What one fuzz run is made of: a configuration (the socket's options and the world around it) and a list of
// steps. Both are plain data, so fast-check prints a counter-example as something a person can read and turn
// into a regression test, and shrinks it by dropping steps and simplifying values.

/** The events a hostile listener can be attached to. */
export type EventType = 'open' | 'message' | 'close' | 'error' | 'state' | 'reconnecting' | 'hold' | 'drop' | 'heartbeat' | 'end';
export const EVENT_TYPES: readonly EventType[] = ['open', 'message', 'close', 'error', 'state', 'reconnecting', 'hold', 'drop', 'heartbeat', 'end'];

/** What hostile user code does when it runs: throw, or call back into the socket. */
export type Reentry = 'throw' | 'close' | 'reconnect' | 'dispose' | 'send' | 'connect' | 'probe' | 'clearQueue';
const REENTRIES: readonly Reentry[] = ['throw', 'close', 'reconnect', 'dispose', 'send', 'connect', 'probe', 'clearQueue'];

/** User code the socket calls that is not a listener: option callbacks, codec, url provider, environment. */
export type CallbackName = 'url' | 'encode' | 'decode' | 'heartbeatMessage' | 'isPong' | 'shouldReconnect' | 'delay' | 'random' | 'isOnline' | 'isHidden';
/** Callback-specific misbehaviour on top of the re-entries: the url rejects, hangs or is bad; a number is NaN or huge. */
export type CallbackAct = Reentry | 'reject' | 'hang' | 'bad' | 'yes' | 'no' | 'nan' | 'huge';

export interface HeartbeatConfig {
  /** `protocol`: ws ping frames (none in a browser flavour); `message`: the string 'PING'; `messageFn`: a function returning it. */
  kind: 'protocol' | 'message' | 'messageFn';
  /** Pass `isPong: (data) => data === 'PONG'`. */
  isPong: boolean;
  intervalMs: number;
  timeoutMs: number;
  probeTimeoutMs: number;
  anyMessageIsAlive: boolean;
}

export interface Config {
  /** `browser`: FakeSocket (WHATWG); `ws`: FakeWsSocket (ping, terminate, on/off). */
  flavour: 'browser' | 'ws';
  /** A plain string, or a provider function (sync or async) that counts attempts. */
  url: 'string' | 'sync' | 'async';
  autoConnect: boolean;
  connectTimeoutMs: number;
  closeTimeoutMs: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** `default`: the option is left out, so the library's default jitter runs. */
  jitter: boolean | 'default';
  maxRetries: number;
  stableAfterMs: number;
  /** Pass a `shouldReconnect` / `delay` option (the default table / a small linear curve, unless a step arms misbehaviour). */
  shouldReconnect: boolean;
  delay: boolean;
  heartbeat: HeartbeatConfig | false;
  queue: { maxMessages?: number; maxBytes?: number; overflow: 'drop-oldest' | 'drop-newest' | 'reject'; queueWhileClosed: boolean; ttlMs?: number };
  /** Pass a pass-through codec (whose encode/decode steps may make hostile). */
  codec: boolean;
  pauseWhenHidden: boolean;
  /** `manual`: createManualEnvironment() behind a wrapper whose isOnline/isHidden steps may make throw; `none`: null. */
  environment: 'manual' | 'none';
  online: boolean;
  hidden: boolean;
  /** Pass the `signal` option (a step may abort it). */
  signal: boolean;
  /** The harness listens for `error` events (without it, a throwing listener is reported through console.error). */
  errorListener: boolean;
}

export type ServerEvent = 'open' | 'message' | 'pong' | 'error' | 'drop' | 'close';

export type Step =
  // user actions
  | { t: 'send'; pad: number; ttl?: number | 'bad' }
  | { t: 'close'; code: number; longReason?: true }
  | { t: 'reconnect' }
  | { t: 'connect' }
  | { t: 'dispose' }
  | { t: 'probe'; timeoutMs?: number }
  | { t: 'clearQueue' }
  | { t: 'opened'; abortable: boolean; timeoutMs?: number }
  | { t: 'messages'; abortable: boolean }
  | { t: 'abortWaits' }
  | { t: 'stopIterating' }
  | { t: 'abortOption' }
  // the world
  | { t: 'server'; ev: ServerEvent; code?: number; unclean?: true; data?: 'text' | 'pong' | 'binary' }
  | { t: 'autoPong'; on: boolean }
  | { t: 'fault'; send: boolean; close: boolean }
  | { t: 'ctorThrows' }
  | { t: 'env'; signal: EnvironmentSignal }
  | { t: 'time'; ms: number; chunks: number }
  | { t: 'flush'; rounds: number }
  // hostile user code, armed for the next occurrence(s)
  | { t: 'hook'; on: EventType; act: Reentry; times: number; code?: string }
  | { t: 'callback'; name: CallbackName; act: CallbackAct; times: number };

export interface Scenario {
  config: Config;
  steps: Step[];
}

// ── arbitraries ─────────────────────────────────────────────────────────────────────────────────────────────

const heartbeatArb: fc.Arbitrary<HeartbeatConfig> = fc.record({
  kind: fc.constantFrom('protocol', 'message', 'messageFn'),
  isPong: fc.boolean(),
  intervalMs: fc.constantFrom(300, 1000, 4000),
  timeoutMs: fc.constantFrom(200, 1000),
  probeTimeoutMs: fc.constantFrom(100, 500),
  anyMessageIsAlive: fc.boolean(),
});

const small = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });

export const configArb: fc.Arbitrary<Config> = fc.record({
  flavour: fc.constantFrom('ws', 'browser'),
  url: fc.constantFrom('sync', 'async', 'string'),
  autoConnect: fc.oneof({ arbitrary: fc.constant(true), weight: 5 }, { arbitrary: fc.constant(false), weight: 1 }),
  connectTimeoutMs: fc.constantFrom(1000, 200, 3000),
  closeTimeoutMs: fc.constantFrom(1000, 0, 100, 2500),
  initialDelayMs: fc.constantFrom(100, 0, 1000),
  maxDelayMs: fc.constantFrom(5000, 500),
  jitter: fc.constantFrom<boolean | 'default'>('default', false, true),
  maxRetries: fc.constantFrom(Infinity, 0, 1, 2, 4),
  stableAfterMs: fc.constantFrom(500, 0, 5000),
  shouldReconnect: fc.boolean(),
  delay: fc.boolean(),
  heartbeat: fc.oneof(fc.constant(false as const), heartbeatArb),
  queue: fc.record(
    {
      maxMessages: small(fc.integer({ min: 0, max: 5 })),
      maxBytes: small(fc.constantFrom(0, 8, 20, 64)),
      overflow: fc.constantFrom('drop-oldest', 'drop-newest', 'reject'),
      queueWhileClosed: fc.boolean(),
      ttlMs: small(fc.constantFrom(50, 1000)),
    },
    { requiredKeys: ['overflow', 'queueWhileClosed'] },
  ),
  codec: fc.boolean(),
  pauseWhenHidden: fc.boolean(),
  environment: fc.constantFrom('manual', 'none'),
  online: fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, { arbitrary: fc.constant(false), weight: 1 }),
  hidden: fc.oneof({ arbitrary: fc.constant(false), weight: 4 }, { arbitrary: fc.constant(true), weight: 1 }),
  signal: fc.boolean(),
  errorListener: fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 }),
});

const legalCode = fc.oneof(fc.constantFrom(1000, 1001), fc.integer({ min: 3000, max: 4999 }));
const SERVER_CLOSE_CODES = [1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 1015, 3000, 3003, 4000, 4999];
const ERROR_CODES = ['CLOSE_TIMEOUT', 'CONNECT_TIMEOUT', 'HEARTBEAT_TIMEOUT', 'PROVIDER_FAILED', 'SOCKET_ERROR', 'LISTENER_THREW', 'ENCODE_FAILED', 'SEND_FAILED'];

const CALLBACK_ACTS: Record<CallbackName, readonly CallbackAct[]> = {
  url: ['throw', 'reject', 'hang', 'bad', 'close', 'reconnect', 'dispose', 'connect', 'send'],
  encode: REENTRIES,
  decode: REENTRIES,
  heartbeatMessage: REENTRIES,
  isPong: REENTRIES,
  shouldReconnect: ['throw', 'yes', 'no', 'close', 'reconnect', 'dispose', 'connect', 'send'],
  delay: ['throw', 'nan', 'huge', 'close', 'reconnect', 'dispose', 'connect'],
  random: ['throw', 'nan', 'close', 'dispose'],
  isOnline: ['throw', 'close', 'reconnect', 'dispose', 'connect'],
  isHidden: ['throw', 'close', 'reconnect', 'dispose', 'connect'],
};

const times = fc.constantFrom(1, 2);

export const stepArbs = {
  send: fc.record({ t: fc.constant('send' as const), pad: fc.nat(24), ttl: small(fc.constantFrom<number | 'bad'>(100, 2000, 'bad')) }, { requiredKeys: ['t', 'pad'] }),
  close: fc.oneof(
    { arbitrary: legalCode.map((code) => ({ t: 'close' as const, code })), weight: 6 },
    { arbitrary: fc.constantFrom(999, 1002, 1004, 1005, 1006, 1015, 2999, 5000, 1000.5).map((code) => ({ t: 'close' as const, code })), weight: 1 },
    { arbitrary: fc.constant({ t: 'close' as const, code: 1000, longReason: true as const }), weight: 1 },
  ),
  reconnect: fc.constant({ t: 'reconnect' as const }),
  connect: fc.constant({ t: 'connect' as const }),
  dispose: fc.constant({ t: 'dispose' as const }),
  probe: fc.record({ t: fc.constant('probe' as const), timeoutMs: small(fc.constantFrom(50, 400, 0, -1)) }, { requiredKeys: ['t'] }),
  clearQueue: fc.constant({ t: 'clearQueue' as const }),
  opened: fc.record({ t: fc.constant('opened' as const), abortable: fc.boolean(), timeoutMs: fc.option(fc.constantFrom(300, 5000), { nil: undefined, freq: 4 }) }, { requiredKeys: ['t', 'abortable'] }),
  messages: fc.record({ t: fc.constant('messages' as const), abortable: fc.boolean() }),
  abortWaits: fc.constant({ t: 'abortWaits' as const }),
  stopIterating: fc.constant({ t: 'stopIterating' as const }),
  abortOption: fc.constant({ t: 'abortOption' as const }),
  server: fc.oneof(
    { arbitrary: fc.constant({ t: 'server' as const, ev: 'open' as const }), weight: 6 },
    { arbitrary: fc.constantFrom<'text' | 'pong' | 'binary'>('text', 'pong', 'binary').map((data) => ({ t: 'server' as const, ev: 'message' as const, data })), weight: 3 },
    { arbitrary: fc.constant({ t: 'server' as const, ev: 'pong' as const }), weight: 1 },
    { arbitrary: fc.constant({ t: 'server' as const, ev: 'error' as const }), weight: 1 },
    { arbitrary: fc.constant({ t: 'server' as const, ev: 'drop' as const }), weight: 2 },
    {
      arbitrary: fc
        .record({ code: small(fc.constantFrom(...SERVER_CLOSE_CODES)), unclean: small(fc.constant(true as const)) })
        .map(({ code, unclean }) => ({ t: 'server' as const, ev: 'close' as const, ...(code !== undefined && { code }), ...(unclean && { unclean }) })),
      weight: 3,
    },
  ),
  autoPong: fc.record({ t: fc.constant('autoPong' as const), on: fc.boolean() }),
  fault: fc.record({ t: fc.constant('fault' as const), send: fc.boolean(), close: fc.boolean() }),
  ctorThrows: fc.constant({ t: 'ctorThrows' as const }),
  env: fc.record({ t: fc.constant('env' as const), signal: fc.constantFrom<EnvironmentSignal>('online', 'offline', 'visible', 'hidden', 'pagehide', 'pageshow') }),
  time: fc.oneof(
    fc.record({ t: fc.constant('time' as const), ms: fc.integer({ min: 1, max: 600 }), chunks: fc.constant(1) }),
    fc.record({ t: fc.constant('time' as const), ms: fc.constantFrom(1000, 3000, 10_000, 70_000), chunks: fc.constantFrom(1, 4, 10) }),
  ),
  flush: fc.record({ t: fc.constant('flush' as const), rounds: fc.constantFrom(30, 1, 2) }),
  hook: fc
    .record({ on: fc.constantFrom(...EVENT_TYPES), act: fc.constantFrom(...REENTRIES), times, code: small(fc.constantFrom(...ERROR_CODES)) })
    .map(({ on, act, times, code }) => ({ t: 'hook' as const, on, act, times, ...(on === 'error' && code !== undefined && { code }) })),
  callback: fc
    .constantFrom(...(Object.keys(CALLBACK_ACTS) as CallbackName[]))
    .chain((name) => fc.record({ t: fc.constant('callback' as const), name: fc.constant(name), act: fc.constantFrom(...CALLBACK_ACTS[name]), times })),
} satisfies Record<string, fc.Arbitrary<Step>>;

export type StepKind = keyof typeof stepArbs;
export type Profile = { name: string; maxSteps: number; weights: Partial<Record<StepKind, number>> };

/** A scenario arbitrary whose step mix follows the profile's weights. */
export function scenarioArb(profile: Profile): fc.Arbitrary<Scenario> {
  const weighted = Object.entries(profile.weights)
    .filter(([, weight]) => weight! > 0)
    .map(([kind, weight]) => ({ arbitrary: stepArbs[kind as StepKind] as fc.Arbitrary<Step>, weight: weight! }));
  return fc.record({ config: configArb, steps: fc.array(fc.oneof(...weighted), { maxLength: profile.maxSteps, size: 'max' }) });
}

// ── rendering ───────────────────────────────────────────────────────────────────────────────────────────────

/** One step as a line a person can turn into test code. */
export function renderStep(step: Step): string {
  switch (step.t) {
    case 'send':
      return `socket.send(nextMessage(pad ${step.pad})${step.ttl === undefined ? '' : `, { ttlMs: ${step.ttl === 'bad' ? 0 : step.ttl} }`})`;
    case 'close':
      return `socket.close(${step.code}${step.longReason ? ", 'x'.repeat(124)" : ''})`;
    case 'probe':
      return `socket.probe(${step.timeoutMs ?? ''})`;
    case 'opened':
      return `opened(socket, {${step.abortable ? ' signal' : ''}${step.timeoutMs ? ` timeoutMs: ${step.timeoutMs}` : ''} })`;
    case 'messages':
      return `messages(socket, {${step.abortable ? ' signal' : ''} }) consumed in a loop`;
    case 'abortWaits':
      return 'abort the signal given to opened()/messages() so far';
    case 'stopIterating':
      return 'leave the oldest messages() loop early (return())';
    case 'abortOption':
      return 'abort the `signal` option';
    case 'server': {
      const args = step.ev === 'close' ? [step.code ?? '', step.unclean ? "'', false" : ''].filter(String).join(', ') : step.ev === 'message' ? step.data : '';
      return `newest.server${step.ev[0]!.toUpperCase()}${step.ev.slice(1)}(${args ?? ''})`;
    }
    case 'autoPong':
      return `newest.autoPong = ${step.on}`;
    case 'fault':
      return `newest socket: send() ${step.send ? 'throws' : 'works'}, close()/terminate() ${step.close ? 'throws' : 'works'}`;
    case 'ctorThrows':
      return 'the next WebSocket constructor call throws';
    case 'env':
      return `env.emit('${step.signal}')`;
    case 'time':
      return `vi.advanceTimersByTime(${step.ms})${step.chunks > 1 ? ` in ${step.chunks} chunks, microtasks flushed between` : ''}`;
    case 'flush':
      return `flush ${step.rounds} microtask round(s)`;
    case 'hook':
      return `socket.on('${step.on}', ${step.code ? `(for ${step.code}) ` : ''}=> ${step.act}) for the next ${step.times}`;
    case 'callback':
      return `option callback ${step.name} => ${step.act} for the next ${step.times} call(s)`;
    default:
      return `socket.${step.t}()`;
  }
}

/** The whole scenario, numbered, for a failure message. */
export function renderScenario({ config, steps }: Scenario): string {
  const lines = [`config: ${JSON.stringify(config, (_key, value) => (value === Infinity ? 'Infinity' : value))}`];
  steps.forEach((step, index) => lines.push(`  ${String(index + 1).padStart(3)}. ${renderStep(step)}`));
  return lines.join('\n');
}
