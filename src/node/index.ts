/**
 * `resilient-websocket/node`: what only Node needs. Kept out of the main entry so browser bundles never see
 * `process` or `node:os`.
 */
export { installGracefulShutdown } from './graceful-shutdown.js';
export type { GracefulShutdownOptions, ShutdownInfo } from './graceful-shutdown.js';
export { shutdownAll } from './shutdown.js';
export type { ShutdownAllOptions, ShutdownResult } from './shutdown.js';
