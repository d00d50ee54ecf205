// How fast do clients come back after a server restart, side by side with the peer libraries?
//
// A `ws` server on 127.0.0.1 (a port the OS picks) runs in its own process. For each library, a fresh client
// process opens N clients with that library's default reconnect options and waits until all are open. Then the
// outage: the server stamps the time, stops listening, terminates every connection, and after the outage listens
// again on the same port. Every connection attempt of every library goes through one counting subclass of ws's
// WebSocket (passed as the library's `WebSocket` option where it takes one, and set as globalThis.WebSocket for
// the libraries that read the global), which stamps the attempt when it is constructed.
//
// Figures per run (times from one clock, performance.timeOrigin + performance.now(), in both processes):
//   all back   from the server listening again until every client has had an `open` event since the outage
//              began, counted client-side by each library's own open event; the server's count of live
//              connections at that moment is printed next to it as a check
//   peak       the most attempts in any 100 ms window, from the outage start until all are back
//   attempts   every attempt from the outage start until all are back
// A library not all back within the give-up time is reported as "not all back", with how many were.
//
// Scenarios: a 2 s outage, every library, interleaved (the order rotates each round) and repeated; then a 30 s
// outage, ReconnectingSocket only (--long-peers adds the peers), once. Each run gets a fresh client process, and
// every client is disposed or closed before it exits, so no straggler counts against the next library.
//
//   npm run build && node bench/recovery.mjs [--clients N] [--rounds N] [--only NAME,...] [--skip-long]
//                                            [--long-peers] [--budget-s S]
//
// Loopback only. The whole bench stops within its time budget (default 390 s; runs that no longer fit are
// skipped and listed) and a watchdog ends it 60 s after that.
import { fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DIST_ESM, ROOT_DIR, fmtInt, median, printTable, watchdog } from './lib.mjs';

const SELF = fileURLToPath(import.meta.url);
const SHORT_OUTAGE_MS = 2_000;
const LONG_OUTAGE_MS = 30_000;
const GIVE_UP_MS = 60_000;
const OPEN_BOUND_MS = 30_000;
const WINDOW_MS = 100;
const STRAGGLER_WAIT_MS = 500;
const TARGET_PEAK = 60;
const TARGET_SHORT_BACK_MS = 5_000;
/** Room a run needs besides its outage and give-up time: start-up, opening, cleanup. */
const RUN_OVERHEAD_MS = 45_000;
const SERVER_MAX_LIFE_MS = 15 * 60_000;

const now = () => performance.timeOrigin + performance.now();
const noop = () => {};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------------------
// The libraries. `load(WebSocket)` runs in the client process and returns how to create one client (which
// connects at once and calls `onOpen` at every open) and how to get rid of it for good.

function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(path.join(ROOT_DIR, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}

const LIBRARIES = [
  {
    name: 'ReconnectingSocket',
    isSubject: true,
    describe: (defaults) =>
      `dist/index.js, new ReconnectingSocket(url, { WebSocket }): DEFAULTS initialDelayMs ${defaults.initialDelayMs}, ` +
      `delayFactor ${defaults.delayFactor}, maxDelayMs ${defaults.maxDelayMs}, jitter ${JSON.stringify(defaults.jitter)}`,
    async load(WebSocket) {
      const { ReconnectingSocket } = await import(pathToFileURL(DIST_ESM).href);
      return {
        create(url, onOpen) {
          const socket = new ReconnectingSocket(url, { WebSocket });
          socket.on('open', onOpen);
          // Without an error listener each socket prints its first error once; the retries are the same.
          socket.on('error', noop);
          return socket;
        },
        dispose: (socket) => socket.dispose(),
      };
    },
  },
  {
    name: 'reconnecting-websocket',
    describe: () =>
      `${packageVersion('reconnecting-websocket')}, { WebSocket }, defaults: first retry after minReconnectionDelay ` +
      '(drawn once per process in 1-5 s, so all clients of one process share it), x1.3 per retry, at most 10 s',
    async load(WebSocket) {
      const mod = await import('reconnecting-websocket');
      const RWS = typeof mod.default === 'function' ? mod.default : mod.default.default;
      return {
        create(url, onOpen) {
          const socket = new RWS(url, [], { WebSocket });
          socket.addEventListener('open', onOpen);
          return socket;
        },
        dispose: (socket) => socket.close(),
      };
    },
  },
  {
    name: 'partysocket',
    describe: () =>
      `${packageVersion('partysocket')}, ReconnectingWebSocket from partysocket/ws, { WebSocket }, defaults: ` +
      'first retry after 3 s, x1.3 per retry, at most 10 s',
    async load(WebSocket) {
      const ReconnectingWebSocket = (await import('partysocket/ws')).default;
      return {
        create(url, onOpen) {
          const socket = new ReconnectingWebSocket(url, undefined, { WebSocket });
          socket.addEventListener('open', onOpen);
          return socket;
        },
        dispose: (socket) => socket.close(),
      };
    },
  },
  {
    name: 'websocket-ts',
    describe: () =>
      `${packageVersion('websocket-ts')}, globalThis.WebSocket, withBackoff(new ConstantBackoff(1000)): the backoff ` +
      "of its README's quickstart, a retry every 1 s (with no backoff it never reconnects)",
    async load() {
      const { WebsocketBuilder, ConstantBackoff } = await import('websocket-ts');
      return {
        create: (url, onOpen) => new WebsocketBuilder(url).withBackoff(new ConstantBackoff(1000)).onOpen(onOpen).build(),
        dispose: (socket) => socket.close(),
      };
    },
  },
  {
    name: 'sockette',
    describe: () => `${packageVersion('sockette')}, globalThis.WebSocket, defaults: a retry every 1 s (timeout 1000)`,
    async load() {
      const Sockette = (await import('sockette')).default;
      return {
        create: (url, onOpen) => Sockette(url, { onopen: onOpen }),
        dispose: (socket) => socket.close(),
      };
    },
  },
];

// ---------------------------------------------------------------------------------------------------------
// Server process: a ws server that can go away and come back on the same port.
//
//   { id, cmd: 'outage', ms } -> { id, type: 'down', at, terminated }, then after `ms`
//                                { id, type: 'up', at, port, moved } (moved: the port was taken meanwhile,
//                                so it listens on a new OS-chosen port instead)
//   { id, cmd: 'count' }      -> { id, type: 'count', connections }
//   { id, cmd: 'reset' }      -> { id, type: 'reset', terminated }

async function runServer() {
  const { WebSocketServer } = await import('ws');
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: true });
  const sockets = new Set();
  let listener;
  let port = 0;

  const listen = (onPort) =>
    new Promise((resolve, reject) => {
      const server = createServer((request, response) => response.writeHead(426).end());
      server.on('connection', (socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        socket.on('error', noop);
      });
      server.on('upgrade', (request, socket, head) => {
        wss.handleUpgrade(request, socket, head, (ws) => ws.on('error', noop));
      });
      server.once('error', reject);
      server.listen(onPort, '127.0.0.1', () => {
        server.off('error', reject);
        const at = now();
        listener = server;
        port = server.address().port;
        resolve(at);
      });
    });

  const terminateAll = () => {
    let terminated = 0;
    for (const ws of wss.clients) {
      ws.terminate();
      terminated++;
    }
    for (const socket of sockets) socket.destroy();
    return terminated;
  };

  /** Listens on the same port again; if it stays taken for 5 s, on a new one. */
  async function listenAgain() {
    for (let i = 0; i < 100; i++) {
      try {
        return { at: await listen(port), moved: false };
      } catch (error) {
        if (error.code !== 'EADDRINUSE') throw error;
        await sleep(50);
      }
    }
    return { at: await listen(0), moved: true };
  }

  process.on('message', (message) => {
    const { id, cmd } = message;
    if (cmd === 'outage') {
      const at = now();
      // Stop accepting first, so nobody gets in while the others are being cut off.
      listener.close();
      listener = undefined;
      const terminated = terminateAll();
      process.send({ id, type: 'down', at, terminated });
      setTimeout(() => {
        listenAgain().then(
          ({ at: upAt, moved }) => process.send({ id, type: 'up', at: upAt, port, moved }),
          (error) => process.send({ id, type: 'up-failed', error: String(error?.message ?? error) }),
        );
      }, message.ms);
    } else if (cmd === 'count') {
      process.send({ id, type: 'count', connections: wss.clients.size });
    } else if (cmd === 'reset') {
      process.send({ id, type: 'reset', terminated: terminateAll() });
    }
  });
  process.on('disconnect', () => process.exit(0));
  setTimeout(() => process.exit(0), SERVER_MAX_LIFE_MS).unref();
  await listen(0);
  process.send({ type: 'listening', port });
}

// ---------------------------------------------------------------------------------------------------------
// Client process: one library, N clients, one outage.
//
//   -> { type: 'ready', openMs }  or  { type: 'failed', reason }
//   <- { type: 'down', at }, { type: 'up', at }
//   -> { type: 'back', ...figures }   (all back, or given up)
//   <- { type: 'cleanup' }
//   -> { type: 'cleaned', stragglers, disposeErrors }, then exits

/** The most timestamps in any half-open window [t, t + windowMs); `times` sorted ascending. */
function peakInWindow(times, windowMs) {
  let peak = 0;
  let low = 0;
  for (let high = 0; high < times.length; high++) {
    while (times[high] - times[low] >= windowMs) low++;
    peak = Math.max(peak, high - low + 1);
  }
  return peak;
}

async function runClients({ name, url, clients, giveUpMs, lifeMs }) {
  watchdog(lifeMs, `recovery.mjs client process (${name})`);
  process.on('disconnect', () => process.exit(0));
  const { WebSocket: WsWebSocket } = await import('ws');
  const attempts = [];
  class CountingWebSocket extends WsWebSocket {
    constructor(...args) {
      attempts.push(now());
      super(...args);
      // A library may detach its listeners from a socket that fails later; that must not end the process.
      this.on('error', noop);
    }
  }
  globalThis.WebSocket = CountingWebSocket;
  const library = await LIBRARIES.find((candidate) => candidate.name === name).load(CountingWebSocket);

  const started = now();
  const isOpenedOnce = new Uint8Array(clients);
  const backAt = new Float64Array(clients);
  let opened = 0;
  let back = 0;
  let phase = 'opening'; // then 'outage' (every open is a return), then 'done'
  let downAt = NaN;
  let upAt = NaN;
  let giveUpTimer;

  const report = (isAllBack, endAt) => {
    phase = 'done';
    clearTimeout(giveUpTimer);
    const window = attempts.filter((t) => t >= downAt && t <= endAt).sort((a, b) => a - b);
    const returns = Array.from(backAt).filter((t) => t > 0).sort((a, b) => a - b);
    process.send({
      type: 'back',
      isAllBack,
      back,
      allBackMs: isAllBack ? endAt - upAt : NaN,
      halfBackMs: returns.length >= clients / 2 ? returns[Math.ceil(clients / 2) - 1] - upAt : NaN,
      peak: peakInWindow(window, WINDOW_MS),
      attempts: window.length,
      waitedMs: endAt - upAt,
    });
  };

  const onOpenOf = (index) => () => {
    const at = now();
    if (phase === 'opening') {
      if (isOpenedOnce[index]) return;
      isOpenedOnce[index] = 1;
      if (++opened === clients) {
        phase = 'outage';
        process.send({ type: 'ready', openMs: at - started });
      }
    } else if (phase === 'outage' && backAt[index] === 0) {
      backAt[index] = at;
      if (++back === clients && Number.isFinite(upAt)) report(true, at);
    }
  };

  const instances = [];
  for (let i = 0; i < clients; i++) instances.push(library.create(url, onOpenOf(i)));
  const openTimer = setTimeout(() => {
    if (phase === 'opening') process.send({ type: 'failed', reason: `${opened}/${clients} open after ${OPEN_BOUND_MS} ms` });
  }, OPEN_BOUND_MS);

  process.on('message', async (message) => {
    if (message.type === 'down') {
      downAt = message.at;
    } else if (message.type === 'up') {
      upAt = message.at;
      // The server is listening before this message arrives, so every client may already be back.
      if (phase === 'outage' && back === clients) report(true, Math.max(...backAt));
      else giveUpTimer = setTimeout(() => phase === 'outage' && report(false, now()), giveUpMs);
    } else if (message.type === 'cleanup') {
      clearTimeout(openTimer);
      clearTimeout(giveUpTimer);
      phase = 'done';
      const cleanupAt = now();
      let disposeErrors = 0;
      for (const instance of instances) {
        try {
          library.dispose(instance);
        } catch {
          disposeErrors++;
        }
      }
      await sleep(STRAGGLER_WAIT_MS);
      const stragglers = attempts.filter((t) => t >= cleanupAt).length;
      process.send({ type: 'cleaned', stragglers, disposeErrors }, () => process.exit(0));
    }
  });
}

// ---------------------------------------------------------------------------------------------------------
// Parent: plans the runs, drives the server and the client processes, prints the tables.

/** Buffers a child's messages, so none is missed between two waits. */
function mailbox(child, label) {
  const queue = [];
  const waiters = new Set();
  let exited;
  child.on('message', (message) => {
    for (const waiter of waiters) {
      if (waiter.match(message)) {
        waiters.delete(waiter);
        waiter.resolve(message);
        return;
      }
    }
    queue.push(message);
  });
  let exitStatus;
  child.on('exit', (code, signal) => {
    exitStatus = signal ?? `code ${code}`;
  });
  // 'disconnect', not 'exit': the channel closes only after every message the child sent has been read.
  child.on('disconnect', () => {
    const fail = () => {
      exited = `${label} ended (${exitStatus ?? 'closed its IPC channel'})`;
      for (const waiter of waiters) waiter.reject(new Error(exited));
      waiters.clear();
    };
    if (exitStatus !== undefined) fail();
    else {
      const timer = setTimeout(fail, 1_000);
      child.once('exit', () => (clearTimeout(timer), fail()));
    }
  });
  return {
    take(match, timeoutMs, what) {
      const index = queue.findIndex(match);
      if (index >= 0) return Promise.resolve(queue.splice(index, 1)[0]);
      if (exited) return Promise.reject(new Error(exited));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`${label}: no ${what} within ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter = {
          match,
          resolve: (message) => (clearTimeout(timer), resolve(message)),
          reject: (error) => (clearTimeout(timer), reject(error)),
        };
        waiters.add(waiter);
      });
    },
  };
}

class FatalError extends Error {}

async function startServer() {
  const child = fork(SELF, ['server'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const box = mailbox(child, 'server process');
  const { port } = await box.take((m) => m.type === 'listening', 10_000, 'port');
  let nextId = 0;
  const server = {
    url: `ws://127.0.0.1:${port}`,
    port,
    /** Sends a command; `take` waits for a reply of a given type to it. */
    command(cmd, extra = {}) {
      const id = ++nextId;
      child.send({ id, cmd, ...extra });
      // The server going quiet leaves nothing to measure against: every wait on it is fatal.
      return (type, timeoutMs) =>
        box.take((m) => m.id === id && (m.type === type || m.type === 'up-failed'), timeoutMs, `${cmd} ${type}`).catch((error) => {
          throw new FatalError(error.message);
        });
    },
    async count() {
      return (await server.command('count')('count', 5_000)).connections;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.disconnect();
      const killer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(killer);
    },
  };
  return server;
}

/** One library, one outage, in a fresh client process. Resolves with the figures or `{ error }`. */
async function runOnce(server, library, clients, outageMs, giveUpMs) {
  const lifeMs = OPEN_BOUND_MS + outageMs + giveUpMs + 30_000;
  const options = { name: library.name, url: server.url, clients, giveUpMs, lifeMs };
  const child = fork(SELF, ['clients', JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk).slice(-2_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const box = mailbox(child, `${library.name} client process`);
  let isCleanupSent = false;
  try {
    const ready = await box.take((m) => m.type === 'ready' || m.type === 'failed', OPEN_BOUND_MS + 15_000, 'open');
    if (ready.type === 'failed') return { error: `not all open: ${ready.reason}` };

    const reply = server.command('outage', { ms: outageMs });
    const down = await reply('down', 5_000);
    child.send({ type: 'down', at: down.at });
    const up = await reply('up', outageMs + 15_000);
    if (up.type === 'up-failed') throw new FatalError(`the server could not listen again: ${up.error}`);
    if (up.moved) {
      server.url = `ws://127.0.0.1:${up.port}`;
      server.port = up.port;
      return { error: `port ${server.port} was taken during the outage; the server moved to ${up.port}` };
    }
    child.send({ type: 'up', at: up.at });

    const figures = await box.take((m) => m.type === 'back', giveUpMs + 15_000, 'result');
    const serverConnections = await server.count();
    child.send({ type: 'cleanup' });
    isCleanupSent = true;
    const cleaned = await box.take((m) => m.type === 'cleaned', 10_000, 'cleanup report');
    return { ...figures, openMs: ready.openMs, terminated: down.terminated, serverConnections, ...cleaned };
  } catch (error) {
    if (error instanceof FatalError) throw error;
    const tail = output.trim().split('\n').slice(-3).join(' | ');
    return { error: `${error.message}${tail ? ` (output: ${tail})` : ''}` };
  } finally {
    // On every path the client process disposes its clients and exits; if it cannot, it is killed.
    if (child.connected && !isCleanupSent) child.send({ type: 'cleanup' }, noop);
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(killer);
    // Whatever the client process left on the server (it should be nothing) is cut off before the next run.
    let leftover = await server.count();
    for (let i = 0; i < 60 && leftover > 0; i++) {
      await sleep(50);
      leftover = await server.count();
    }
    if (leftover > 0) await server.command('reset')('reset', 5_000);
  }
}

function parseFlags(argv) {
  const flags = { clients: 500, rounds: 3, only: undefined, skipLong: false, longPeers: false, budgetMs: 390_000 };
  const number = (i, low, high) => {
    const value = Number(argv[i + 1]);
    if (!Number.isInteger(value) || value < low || value > high) {
      throw new RangeError(`${argv[i]} expects an integer in ${low}..${high}, got ${JSON.stringify(argv[i + 1])}`);
    }
    return value;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--clients') flags.clients = number(i++, 1, 2_000);
    else if (flag === '--rounds') flags.rounds = number(i++, 1, 20);
    else if (flag === '--budget-s') flags.budgetMs = number(i++, 30, 3_600) * 1000;
    else if (flag === '--only') flags.only = String(argv[++i] ?? '').split(',').filter(Boolean);
    else if (flag === '--skip-long') flags.skipLong = true;
    else if (flag === '--long-peers') flags.longPeers = true;
    else throw new RangeError(`unknown flag ${JSON.stringify(flag)}; flags: --clients N, --rounds N, --only NAME,..., --skip-long, --long-peers, --budget-s S`);
  }
  return flags;
}

function selectLibraries(only) {
  if (!only) return LIBRARIES;
  const wanted = only.map((name) => (name.toLowerCase() === 'ours' ? 'reconnectingsocket' : name.toLowerCase()));
  const unknown = wanted.filter((name) => !LIBRARIES.some((library) => library.name.toLowerCase() === name));
  if (unknown.length) throw new RangeError(`--only: unknown ${unknown.join(', ')}; known: ours, ${LIBRARIES.map((l) => l.name).join(', ')}`);
  return LIBRARIES.filter((library) => wanted.includes(library.name.toLowerCase()));
}

const fmtMs = (ms) => (Number.isFinite(ms) ? `${fmtInt(ms)} ms` : 'n/a');
const range = (values) => {
  const finite = values.filter(Number.isFinite);
  return finite.length ? `${fmtInt(Math.min(...finite))}..${fmtInt(Math.max(...finite))}` : 'n/a';
};

function describeRun(result, clients) {
  if (result.error) return `ERROR: ${result.error}`;
  const back = result.isAllBack ? `all back ${fmtMs(result.allBackMs).padStart(9)}` : `NOT ALL BACK: ${result.back}/${clients} after ${fmtMs(result.waitedMs)}`;
  const notes = [`half back ${fmtMs(result.halfBackMs)}`, `server: ${result.serverConnections} live`];
  if (result.stragglers > 0) notes.push(`WARNING: ${result.stragglers} attempts after cleanup`);
  if (result.disposeErrors > 0) notes.push(`WARNING: ${result.disposeErrors} close/dispose calls threw`);
  return `${back}  peak ${String(result.peak).padStart(3)}/${WINDOW_MS} ms  attempts ${fmtInt(result.attempts).padStart(6)}  (${notes.join(', ')})`;
}

function summaryTable(libraries, results) {
  const rows = [];
  for (const library of libraries) {
    const runs = results.filter((r) => r.library === library.name);
    const measured = runs.filter((r) => !r.error);
    if (runs.length === 0) continue;
    const allBack = measured.filter((r) => r.isAllBack).map((r) => r.allBackMs);
    const peaks = measured.map((r) => r.peak);
    const attempts = measured.map((r) => r.attempts);
    rows.push([
      library.name,
      `${allBack.length}/${runs.length}`,
      allBack.length ? fmtInt(median(allBack)) : 'not all back',
      range(allBack),
      fmtInt(median(peaks)),
      range(peaks),
      fmtInt(median(attempts)),
      range(attempts),
    ]);
  }
  printTable(['library', 'all back', 'all back ms (median)', 'range', `peak / ${WINDOW_MS} ms`, 'range', 'attempts', 'range'], rows);
}

/**
 * One target line: met or not, with the figure, judged on the worst run. A run not all back misses an
 * all-back target; its peak (over the time until it was given up) still counts for a peak target.
 */
function targetLine(label, runs, figure, limit, format) {
  if (runs.length === 0) return `  ${label}: not measured`;
  const isAllBackTarget = figure === 'allBackMs';
  const failed = runs.filter((r) => r.error);
  const notBack = runs.filter((r) => !r.error && !r.isAllBack);
  const values = runs.filter((r) => !r.error && (!isAllBackTarget || r.isAllBack)).map((r) => r[figure]);
  const worst = values.length ? Math.max(...values) : NaN;
  const isMet = failed.length === 0 && (!isAllBackTarget || notBack.length === 0) && values.length > 0 && worst <= limit;
  const detail =
    runs.length > 1 ? `worst of ${runs.length} runs ${format(worst)}, median ${format(median(values))}` : format(worst);
  const problems = [
    ...(notBack.length ? [`not all back in ${notBack.length} run(s)`] : []),
    ...(failed.length ? [`${failed.length} run(s) failed`] : []),
  ];
  return `  ${label}: ${isMet ? 'met' : 'NOT MET'} (${[detail, ...problems].join('; ')})`;
}

async function main() {
  const benchStarted = performance.now();
  let flags;
  let libraries;
  try {
    flags = parseFlags(process.argv.slice(2));
    libraries = selectLibraries(flags.only);
  } catch (error) {
    console.error(error.message);
    process.exit(2);
  }
  watchdog(flags.budgetMs + 60_000, 'recovery.mjs');

  const hasSubject = libraries.some((library) => library.isSubject);
  let defaults;
  if (hasSubject) {
    if (!existsSync(DIST_ESM)) {
      console.error('dist/index.js is missing: run `npm run build` first.');
      process.exit(1);
    }
    defaults = (await import(pathToFileURL(DIST_ESM).href)).DEFAULTS;
  }
  const available = [];
  for (const library of libraries) {
    try {
      await library.load(class {});
      available.push(library);
    } catch (error) {
      console.log(`skipped ${library.name}: ${error.message}`);
    }
  }

  const shortPlan = [];
  for (let round = 0; round < flags.rounds; round++) {
    for (let i = 0; i < available.length; i++) {
      shortPlan.push({ scenario: 'short', round, library: available[(i + round) % available.length], outageMs: SHORT_OUTAGE_MS });
    }
  }
  const longLibraries = flags.skipLong ? [] : available.filter((library) => library.isSubject || flags.longPeers);
  const longPlan = longLibraries.map((library) => ({ scenario: 'long', round: 0, library, outageMs: LONG_OUTAGE_MS }));
  const longReserveMs = longPlan.reduce((sum, run) => sum + run.outageMs + RUN_OVERHEAD_MS, 0);
  const deadline = benchStarted + flags.budgetMs;

  const server = await startServer();
  console.log(
    `Recovery after a server restart: ${flags.clients} clients per library, each with its default reconnect options.\n` +
      `Server: ws on ${server.url} in its own process; clients in a fresh process per library and run.\n` +
      'Outage: the server stops listening and terminates every connection, then listens again on the same port.\n' +
      `${SHORT_OUTAGE_MS / 1000} s outage: ${flags.rounds} round(s), libraries interleaved, the order rotated each round.` +
      (longPlan.length ? ` ${LONG_OUTAGE_MS / 1000} s outage: once, ${longLibraries.map((l) => l.name).join(', ')}.` : ' 30 s outage: skipped.') +
      '\n\nattempts: constructions of the WebSocket each library uses (a counting subclass of ws\'s WebSocket), counted\n' +
      `  from the outage start until all are back; peak: the most of them in any ${WINDOW_MS} ms window.\n` +
      'all back: from the server listening again until every client has had an open event since the outage began\n' +
      "  (counted client-side, by each library's own open event; the server's live connections are printed as a check).\n" +
      `half back: the same for half of them. Given up ${GIVE_UP_MS / 1000} s after listening again: "not all back".\n`,
  );
  for (const library of available) console.log(`  ${library.name.padEnd(22)} ${library.describe(defaults)}`);
  console.log('');

  const results = [];
  const skipped = [];
  let failedRuns = 0;
  try {
    for (const run of [...shortPlan, ...longPlan]) {
      const reserveMs = run.scenario === 'short' ? longReserveMs : 0;
      const remainingMs = deadline - reserveMs - performance.now() - run.outageMs - RUN_OVERHEAD_MS;
      const label =
        run.scenario === 'short' ? `${SHORT_OUTAGE_MS / 1000} s outage, round ${run.round + 1}/${flags.rounds}` : `${LONG_OUTAGE_MS / 1000} s outage`;
      if (remainingMs < 10_000) {
        skipped.push(`${label}, ${run.library.name}`);
        continue;
      }
      const giveUpMs = Math.min(GIVE_UP_MS, remainingMs);
      const result = await runOnce(server, run.library, flags.clients, run.outageMs, giveUpMs);
      if (result.error) failedRuns++;
      results.push({ ...result, scenario: run.scenario, library: run.library.name });
      const cut = giveUpMs < GIVE_UP_MS ? ` [give-up cut to ${fmtMs(giveUpMs)} by the time budget]` : '';
      console.log(`  ${label.padEnd(26)} ${run.library.name.padEnd(22)} ${describeRun(result, flags.clients)}${cut}`);
    }
  } finally {
    await server.stop();
  }

  const short = results.filter((r) => r.scenario === 'short');
  const long = results.filter((r) => r.scenario === 'long');
  console.log(`\n${SHORT_OUTAGE_MS / 1000} s outage, ${flags.clients} clients: medians and ranges over the rounds (all back: rounds in which all came back)\n`);
  summaryTable(available, short);
  if (long.length) {
    console.log(`\n${LONG_OUTAGE_MS / 1000} s outage, ${flags.clients} clients, one run\n`);
    summaryTable(available, long);
  }
  if (skipped.length) console.log(`\nSkipped by the time budget (${flags.budgetMs / 1000} s): ${skipped.join('; ')}`);

  if (hasSubject) {
    const ours = (list) => list.filter((r) => r.library === 'ReconnectingSocket');
    const capMs = defaults.maxDelayMs;
    console.log(`\nTargets (ReconnectingSocket, ${flags.clients} clients):`);
    console.log(targetLine(`peak <= ${TARGET_PEAK} attempts per ${WINDOW_MS} ms, ${SHORT_OUTAGE_MS / 1000} s outage`, ours(short), 'peak', TARGET_PEAK, fmtInt));
    console.log(targetLine(`all back within ${fmtMs(TARGET_SHORT_BACK_MS)}, ${SHORT_OUTAGE_MS / 1000} s outage`, ours(short), 'allBackMs', TARGET_SHORT_BACK_MS, fmtMs));
    if (!flags.skipLong) {
      console.log(targetLine(`peak <= ${TARGET_PEAK} attempts per ${WINDOW_MS} ms, ${LONG_OUTAGE_MS / 1000} s outage`, ours(long), 'peak', TARGET_PEAK, fmtInt));
      console.log(
        targetLine(`all back within maxDelayMs ${fmtInt(capMs)} + 1 s = ${fmtMs(capMs + 1_000)}, ${LONG_OUTAGE_MS / 1000} s outage`, ours(long), 'allBackMs', capMs + 1_000, fmtMs),
      );
    }
  }
  console.log(`\n${results.length} run(s) in ${((performance.now() - benchStarted) / 1000).toFixed(1)} s.`);
  if (failedRuns > 0) {
    console.log(`${failedRuns} run(s) failed (see ERROR above).`);
    process.exitCode = 1;
  }
}

const role = process.argv[2];
if (role === 'server') await runServer();
else if (role === 'clients') await runClients(JSON.parse(process.argv[3]));
else {
  try {
    await main();
  } catch (error) {
    console.error(`recovery.mjs: ${error.stack ?? error}`);
    process.exit(1);
  }
}
