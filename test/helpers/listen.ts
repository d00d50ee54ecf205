import type { AddressInfo, Server, Socket } from 'node:net';

/** Every test server binds here, on a port chosen by the OS. */
export const HOST = '127.0.0.1';

/**
 * Listens on 127.0.0.1, port 0, and resolves with the port the OS chose; rejects if listening fails. Later
 * server errors are ignored: a test server must not crash the run.
 */
export async function listenOnLoopback(server: Server): Promise<number> {
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** The server's connections that are open right now (a socket leaves when it closes; its errors are ignored). */
export function trackSockets(server: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  return sockets;
}

/**
 * An idempotent close for `server`: `dropConnections` runs first, since `server.close()` waits for every open
 * connection to end, then the server stops listening.
 */
export function closeOnce(server: Server, dropConnections: () => void): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () =>
    (closing ??= new Promise<void>((resolve) => {
      dropConnections();
      server.close(() => resolve());
    }));
}

/** Destroys every socket of `sockets`, for `closeOnce`. */
export function destroyAll(sockets: Iterable<Socket>): void {
  for (const socket of sockets) socket.destroy();
}
