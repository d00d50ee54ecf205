/**
 * `resilient-websocket/compat/partysocket/ws`: a drop-in for `partysocket/ws`, partysocket's reconnecting
 * WebSocket, run by `ReconnectingSocket`.
 */
import { CompatSocket } from './compat-socket.js';
import type { Message, Options, ProtocolsProvider, UrlProvider } from './options.js';

/**
 * partysocket's `ReconnectingWebSocket`: `send()` says whether the message went out, `close()` reports `CLOSED`
 * at once with a synchronous `close` event, and the originals' hangs and crashes are fixed (see
 * docs/migration.md).
 *
 * @example
 * ```ts
 * import ReconnectingWebSocket from 'resilient-websocket/compat/partysocket/ws'; // was: from 'partysocket/ws'
 *
 * const ws = new ReconnectingWebSocket('wss://example.com/feed', [], { maxRetries: 10 });
 * ws.addEventListener('message', (event) => render(event.data));
 * ws.send('hello'); // false: queued until open
 * ```
 */
export class ReconnectingWebSocket extends CompatSocket {
  constructor(url: UrlProvider, protocols?: ProtocolsProvider, options?: Options) {
    super(true, url, protocols, options);
  }

  /**
   * Sends `data`: `true` if it went out on the open connection, `false` if it was queued (sent before the next
   * `open` event) or dropped because `maxEnqueuedMessages` was reached (a `drop` event says so).
   */
  send(data: Message): boolean {
    return this.transmit(data);
  }

  /** `false` after `close()`, or once `shouldReconnectOnClose` declined a retry; `true` again after `reconnect()`. */
  get shouldReconnect(): boolean {
    return this.isReconnecting;
  }
}

export default ReconnectingWebSocket;
export { CloseEvent, ErrorEvent, type EventListenerFor, type WebSocketEventMap } from './events.js';
export type { Message, Options, ProtocolsProvider, UrlProvider } from './options.js';
