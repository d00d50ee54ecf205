/**
 * `resilient-websocket/compat/reconnecting-websocket`: a drop-in for reconnecting-websocket 4.4, run by
 * `ReconnectingSocket`.
 */
import { CompatSocket } from './compat-socket.js';
import type { Message, Options, ProtocolsProvider, UrlProvider } from './options.js';

/**
 * reconnecting-websocket 4.4's `ReconnectingWebSocket`: `readyState` is the socket's own (`CLOSING` after
 * `close()` until the `close` event), `send()` returns nothing, the constructor throws when no WebSocket class
 * exists, and the original's hangs and crashes are fixed (see docs/migration.md).
 *
 * @example
 * ```ts
 * import ReconnectingWebSocket from 'resilient-websocket/compat/reconnecting-websocket'; // was: from 'reconnecting-websocket'
 *
 * const rws = new ReconnectingWebSocket('wss://example.com/feed');
 * rws.addEventListener('open', () => rws.send('hello!'));
 * ```
 */
export class ReconnectingWebSocket extends CompatSocket {
  constructor(url: UrlProvider, protocols?: ProtocolsProvider, options?: Options) {
    super(false, url, protocols, options);
  }

  /** Sends `data` if open, else queues it (up to `maxEnqueuedMessages`) until the next `open` event. */
  send(data: Message): void {
    this.transmit(data);
  }
}

export default ReconnectingWebSocket;
export { CloseEvent, ErrorEvent, type EventListenerFor, type WebSocketEventMap } from './events.js';
export type { Message, Options, ProtocolsProvider, UrlProvider } from './options.js';
