import { vi } from 'vitest';
import { FakeSocket, flushMicrotasks } from '../helpers/fake-socket.js';
import { checkAlways, checkQuiescent, isFinal } from './invariants.js';
import { renderScenario, renderStep, scenarioArb, type Profile, type Scenario, type Step } from './scenario.js';
import { newest, unborn } from './sockets.js';
import { World, type Violation } from './world.js';

// The model-based fuzz of ReconnectingSocket: runs one scenario (a configuration and a list of steps) against
// the real class on the scripted fake socket under fake timers, checking the invariants of README.md after
// every step. The command model is in scenario.ts, the world driver in world.ts, the checks in invariants.ts.

export { scenarioArb, renderScenario, type Profile, type Scenario };

/** The fake clock starts here, so `Date.now()` values in a trace are the same from run to run. */
const EPOCH = Date.UTC(2030, 0, 1);

/** Wall-clock time, taken before any test installs fake timers (fast-check's shrink budget needs the real one). */
export const realNow: () => number = performance.now.bind(performance);

/** Step mixes: each profile leans on one area so that a failure in one does not hide the others. */
export const PROFILES: Profile[] = [
  {
    name: 'everything',
    maxSteps: 80,
    weights: { send: 6, close: 3, reconnect: 2, connect: 2, dispose: 1, probe: 1, clearQueue: 1, opened: 2, messages: 1, abortWaits: 1, stopIterating: 1, abortOption: 1, server: 12, autoPong: 1, fault: 1, ctorThrows: 1, env: 3, time: 8, flush: 8, hook: 4, callback: 3 },
  },
  {
    name: 'reentrancy',
    maxSteps: 60,
    weights: { hook: 10, callback: 8, server: 10, time: 6, flush: 6, send: 4, close: 2, reconnect: 1, connect: 1, env: 2, opened: 1, messages: 1, fault: 1 },
  },
  {
    name: 'messaging',
    maxSteps: 80,
    weights: { send: 12, server: 10, time: 6, flush: 6, clearQueue: 2, close: 2, reconnect: 2, connect: 1, hook: 3, callback: 2, fault: 2, messages: 2, env: 1, probe: 1 },
  },
  {
    name: 'lifecycle',
    maxSteps: 80,
    weights: { close: 5, reconnect: 4, connect: 4, dispose: 1, server: 12, env: 6, time: 10, flush: 8, opened: 3, messages: 2, abortWaits: 2, hook: 3, callback: 2, ctorThrows: 1, fault: 1, abortOption: 1, send: 2 },
  },
];

/** Thrown when an invariant breaks; its message is the whole story (scenario, trace, how to replay). */
export class FuzzFailure extends Error {
  override readonly name = 'FuzzFailure';

  constructor(
    message: string,
    readonly violations: Violation[],
  ) {
    super(message);
  }
}

const LEGAL_CLOSE = (code: number) => code === 1000 || code === 1001 || (Number.isInteger(code) && code >= 3000 && code <= 4999);

/**
 * Runs one scenario and throws a FuzzFailure at the first step after which an invariant does not hold
 * (violations whose id or `invN` is in `skip` are tolerated, so a long run can look past known bugs).
 */
export async function runScenario(scenario: Scenario, skip: ReadonlySet<string> = new Set()): Promise<World> {
  FakeSocket.reset();
  vi.useFakeTimers({ now: EPOCH });
  let world: World | undefined;
  const errorSpy = vi.spyOn(console, 'error').mockImplementation((first: unknown) => world?.onConsoleError(first));
  // The one-time "add an error listener" warning is documented behaviour; keep it out of the output.
  const warnSpy = vi.spyOn(console, 'warn').mockImplementation(() => {});
  const onEscaped = (error: unknown) => world?.violate(1, 'escaped', `an error escaped to the process: ${String(error)}`);
  process.on('unhandledRejection', onEscaped);
  process.on('uncaughtException', onEscaped);
  try {
    world = new World(scenario.config);
    const current = world;
    FakeSocket.onCreate = (inner) => {
      if (current.ctorThrows === 0) return;
      current.ctorThrows--;
      unborn.add(inner);
      throw new Error('fuzz: the WebSocket constructor throws');
    };
    for (const [index, step] of scenario.steps.entries()) {
      world.step = String(index + 1);
      world.log(renderStep(step));
      // Only flush and time steps yield to the microtask queue: other steps run back to back, as user code would.
      const outcome = execute(world, step);
      const isQuiet = typeof outcome === 'boolean' ? outcome : await outcome;
      checkAlways(world, isQuiet);
      if (isQuiet) await checkQuiescent(world);
      throwIfBroken(world, scenario, skip);
    }
    await ending(world);
    throwIfBroken(world, scenario, skip);
    return world;
  } finally {
    FakeSocket.onCreate = undefined;
    try {
      world?.socket.dispose();
    } catch {
      // Already reported when it mattered; the next run needs a clean slate.
    }
    errorSpy.mockRestore();
    warnSpy.mockRestore();
    vi.useRealTimers();
    // One macrotask turn, so an escaped rejection surfaces in this run and the test runner's RPC can breathe.
    await new Promise((resolve) => setImmediate(resolve));
    process.off('unhandledRejection', onEscaped);
    process.off('uncaughtException', onEscaped);
  }
}

/** The clean ending of every run: hostile code disarmed, close() must finish for good, then dispose(). */
async function ending(world: World): Promise<void> {
  const { socket, config } = world;
  world.step = 'end: quiet';
  world.disarm();
  await flushMicrotasks(30);
  world.started = true;
  checkAlways(world, true);
  await checkQuiescent(world);
  if (!socket.isDisposed) {
    world.step = 'end: close()';
    world.close(1000, 'fuzz over');
    const bound = config.closeTimeoutMs + config.connectTimeoutMs;
    for (let i = 0; i < 10; i++) {
      advance(world, Math.ceil(bound / 10) + 1);
      await flushMicrotasks(30);
    }
    checkAlways(world, true);
    await checkQuiescent(world);
    if (!isFinal(socket)) world.violate(9, 'close-not-final', `close() with no hostile code around left the socket ${socket.state} after ${bound} ms, not closed for good`);
  }
  world.step = 'end: dispose()';
  world.call('dispose', () => socket.dispose());
  await flushMicrotasks(30);
  checkAlways(world, true);
  await checkQuiescent(world);
}

function advance(world: World, ms: number): void {
  try {
    vi.advanceTimersByTime(ms);
  } catch (error) {
    world.violate(1, 'timer-threw', `a timer callback threw: ${String(error)}`);
  }
}

/** A documented misuse must throw and change nothing observable. */
function expectMisuse(world: World, what: string, call: () => void, isExpected: (error: unknown) => boolean): void {
  const { socket } = world;
  const snapshot = () =>
    JSON.stringify([socket.state, socket.attempt, socket.retry, socket.queued.length, socket.isDisposed, vi.getTimerCount(), FakeSocket.instances.length, world.closeEvents, world.openEvents, world.drops.size, world.seenErrors.size, world.lastTo]);
  const before = snapshot();
  try {
    call();
    world.violate(1, `misuse-accepted:${what}`, `${what} did not throw`);
  } catch (error) {
    if (!isExpected(error)) world.violate(1, `misuse-wrong-error:${what}`, `${what} threw ${String(error)}`);
  }
  if (snapshot() !== before) world.violate(1, `misuse-changed-state:${what}`, `${what} threw but changed the socket: ${before} -> ${snapshot()}`);
}

const isRangeOrType = (error: unknown) => error instanceof RangeError || error instanceof TypeError;

/** Performs one step; returns whether the microtask queue has drained afterwards (quiescent checks apply). */
function execute(world: World, step: Step): boolean | Promise<boolean> {
  const { socket } = world;
  switch (step.t) {
    case 'send':
      if (step.ttl === 'bad') expectMisuse(world, 'send(data, { ttlMs: 0 })', () => socket.send('bad-ttl', { ttlMs: 0 }), (e) => e instanceof RangeError);
      else world.send(step.pad, step.ttl);
      return false;
    case 'close':
      if (LEGAL_CLOSE(step.code) && !step.longReason) world.close(step.code, '');
      else expectMisuse(world, `close(${step.code})`, () => void socket.close(step.code, step.longReason ? 'x'.repeat(124) : ''), isRangeOrType);
      return false;
    case 'reconnect':
      world.reconnect();
      return false;
    case 'connect':
      if (socket.isDisposed) expectMisuse(world, 'connect() after dispose()', () => socket.connect(), (e) => e instanceof Error);
      else world.connect();
      return false;
    case 'dispose':
      world.call('dispose', () => socket.dispose());
      return false;
    case 'probe':
      if (step.timeoutMs !== undefined && step.timeoutMs <= 0) expectMisuse(world, `probe(${step.timeoutMs})`, () => socket.probe(step.timeoutMs), (e) => e instanceof RangeError);
      else world.call('probe', () => socket.probe(step.timeoutMs));
      return false;
    case 'clearQueue':
      world.clearQueue();
      return false;
    case 'opened':
      world.opened(step.abortable, step.timeoutMs);
      return false;
    case 'messages':
      world.iterate(step.abortable);
      return false;
    case 'abortWaits':
      world.abortWaits();
      return false;
    case 'stopIterating':
      world.stopIterating();
      return false;
    case 'abortOption':
      world.optionSignal?.abort(new Error('fuzz: the signal option aborted'));
      return false;
    case 'server':
      server(world, step);
      return false;
    case 'autoPong': {
      const inner = newest();
      if (inner && 'autoPong' in inner) (inner as { autoPong: boolean }).autoPong = step.on;
      return false;
    }
    case 'fault': {
      const inner = newest();
      if (inner) Object.assign(inner, { sendThrows: step.send, closeThrows: step.close });
      return false;
    }
    case 'ctorThrows':
      world.ctorThrows++;
      return false;
    case 'env':
      try {
        world.env?.emit(step.signal);
      } catch (error) {
        world.violate(1, 'throw:env-signal', `env.emit('${step.signal}') threw ${String(error)}`);
      }
      return false;
    case 'time':
      return passTime(world, step.ms, step.chunks);
    case 'flush':
      world.started = true;
      return flushMicrotasks(step.rounds).then(() => step.rounds >= 30);
    case 'hook':
      world.armHook(step);
      return false;
    case 'callback':
      world.armCallback(step.name, step.act, step.times);
      return false;
  }
}

async function passTime(world: World, ms: number, chunks: number): Promise<boolean> {
  world.started = true;
  for (let i = 0; i < chunks; i++) {
    advance(world, Math.ceil(ms / chunks));
    await flushMicrotasks(30);
  }
  return true;
}

/** A world event on the newest inner socket, when its readyState allows it (otherwise nothing happens). */
function server(world: World, step: Extract<Step, { t: 'server' }>): void {
  const inner = newest();
  if (!inner) return;
  const state = inner.readyState;
  const isLive = state === FakeSocket.OPEN || state === FakeSocket.CLOSING;
  switch (step.ev) {
    case 'open':
      if (state === FakeSocket.CONNECTING) inner.serverOpen();
      break;
    case 'message':
      if (isLive) inner.serverMessage(step.data === 'pong' ? 'PONG' : step.data === 'binary' ? new Uint8Array([1, 2, 3]) : world.serverText());
      break;
    case 'pong':
      if (isLive && 'serverPong' in inner) (inner as { serverPong(): void }).serverPong();
      break;
    case 'error':
      if (state !== FakeSocket.CLOSED) inner.serverError();
      break;
    case 'drop':
      if (state !== FakeSocket.CLOSED) inner.serverDrop();
      break;
    case 'close':
      if (state !== FakeSocket.CLOSED) inner.serverClose(step.code, step.unclean ? '' : undefined, !step.unclean);
      break;
  }
}

function throwIfBroken(world: World, scenario: Scenario, skip: ReadonlySet<string>): void {
  const broken = world.violations.filter((v) => !skip.has(v.id) && !skip.has(`inv${v.inv}`));
  if (broken.length === 0) return;
  const [first] = broken;
  const lines = [
    `invariant ${first!.inv} broken at step ${first!.step}: ${first!.detail} [${first!.id}]`,
    ...broken.slice(1).map((v) => `also invariant ${v.inv} at step ${v.step}: ${v.detail} [${v.id}]`),
    '',
    renderScenario(scenario),
    '',
    'trace (most recent last):',
    ...world.trace.map((line) => `  ${line}`),
  ];
  if (world.debugLog.length > 0) lines.push('', 'debug hook (last 8):', ...world.debugLog.slice(-8).map((line) => `  ${line}`));
  throw new FuzzFailure(lines.join('\n'), broken);
}
