import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocketServer } from 'ws';
import { ReconnectingSocket, type ReconnectingSocketOptions, opened } from '../../src/index.js';
import { installGracefulShutdown, shutdownAll } from '../../src/node/index.js';
import { assertBuilt, describeExit, runFixture } from '../helpers/child.js';
import { closeOnce, destroyAll, listenOnLoopback, trackSockets } from '../helpers/listen.js';
import { acceptKey } from '../helpers/servers.js';
import { cleanup } from '../helpers/teardown.js';

// ── a server that completes the upgrade by hand, then never answers anything (not even close frames) ──────

interface SilentServer {
  readonly url: string;
  /** Connections upgraded so far. */
  readonly upgrades: () => number;
  /** Close frames received (decoded from the masked client frames), never answered. */
  readonly closeFrames: { code: number; reason: string }[];
  close(): Promise<void>;
}

/** Decodes complete client frames from `buffer`; returns the unread rest. */
function readFrames(buffer: Buffer, onFrame: (opcode: number, payload: Buffer) => void): Buffer {
  for (;;) {
    if (buffer.length < 2) return buffer;
    const opcode = buffer[0]! & 0x0f;
    const isMasked = (buffer[1]! & 0x80) !== 0;
    let length = buffer[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (buffer.length < 4) return buffer;
      length = buffer.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (buffer.length < 10) return buffer;
      length = Number(buffer.readBigUInt64BE(2));
      offset = 10;
    }
    const maskOffset = offset;
    if (isMasked) offset += 4;
    if (buffer.length < offset + length) return buffer;
    const payload = Buffer.from(buffer.subarray(offset, offset + length));
    if (isMasked) for (let i = 0; i < payload.length; i++) payload[i]! ^= buffer[maskOffset + (i % 4)]!;
    onFrame(opcode, payload);
    buffer = buffer.subarray(offset + length);
  }
}

/** Starts a `SilentServer` for the current test; it is closed after the test. */
async function silentServer(): Promise<SilentServer> {
  const closeFrames: { code: number; reason: string }[] = [];
  let upgrades = 0;
  const server = createServer((socket) => {
    let pending: Buffer = Buffer.alloc(0);
    let isUpgraded = false;
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (!isUpgraded) {
        const end = pending.indexOf('\r\n\r\n');
        if (end === -1) return;
        const key = /^sec-websocket-key:[ \t]*(\S+)/im.exec(pending.subarray(0, end).toString('latin1'))?.[1];
        if (!key) return void socket.destroy();
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`);
        isUpgraded = true;
        upgrades++;
        pending = pending.subarray(end + 4);
      }
      // Frames are decoded only to observe them; nothing is ever written back.
      pending = readFrames(pending, (opcode, payload) => {
        if (opcode === 0x8) closeFrames.push({ code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005, reason: payload.subarray(2).toString('utf8') });
      });
    });
  });
  const sockets = trackSockets(server);
  const port = await listenOnLoopback(server);
  const silent: SilentServer = {
    url: `ws://127.0.0.1:${port}`,
    upgrades: () => upgrades,
    closeFrames,
    close: closeOnce(server, () => destroyAll(sockets)),
  };
  cleanup(() => silent.close());
  return silent;
}

/**
 * A `ws` server for the current test that records the close frames it receives (it answers them, as `ws`
 * does); it is closed after the test.
 */
async function wsServer(): Promise<{ url: string; closes: { code: number; reason: string }[]; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const closes: { code: number; reason: string }[] = [];
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.on('close', (code, reason) => closes.push({ code, reason: reason.toString() }));
  });
  const { port } = wss.address() as AddressInfo;
  const server = {
    url: `ws://127.0.0.1:${port}`,
    closes,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
  cleanup(() => server.close());
  return server;
}

// The child processes and the bundle check at the end use the built package.
beforeAll(() => assertBuilt(['dist/index.js', 'dist/node/index.js', 'dist/index.cjs']));

// ── signals in a child process ──────────────────────────────────────────────────────────────────────────

describe('installGracefulShutdown in a child process (built package, real signals, loopback sockets)', () => {
  it('SIGINT with 100 sockets to a server that never answers close frames: exits at the deadline with status 130', async () => {
    const server = await silentServer();
    const timeoutMs = 1500;
    const child = runFixture('node-shutdown.mjs', { url: server.url, count: 100, timeoutMs });
    await child.waitFor(/^ready$/m, 20_000);
    expect(server.upgrades()).toBe(100);

    const signalledAt = performance.now();
    child.process.kill('SIGINT');
    const exit = await child.exited;
    const elapsed = exit.at - signalledAt;

    expect(describeExit(exit)).toMatch(/^(signal SIGINT|code 130)$/);
    // It waited for the handshakes until the deadline (none could finish), and not much longer.
    expect(elapsed).toBeGreaterThan(timeoutMs - 150);
    expect(elapsed).toBeLessThan(timeoutMs + 3000);
    // Every socket sent its close frame: 1001 going away, 'shutting down'.
    await vi.waitFor(() => expect(server.closeFrames).toHaveLength(100));
    expect(new Set(server.closeFrames.map(({ code, reason }) => `${code} ${reason}`))).toEqual(new Set(['1001 shutting down']));
  }, 40_000);

  it('SIGINT with 100 sockets to a well-behaved ws server: exits as soon as the handshakes complete', async () => {
    const server = await wsServer();
    const timeoutMs = 10_000;
    const child = runFixture('node-shutdown.mjs', { url: server.url, count: 100, timeoutMs });
    await child.waitFor(/^ready$/m, 20_000);

    const signalledAt = performance.now();
    child.process.kill('SIGINT');
    const exit = await child.exited;

    expect(describeExit(exit)).toMatch(/^(signal SIGINT|code 130)$/);
    expect(exit.at - signalledAt).toBeLessThan(5000); // the deadline is 10 s
    await vi.waitFor(() => expect(server.closes).toHaveLength(100));
    expect(new Set(server.closes.map(({ code, reason }) => `${code} ${reason}`))).toEqual(new Set(['1001 shutting down']));
  }, 40_000);

  it('SIGTERM exits with status 143', async () => {
    const server = await wsServer();
    const child = runFixture('node-shutdown.mjs', { url: server.url, count: 3, timeoutMs: 5000 });
    await child.waitFor(/^ready$/m);
    child.process.kill('SIGTERM');
    expect(describeExit(await child.exited)).toMatch(/^(signal SIGTERM|code 143)$/);
    await vi.waitFor(() => expect(server.closes.map(({ code }) => code)).toEqual([1001, 1001, 1001]));
  });

  it('a second SIGINT during a slow shutdown disposes everything and exits at once', async () => {
    const server = await silentServer();
    const child = runFixture('node-shutdown.mjs', { url: server.url, count: 100, timeoutMs: 20_000 });
    await child.waitFor(/^ready$/m, 20_000);

    const firstAt = performance.now();
    child.process.kill('SIGINT');
    // The shutdown is under way once the close frames arrive; they will never be answered.
    await vi.waitFor(() => expect(server.closeFrames).toHaveLength(100), { timeout: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(child.process.exitCode).toBeNull();
    expect(child.process.signalCode).toBeNull();

    const secondAt = performance.now();
    child.process.kill('SIGINT');
    const exit = await child.exited;

    expect(describeExit(exit)).toMatch(/^(signal SIGINT|code 130)$/);
    expect(exit.at - secondAt).toBeLessThan(2000);
    expect(exit.at - firstAt).toBeLessThan(12_000); // far from the 20 s deadline
  }, 40_000);

  it('with onShutdown it reports closed and forced counts instead of exiting, then nothing keeps the process alive', async () => {
    const silent = await silentServer();
    const stuck = runFixture('node-shutdown.mjs', { url: silent.url, count: 5, timeoutMs: 500, report: true });
    const ws = await wsServer();
    const polite = runFixture('node-shutdown.mjs', { url: ws.url, count: 5, timeoutMs: 10_000, report: true });
    await Promise.all([stuck.waitFor(/^ready$/m), polite.waitFor(/^ready$/m)]);

    stuck.process.kill('SIGINT');
    polite.process.kill('SIGINT');
    const [stuckExit, politeExit] = await Promise.all([stuck.exited, polite.exited]);
    await Promise.all([stuck.drained, polite.drained]);

    // It did not exit on the signal: onShutdown ran, and the process then ended by itself, status 0.
    expect(describeExit(stuckExit)).toBe('code 0');
    expect(describeExit(politeExit)).toBe('code 0');
    expect(JSON.parse(/^\{.*\}$/m.exec(stuck.stdout())![0])).toEqual({ shutdown: { signal: 'SIGINT', closed: 0, forced: 5 } });
    expect(JSON.parse(/^\{.*\}$/m.exec(polite.stdout())![0])).toEqual({ shutdown: { signal: 'SIGINT', closed: 5, forced: 0 } });
  }, 40_000);

  it('shuts down sockets created through the CommonJS build as well (one registry per process)', async () => {
    const server = await wsServer();
    const child = runFixture('node-shutdown.mjs', { url: server.url, count: 2, cjs: true, timeoutMs: 5000, report: true });
    await child.waitFor(/^ready$/m);
    child.process.kill('SIGINT');
    expect(describeExit(await child.exited)).toBe('code 0');
    await child.drained;
    expect(JSON.parse(/^\{.*\}$/m.exec(child.stdout())![0])).toEqual({ shutdown: { signal: 'SIGINT', closed: 2, forced: 0 } });
  });
});

// ── in process ──────────────────────────────────────────────────────────────────────────────────────────

describe('shutdownAll (in process)', () => {
  const sockets: { dispose(): void }[] = [];
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.dispose();
  });
  const open = async (url: string, count: number, options: ReconnectingSocketOptions = {}) => {
    const created = Array.from({ length: count }, () => new ReconnectingSocket(url, { heartbeat: false, ...options }));
    sockets.push(...created);
    await Promise.all(created.map((socket) => opened(socket, { timeoutMs: 10_000 })));
    return created;
  };

  it('resolves at once with nothing to close', async () => {
    await expect(shutdownAll()).resolves.toEqual({ closed: 0, forced: 0 });
  });

  it('closes every live socket with 1001 and counts them as closed', async () => {
    const server = await wsServer();
    const created = await open(server.url, 3);
    await expect(shutdownAll({ timeoutMs: 5000 })).resolves.toEqual({ closed: 3, forced: 0 });
    for (const socket of created) {
      expect(socket.state).toBe('closed');
      expect(socket.retry).toBeUndefined();
    }
    await vi.waitFor(() => expect(server.closes.map(({ code }) => code)).toEqual([1001, 1001, 1001]));
    // They left the registry: a second shutdown finds nothing.
    await expect(shutdownAll()).resolves.toEqual({ closed: 0, forced: 0 });
  });

  it('disposes what is still open at the one overall deadline and counts it as forced', async () => {
    const server = await silentServer();
    const created = await open(server.url, 4, { closeTimeoutMs: 30_000 });
    const startedAt = performance.now();
    await expect(shutdownAll({ timeoutMs: 300 })).resolves.toEqual({ closed: 0, forced: 4 });
    const elapsed = performance.now() - startedAt;
    expect(elapsed).toBeGreaterThan(250);
    expect(elapsed).toBeLessThan(2500);
    for (const socket of created) expect(socket.isDisposed).toBe(true);
  });

  it('stops a socket that is waiting to reconnect at once', async () => {
    const refused = createServer((socket) => socket.destroy());
    const port = await listenOnLoopback(refused);
    cleanup(closeOnce(refused, () => {}));
    const socket = new ReconnectingSocket(`ws://127.0.0.1:${port}`, { heartbeat: false, initialDelayMs: 60_000, jitter: false });
    sockets.push(socket);
    await new Promise((resolve) => socket.once('reconnecting', resolve));
    await expect(shutdownAll({ timeoutMs: 60_000 })).resolves.toEqual({ closed: 1, forced: 0 });
    expect(socket.retry).toBeUndefined();
  });

  it('validates its options like the core does', () => {
    expect(() => shutdownAll({ timeoutMs: -1 })).toThrow(new RangeError('shutdownAll: option "timeoutMs" must be a number >= 0 (or Infinity), got -1.'));
    expect(() => shutdownAll({ timeoutMs: '5' as unknown as number })).toThrow(new TypeError('shutdownAll: option "timeoutMs" must be a number, got "5".'));
    expect(() => shutdownAll({ timeoutMs: Number.NaN })).toThrow(TypeError);
    expect(() => shutdownAll({ timeout: 5 } as never)).toThrow(/unknown option "timeout"/);
    expect(() => shutdownAll(5 as never)).toThrow(TypeError);
    // Infinity is a valid deadline: wait for every close (each bounded by its own closeTimeoutMs).
    return expect(shutdownAll({ timeoutMs: Infinity })).resolves.toEqual({ closed: 0, forced: 0 });
  });
});

describe('installGracefulShutdown (in process)', () => {
  const signals = ['SIGINT', 'SIGTERM', 'SIGUSR2'] as const;
  const counts = () => signals.map((signal) => process.listenerCount(signal));
  let baseline: number[];
  beforeAll(() => {
    baseline = counts();
  });
  afterAll(() => expect(counts()).toEqual(baseline));

  it('installs handlers for SIGINT and SIGTERM by default; uninstall removes them and is safe twice', () => {
    const uninstall = installGracefulShutdown();
    expect(counts()).toEqual([baseline[0]! + 1, baseline[1]! + 1, baseline[2]!]);
    uninstall();
    uninstall();
    expect(counts()).toEqual(baseline);
  });

  it('with onShutdown, a signal closes the sockets and reports instead of exiting', async () => {
    const server = await wsServer();
    const socket = new ReconnectingSocket(server.url, { heartbeat: false });
    await opened(socket, { timeoutMs: 10_000 });
    const reports: unknown[] = [];
    const uninstall = installGracefulShutdown({ signals: ['SIGUSR2'], timeoutMs: 5000, onShutdown: (info) => void reports.push(info) });
    try {
      process.kill(process.pid, 'SIGUSR2');
      await vi.waitFor(() => expect(reports).toEqual([{ signal: 'SIGUSR2', closed: 1, forced: 0 }]));
      expect(socket.state).toBe('closed');
      await vi.waitFor(() => expect(server.closes).toEqual([{ code: 1001, reason: 'shutting down' }]));
    } finally {
      uninstall();
      socket.dispose();
    }
  });

  it('with exit: false, a signal closes the sockets and the process keeps running; a later signal shuts down again', async () => {
    const server = await wsServer();
    const uninstall = installGracefulShutdown({ signals: ['SIGUSR2'], timeoutMs: 5000, exit: false });
    try {
      for (let round = 1; round <= 2; round++) {
        const socket = new ReconnectingSocket(server.url, { heartbeat: false });
        await opened(socket, { timeoutMs: 10_000 });
        process.kill(process.pid, 'SIGUSR2');
        await expect(socket.closed).resolves.toMatchObject({ cause: 'client', code: 1001 });
        await vi.waitFor(() => expect(server.closes).toHaveLength(round));
      }
      expect(server.closes.map(({ reason }) => reason)).toEqual(['shutting down', 'shutting down']);
    } finally {
      uninstall();
    }
  });

  it('validates its options, naming the option, the range and the value', () => {
    expect(() => installGracefulShutdown({ timeoutMs: -5 })).toThrow(new RangeError('installGracefulShutdown: option "timeoutMs" must be a number >= 0 (or Infinity), got -5.'));
    expect(() => installGracefulShutdown({ signals: 'SIGINT' as never })).toThrow(TypeError);
    expect(() => installGracefulShutdown({ signals: [] })).toThrow(RangeError);
    expect(() => installGracefulShutdown({ signals: ['SIGKILL'] })).toThrow(/"signals".*got "SIGKILL"/);
    expect(() => installGracefulShutdown({ signals: ['SIGNOPE' as NodeJS.Signals] })).toThrow(RangeError);
    expect(() => installGracefulShutdown({ onShutdown: 'yes' as never })).toThrow(new TypeError('installGracefulShutdown: option "onShutdown" must be a function, got "yes".'));
    expect(() => installGracefulShutdown({ exit: 1 as never })).toThrow(new TypeError('installGracefulShutdown: option "exit" must be a boolean, got 1.'));
    expect(() => installGracefulShutdown({ signal: 'SIGINT' } as never)).toThrow(/unknown option "signal"/);
    expect(counts()).toEqual(baseline); // nothing was installed by a failed call
  });
});

describe('the main entry', () => {
  it('does not pull in the Node-only code, so browser bundles stay free of it', () => {
    for (const file of ['../../dist/index.js', '../../dist/index.cjs']) {
      const code = readFileSync(fileURLToPath(new URL(file, import.meta.url)), 'utf8');
      expect(code).not.toMatch(/installGracefulShutdown|shutdownAll|process\.kill|node\/index/);
      expect(code).not.toMatch(/from ['"](node:)?os['"]|require\(['"](node:)?os['"]\)/);
    }
  });
});
