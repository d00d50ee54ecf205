import type {
  CloseRecord,
  ReconnectingSocket,
  Retry,
  SendResult,
  SocketCloseEvent,
  SocketError,
  SocketErrorEvent,
  SocketMessageEvent,
  SocketOpenEvent,
  StateName,
} from '../index.js';

/** Callbacks for a socket's events. They are read when the event fires, so a new function never reconnects. */
export interface SocketHandlers<In> {
  /** The connection opened (again). */
  onOpen?: (event: SocketOpenEvent) => void;
  /** A message arrived, decoded by the codec. */
  onMessage?: (event: SocketMessageEvent<In>) => void;
  /** A connection ended; `willReconnect` says whether another attempt follows. */
  onClose?: (event: SocketCloseEvent) => void;
  /** Something went wrong (see `SocketError.code`); network trouble is reported here, never thrown. */
  onError?: (event: SocketErrorEvent) => void;
}

/** What `useSocket` returns: the socket's live state, the last message, and `send`. */
export interface SocketView<In, Out> {
  /**
   * `connecting`, `open`, `closing` or `closed`. `connecting` also before the first effect has run (the socket
   * is about to be created); `closed` while disabled.
   */
  readonly state: StateName;
  /** `state === 'open'`. */
  readonly isOpen: boolean;
  /** The last message this hook received (`undefined` until one arrives, and again after the socket changes). */
  readonly lastMessage: In | undefined;
  /** How the last connection ended. */
  readonly lastClose: CloseRecord | undefined;
  /** The last error this hook saw. */
  readonly lastError: SocketError | undefined;
  /** Retries since the last stable connection. */
  readonly attempt: number;
  /** The planned retry while waiting in backoff. */
  readonly retry: Retry | undefined;
  /**
   * The socket itself, for everything else (`reconnect()`, `queued`, `messages(socket)`…). `undefined` while disabled
   * and before the first effect. Do not `close()` or `dispose()` it: the hook does that when nobody uses it.
   */
  readonly socket: ReconnectingSocket<In, Out> | undefined;
  /**
   * `socket.send()`; stable across renders. Returns `'closed'` and sends nothing while there is no socket
   * (disabled, or before the first effect).
   */
  readonly send: (message: Out, options?: { ttlMs?: number }) => SendResult;
}

/** The store's snapshot: the view, and the socket key it belongs to. */
export interface BindingSnapshot<In, Out> {
  readonly key: string | undefined;
  readonly view: SocketView<In, Out>;
}

/** The socket events that change the view. */
const EVENTS = ['state', 'open', 'close', 'reconnecting', 'hold', 'message', 'error'] as const;
/** The handler an event calls. */
const HANDLERS: Partial<Record<(typeof EVENTS)[number], keyof SocketHandlers<unknown>>> = { open: 'onOpen', message: 'onMessage', close: 'onClose', error: 'onError' };

/**
 * One hook's store for `useSyncExternalStore`: follows the socket it is attached to and keeps an immutable
 * snapshot that changes identity only when something shown changed. User handlers are read through `handlers`
 * at each event.
 */
export class SocketBinding<In, Out> {
  #snapshot: BindingSnapshot<In, Out>;
  readonly #listeners = new Set<() => void>();
  #socket: ReconnectingSocket<In, Out> | undefined;
  #unsubscribe: (() => void)[] = [];
  readonly #idle: Record<'connecting' | 'closed', SocketView<In, Out>>;
  readonly #handlers: () => SocketHandlers<In>;

  constructor(handlers: () => SocketHandlers<In>) {
    this.#handlers = handlers;
    this.#idle = { connecting: this.#viewOf(undefined, 'connecting'), closed: this.#viewOf(undefined, 'closed') };
    this.#snapshot = { key: undefined, view: this.#idle.closed };
  }

  readonly send = (message: Out, options?: { ttlMs?: number }): SendResult => this.#socket?.send(message, options) ?? 'closed';

  readonly subscribe = (listener: () => void): (() => unknown) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  readonly getSnapshot = (): BindingSnapshot<In, Out> => this.#snapshot;

  /** The view with nothing attached: `connecting` when a socket is about to be attached, else `closed`. */
  idleView(isActive: boolean): SocketView<In, Out> {
    return this.#idle[isActive ? 'connecting' : 'closed'];
  }

  /** Follows `socket` (found or made under `key`) until `detach()`. */
  attach(key: string, socket: ReconnectingSocket<In, Out>): void {
    this.detach(false);
    this.#socket = socket;
    for (const type of EVENTS) this.#unsubscribe.push(socket.on(type, (event: any) => this.#onEvent(type, event)));
    this.#publish(key, this.#viewOf(socket));
  }

  /** Stops following the socket; the view becomes `closed`. */
  detach(publish = true): void {
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    this.#socket = undefined;
    if (publish) this.#publish(undefined, this.#idle.closed);
  }

  #onEvent(type: (typeof EVENTS)[number], event: any): void {
    const socket = this.#socket;
    if (!socket) return;
    const { view, key } = this.#snapshot;
    const lastMessage = type === 'message' ? (event as SocketMessageEvent<In>).data : view.lastMessage;
    const lastError = type === 'error' ? (event as SocketErrorEvent).error : view.lastError;
    const next = this.#viewOf(socket, socket.state, lastMessage, lastError);
    // A message always counts as a change, even one equal to the last: it is a new arrival.
    if (type === 'message' || !sameView(view, next)) this.#publish(key, next);
    // Bookkeeping first, user code last; the user's handler may detach us (unmount, disable) or throw.
    const handler = HANDLERS[type];
    if (handler) (this.#handlers()[handler] as ((event: unknown) => void) | undefined)?.(event);
  }

  /** What the hook shows: the socket's (none while idle) with the last message and error it had. */
  #viewOf(socket: ReconnectingSocket<In, Out> | undefined, state = socket!.state, lastMessage?: In, lastError?: SocketError): SocketView<In, Out> {
    return Object.freeze({ state, isOpen: state === 'open', lastMessage, lastClose: socket?.lastClose, lastError, attempt: socket?.attempt ?? 0, retry: socket?.retry, socket, send: this.send });
  }

  #publish(key: string | undefined, view: SocketView<In, Out>): void {
    this.#snapshot = { key, view };
    for (const listener of this.#listeners) listener();
  }
}

/** Whether nothing shown changed (a new message always counts as a change: the caller checks it). */
function sameView<In, Out>(a: SocketView<In, Out>, b: SocketView<In, Out>): boolean {
  return (Object.keys(a) as (keyof SocketView<In, Out>)[]).every((name) => name === 'lastMessage' || a[name] === b[name]);
}
