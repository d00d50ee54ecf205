import { describe, expect, it } from 'vitest';
import { ReconnectingSocket, type ReconnectingSocketOptions, opened } from '../../src/index.js';
import { installGracefulShutdown, shutdownAll } from '../../src/node/index.js';
import { startServer, startSilentServer } from '../helpers/servers.js';
import { cleanup } from '../helpers/teardown.js';

// shutdownAll's one overall deadline, at its edges: 0, Infinity, and sockets that become live while it runs.
// Real loopback servers (127.0.0.1, port 0); every socket is disposed after its test.

function make(url: string, options: ReconnectingSocketOptions<any, any> = {}): ReconnectingSocket {
  const socket = new ReconnectingSocket(url, { heartbeat: false, jitter: false, ...options });
  cleanup(() => socket.dispose());
  return socket;
}

describe('shutdownAll: timeoutMs at its edges', () => {
  it('timeoutMs 0 is a valid deadline (">= 0"): accepted by shutdownAll and installGracefulShutdown', async () => {
    await expect(shutdownAll({ timeoutMs: 0 })).resolves.toEqual({ closed: 0, forced: 0 });
    const uninstall = installGracefulShutdown({ timeoutMs: 0, exit: false });
    uninstall();
  });

  it('timeoutMs Infinity waits for a close that only the socket\'s own closeTimeoutMs ends, and counts it as closed', async () => {
    const silent = await startSilentServer();
    const socket = make(silent.url, { closeTimeoutMs: 400 });
    await opened(socket, { timeoutMs: 10_000 });
    const startedAt = performance.now();
    await expect(shutdownAll({ timeoutMs: Infinity })).resolves.toEqual({ closed: 1, forced: 0 });
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(300);
    expect(socket.isDisposed).toBe(false);
    expect(socket.lastClose).toMatchObject({ cause: 'close-timeout' });
  });
});

describe('shutdownAll: sockets that become live while it runs', () => {
  it('a socket created after the first sweep still gets the 1001 handshake once the others are down', async () => {
    const server = await startServer();
    const first = make(server.url, { closeTimeoutMs: 5000 });
    await opened(first, { timeoutMs: 10_000 });
    const shutdown = shutdownAll({ timeoutMs: 10_000 });
    const late = make(server.url, { closeTimeoutMs: 5000 }); // an application opening a replacement, say
    await expect(shutdown).resolves.toEqual({ closed: 2, forced: 0 });
    expect(late.isDisposed).toBe(false);
    expect(late.state).toBe('closed');
    expect(late.lastClose).toMatchObject({ code: 1001, reason: 'shutting down', cause: 'client' });
  });

  it('at the deadline, a socket created after the first sweep is forced along with the stuck ones', async () => {
    const silent = await startSilentServer();
    const stuck = make(silent.url, { closeTimeoutMs: 30_000 });
    await opened(stuck, { timeoutMs: 10_000 });
    const shutdown = shutdownAll({ timeoutMs: 300 });
    const late = make(silent.url, { closeTimeoutMs: 30_000 });
    await expect(shutdown).resolves.toEqual({ closed: 0, forced: 2 });
    expect(stuck.isDisposed).toBe(true);
    expect(late.isDisposed).toBe(true);
  });
});
