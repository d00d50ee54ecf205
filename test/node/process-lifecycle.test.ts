import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { assertBuilt, describeExit, exitWithin, runFixture } from '../helpers/child.js';
import { closeOnce, destroyAll, listenOnLoopback, trackSockets } from '../helpers/listen.js';
import { cleanup } from '../helpers/teardown.js';

// Child processes running the built package.
beforeAll(() => assertBuilt(['dist/index.js', 'dist/node/index.js']));

// ── servers on loopback, port 0 ─────────────────────────────────────────────────────────────────────────

/** Listens for the current test and returns the server's URL; the server is closed after the test. */
async function listen(server: Server): Promise<string> {
  const sockets = trackSockets(server);
  const port = await listenOnLoopback(server);
  cleanup(closeOnce(server, () => destroyAll(sockets)));
  return `ws://127.0.0.1:${port}`;
}

/** Accepts TCP connections and never answers the upgrade. */
const stallServer = () => listen(createServer(() => {}));
/** Accepts TCP connections and drops each at once: every attempt fails, the socket keeps retrying. */
const droppingServer = () => listen(createServer((socket) => socket.destroy()));

async function wsServer(onConnection?: (ws: import('ws').WebSocket, socket: Socket) => void): Promise<{ url: string; connections: () => number }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  let connections = 0;
  wss.on('connection', (ws, request) => {
    connections++;
    ws.on('error', () => {});
    onConnection?.(ws, request.socket as Socket);
  });
  cleanup(
    () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  );
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, connections: () => connections };
}

// ── 4. a server that keeps resetting connections while the client streams ──────────────────────────────

describe('a server resetting connections while the client streams with send()', () => {
  it('does not crash (strict unhandled rejections), reconnects, and exits 0 at the end', async () => {
    const timers = new Set<ReturnType<typeof setTimeout>>();
    cleanup(() => timers.forEach(clearTimeout));
    const server = await wsServer((_ws, socket) => {
      // Let some messages through, then reset the TCP connection (RST, no close frame, no FIN).
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!socket.destroyed) socket.resetAndDestroy();
      }, 20 + Math.random() * 60);
      timers.add(timer);
    });
    const child = runFixture('node-reset-storm.mjs', { url: server.url, minOpens: 6, maxMs: 10_000 }, ['--unhandled-rejections=strict']);

    const exit = await child.exited;
    await child.drained;
    expect(child.stderr()).not.toMatch(/error|unhandled|uncaught/i);
    expect(describeExit(exit)).toBe('code 0');
    const report = JSON.parse(child.stdout()) as { opens: number; sent: number; results: Record<string, number>; causes: Record<string, number>; final: { state: string; cause: string } };
    expect(report.opens).toBeGreaterThan(1);
    expect(report.opens).toBeGreaterThanOrEqual(6);
    expect(server.connections()).toBeGreaterThanOrEqual(report.opens);
    expect(report.results.sent).toBeGreaterThan(0);
    expect(report.causes.network).toBeGreaterThan(0);
    expect(report.final).toMatchObject({ state: 'closed' });
  }, 30_000);
});

// ── 6. what keeps the event loop alive ──────────────────────────────────────────────────────────────────

describe('the event loop after close() and dispose()', () => {
  const endsByItself = async (url: string, mode: string) => {
    const child = runFixture('node-event-loop.mjs', { url, mode });
    await child.waitFor(/^done /m);
    const doneAt = performance.now();
    const exit = await exitWithin(child, 5000);
    if (exit === 'still running') throw new Error(`${mode}: the process was still running 5 s after "done"\nstdout: ${child.stdout()}\nstderr: ${child.stderr()}`);
    expect(describeExit(exit)).toBe('code 0');
    expect(exit.at - doneAt).toBeLessThan(3000);
    return child.stdout();
  };

  it('a socket closed while open leaves nothing behind: the process ends by itself', async () => {
    const { url } = await wsServer();
    expect(await endsByItself(url, 'close-open')).toMatch(/^done closed$/m);
  });

  it('a socket disposed while open leaves nothing behind', async () => {
    const { url } = await wsServer();
    expect(await endsByItself(url, 'dispose-open')).toMatch(/^done closed$/m);
  });

  it('a socket closed or disposed while connecting (the server never answers the upgrade) leaves nothing behind', async () => {
    const url = await stallServer();
    await Promise.all([endsByItself(url, 'close-connecting'), endsByItself(url, 'dispose-connecting')]);
  });

  it('a socket closed or disposed while waiting to reconnect leaves nothing behind', async () => {
    const url = await droppingServer();
    await Promise.all([endsByItself(url, 'close-retrying'), endsByItself(url, 'dispose-retrying')]);
  });

  it('a socket waiting to reconnect keeps the process alive and keeps retrying', async () => {
    const url = await droppingServer();
    const child = runFixture('node-event-loop.mjs', { url, mode: 'retrying' });
    await child.waitFor(/^done closed$/m);
    // Several retry cycles after the script's last line: only the socket can be keeping the process up.
    await child.waitFor(/^reconnecting 4$/m, 10_000);
    expect(await exitWithin(child, 300)).toBe('still running');
  });

  it('with unrefRetryTimer: true, a socket waiting to reconnect lets the process end', async () => {
    const url = await droppingServer();
    const child = runFixture('node-event-loop.mjs', { url, mode: 'retrying', unrefRetryTimer: true });
    await child.waitFor(/^done closed$/m);
    const exit = await exitWithin(child, 5000);
    // Without unrefRetryTimer the same script never ends (previous test).
    expect(exit === 'still running' ? exit : describeExit(exit)).toBe('code 0');
  });
});
