import { describe, expect, it } from 'vitest';
import { ReconnectingSocket, opened } from '../../src/index.js';
import { shutdownAll } from '../../src/node/index.js';
import { sleep, startServer, waitFor } from '../helpers/servers.js';
import { cleanup } from '../helpers/teardown.js';

// Regression: startShutdown() (src/node/shutdown.ts:289) snapshots the registry once. A socket that becomes live
// while the shutdown runs (created, connect()ed or reconnect()ed by application code reacting to the shutdown)
// is never closed, yet the result reports everything down; installGracefulShutdown then exits the process with
// that connection still open (no close frame), and onShutdown is told "every socket is closed or forced".

describe('shutdownAll with a socket that becomes live mid-shutdown', () => {
  it('does not report completion while a live socket it never closed is still open', async () => {
    const server = await startServer();
    const make = () => {
      const socket = new ReconnectingSocket(server.url, { heartbeat: false, closeTimeoutMs: 1000 });
      cleanup(() => socket.dispose());
      return socket;
    };
    const first = make();
    await opened(first, { timeoutMs: 5000 });
    const shutdown = shutdownAll({ timeoutMs: 3000 });
    const late = make(); // e.g. an app that opens a replacement connection when the first one closes
    const result = await shutdown;
    await sleep(300);
    await waitFor(() => first.state === 'closed', 2000).catch(() => {});
    expect(result.closed).toBeGreaterThanOrEqual(1);
    expect(late.state, 'a live socket left behind by a finished shutdown').toBe('closed');
  });
});
