/** The part of the Web Locks API a shared socket uses (`navigator.locks`). */
export interface LockManagerLike {
  request(name: string, options: { signal?: AbortSignal }, callback: (lock: unknown) => Promise<void>): Promise<unknown>;
}

/** The part of a `BroadcastChannel` a shared socket uses. */
export interface ChannelLike {
  postMessage(message: unknown): void;
  close(): void;
  onmessage: ((event: { data: unknown }) => void) | null;
}

/** Where `pagehide`/`pageshow` come from (the window). */
export interface PageLike {
  addEventListener(type: 'pagehide' | 'pageshow', listener: (event: { persisted?: boolean }) => void): void;
  removeEventListener(type: 'pagehide' | 'pageshow', listener: (event: { persisted?: boolean }) => void): void;
}

/** What tabs coordinate through. Injectable, so tests can run several "tabs" in one process. */
export interface Coordination {
  locks: LockManagerLike;
  BroadcastChannel: new (name: string) => ChannelLike;
  /** The page whose `pagehide`/`pageshow` move the leadership; `null` for none. */
  page: PageLike | null;
}

/** The browser's Web Locks, BroadcastChannel and window, or `null` where one is missing (Node, old browsers). */
export function browserCoordination(): Coordination | null {
  const g = globalThis as { navigator?: { locks?: LockManagerLike }; BroadcastChannel?: Coordination['BroadcastChannel']; window?: PageLike };
  let locks: LockManagerLike | undefined;
  try {
    locks = g.navigator?.locks;
  } catch {
    // Reading navigator.locks throws SecurityError in an opaque origin (a sandboxed iframe, say).
    return null;
  }
  if (!locks || typeof locks.request !== 'function' || typeof g.BroadcastChannel !== 'function') return null;
  return { locks, BroadcastChannel: g.BroadcastChannel, page: typeof g.window?.addEventListener === 'function' ? g.window : null };
}

/**
 * Where Web Locks or BroadcastChannel are missing, each handle leads alone: a lock granted at once, a channel
 * that reaches no one. The same code then runs a per-tab connection.
 */
export const ALONE: Coordination = {
  locks: { request: (_name, _options, callback) => Promise.resolve().then(callback) },
  BroadcastChannel: class {
    onmessage = null;
    postMessage() {}
    close() {}
  },
  page: null,
};
