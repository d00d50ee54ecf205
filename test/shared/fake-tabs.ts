import type { ChannelLike, Coordination, LockManagerLike, PageLike } from '../../src/shared/index.js';

/**
 * Several "tabs" of one origin in one process: a Web Locks manager with the browser's FIFO grant order, and
 * BroadcastChannels that deliver a structured clone to every other open channel of the same name on a later
 * macrotask, in the order one sender posted them (what browsers promise), but with no order between senders.
 * `delayMs` makes the channel slow and uneven: each message waits a delay of its own (still behind the earlier
 * messages of its sender), so a leader's last messages can arrive after the lock has moved on twice.
 * `crash()` makes a tab vanish the way a killed renderer does: its locks are released and its channels go
 * silent, without any of its code running; what it had already posted still arrives. A tab's `pagehide()`,
 * `pageshow()` and `trip()` take its page into the back-forward cache and back (`holdWhileHidden`: a hidden page
 * gets its channel messages only when shown).
 */
export class Tabs {
  readonly #held = new Map<string, Request>();
  readonly #waiting = new Map<string, Request[]>();
  readonly #channels = new Set<FakeChannel>();
  /** Messages on their way from one channel to another, oldest first. */
  readonly #inFlight = new Map<FakeChannel, Map<FakeChannel, { at: number; data: unknown }[]>>();

  /**
   * Whether a page in the back-forward cache gets its channel messages only when it is shown again (a frozen
   * page runs no task), instead of at once.
   */
  holdWhileHidden = false;

  /**
   * How long each message travels from one tab to another, on top of the sender's `postDelayMs` (called once
   * per message and receiver); 0 by default. A test may replace it at any time.
   */
  delayMs: (from: Tab, to: Tab) => number;

  constructor(delayMs: (from: Tab, to: Tab) => number = () => 0) {
    this.delayMs = delayMs;
  }

  open(): Tab {
    return new Tab(this);
  }

  /** Names of the locks held now, and by which tab. */
  holder(name: string): Tab | undefined {
    return this.#held.get(name)?.tab;
  }

  /** The tabs that hold a lock now (one per lock name). */
  holders(): Tab[] {
    return [...this.#held.values()].map((request) => request.tab);
  }

  /** @internal */
  request(tab: Tab, name: string, signal: AbortSignal | undefined, callback: (lock: unknown) => Promise<void>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const abortError = () => Object.assign(new Error('aborted'), { name: 'AbortError' });
      if (signal?.aborted) return reject(abortError());
      const request: Request = { tab, name, callback, resolve, reject, isGranted: false };
      const queue = this.#waiting.get(name) ?? [];
      this.#waiting.set(name, [...queue, request]);
      signal?.addEventListener('abort', () => {
        if (request.isGranted) return;
        this.#waiting.set(name, (this.#waiting.get(name) ?? []).filter((r) => r !== request));
        reject(abortError());
      });
      this.#grant(name);
    });
  }

  #grant(name: string): void {
    if (this.#held.has(name)) return;
    const [next, ...rest] = this.#waiting.get(name) ?? [];
    if (!next) return;
    this.#waiting.set(name, rest);
    next.isGranted = true;
    this.#held.set(name, next);
    queueMicrotask(() => {
      Promise.resolve(next.callback({ name })).then(
        (value) => {
          if (this.#held.get(name) === next) this.#release(name);
          next.resolve(value);
        },
        (error) => {
          if (this.#held.get(name) === next) this.#release(name);
          next.reject(error);
        },
      );
    });
  }

  #release(name: string): void {
    this.#held.delete(name);
    this.#grant(name);
  }

  /** @internal */
  crash(tab: Tab): void {
    for (const [name, requests] of this.#waiting) this.#waiting.set(name, requests.filter((r) => r.tab !== tab));
    for (const [name, request] of [...this.#held]) if (request.tab === tab) this.#release(name);
    for (const channel of this.#channels) if (channel.tab === tab) channel.close();
  }

  /** @internal */
  join(channel: FakeChannel): void {
    this.#channels.add(channel);
  }

  /** @internal */
  leave(channel: FakeChannel): void {
    this.#channels.delete(channel);
  }

  /** @internal */
  post(from: FakeChannel, message: unknown): void {
    const data = structuredClone(message);
    const lanes = this.#inFlight.get(from) ?? this.#inFlight.set(from, new Map()).get(from)!;
    for (const channel of this.#channels) {
      if (channel === from || channel.name !== from.name) continue;
      const lane = lanes.get(channel) ?? lanes.set(channel, []).get(channel)!;
      // Never before an earlier message of the same sender: one sender's messages arrive in order.
      const at = Math.max(Date.now() + from.tab.postDelayMs + this.delayMs(from.tab, channel.tab), lane.at(-1)?.at ?? 0);
      const entry = { at, data };
      lane.push(entry);
      // Delivers what its sender posted before, then this one (a timer may fire ahead of an earlier one).
      setTimeout(() => {
        while (lane.includes(entry)) channel.deliver(lane.shift()!.data);
      }, at - Date.now());
    }
  }
}

interface Request {
  tab: Tab;
  name: string;
  callback: (lock: unknown) => Promise<void>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  isGranted: boolean;
}

class FakeChannel implements ChannelLike {
  onmessage: ((event: { data: unknown }) => void) | null = null;
  #isClosed = false;

  constructor(
    readonly tabs: Tabs,
    readonly tab: Tab,
    readonly name: string,
  ) {
    tabs.join(this);
  }

  postMessage(message: unknown): void {
    if (this.#isClosed) throw Object.assign(new Error('channel is closed'), { name: 'InvalidStateError' });
    this.tabs.post(this, message);
  }

  close(): void {
    this.#isClosed = true;
    this.tabs.leave(this);
  }

  deliver(data: unknown): void {
    if (this.tabs.holdWhileHidden && this.tab.isHidden) this.tab.held.push(() => this.deliver(data));
    else if (!this.#isClosed) this.onmessage?.({ data });
  }
}

class FakePage implements PageLike {
  readonly #listeners = new Map<string, Set<(event: { persisted?: boolean }) => void>>();

  addEventListener(type: string, listener: (event: { persisted?: boolean }) => void): void {
    this.#listeners.set(type, (this.#listeners.get(type) ?? new Set()).add(listener));
  }

  removeEventListener(type: string, listener: (event: { persisted?: boolean }) => void): void {
    this.#listeners.get(type)?.delete(listener);
  }

  emit(type: 'pagehide' | 'pageshow', persisted: boolean): void {
    for (const listener of [...(this.#listeners.get(type) ?? [])]) listener({ persisted });
  }

  get listenerCount(): number {
    return [...this.#listeners.values()].reduce((n, set) => n + set.size, 0);
  }
}

export class Tab {
  readonly page = new FakePage();
  /** Holds back what this tab posts (still in order): its messages may then arrive after another tab's. */
  postDelayMs = 0;
  readonly coordination: Coordination;

  constructor(readonly tabs: Tabs) {
    const locks: LockManagerLike = { request: (name, options, callback) => tabs.request(this, name, options.signal, callback) };
    const tab = this;
    this.coordination = {
      locks,
      BroadcastChannel: class {
        constructor(name: string) {
          return new FakeChannel(tabs, tab, name);
        }
      } as unknown as Coordination['BroadcastChannel'],
      page: this.page,
    };
  }

  /** Whether the page is in the back-forward cache (between `pagehide(true)` and `pageshow()`). */
  isHidden = false;

  /** The page goes into the back-forward cache (`persisted`) or unloads: its `pagehide` listeners run. */
  pagehide(persisted = true): void {
    this.isHidden = persisted;
    this.page.emit('pagehide', persisted);
  }

  /** Channel messages that reached this page while it was hidden (see `Tabs.holdWhileHidden`), in order. */
  readonly held: (() => void)[] = [];

  /** The page comes back from the back-forward cache: its `pageshow` listeners run, then what it was sent meanwhile. */
  pageshow(): void {
    this.isHidden = false;
    this.page.emit('pageshow', true);
    for (const deliver of this.held.splice(0)) deliver();
  }

  /** A quick trip through the back-forward cache: `pagehide` (persisted), then `pageshow`. */
  trip(): void {
    this.pagehide(true);
    this.pageshow();
  }

  /**
   * The tab vanishes without a word, as a killed renderer does: its locks are released and its channels go
   * silent (what it already posted still arrives), then `handles` (this tab's) are disposed to stand for the rest
   * of it dying: their connections go, and nothing they say leaves the tab.
   */
  crash(...handles: { dispose(): void }[]): void {
    this.tabs.crash(this);
    for (const handle of handles) handle.dispose();
  }
}

/** Lets channel deliveries (macrotasks) and the fake socket's microtasks run. */
export async function settle(rounds = 8): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}
