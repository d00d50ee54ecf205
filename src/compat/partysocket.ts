/**
 * `resilient-websocket/compat/partysocket`: a drop-in for the `partysocket` package. The default export is
 * `PartySocket`; `WebSocket` (and, by its own name, `ReconnectingWebSocket`) is the reconnecting WebSocket of
 * `partysocket/ws`, also at `resilient-websocket/compat/partysocket/ws`.
 */
export { PartySocket, PartySocket as default, type PartyFetchOptions, type PartySocketOptions, type Params, type QueryProvider } from './party-socket.js';
export { ReconnectingWebSocket, ReconnectingWebSocket as WebSocket } from './partysocket-ws.js';
export { CloseEvent, ErrorEvent, type EventListenerFor, type WebSocketEventMap } from './events.js';
export type { Message, Options, ProtocolsProvider, UrlProvider } from './options.js';
