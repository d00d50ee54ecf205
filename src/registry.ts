import type { ReconnectingSocket } from './reconnecting-socket.js';

const KEY = Symbol.for('resilient-websocket.live');

/**
 * Every socket in this process that is neither disposed nor finally closed. Kept on `globalThis` under a
 * registered symbol so that the ESM and CJS copies of the package (and the `/node` entry) share one set.
 */
export function liveSockets(): Set<ReconnectingSocket<any, any>> {
  const holder = globalThis as { [KEY]?: Set<ReconnectingSocket<any, any>> };
  return (holder[KEY] ??= new Set());
}
