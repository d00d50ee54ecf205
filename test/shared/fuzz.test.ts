import { opened } from '../../src/index.js';
import fc from 'fast-check';
import { describe, it, vi } from 'vitest';
import { FakeSocket, healFakeSockets } from '../helpers/fake-socket.js';
import type { SendResult } from '../../src/index.js';
import { ResumableSocket, type ResumeDropReason } from '../../src/resume/index.js';
import type { ResumeSession } from '../../src/server/index.js';
import { SharedSocket } from '../../src/shared/index.js';
import { Tabs, type Tab } from './fake-tabs.js';
import { URL_A } from './handles.js';
import { LinkedServer, LinkedSocket } from './linked-server.js';

// A randomized test of SharedSocket across fake tabs: several tabs make handles, send, close, dispose, go into
// the back-forward cache and come back, crash without a word; the "server" accepts, drops and answers close
// handshakes and sends messages; the channel between tabs is slow and uneven (each message its own delay, up to
// 40 ms: slower than two lock hand-overs, which take microtasks here). Every run ends in a healthy world (every
// page shown, every handshake accepted), and then the promises of docs/shared.md are checked:
//
//   - every server message reaches every live handle once and in the order of its connection;
//   - every message a handle's send() accepted goes out to the server once, or is reported by exactly one
//     `drop` in that handle (never both); the only exception is the documented one, a leader that crashes
//     between sending a message and answering for it (one more copy, through the crashed tab's connection);
//   - each handle's messages reach the server in the order it sent them;
//   - no second connection starts before the previous one was closed on this side;
//   - every live handle ends up `open`, one of them leading, and opened() settles.
//
// In resume mode (`Socket: ResumableSocket`, the server helper of src/server behind the fake sockets, in memory:
// test/shared/linked-server.ts) the promises are the resume entry's, kept across tabs (docs/shared.md):
//
//   - every server message of the session the final connection continues reaches every handle that was live and
//     shown when it was sent (and still is) once, in order; no handle gets any server message twice;
//   - every message send() accepted ends in exactly one `delivered` or one `drop` in a live handle (at most one
//     in a handle that ended), and reaches the server at most once: once if delivered, never if dropped unsent;
//   - each handle's messages reach the server in the order it sent them.
//
// Fake timers (only timers and Date: the shared clock the handles order leaderships by stays real) make a run
// deterministic, so a seed and a path replay it. Environment variables:
//   SHARED_FUZZ_RUNS   runs (default 300, a few seconds)       SHARED_FUZZ_SEED   the seed (default 19019)
//   SHARED_FUZZ_PATH   replay a counter-example's path        SHARED_FUZZ_TRACE  print the steps and events with times
//   SHARED_FUZZ_ONLY   fail only on these kinds of violation (the [kind] before each), to hunt one of them
//   SHARED_FUZZ_STATS  print, per resume-mode run: sessions, resumed ones, sends, delivered, drops, server
//                      messages received by handles, messages the server got
// e.g. SHARED_FUZZ_RUNS=20000 SHARED_FUZZ_ONLY=send-twice nice npx vitest run test/shared/fuzz.test.ts

const RUNS = Number(process.env.SHARED_FUZZ_RUNS) > 0 ? Number(process.env.SHARED_FUZZ_RUNS) : 300;
const SEED = process.env.SHARED_FUZZ_SEED ? Number(process.env.SHARED_FUZZ_SEED) : 19_019;
const PATH = process.env.SHARED_FUZZ_PATH || undefined;
const ONLY = (process.env.SHARED_FUZZ_ONLY ?? '').split(',').filter(Boolean);
const SLOTS = 3;
const STATS: number[][] = [];

type Step =
  | { readonly k: 'open'; readonly tab: number }
  | { readonly k: 'send'; readonly h: number; readonly ttlMs?: number }
  | { readonly k: 'close' | 'dispose'; readonly h: number }
  | { readonly k: 'accept' | 'message' | 'drop' | 'answer' }
  | { readonly k: 'hide' | 'show' | 'trip' | 'crash' | 'unload'; readonly tab: number }
  | { readonly k: 'wait'; readonly ms: number };

interface Scenario {
  /** Seeds the channel delays. */
  readonly seed: number;
  readonly maxDelayMs: number;
  /** Whether a page in the back-forward cache gets channel messages at once (`live`) or when it is shown. */
  readonly hidden: 'live' | 'held';
  /** A queue of 3 messages (drops by overflow) instead of the default. */
  readonly smallQueue: boolean;
  /** The leader's connection is a ResumableSocket, against the server helper. */
  readonly resume: boolean;
  /**
   * Listeners send too: at every other server message and (a few times) at a `drop`; every other handle closes or
   * disposes itself from a `message` listener. (No send at `open`: what an `open` listener sends goes before the
   * backlog, by design, docs/reference.md.)
   */
  readonly reentrant: boolean;
  readonly steps: readonly Step[];
}

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant('open' as const), tab: fc.nat(SLOTS - 1) }) },
  { weight: 5, arbitrary: fc.record({ k: fc.constant('send' as const), h: fc.nat(7) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('send' as const), h: fc.nat(7), ttlMs: fc.integer({ min: 1, max: 100 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constantFrom('close' as const, 'dispose' as const), h: fc.nat(7) }) },
  { weight: 6, arbitrary: fc.record({ k: fc.constantFrom('accept' as const, 'message' as const, 'answer' as const) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('drop' as const) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constantFrom('hide' as const, 'show' as const), tab: fc.nat(SLOTS - 1) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('trip' as const), tab: fc.nat(SLOTS - 1) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constantFrom('crash' as const, 'unload' as const), tab: fc.nat(SLOTS - 1) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 60 }) }) },
);

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  seed: fc.nat(),
  maxDelayMs: fc.constantFrom(0, 5, 40),
  hidden: fc.constantFrom('live' as const, 'held' as const),
  smallQueue: fc.boolean(),
  resume: fc.boolean(),
  reentrant: fc.boolean(),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 60, size: 'max' }),
});

/** A handle sends its next message; the record comes first, so a listener sending from inside names its own after it. */
function sendFrom(handle: Handle, options?: { ttlMs?: number }): void {
  const record = { message: `${handle.name}-${handle.sends.length}`, result: 'queued' as SendResult };
  handle.sends.push(record);
  record.result = handle.socket.send(record.message, options);
}

/** A small seeded generator (mulberry32), so the channel delays replay with the scenario. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One handle and what it saw. */
interface Handle {
  readonly name: string;
  readonly tab: Tab;
  readonly socket: SharedSocket;
  /** Server messages delivered to it, in order. */
  readonly received: string[];
  /** Server messages it must get: sent on an open connection of a live leader while it was alive and shown. */
  readonly required: string[];
  readonly drops: { message: string; reason: ResumeDropReason; wasSent?: boolean }[];
  /** Resume mode: the messages the server acknowledged. */
  readonly delivered: string[];
  readonly sends: { message: string; result: SendResult }[];
  /** Closed, disposed or its tab gone: nothing more is owed to it. */
  isOver: boolean;
}

class World {
  readonly tabs: Tabs;
  readonly slots: (Tab | undefined)[] = Array.from({ length: SLOTS }, () => undefined);
  readonly handles: Handle[] = [];
  readonly gone = new Set<Tab>();
  /** Which tab held the lock when each connection was made. */
  readonly creators = new Map<FakeSocket, Tab | undefined>();
  readonly violations: string[] = [];
  /** The final checks run: no handle ends itself from a listener now. */
  isFinishing = false;
  readonly log: string[] = [];
  /** What the server sent on each connection, in order. */
  readonly #received = new Map<FakeSocket, string[]>();
  #serverCount = 0;
  readonly #start = Date.now();
  /** Resume mode: the server helper, the sessions it began, what it received, and what it sent to which session, owed to whom. */
  readonly linked: LinkedServer | undefined;
  readonly sessions: ResumeSession[] = [];
  readonly serverGot: string[] = [];
  readonly sentTo = new Map<string, { session: ResumeSession; owed: Set<Handle> }>();

  constructor(readonly scenario: Scenario) {
    if (scenario.resume) {
      const linked = (this.linked = new LinkedServer({ ackDelayMs: 20 }));
      linked.resume.on('error', () => {});
      linked.resume.on('session', ({ session }) => {
        this.sessions.push(session);
        session.on('message', ({ data }) => this.serverGot.push(data.toString()));
      });
    }
    const next = random(scenario.seed);
    this.tabs = new Tabs(() => Math.floor(next() * (scenario.maxDelayMs + 1)));
    this.tabs.holdWhileHidden = scenario.hidden === 'held';
    FakeSocket.onCreate = (socket) => {
      const earlier = FakeSocket.instances.filter((s) => s !== socket && (s.readyState === FakeSocket.CONNECTING || s.readyState === FakeSocket.OPEN));
      if (earlier.length) this.violations.push(`[overlap] a connection was made while ${earlier.length} other(s) were still connecting or open`);
      this.creators.set(socket, this.tabs.holders()[0]);
    };
  }

  /** The newest connection in one of these states. */
  newest(...states: number[]): FakeSocket | undefined {
    return [...FakeSocket.instances].reverse().find((s) => states.includes(s.readyState));
  }

  tab(slot: number): Tab {
    return (this.slots[slot] ??= this.tabs.open());
  }

  handle(h: number): Handle | undefined {
    const live = this.handles.filter((x) => !x.isOver && !x.tab.isHidden);
    return live.length ? live[h % live.length] : undefined;
  }

  async step(step: Step): Promise<void> {
    this.log.push(`${Date.now() - this.#start} ms step ${JSON.stringify(step)}`);
    switch (step.k) {
      case 'open': {
        const tab = this.tab(step.tab);
        if (tab.isHidden) return;
        const name = `h${this.handles.length}`;
        const socket = new SharedSocket(URL_A, {
          WebSocket: this.linked ? LinkedSocket : FakeSocket,
          ...(this.linked && { Socket: ResumableSocket, resume: { ackDelayMs: 20 } }),
          heartbeat: false,
          environment: null,
          debug: () => {},
          connectTimeoutMs: 400,
          closeTimeoutMs: 300,
          initialDelayMs: 50,
          maxDelayMs: 400,
          jitter: false,
          coordination: tab.coordination,
          ...(this.scenario.smallQueue && { queue: { maxMessages: 3 } }),
        });
        const handle: Handle = { name, tab, socket, received: [], required: [], drops: [], delivered: [], sends: [], isOver: false };
        socket.on('message', ({ data }) => handle.received.push(String(data)));
        socket.on('drop', ({ message, reason, wasSent }) => handle.drops.push({ message: String(message), reason, wasSent }));
        socket.on('delivered', ({ message }) => handle.delivered.push(String(message)));
        socket.on('error', () => {});
        if (this.scenario.reentrant) {
          // Calls from listeners, checked by the same promises: the message is recorded with what send() said.
          const send = () => sendFrom(handle);
          let heard = 0;
          let resent = 0;
          // And every other handle ends itself from a listener, at its first server message: one closes, the next disposes.
          const ending = this.handles.length % 4;
          socket.on('message', () => {
            if (++heard % 2 === 0) send();
            if ((ending === 1 || ending === 3) && heard === 1 && !this.isFinishing) {
              handle.isOver = true;
              if (ending === 1) void socket.close();
              else socket.dispose();
            }
          });
          socket.on('drop', () => resent++ < 3 && send());
        }
        for (const type of ['state', 'close'] as const) {
          socket.on(type, (event: object) => this.log.push(`${Date.now() - this.#start} ms ${name} ${type} ${JSON.stringify(event)} leader=${socket.isLeader}`));
        }
        this.handles.push(handle);
        return;
      }
      case 'send': {
        const handle = this.handle(step.h);
        if (!handle) return;
        sendFrom(handle, step.ttlMs === undefined ? undefined : { ttlMs: step.ttlMs });
        return;
      }
      case 'close':
      case 'dispose': {
        const handle = this.handle(step.h);
        if (!handle) return;
        handle.isOver = true;
        if (step.k === 'close') void handle.socket.close();
        else handle.socket.dispose();
        return;
      }
      case 'accept': {
        const socket = this.newest(FakeSocket.CONNECTING);
        return socket && this.accept(socket);
      }
      case 'message': {
        if (this.linked) {
          // To the session of the moment (the newest one not ended), connected or waiting for its client.
          const session = [...this.sessions].reverse().find((s) => !s.isEnded);
          if (!session) return;
          const text = `s${this.#serverCount++}`;
          this.sentTo.set(text, { session, owed: new Set(this.handles.filter((h) => !h.isOver && !h.tab.isHidden)) });
          session.send(text);
          return;
        }
        const socket = this.newest(FakeSocket.OPEN, FakeSocket.CLOSING);
        if (!socket) return;
        const text = `s${this.#serverCount++}`;
        // Owed to every live, shown handle when a live leader holds this connection open; messages that arrive
        // while the leader closes are relayed too, but not owed (the leader may be a page going away).
        if (socket.readyState === FakeSocket.OPEN && !this.gone.has(this.creators.get(socket)!)) {
          for (const handle of this.handles) if (!handle.isOver && !handle.tab.isHidden) handle.required.push(text);
        }
        this.#received.set(socket, [...this.sentBy(socket), text]);
        socket.serverMessage(text);
        return;
      }
      case 'drop':
        return this.newest(FakeSocket.OPEN)?.serverDrop();
      case 'answer':
        for (const socket of FakeSocket.instances) if (socket.readyState === FakeSocket.CLOSING) socket.serverClose();
        return;
      case 'hide': {
        const tab = this.slots[step.tab];
        if (tab && !tab.isHidden) tab.pagehide(true);
        return;
      }
      case 'show': {
        const tab = this.slots[step.tab];
        if (tab?.isHidden) tab.pageshow();
        return;
      }
      case 'trip': {
        // Into the back-forward cache and straight back: the page asks for the lock again at once.
        const tab = this.slots[step.tab];
        if (tab && !tab.isHidden) tab.trip();
        return;
      }
      case 'crash':
      case 'unload': {
        const tab = this.slots[step.tab];
        if (!tab) return;
        if (step.k === 'unload' && !tab.isHidden) tab.pagehide(false);
        this.kill(tab);
        return;
      }
      case 'wait':
        await vi.advanceTimersByTimeAsync(step.ms);
        return;
    }
  }

  /** The tab is gone (crashed, evicted or closed): none of its code runs again (see `Tab.crash`). */
  kill(tab: Tab): void {
    const mine = this.handles.filter((handle) => handle.tab === tab);
    for (const handle of mine) handle.isOver = true;
    this.gone.add(tab);
    this.slots[this.slots.indexOf(tab)] = undefined;
    tab.crash(...mine.map((handle) => handle.socket));
  }

  /** The server accepts a connection (in resume mode the helper picks the subprotocol and takes it). */
  accept(socket: FakeSocket): void {
    if (this.linked) this.linked.accept(socket);
    else socket.serverOpen();
  }

  /** The world heals: every page is shown, every handshake accepted, every close answered, time passes. */
  async heal(ms: number): Promise<void> {
    for (const tab of this.slots) if (tab?.isHidden) tab.pageshow();
    await healFakeSockets(ms, (socket) => this.accept(socket));
  }

  async finish(): Promise<void> {
    this.isFinishing = true;
    await this.heal(5000);
    const live = this.handles.filter((h) => !h.isOver);
    const waits = live.map((h) => opened(h.socket, { timeoutMs: 2000 }).then(() => 'open', (error: { code: string }) => error.code));
    for (const handle of live) {
      sendFrom(handle);
    }
    // And the server speaks once more: every live handle must hear it.
    for (let i = 0; i < 3; i++) await this.step({ k: 'message' });
    await this.heal(2500);
    const settled = await Promise.all(waits);
    this.check(live, settled);
  }

  check(live: Handle[], settled: string[]): void {
    if (this.linked) this.checkResume();
    else this.checkPlain();
    const v = this.violations;
    live.forEach((handle, i) => {
      if (settled[i] !== 'open') v.push(`[hang] ${handle.name}: opened() ended with ${settled[i]}`);
      if (handle.socket.state !== 'open') v.push(`[hang] ${handle.name}: state ${handle.socket.state} at the end (leader: ${handle.socket.isLeader})`);
    });
    const leaders = live.filter((h) => h.socket.isLeader);
    if (live.length && leaders.length !== 1) v.push(`[leaders] ${leaders.length} live handles lead at the end`);
    if (FakeSocket.uncaught.length) v.push(`[uncaught] ${FakeSocket.uncaught.map(String).join('; ')}`);
  }

  /** The promises of the resume entry, across tabs (see the top of this file). */
  checkResume(): void {
    const v = this.violations;
    // The session the final connection continues: the one its server end is attached to.
    const final = this.sessions.find((session) => session.isConnected && (session.socket as unknown as { client: FakeSocket }).client === this.newest(FakeSocket.OPEN));
    for (const handle of this.handles) {
      const who = `${handle.name}${handle.isOver ? ' (ended)' : ''}`;
      if (new Set(handle.received).size !== handle.received.length) v.push(`[message-twice] ${who} got a server message twice: ${handle.received}`);
      const bySession = new Map<ResumeSession | undefined, number[]>();
      for (const text of handle.received) {
        const session = this.sentTo.get(text)?.session;
        const order = bySession.get(session) ?? bySession.set(session, []).get(session)!;
        if (order.length && this.serverIndex(text) < order.at(-1)!) v.push(`[message-order] ${who} got ${text} after s${order.at(-1)} (one session)`);
        order.push(this.serverIndex(text));
      }
      if (!handle.isOver && final) {
        const owed = [...this.sentTo].filter(([, { session, owed }]) => session === final && owed.has(handle)).map(([text]) => text);
        const missing = owed.filter((text) => !handle.received.includes(text));
        if (missing.length) v.push(`[message-lost] ${who} never got ${missing.join(', ')} (got ${handle.received.join(', ') || 'nothing'})`);
      }
      let lastSent = -1;
      for (const { message, result } of handle.sends) {
        const copies = this.serverGot.filter((text) => text === message).length;
        const delivered = handle.delivered.filter((text) => text === message).length;
        const drops = handle.drops.filter((d) => d.message === message);
        const what = `${who}: ${message} (send() said ${result}) reached the server ${copies} time(s), delivered ${delivered}, dropped ${JSON.stringify(drops.map((d) => [d.reason, d.wasSent]))}`;
        if (result !== 'sent' && result !== 'queued') {
          if (copies) v.push(`[send-refused-sent] ${what}`);
          continue;
        }
        if (copies > 1 || delivered + drops.length > 1) v.push(`[send-twice] ${what}`);
        else if (delivered && !copies) v.push(`[send-lost] ${what}: delivered, never received`);
        else if (drops[0] && !drops[0].wasSent && copies) v.push(`[send-refused-sent] ${what}: dropped unsent, received`);
        else if (!handle.isOver && !delivered && !drops.length) v.push(`[send-lost] ${what}: never settled`);
        const first = this.serverGot.indexOf(message);
        if (first !== -1) {
          if (first < lastSent) v.push(`[send-order] ${who}: ${message} reached the server out of order`);
          lastSent = first;
        }
      }
    }
  }

  /** The promises of docs/shared.md for a plain connection (see the top of this file). */
  checkPlain(): void {
    const v = this.violations;
    // Server order: connections in the order they were made (they never overlap), each one's frames in order.
    const outgoing = FakeSocket.instances.flatMap((socket) => socket.sent.map((data) => ({ data: String(data), socket })));
    const incoming = new Map<string, FakeSocket>();
    for (const socket of FakeSocket.instances) for (const text of this.sentBy(socket)) incoming.set(text, socket);

    for (const handle of this.handles) {
      const who = `${handle.name}${handle.isOver ? ' (ended)' : ''}`;
      if (new Set(handle.received).size !== handle.received.length) v.push(`[message-twice] ${who} got a server message twice: ${handle.received}`);
      const order = handle.received.map((text) => this.serverIndex(text));
      for (let i = 1; i < order.length; i++) {
        const [a, b] = [handle.received[i - 1]!, handle.received[i]!];
        if (incoming.get(a) === incoming.get(b) && order[i]! < order[i - 1]!) v.push(`[message-order] ${who} got ${b} before ${a} (one connection)`);
      }
      if (!handle.isOver) {
        const missing = handle.required.filter((text) => !handle.received.includes(text));
        if (missing.length) v.push(`[message-lost] ${who} never got ${missing.join(', ')} (got ${handle.received.join(', ') || 'nothing'})`);
      }

      let lastSent = -1;
      for (const { message, result } of handle.sends) {
        const copies = outgoing.filter((o) => o.data === message);
        const viaLive = copies.filter((o) => !this.gone.has(this.creators.get(o.socket)!)).length;
        const drops = handle.drops.filter((d) => d.message === message).length;
        const what = `${who}: ${message} (send() said ${result}) went out ${copies.length} time(s), dropped ${drops} time(s)`;
        if (result !== 'sent' && result !== 'queued') {
          if (copies.length) v.push(`[send-refused-sent] ${what}`);
          continue;
        }
        if (viaLive > 1 || copies.length - viaLive > 1 || drops > 1 || (drops === 1 && viaLive > 0)) v.push(`[send-twice] ${what}`);
        else if (!handle.isOver && copies.length === 0 && drops === 0) v.push(`[send-lost] ${what}: lost`);
        const first = outgoing.findIndex((o) => o.data === message);
        if (first !== -1) {
          if (first < lastSent) v.push(`[send-order] ${who}: ${message} reached the server out of order`);
          lastSent = first;
        }
      }
    }
  }

  /** What the server sent on a connection, in order. */
  sentBy(socket: FakeSocket): string[] {
    return this.#received.get(socket) ?? [];
  }

  serverIndex(text: string): number {
    return Number(text.slice(1));
  }

  dispose(): void {
    for (const handle of this.handles) handle.socket.dispose();
  }
}

async function run(scenario: Scenario): Promise<void> {
  FakeSocket.reset();
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  const world = new World(scenario);
  try {
    for (const step of scenario.steps) {
      await world.step(step);
      await vi.advanceTimersByTimeAsync(0);
    }
    await world.finish();
  } finally {
    world.dispose();
    await vi.advanceTimersByTimeAsync(1000).catch(() => {});
    vi.useRealTimers();
    FakeSocket.reset();
  }
  if (world.linked && process.env.SHARED_FUZZ_STATS) {
    const sum = (f: (h: Handle) => number) => world.handles.reduce((n, h) => n + f(h), 0);
    STATS.push([world.sessions.length, world.sessions.filter((x) => x.recovered).length, sum((h) => h.sends.length), sum((h) => h.delivered.length), sum((h) => h.drops.length), sum((h) => h.received.length), world.serverGot.length]);
  }
  const violations = ONLY.length ? world.violations.filter((v) => ONLY.some((kind) => v.startsWith(`[${kind}]`))) : world.violations;
  if (violations.length) {
    const { steps, ...config } = scenario;
    const trace = process.env.SHARED_FUZZ_TRACE ? `\n\ntrace:\n${world.log.join('\n')}` : '';
    throw new Error(`${violations.join('\n')}\n\nconfig ${JSON.stringify(config)}\nsteps:\n${steps.map((s, i) => `  ${i}: ${JSON.stringify(s)}`).join('\n')}${trace}`);
  }
}

describe('SharedSocket: randomized tabs, slow channels, back-forward cache, crashes', () => {
  it(
    'every promise of docs/shared.md holds after each run',
    async () => {
      await fc.assert(fc.asyncProperty(scenarioArb, run), { seed: SEED, numRuns: RUNS, ...(PATH && { path: PATH }) });
      if (process.env.SHARED_FUZZ_STATS) console.log('sessions, recovered, sends, delivered, drops, received, server got\n' + STATS.map((r) => r.join(' ')).join('\n'));
    },
    600_000,
  );
});
