/**
 * `resilient-websocket/compat`: partysocket's classes by name. The default export stays partysocket's
 * `ReconnectingWebSocket`, as before `PartySocket` was added, so no existing import changes meaning; for an exact
 * mirror of a package, import `compat/partysocket`, `compat/partysocket/ws` or `compat/reconnecting-websocket`.
 */
export * from './partysocket.js';
export { ReconnectingWebSocket as default } from './partysocket-ws.js';
