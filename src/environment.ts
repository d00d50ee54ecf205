/**
 * A signal from the runtime around the socket:
 * - `online` / `offline`: the network came back / went away.
 * - `visible` / `hidden`: the page became visible / hidden.
 * - `pagehide` / `pageshow`: the page entered / left the back-forward cache (persisted page only).
 */
export type EnvironmentSignal = 'online' | 'offline' | 'visible' | 'hidden' | 'pagehide' | 'pageshow';

/** A source of environment signals. Injectable, so Node code and tests can drive them. */
export interface Environment {
  /** Starts delivering signals to `listener`; returns the function that stops it (safe to call twice). */
  subscribe(listener: (signal: EnvironmentSignal) => void): () => void;
  /** Whether the network is believed to be up right now. */
  isOnline?(): boolean;
  /** Whether the page is hidden right now. */
  isHidden?(): boolean;
}

/** An environment you drive yourself: call `emit(signal)`. Tracks online and hidden state. */
export interface ManualEnvironment extends Environment {
  emit(signal: EnvironmentSignal): void;
  /** How many listeners are subscribed (what `dispose()` must bring back to 0). */
  readonly listenerCount: number;
}

/** Creates an environment driven by `emit()`, for Node, tests and demos. */
export function createManualEnvironment(initial: { online?: boolean; hidden?: boolean } = {}): ManualEnvironment {
  const listeners = new Set<(signal: EnvironmentSignal) => void>();
  let online = initial.online ?? true;
  let hidden = initial.hidden ?? false;
  return {
    subscribe(listener) {
      const entry = (signal: EnvironmentSignal) => listener(signal);
      listeners.add(entry);
      return () => listeners.delete(entry);
    },
    isOnline: () => online,
    isHidden: () => hidden,
    emit(signal) {
      if (signal === 'online' || signal === 'offline') online = signal === 'online';
      if (signal === 'visible' || signal === 'hidden') hidden = signal === 'hidden';
      for (const listener of [...listeners]) listener(signal);
    },
    get listenerCount() {
      return listeners.size;
    },
  };
}

interface BrowserGlobals {
  addEventListener(type: string, listener: (event: any) => void): void;
  removeEventListener(type: string, listener: (event: any) => void): void;
  navigator?: { onLine?: boolean };
  document?: { visibilityState?: string; addEventListener: BrowserGlobals['addEventListener']; removeEventListener: BrowserGlobals['removeEventListener'] };
}

/**
 * The browser's signals (window `online`/`offline`/`pagehide`/`pageshow`, document `visibilitychange`), or
 * `null` where there is no window. Reads globals only when called, never at module load.
 */
export function createBrowserEnvironment(): Environment | null {
  const win = (globalThis as { window?: BrowserGlobals }).window;
  const doc = win?.document;
  if (typeof win?.addEventListener !== 'function' || !doc) return null;
  const isHidden = () => doc.visibilityState === 'hidden';
  return {
    subscribe(listener) {
      // pagehide/pageshow matter only for a page kept in the back-forward cache (persisted).
      const on = (event: { type: string; persisted?: boolean }) => {
        const { type } = event;
        if (type === 'visibilitychange') listener(isHidden() ? 'hidden' : 'visible');
        else if (type[0] === 'o' || event.persisted) listener(type as EnvironmentSignal);
      };
      const each = (method: 'addEventListener' | 'removeEventListener') => {
        for (const type of ['online', 'offline', 'pagehide', 'pageshow']) win[method](type, on);
        doc[method]('visibilitychange', on);
      };
      each('addEventListener');
      return () => each('removeEventListener');
    },
    isOnline: () => win.navigator?.onLine !== false,
    isHidden,
  };
}
