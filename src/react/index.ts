/**
 * `resilient-websocket/react`: a hook that gives a component a `ReconnectingSocket`, StrictMode-safe, with
 * shared sockets per url. React (>= 18) is an optional peer dependency: only this entry imports it.
 */
export { useSocket } from './use-socket.js';
export type { UseSocketOptions, UseSocketOwnOptions } from './use-socket.js';
export type { SocketHandlers, SocketView } from './binding.js';
