import type { ReconnectingSocket } from '../index.js';

/** A socket and how many hooks hold it. */
interface Entry {
  readonly socket: ReconnectingSocket<any, any>;
  holders: number;
}

/**
 * Sockets held by reference count, by key. When the last holder releases a socket, it is retired on a
 * microtask rather than at once, and only if nobody acquired it again meanwhile. React runs an effect's
 * cleanup and its next setup in one synchronous pass (StrictMode's mount → cleanup → mount, and a commit that
 * unmounts one user of a shared socket while it mounts another), so the second setup picks up the same socket
 * and the server never sees a second connection.
 */
export class SocketPool {
  #entries = new Map<string, Entry>();

  /** The socket under `key`, made by `create` if there is none (or the one there was disposed); one more holder. */
  acquire<In, Out>(key: string, create: () => ReconnectingSocket<In, Out>): ReconnectingSocket<In, Out> {
    const entry = this.#entries.get(key);
    if (entry && !entry.socket.isDisposed) {
      entry.holders++;
      return entry.socket;
    }
    const socket = create();
    this.#entries.set(key, { socket, holders: 1 });
    return socket;
  }

  /**
   * One holder fewer. The last one's release retires the socket on a microtask unless it is acquired again
   * first. Releasing a socket that is no longer under `key` (it was disposed and replaced) does nothing.
   */
  release(key: string, socket: ReconnectingSocket<any, any>): void {
    const entry = this.#entries.get(key);
    if (entry?.socket !== socket) return;
    if (--entry.holders > 0) return;
    queueMicrotask(() => {
      if (entry.holders > 0 || this.#entries.get(key) !== entry) return;
      this.#entries.delete(key);
      // The bounded close handshake when a connection is up or on its way, then dispose() (close() stops a
      // planned retry at once, and resolves at once when there is nothing to close).
      void socket.close().then(() => socket.dispose());
    });
  }

  /** How many keys hold a socket (including ones whose retirement is due on the current microtask queue). */
  get size(): number {
    return this.#entries.size;
  }
}
