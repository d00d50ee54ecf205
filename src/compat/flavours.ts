/**
 * The differences between the two libraries that `ReconnectingWebSocket` stands in for, side by side. Everything
 * not in this table is the same in both. `send()`'s result is the one difference that is also a type (a
 * `boolean` in partysocket, nothing in reconnecting-websocket): each entry file declares its own `send()`.
 */
export interface Flavour {
  /**
   * `close()` reports `CLOSED` at once and dispatches its `close` event synchronously (partysocket); otherwise
   * `readyState` is `CLOSING` until the close handshake ends and the `close` event arrives then.
   */
  readonly isClosedAtOnce: boolean;
  /** `send()` after `close()` prints one warning per instance (partysocket). */
  readonly warnsSendAfterClose: boolean;
  /**
   * No WebSocket class anywhere (no option, no global, no `ws`): the constructor throws (reconnecting-websocket);
   * otherwise it prints the error, and each attempt fails with an `error` event.
   */
  readonly throwsWithoutWebSocket: boolean;
}

/** partysocket 1.x (`partysocket/ws`). */
export const PARTYSOCKET: Flavour = { isClosedAtOnce: true, warnsSendAfterClose: true, throwsWithoutWebSocket: false };

/** reconnecting-websocket 4.4. */
export const RECONNECTING_WEBSOCKET: Flavour = { isClosedAtOnce: false, warnsSendAfterClose: false, throwsWithoutWebSocket: true };
