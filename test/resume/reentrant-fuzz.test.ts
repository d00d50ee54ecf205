import fc from 'fast-check';
import { describe, it, vi } from 'vitest';
import type { SendResult, StateName } from '../../src/index.js';
import { ResumableSocket, type ResumeDropReason, type ResumeSocketEvents } from '../../src/resume/index.js';
import type { ResumeSession } from '../../src/server/index.js';
import { FakeSocket, healFakeSockets } from '../helpers/fake-socket.js';
import { LinkedServer, LinkedSocket } from '../shared/linked-server.js';

// A randomized test of one ResumableSocket (no tabs) whose listeners call back into it. The server helper of
// src/server runs behind fake sockets, in memory (test/shared/linked-server.ts), under fake timers; it accepts,
// sends, drops connections, ends sessions, restarts (its sessions lost), hangs before a WELCOME and acknowledges
// late (its ackDelayMs).
// Meanwhile listeners of `open`, `message`, `delivered`, `drop`, `close`, `state`, `error` and `reconnecting` send
// (with and without ttlMs), close, connect, reconnect, clear the queue, dispose and throw, at the n-th event of their
// type (or every n-th).
// Every run ends in a healthy phase (every handshake accepted, every close answered, the socket connected again if
// a close stopped it, listeners quiet), then the client's promises (docs/protocol.md, "The client") are checked:
//
//   - every message send() accepted ends in exactly one `delivered` or one `drop`, never both, never none (close()
//     and dispose() report what they give up with `drop`s too); reaches the server at most once, once if delivered,
//     never if dropped unsent; and reaches it in send order. One send() refused never reaches it;
//   - every server message of the session the final connection continues reaches the client once, in order; no
//     server message reaches it twice, and each session's messages arrive in the order they were sent;
//   - no listener throws but on purpose (no other LISTENER_THREW, nothing uncaught), and no resume protocol error on
//     either side;
//   - events never nest: no listener of this socket runs while another of its listeners is still running;
//   - `state` events chain (each `from` is the previous `to`), and `open` comes while the stream says `open`;
//   - one `close` event per connection, and the dispose's `end` once, the last event heard;
//   - after dispose() (and the servers closed) no timer is left: vi.getTimerCount() is 0.
//
// Fake timers make a run deterministic, so a seed and a path replay it. Environment variables:
//   RESUME_FUZZ_RUNS   runs (default 1000, a few seconds)       RESUME_FUZZ_SEED   the seed (default 27_027)
//   RESUME_FUZZ_PATH   replay a counter-example's path        RESUME_FUZZ_TRACE  print the steps and events with times
//   RESUME_FUZZ_ONLY   fail only on these kinds of violation (the [kind] before each), to hunt one of them
//   RESUME_FUZZ_STEPS  steps per run, at most (default 50)
//   RESUME_FUZZ_STATS  print totals over the runs: sessions, resumed ones, calls from listeners, sends, delivered,
//                      drops by reason, server messages received, runs disposed before the end
// e.g. RESUME_FUZZ_RUNS=20000 RESUME_FUZZ_SEED=1 nice npx vitest run test/resume/reentrant-fuzz.test.ts

const RUNS = Number(process.env.RESUME_FUZZ_RUNS) > 0 ? Number(process.env.RESUME_FUZZ_RUNS) : 1000;
const SEED = process.env.RESUME_FUZZ_SEED ? Number(process.env.RESUME_FUZZ_SEED) : 27_027;
const PATH = process.env.RESUME_FUZZ_PATH || undefined;
const ONLY = (process.env.RESUME_FUZZ_ONLY ?? '').split(',').filter(Boolean);
const STEPS = Number(process.env.RESUME_FUZZ_STEPS) > 0 ? Number(process.env.RESUME_FUZZ_STEPS) : 50;
/** Calls from listeners per run, at most: a drop listener that sends into a full outbox would go on for ever. */
const MAX_REACTIONS = 60;
const STATS = new Map<string, number>();
const count = (key: string, n = 1) => STATS.set(key, (STATS.get(key) ?? 0) + n);

const EVENTS = ['open', 'message', 'delivered', 'drop', 'close', 'state', 'error', 'reconnecting'] as const;
type EventType = (typeof EVENTS)[number];
type Heard = EventType | 'end';
type Call = 'send' | 'sendTtl' | 'close' | 'connect' | 'reconnect' | 'dispose' | 'clearQueue' | 'throw';
/** What a listener throws on purpose (`throw`): it comes back as a LISTENER_THREW error, the only one allowed. */
const PURPOSE = 'thrown on purpose';

type Step =
  | { readonly k: 'send'; readonly ttlMs?: number }
  | { readonly k: 'close' | 'connect' | 'reconnect' | 'dispose' }
  | { readonly k: 'accept' | 'message' | 'drop' | 'answer' | 'end' | 'restart' | 'stall' }
  | { readonly k: 'wait'; readonly ms: number };

/** A listener of `on` makes `call` at the `nth` event of its type (or at every `nth`, with `every`). */
interface Reaction {
  readonly on: EventType;
  readonly nth: number;
  readonly every: boolean;
  readonly call: Call;
  readonly ttlMs: number;
}

interface Scenario {
  /** Listeners call back in (`reactions`); without it they only record. */
  readonly reentrant: boolean;
  readonly reactions: readonly Reaction[];
  /** The client's queue: 3 messages (drops by overflow) or the default, its overflow policy, queueWhileClosed. */
  readonly smallQueue: boolean;
  readonly overflow: 'drop-oldest' | 'drop-newest' | 'reject';
  readonly queueWhileClosed: boolean;
  readonly clientAckMs: number;
  /** Acknowledgements at once after this many messages, on each side (1: every message; 64: the default). */
  readonly ackEvery: number;
  /** The server acknowledges within this (late: 600 ms, longer than a connection often lives here). */
  readonly serverAckMs: number;
  /** The server keeps 4 messages for resending (it drops by overflow, the client sees `missed`). */
  readonly serverSmall: boolean;
  readonly steps: readonly Step[];
}

const callArb = fc.constantFrom<Call>('send', 'send', 'sendTtl', 'close', 'connect', 'reconnect', 'reconnect', 'dispose', 'clearQueue', 'throw');
const reactionArb: fc.Arbitrary<Reaction> = fc.record({
  on: fc.constantFrom(...EVENTS),
  nth: fc.integer({ min: 1, max: 3 }),
  every: fc.boolean(),
  call: callArb,
  ttlMs: fc.integer({ min: 1, max: 100 }),
});

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ k: fc.constant('send' as const) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('send' as const), ttlMs: fc.integer({ min: 1, max: 100 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constantFrom('close' as const, 'connect' as const, 'reconnect' as const) }) },
  { weight: 6, arbitrary: fc.record({ k: fc.constantFrom('accept' as const, 'message' as const, 'answer' as const) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constantFrom('message' as const, 'drop' as const) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constantFrom('end' as const, 'restart' as const, 'stall' as const) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 120 }) }) },
);

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  reentrant: fc.constantFrom(true, true, true, false),
  reactions: fc.array(reactionArb, { minLength: 1, maxLength: 8 }),
  smallQueue: fc.boolean(),
  overflow: fc.constantFrom('drop-oldest' as const, 'drop-newest' as const, 'reject' as const),
  queueWhileClosed: fc.boolean(),
  clientAckMs: fc.constantFrom(5, 20, 150),
  ackEvery: fc.constantFrom(1, 2, 64),
  serverAckMs: fc.constantFrom(5, 20, 150, 600),
  serverSmall: fc.boolean(),
  steps: fc.array(stepArb, { minLength: 1, maxLength: STEPS, size: 'max' }),
});

/** A message the client sent, with what send() said and what became of it. */
interface Sent {
  readonly message: string;
  result: SendResult;
  /** clearQueue() gave it back: nothing more is owed for it. */
  isCleared: boolean;
  /** Sent by an `open` listener, or a `state` listener for the move to `open`, of the n-th opening (else 0): it may go ahead of the backlog. */
  opening: number;
}

class World {
  readonly socket: ResumableSocket<string, string>;
  readonly violations: string[] = [];
  readonly log: string[] = [];
  readonly sends: Sent[] = [];
  readonly received: string[] = [];
  readonly delivered: string[] = [];
  readonly drops: { message: string; reason: ResumeDropReason; wasSent: boolean }[] = [];
  readonly errors: string[] = [];
  /** Every server (one per restart), the sessions they began, what they received (in order), what they sent to which session. */
  readonly servers: LinkedServer[] = [];
  readonly sessions: ResumeSession[] = [];
  readonly serverGot: string[] = [];
  readonly sentTo = new Map<string, ResumeSession>();
  /** Server messages the server gave up (overflow): the client may never see them. */
  readonly serverDropped = new Set<string>();
  isDisposedEarly = false;
  /** `close` events heard: one per attempt that started (each made a connection here). */
  closes = 0;
  /** `end` events heard: of a final close, and of the dispose (once, the last event). */
  readonly ends = { closed: 0, disposed: 0 };
  /** Connections the server upgraded and then never answered. */
  stalls = 0;
  /** The final checks run: listeners only record now. */
  isFinishing = false;
  /** Listeners of this socket running now, and the type of the innermost one. */
  #depth = 0;
  #running: string | undefined;
  #opening = 0;
  #opens = 0;
  #shown: StateName;
  reactions = 0;
  #serverCount = 0;
  readonly #counts = new Map<EventType, number>();
  readonly #start = Date.now();

  constructor(readonly scenario: Scenario) {
    this.startServer();
    const socket = (this.socket = new ResumableSocket<string, string>('ws://resume.test/', {
      WebSocket: LinkedSocket,
      heartbeat: false,
      environment: null,
      connectTimeoutMs: 400,
      closeTimeoutMs: 300,
      initialDelayMs: 50,
      maxDelayMs: 400,
      jitter: false,
      resume: { ackDelayMs: scenario.clientAckMs, ackEvery: scenario.ackEvery },
      queue: { overflow: scenario.overflow, queueWhileClosed: scenario.queueWhileClosed, ...(scenario.smallQueue && { maxMessages: 3 }) },
    }));
    this.#shown = socket.state;
    this.listen('open', (event) => {
      if (this.#shown !== 'open') this.violations.push(`[open-not-open] open went out after state ${this.#shown}`);
      this.trace('open', event);
    });
    this.listen('message', ({ data }) => this.received.push(data));
    this.listen('delivered', ({ message }) => this.delivered.push(message));
    this.listen('drop', ({ message, reason, wasSent }) => this.drops.push({ message, reason, wasSent }));
    this.listen('close', (event) => {
      this.closes++;
      this.trace('close', event);
    });
    this.listen('state', ({ from, to }) => {
      if (from !== this.#shown) this.violations.push(`[state-chain] state ${from} -> ${to} after ${this.#shown}`);
      this.#shown = to;
      if (to === 'open') this.#opens++;
      this.trace('state', `${from} -> ${to}`);
    });
    this.listen('end', ({ isDisposed }) => {
      this.ends[isDisposed ? 'disposed' : 'closed']++;
      this.trace('end', { isDisposed });
    });
    this.listen('error', ({ error }) => {
      this.errors.push(error.code);
      this.trace('error', error.message);
      const isPurpose = error.code === 'LISTENER_THREW' && (error.cause as Error | undefined)?.message === PURPOSE;
      if (['LISTENER_THREW', 'CALLBACK_THREW', 'RESUME_PROTOCOL', 'ENCODE_FAILED'].includes(error.code) ? !isPurpose : error.code === 'WELCOME_TIMEOUT' && !this.stalls) {
        this.violations.push(`[error] ${error.code}: ${error.message}`);
      }
    });
    // A second listener of each type, which calls back in: a call's events must wait for both to be done.
    for (const type of EVENTS) this.listen(type, () => this.react(type));
  }

  /** A listener that counts how deep listeners of this socket are nested (never: events go out one at a time). */
  listen<K extends Heard>(type: K, record: (event: ResumeSocketEvents<string, string>[K]) => void): void {
    this.socket.on(type, (event) => {
      // But a listener's throw, which goes out in its turn (as in the core): after the end, if the end came first.
      const isThrow = type === 'error' && (event as { error: { code: string } }).error.code === 'LISTENER_THREW';
      if (this.ends.disposed && !isThrow) this.violations.push(`[after-end] a ${type} event after the end of the dispose`);
      if (this.#depth > 0) this.violations.push(`[nested] a ${type} event went out while a ${this.#running} listener ran`);
      const [outer, wasOpening] = [this.#running, this.#opening];
      this.#depth++;
      this.#running = type;
      this.#opening = type === 'open' || (type === 'state' && (event as { to: string }).to === 'open') ? this.#opens : 0;
      try {
        record(event);
      } finally {
        this.#depth--;
        this.#running = outer;
        this.#opening = wasOpening;
      }
    });
  }

  react(type: EventType): void {
    const count = (this.#counts.get(type) ?? 0) + 1;
    this.#counts.set(type, count);
    if (!this.scenario.reentrant || this.isFinishing) return;
    for (const reaction of this.scenario.reactions) {
      if (reaction.on !== type || !(reaction.every ? count % reaction.nth === 0 : count === reaction.nth)) continue;
      if (++this.reactions > MAX_REACTIONS) return;
      this.trace(`${type} listener`, reaction.call);
      this.call(reaction.call, reaction.ttlMs);
    }
  }

  /** One of the socket's methods, as a user calls it (from a step or from a listener). */
  call(call: Call, ttlMs?: number): void {
    const socket = this.socket;
    switch (call) {
      case 'send':
      case 'sendTtl': {
        // The record comes first, so a listener sending from inside this send() names its own message after it.
        const sent: Sent = { message: `c${this.sends.length}`, result: 'queued', isCleared: false, opening: this.#opening };
        this.sends.push(sent);
        sent.result = socket.send(sent.message, call === 'sendTtl' ? { ttlMs } : undefined);
        return;
      }
      case 'close':
        void socket.close();
        return;
      // Misuse after dispose() throws (docs/reference.md): a user who disposed does not call these.
      case 'connect':
        if (!socket.isDisposed) socket.connect();
        return;
      case 'reconnect':
        if (!socket.isDisposed) socket.reconnect();
        return;
      case 'dispose':
        return socket.dispose();
      case 'clearQueue':
        for (const { message } of socket.clearQueue()) {
          const sent = this.sends.find((s) => s.message === message);
          if (sent) sent.isCleared = true;
        }
        return;
      case 'throw':
        // Not from an error listener (its throw goes to the runtime), nor from a step.
        if (this.#running && this.#running !== 'error') throw new Error(PURPOSE);
        return;
    }
  }

  trace(what: string, detail?: unknown): void {
    this.log.push(`${Date.now() - this.#start} ms ${what} ${detail === undefined ? '' : JSON.stringify(detail)}`);
  }

  get server(): LinkedServer {
    return this.servers.at(-1)!;
  }

  startServer(): void {
    const small = this.scenario.serverSmall ? { maxMessages: 4 } : {};
    const server = new LinkedServer({ ackDelayMs: this.scenario.serverAckMs, ackEvery: this.scenario.ackEvery, ...small });
    server.resume.on('error', ({ error }) => this.violations.push(`[server-error] ${error.code}: ${error.message}`));
    server.resume.on('session', ({ session }) => {
      this.sessions.push(session);
      this.trace('server: session', { recovered: session.recovered, index: this.sessions.length - 1 });
      session.on('message', ({ data }) => this.serverGot.push(data.toString()));
      session.on('drop', ({ data, reason }) => reason === 'overflow' && this.serverDropped.add(data.toString()));
    });
    this.servers.push(server);
  }

  /** The newest connection in one of these states. */
  newest(...states: number[]): FakeSocket | undefined {
    return [...FakeSocket.instances].reverse().find((s) => states.includes(s.readyState));
  }

  async step(step: Step): Promise<void> {
    this.trace('step', step);
    switch (step.k) {
      case 'send':
        return this.call(step.ttlMs === undefined ? 'send' : 'sendTtl', step.ttlMs);
      case 'close':
      case 'connect':
      case 'reconnect':
        return this.call(step.k);
      case 'dispose':
        return this.call('dispose');
      case 'accept': {
        const socket = this.newest(FakeSocket.CONNECTING);
        return socket && this.server.accept(socket);
      }
      case 'stall': {
        // The upgrade succeeds but no WELCOME follows: the client gives up after connectTimeoutMs (WELCOME_TIMEOUT).
        // Twice at most, so the client never reaches the three failures in a row that turn the protocol off.
        const socket = this.newest(FakeSocket.CONNECTING);
        if (!socket || this.stalls >= 2) return;
        this.stalls++;
        return this.server.stall(socket);
      }
      case 'message': {
        // To the session of the moment (the newest one not ended), connected or waiting for its client.
        const session = [...this.sessions].reverse().find((s) => !s.isEnded);
        if (!session) return;
        const text = `s${this.#serverCount++}`;
        if (session.send(text) !== 'closed') this.sentTo.set(text, session);
        return;
      }
      case 'drop':
        return this.newest(FakeSocket.OPEN, FakeSocket.CLOSING)?.serverDrop();
      case 'answer':
        for (const socket of FakeSocket.instances) if (socket.readyState === FakeSocket.CLOSING) socket.serverClose();
        return;
      case 'end':
        // The server ends the session: BYE, then its close.
        return [...this.sessions].reverse().find((s) => s.isConnected && !s.isEnded)?.close(1000, 'ended');
      case 'restart': {
        // The server process dies (its connections reset, its sessions gone) and a new one takes the port.
        for (const socket of FakeSocket.instances) if (socket.readyState === FakeSocket.OPEN || socket.readyState === FakeSocket.CLOSING) socket.serverDrop();
        this.server.resume.close();
        this.startServer();
        return;
      }
      case 'wait':
        await vi.advanceTimersByTimeAsync(step.ms);
        return;
    }
  }

  /** The world heals: every handshake accepted, every close answered, time passes. */
  heal(ms: number): Promise<void> {
    return healFakeSockets(ms, (socket) => this.server.accept(socket));
  }

  async finish(): Promise<void> {
    this.isFinishing = true;
    await this.heal(1000);
    const socket = this.socket;
    // A close() stopped it: the user starts it again.
    if (!socket.isDisposed && socket.state === 'closed' && !socket.retry) socket.connect();
    await this.heal(3000);
    if (!socket.isDisposed) {
      if (socket.state !== 'open') this.violations.push(`[hang] state ${socket.state} after the healthy phase`);
      if (socket.queued.length || socket.unacknowledged) this.violations.push(`[hang] ${socket.queued.length} queued, ${socket.unacknowledged} unacknowledged after the healthy phase`);
      this.call('send');
      for (let i = 0; i < 3; i++) await this.step({ k: 'message' });
    }
    await this.heal(3000);
    this.check();
    const wasDisposed = (this.isDisposedEarly = socket.isDisposed);
    socket.dispose();
    for (const server of this.servers) server.resume.close();
    await vi.advanceTimersByTimeAsync(0);
    if (this.closes !== FakeSocket.instances.length) this.violations.push(`[close-count] ${this.closes} close events for ${FakeSocket.instances.length} connections${wasDisposed ? ' (disposed from a listener or step)' : ''}`);
    if (this.ends.disposed !== 1) this.violations.push(`[end] ${this.ends.disposed} end events of the dispose`);
    const timers = vi.getTimerCount();
    if (timers) this.violations.push(`[timers] ${timers} timer(s) left after dispose()${wasDisposed ? ' (disposed from a listener or step)' : ''}`);
  }

  check(): void {
    const v = this.violations;
    // Server messages: once each, each session's in order, all of the final session's.
    if (new Set(this.received).size !== this.received.length) v.push(`[message-twice] the client got a server message twice: ${this.received}`);
    const last = new Map<ResumeSession | undefined, number>();
    for (const text of this.received) {
      const session = this.sentTo.get(text);
      const index = Number(text.slice(1));
      if (index < (last.get(session) ?? -1)) v.push(`[message-order] the client got ${text} after s${last.get(session)} (one session)`);
      last.set(session, index);
    }
    const final = this.socket.isDisposed ? undefined : this.sessions.find((s) => s.isConnected && !s.isEnded && (s.socket as unknown as { client: FakeSocket }).client === this.newest(FakeSocket.OPEN));
    if (!this.socket.isDisposed && !final) v.push('[hang] no session holds the final connection');
    if (final) {
      const owed = [...this.sentTo].filter(([text, session]) => session === final && !this.serverDropped.has(text)).map(([text]) => text);
      const missing = owed.filter((text) => !this.received.includes(text));
      if (missing.length) v.push(`[message-lost] the client never got ${missing.join(', ')} (got ${this.received.join(', ') || 'nothing'})`);
    }
    // The client's messages.
    for (const { message, result, isCleared } of this.sends) {
      const copies = this.serverGot.filter((text) => text === message).length;
      const delivered = this.delivered.filter((text) => text === message).length;
      const drops = this.drops.filter((d) => d.message === message);
      const what = `${message} (send() said ${result}${isCleared ? ', cleared' : ''}) reached the server ${copies} time(s), delivered ${delivered}, dropped ${JSON.stringify(drops.map((d) => [d.reason, d.wasSent]))}`;
      if (copies > 1) v.push(`[send-twice] ${what}`);
      if (result === 'dropped') {
        if (copies || delivered || drops.length !== 1) v.push(`[send-dropped] ${what}`);
        continue;
      }
      if (result !== 'sent' && result !== 'queued') {
        if (copies || delivered || drops.length) v.push(`[send-refused] ${what}`);
        continue;
      }
      if (isCleared) {
        if (copies || delivered || drops.length) v.push(`[send-cleared] ${what}`);
        continue;
      }
      if (delivered + drops.length > 1) v.push(`[settled-twice] ${what}`);
      else if (delivered + drops.length === 0) v.push(`[send-lost] ${what}: never settled`);
      else if (delivered && !copies) v.push(`[send-lost] ${what}: delivered, never received`);
      else if (drops[0] && !drops[0].wasSent && copies) v.push(`[send-refused] ${what}: dropped unsent, received`);
    }
    // In send order, but for what `open` and `state` listeners send as a connection opens: it goes ahead of the
    // messages that were waiting for that connection (docs/protocol.md, as in the core), those sent by the listeners
    // of an earlier opening included.
    const at = (message: string) => this.serverGot.indexOf(message);
    this.sends.forEach((later, j) => {
      if (at(later.message) === -1) return;
      for (const earlier of this.sends.slice(0, j)) {
        if (at(earlier.message) <= at(later.message)) continue;
        if (later.opening && earlier.result === 'queued' && earlier.opening < later.opening) continue;
        v.push(`[send-order] ${later.message} reached the server before ${earlier.message}`);
      }
    });
    if (FakeSocket.uncaught.length) v.push(`[uncaught] ${FakeSocket.uncaught.map(String).join('; ')}`);
  }
}

async function run(scenario: Scenario): Promise<void> {
  FakeSocket.reset();
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  let world: World | undefined;
  try {
    world = new World(scenario);
    for (const step of scenario.steps) {
      await world.step(step);
      await vi.advanceTimersByTimeAsync(0);
    }
    await world.finish();
  } finally {
    world?.socket.dispose();
    for (const server of world?.servers ?? []) server.resume.close();
    await vi.advanceTimersByTimeAsync(1000).catch(() => {});
    vi.useRealTimers();
    FakeSocket.reset();
  }
  if (process.env.RESUME_FUZZ_STATS) {
    count('runs');
    count('sessions', world.sessions.length);
    count('resumed', world.sessions.filter((s) => s.recovered).length);
    count('calls from listeners', world.reactions);
    count('sends', world.sends.length);
    count('delivered', world.delivered.length);
    for (const { reason } of world.drops) count(`drops ${reason}`);
    count('received', world.received.length);
    if (world.isDisposedEarly) count('disposed before the end');
  }
  const violations = ONLY.length ? world.violations.filter((v) => ONLY.some((kind) => v.startsWith(`[${kind}]`))) : world.violations;
  if (violations.length) {
    const { steps, ...config } = scenario;
    const trace = process.env.RESUME_FUZZ_TRACE ? `\n\ntrace:\n${world.log.join('\n')}` : '';
    throw new Error(`${[...new Set(violations)].join('\n')}\n\nconfig ${JSON.stringify(config)}\nsteps:\n${steps.map((s, i) => `  ${i}: ${JSON.stringify(s)}`).join('\n')}${trace}`);
  }
}

describe('ResumableSocket: randomized listeners that call back in, against a server that drops, restarts and acknowledges late', () => {
  it(
    'every promise of the resume client holds after each run',
    async () => {
      await fc.assert(fc.asyncProperty(scenarioArb, run), { seed: SEED, numRuns: RUNS, ...(PATH && { path: PATH }) });
      if (process.env.RESUME_FUZZ_STATS) console.log([...STATS].map(([key, n]) => `${key}: ${n}`).join('\n'));
    },
    600_000,
  );
});
