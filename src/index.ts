export { ReconnectingSocket, type UrlProvider } from './reconnecting-socket.js';
export { SocketError, isSocketError, redactUrl, type SocketErrorCode, type SocketErrorJSON } from './errors.js';
export {
  DEFAULTS,
  NO_RECONNECT,
  MAX_AUTH_REFUSALS,
  MAX_RETRY_AFTER_MS,
  defaultShouldReconnect,
  type Codec,
  type HeartbeatOptions,
  type IsWireTyped,
  type OverflowPolicy,
  type Provider,
  type ProviderContext,
  type QueueOptions,
  type RawMessage,
  type ReconnectingSocketArgs,
  type ReconnectingSocketOptions,
  type WireData,
} from './options.js';
export { jsonCodec, rawCodec, type JsonCodec } from './codec.js';
export { opened, messages, type Waitable } from './waits.js';
export { backoffDelay, type BackoffCurve, type Jitter } from './backoff.js';
export {
  createBrowserEnvironment,
  createManualEnvironment,
  type Environment,
  type EnvironmentSignal,
  type ManualEnvironment,
} from './environment.js';
export type { CloseCause, CloseRecord, Hold, Retry, StateName } from './machine.js';
export type { QueuedMessage } from './queue.js';
export type { TransportOptions, WebSocketConstructor, WebSocketLike } from './transport.js';
export type {
  DropReason,
  SendResult,
  SocketCloseEvent,
  SocketDropEvent,
  SocketEndEvent,
  SocketErrorEvent,
  SocketEvents,
  SocketHeartbeatEvent,
  SocketHoldEvent,
  SocketMessageEvent,
  SocketOpenEvent,
  SocketReconnectingEvent,
  SocketStateEvent,
} from './events.js';
