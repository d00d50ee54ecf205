// Shared helpers for the benchmarks: an echo server that runs in its own process, one uniform
// adapter per client library, small statistics and table printing.
//
// Run as a script (`node bench/lib.mjs echo-server`) this file is the echo server itself; bench/run.mjs
// never runs it directly.
import { execFileSync, fork } from 'node:child_process';
import os from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ROOT_DIR = path.resolve(BENCH_DIR, '..');
/** The built package the benches load; BENCH_DIST=/some/dist measures a private copy (e.g. while dist/ is being rebuilt). */
export const DIST_ESM = path.join(process.env.BENCH_DIST ? path.resolve(process.env.BENCH_DIST) : path.join(ROOT_DIR, 'dist'), 'index.js');

/** Hard upper bound on the life of an echo server process, whatever its parent does. */
const SERVER_MAX_LIFE_MS = 15 * 60_000;

// ---------------------------------------------------------------------------------------------
// Echo server (child process)

async function runEchoServer() {
  const { WebSocketServer } = await import('ws');
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, clientTracking: true });
  server.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    socket.on('error', () => {});
  });
  server.on('listening', () => process.send?.({ port: server.address().port }));
  const stop = () => {
    for (const socket of server.clients) socket.terminate();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  };
  // The parent going away (normally or not) ends the server; so does the hard life limit.
  process.on('disconnect', stop);
  process.on('message', (message) => {
    if (message === 'stop') stop();
  });
  setTimeout(stop, SERVER_MAX_LIFE_MS).unref();
}

/**
 * Starts the echo server in a child process so the client's CPU time and heap are its own.
 * @returns {Promise<{ url: string, port: number, stop(): Promise<void> }>}
 */
/**
 * Bundles `code` (an entry module's source) the way a user's bundler would for a browser: esbuild, minified,
 * ESM, ES2022. Returns the esbuild result (with a metafile) and the output gzipped at level 9. `plugins` are
 * esbuild plugins (bench/size.mjs uses one to take a module out and measure what it cost).
 */
/**
 * A browser bundle as a production build makes it: esbuild ESM, minified, the `production` condition (short
 * option checks) and `process.env.NODE_ENV` defined as "production"; gzip level 9. Every library measured is
 * bundled the same way. `source` also resolves our package.json `imports` to the TypeScript sources; `external`
 * leaves packages out (React, for the hooks).
 */
export async function browserBundle(code, resolveDir = BENCH_DIR, plugins = [], { source = false, external = [] } = {}) {
  const { build } = await import('esbuild');
  const { gzipSync, constants } = await import('node:zlib');
  const result = await build({
    stdin: { contents: code, resolveDir, sourcefile: 'entry.js', loader: 'js' },
    bundle: true,
    minify: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
    conditions: source ? ['source', 'production'] : ['production'],
    define: { 'process.env.NODE_ENV': '"production"' },
    external,
    plugins,
  });
  return { result, gzip: gzipSync(result.outputFiles[0].contents, { level: constants.Z_BEST_COMPRESSION }) };
}

export function startEchoServer() {
  const child = fork(fileURLToPath(import.meta.url), ['echo-server'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error('echo server did not report its port within 10 s'));
    }, 10_000);
    child.once('error', reject);
    child.once('message', ({ port }) => {
      clearTimeout(timer);
      pinToCpu(child.pid, 1);
      const exited = new Promise((done) => child.once('exit', done));
      resolve({
        port,
        url: `ws://127.0.0.1:${port}`,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) {
            child.send('stop');
            const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
            await exited;
            clearTimeout(killer);
          }
        },
      });
    });
  });
}

/**
 * Opt-in (BENCH_PIN=1): pins a process (all its threads) to one CPU with taskset, so the client and the
 * server each keep a core. Off by default: on a shared 2-core machine with other work running, pinning
 * measured far noisier (±35..86% instead of ±3..9%) because a pinned process cannot move off a busy core.
 * Returns whether it pinned.
 */
export function pinToCpu(pid, cpu) {
  if (process.env.BENCH_PIN !== '1' || process.platform !== 'linux' || os.availableParallelism() < 2) return false;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Client adapters: one shape for every library, so the measuring loops are the same code.
//
//   create(url, onMessage) -> instance     (connects at once; onMessage receives the text payload)
//   opened(instance) -> Promise<void>
//   send(instance, text)
//   close(instance) -> Promise<void>       (bounded)

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function eventOnce(target, type) {
  return new Promise((resolve) => {
    const listener = (event) => {
      target.removeEventListener(type, listener);
      resolve(event);
    };
    target.addEventListener(type, listener);
  });
}

const OPEN_TIMEOUT_MS = 5000;
/** An application's debug hook: defined once at module level and passed to every socket, as a user would. */
const DEBUG = () => {};
const CLOSE_TIMEOUT_MS = 2000;

/** The adapters, in the order the tables print them. `load()` returns false when the library is not available. */
export function clientAdapters() {
  let WS;
  const loadWs = async () => {
    WS ??= (await import('ws')).default;
    return true;
  };
  const wsClose = (ws) =>
    ws.readyState === 3
      ? Promise.resolve()
      : withTimeout(new Promise((resolve) => { ws.once('close', resolve); ws.close(); }), CLOSE_TIMEOUT_MS, 'ws close').catch(() => ws.terminate());
  // WHATWG-style peers: close() and wait for the close event, bounded.
  const domClose = (socket) => {
    const closed = eventOnce(socket, 'close');
    socket.close(1000);
    return withTimeout(closed, CLOSE_TIMEOUT_MS, 'close').catch(() => {});
  };

  let lib;
  /**
   * An adapter for the built ReconnectingSocket. `options(lib)`, when given, is called for every socket with the
   * loaded module: a fresh literal each time, as in a user's `connect()` helper, sharing what a user's module would.
   */
  const ours = (name, note, options, extra) => ({
    name,
    note,
    ...extra,
    async load() {
      if (!existsSync(DIST_ESM)) return false;
      lib ??= await import(pathToFileURL(DIST_ESM).href);
      return typeof lib.ReconnectingSocket === 'function';
    },
    create(url, onMessage) {
      const socket = new lib.ReconnectingSocket(url, options?.(lib));
      socket.on('message', (event) => onMessage(event.data));
      return socket;
    },
    opened: (socket) => lib.opened(socket, { timeoutMs: OPEN_TIMEOUT_MS }),
    send(socket, text) {
      const result = socket.send(text);
      if (result !== 'sent') throw new Error(`ReconnectingSocket.send() returned ${JSON.stringify(result)} while open`);
    },
    async close(socket) {
      await withTimeout(socket.close(), CLOSE_TIMEOUT_MS, 'ReconnectingSocket close').catch(() => {});
      socket.dispose();
    },
  });
  let RWS;
  let PartyWS;
  let Sockette;

  return [
    {
      name: 'ws',
      note: "raw ws, ws.on('message'), text frames turned into strings",
      isBaseline: true,
      load: loadWs,
      create(url, onMessage) {
        // The same listeners every adapter has: one for messages. (An extra error listener kept here made the
        // baseline heavier and flattered everything measured against it; no error happens on loopback here.)
        const ws = new WS(url);
        ws.on('message', (data, isBinary) => onMessage(isBinary ? data : data.toString()));
        return ws;
      },
      opened: (ws) => withTimeout(new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); }), OPEN_TIMEOUT_MS, 'ws open'),
      send: (ws, text) => ws.send(text),
      close: wsClose,
    },
    {
      name: 'ws (EventTarget)',
      note: "raw ws, ws.addEventListener('message'), event.data",
      load: loadWs,
      create(url, onMessage) {
        const ws = new WS(url);
        ws.addEventListener('message', (event) => onMessage(event.data));
        return ws;
      },
      opened: (ws) => withTimeout(new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); }), OPEN_TIMEOUT_MS, 'ws open'),
      send: (ws, text) => ws.send(text),
      close: wsClose,
      memory: false,
    },
    ours('ReconnectingSocket', 'dist/index.js, default options (heartbeat on, rawCodec)', undefined, { isSubject: true }),
    // Only the heap figure differs from the default instance; its throughput would be the same.
    ours('ReconnectingSocket (options)', 'dist/index.js with non-default options (heartbeat, queue, backoff, jsonCodec, debug): what an options object costs', ({ jsonCodec }) => ({
      heartbeat: { intervalMs: 20_000, timeoutMs: 5_000 },
      queue: { maxMessages: 100, ttlMs: 30_000 },
      connectTimeoutMs: 5_000,
      initialDelayMs: 500,
      maxDelayMs: 15_000,
      codec: jsonCodec,
      debug: DEBUG,
    }), { throughput: false }),
    {
      name: 'reconnecting-websocket',
      note: '4.x, { WebSocket: ws }',
      async load() {
        await loadWs();
        const mod = await import('reconnecting-websocket');
        RWS ??= typeof mod.default === 'function' ? mod.default : mod.default.default;
        return true;
      },
      create(url, onMessage) {
        const socket = new RWS(url, [], { WebSocket: WS });
        socket.addEventListener('message', (event) => onMessage(event.data));
        return socket;
      },
      opened: (socket) => withTimeout(eventOnce(socket, 'open'), OPEN_TIMEOUT_MS, 'reconnecting-websocket open'),
      send: (socket, text) => socket.send(text),
      close: domClose,
    },
    {
      name: 'partysocket',
      note: 'its WebSocket class, { WebSocket: ws }',
      async load() {
        await loadWs();
        PartyWS ??= (await import('partysocket')).WebSocket;
        return true;
      },
      create(url, onMessage) {
        const socket = new PartyWS(url, [], { WebSocket: WS });
        socket.addEventListener('message', (event) => onMessage(event.data));
        return socket;
      },
      opened: (socket) => withTimeout(eventOnce(socket, 'open'), OPEN_TIMEOUT_MS, 'partysocket open'),
      send: (socket, text) => socket.send(text),
      close: domClose,
    },
    {
      name: 'sockette',
      note: 'globalThis.WebSocket = ws (the adapter also keeps an open and a close promise per client)',
      async load() {
        await loadWs();
        // sockette reads the global at every (re)connect; Node 20 has none, so lend it ws.
        globalThis.WebSocket ??= WS;
        Sockette ??= (await import('sockette')).default;
        return true;
      },
      create(url, onMessage) {
        let markOpen;
        let markClosed;
        const isOpen = new Promise((resolve) => { markOpen = resolve; });
        const isClosed = new Promise((resolve) => { markClosed = resolve; });
        const socket = Sockette(url, {
          onopen: () => markOpen(),
          onclose: () => markClosed(),
          onmessage: (event) => onMessage(event.data),
        });
        socket.isOpen = isOpen;
        socket.isClosed = isClosed;
        return socket;
      },
      opened: (socket) => withTimeout(socket.isOpen, OPEN_TIMEOUT_MS, 'sockette open'),
      send: (socket, text) => socket.send(text),
      async close(socket) {
        socket.close(1000);
        await withTimeout(socket.isClosed, CLOSE_TIMEOUT_MS, 'sockette close').catch(() => {});
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Statistics and printing

export function median(values) {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** (max - min) / median, as a percentage: how far apart the repeats were. */
export function spreadPct(values) {
  const finite = values.filter(Number.isFinite);
  if (finite.length < 2) return NaN;
  return ((Math.max(...finite) - Math.min(...finite)) / Math.abs(median(finite))) * 100;
}

/**
 * A bootstrap interval for the median: resamples `values` with replacement (seeded, so runs are
 * reproducible) and returns the [low, high] percentiles of the resampled medians (90% by default).
 */
export function medianInterval(values, level = 0.9, resamples = 2000) {
  const finite = values.filter(Number.isFinite);
  if (finite.length < 2) return [NaN, NaN];
  let seed = 0x9e3779b9;
  const random = () => {
    // xorshift32: good enough to pick indices
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const medians = [];
  const sample = new Array(finite.length);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < finite.length; i++) sample[i] = finite[Math.floor(random() * finite.length)];
    medians.push(median(sample));
  }
  medians.sort((a, b) => a - b);
  const tail = (1 - level) / 2;
  return [medians[Math.floor(tail * (resamples - 1))], medians[Math.ceil((1 - tail) * (resamples - 1))]];
}

export function fmtInt(value) {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a';
}

export function fmtNum(value, digits = 1) {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

export function fmtPct(value, digits = 1) {
  if (!Number.isFinite(value)) return 'n/a';
  return `${value >= 0 ? '+' : ''}${value.toFixed(digits)}%`;
}

/** Prints rows as an aligned plain-text table; numeric-looking cells are right-aligned. */
export function printTable(headers, rows) {
  const cells = [headers, ...rows].map((row) => row.map((cell) => String(cell)));
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const isNumeric = (text) => /^[-+±~]?[\d,.]+(%| B| KiB| ms|x)?$/.test(text) || text === 'n/a';
  const line = (row) =>
    row.map((cell, i) => (i > 0 && isNumeric(cell) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd();
  console.log(line(cells[0]));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of cells.slice(1)) console.log(line(row));
}

/** Makes `gc()` available without a command-line flag (the throughput bench uses it between trials). */
export async function exposeGc() {
  if (typeof globalThis.gc === 'function') return globalThis.gc;
  const v8 = await import('node:v8');
  const vm = await import('node:vm');
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc');
}

/** Ends the process if it is still running after `ms`: every bench terminates by itself. */
export function watchdog(ms, what) {
  setTimeout(() => {
    console.error(`${what}: watchdog fired after ${ms} ms; exiting.`);
    process.exit(3);
  }, ms).unref();
}

if (process.argv[2] === 'echo-server' && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runEchoServer();
}
