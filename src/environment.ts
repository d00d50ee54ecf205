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
  addEventListener(type: string, listener: (event: { persisted?: boolean }) => void): void;
  removeEventListener(type: string, listener: (event: { persisted?: boolean }) => void): void;
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
  if (!win || typeof win.addEventListener !== 'function' || !doc) return null;
  return {
    subscribe(listener) {
      const onOnline = () => listener('online');
      const onOffline = () => listener('offline');
      const onVisibility = () => listener(doc.visibilityState === 'hidden' ? 'hidden' : 'visible');
      const onPageHide = (event: { persisted?: boolean }) => event.persisted && listener('pagehide');
      const onPageShow = (event: { persisted?: boolean }) => event.persisted && listener('pageshow');
      win.addEventListener('online', onOnline);
      win.addEventListener('offline', onOffline);
      win.addEventListener('pagehide', onPageHide);
      win.addEventListener('pageshow', onPageShow);
      doc.addEventListener('visibilitychange', onVisibility);
      return () => {
        win.removeEventListener('online', onOnline);
        win.removeEventListener('offline', onOffline);
        win.removeEventListener('pagehide', onPageHide);
        win.removeEventListener('pageshow', onPageShow);
        doc.removeEventListener('visibilitychange', onVisibility);
      };
    },
    isOnline: () => win.navigator?.onLine !== false,
    isHidden: () => doc.visibilityState === 'hidden',
  };
}
