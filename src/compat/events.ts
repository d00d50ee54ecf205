/**
 * The event objects of the compat classes, shaped like those of reconnecting-websocket and partysocket. They are
 * real `Event`s, so `target` is set by `dispatchEvent`.
 */

/** A close: `code`, `reason` and `wasClean`, as on the browser's `CloseEvent`. */
export class CloseEvent extends Event {
  code: number;
  reason: string;
  wasClean = true;

  /** `target` is accepted for the originals' signature; `dispatchEvent` sets the real one. */
  constructor(code = 1000, reason = '', _target?: unknown) {
    super('close');
    this.code = code;
    this.reason = reason;
  }
}

/** An error: the `error` itself and its `message` (`'TIMEOUT'` for a connection timeout, as in the originals). */
export class ErrorEvent extends Event {
  message: string;
  error: Error;

  /** `target` is accepted for the originals' signature; `dispatchEvent` sets the real one. */
  constructor(error: Error, _target?: unknown) {
    super('error');
    this.error = error;
    this.message = error.message;
  }
}

/** Every event and its object. `drop` is ours: a message over `maxEnqueuedMessages` was dropped (`data`). */
export interface WebSocketEventMap {
  open: Event;
  message: MessageEvent;
  close: CloseEvent;
  error: ErrorEvent;
  drop: MessageEvent;
}

/** A listener: a function or an object with `handleEvent`. */
export type EventListenerFor<E> = ((event: E) => void) | { handleEvent(event: E): void };
