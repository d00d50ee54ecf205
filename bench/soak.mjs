// Leak soak: thousands of socket lifetimes against real `ws` servers, then a check that the process is back
// where it started. After a warm-up, and after each phase, it forces GC and records heapUsed, the resources
// that keep the event loop alive (process.getActiveResourcesInfo(), grouped by type), how many sockets are
// still reachable, and how many connections the servers still hold.
//
//   npm run soak        (= npm run build && node bench/soak.mjs)
//   node bench/soak.mjs --open-close 500 --timeouts 300 --dispose 100 --json
//
// Phases, each run `--concurrency` at a time:
//   open/close  new ReconnectingSocket(echo), opened(), send + wait for the echo, await close()
//   timeouts    against a stall server (TCP accepted, upgrade never answered): connectTimeoutMs, maxRetries 0,
//               await `closed`, whose cause must be 'connect-timeout'
//   dispose     dispose() while connecting (stall server, and echo server before the handshake completes) and
//               while open (after an echo); `closed` must say 'dispose'
//
// The servers run in a child process (this file, `serve` mode), so the heap and the active resources measured
// here are the client's alone. Exit status: 0 when every check passes; 1 when a check fails, a cycle fails or
// the time limit passes; 2 for bad flags.
import { fork, spawn } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DIST_ESM, fmtInt, printTable } from './lib.mjs';

const SELF = fileURLToPath(import.meta.url);
const HOST = '127.0.0.1';
const MiB = 1024 * 1024;

/** Bound on every single wait of a cycle (open, echo, close, closed). */
const STEP_TIMEOUT_MS = 5_000;
/** How long a snapshot waits for the servers to see every connection end and transient handles to close. */
const SETTLE_MS = 5_000;
/** closeTimeoutMs of the sockets: the echo server answers the close frame at once, so this is only a bound. */
const CLOSE_TIMEOUT_MS = 2_000;

const USAGE = `Usage: node bench/soak.mjs [flags]

  --open-close N         open/echo/close cycles                         (default 5000)
  --timeouts N           connect-timeout cycles against a stall server  (default 2000)
  --dispose N            dispose() cycles: while connecting, while open (default 300)
  --warmup N             open/close cycles before the baseline, plus N/2 timeouts and N/5 disposes (default 300)
  --concurrency N        sockets in flight at once                      (default 20)
  --connect-timeout-ms N connectTimeoutMs of the timeout phase          (default 30)
  --heap-slack-mb N      allowed heap growth, absolute part, in MiB     (default 2)
  --heap-slack-pct N     allowed heap growth, relative to the baseline  (default 10)
  --time-limit-s N       the whole run must end within this            (default 600)
  --json                 print one JSON object instead of the tables
  --help`;

// ---------------------------------------------------------------------------------------------
// Flags

function parseFlags(argv) {
  const spec = {
    'open-close': { default: 5000, min: 0 },
    timeouts: { default: 2000, min: 0 },
    dispose: { default: 300, min: 0 },
    warmup: { default: 300, min: 0 },
    concurrency: { default: 20, min: 1 },
    'connect-timeout-ms': { default: 30, min: 1 },
    'heap-slack-mb': { default: 2, min: 0, isFloat: true },
    'heap-slack-pct': { default: 10, min: 0, isFloat: true },
    'time-limit-s': { default: 600, min: 1, isFloat: true },
  };
  const options = { json: { type: 'boolean' }, help: { type: 'boolean' } };
  for (const name of Object.keys(spec)) options[name] = { type: 'string' };
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (error) {
    return { error: error.message };
  }
  if (values.help) return { help: true };
  const flags = { json: Boolean(values.json) };
  for (const [name, { default: fallback, min, isFloat }] of Object.entries(spec)) {
    const text = values[name];
    const value = text === undefined ? fallback : Number(text);
    if (!Number.isFinite(value) || value < min || (!isFloat && !Number.isInteger(value))) {
      return { error: `--${name} must be ${isFloat ? 'a number' : 'an integer'} >= ${min}, got ${JSON.stringify(text)}` };
    }
    flags[name.replace(/-(\w)/g, (_, c) => c.toUpperCase())] = value;
  }
  return { flags };
}

// ---------------------------------------------------------------------------------------------
// Servers (child process): an echo `ws` server and a stall server, both on 127.0.0.1 port 0, with counts.

async function serve(maxLifeMs) {
  if (typeof process.send !== 'function') {
    console.error('soak.mjs serve: internal mode; soak.mjs starts it with an IPC channel.');
    process.exit(2);
  }
  const { WebSocketServer } = await import('ws');
  const echo = { accepted: 0, open: 0, upgraded: 0, messages: 0 };
  const stall = { accepted: 0, open: 0 };
  const sockets = new Set();
  const track = (socket, counts) => {
    counts.accepted++;
    counts.open++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => {
      counts.open--;
      sockets.delete(socket);
    });
  };

  const http = createHttpServer((_req, res) => res.writeHead(426, { Connection: 'close' }).end());
  http.on('connection', (socket) => track(socket, echo));
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false, clientTracking: true });
  wss.on('error', () => {});
  wss.on('connection', (ws) => {
    echo.upgraded++;
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      echo.messages++;
      if (ws.readyState === ws.OPEN) ws.send(data, { binary: isBinary });
    });
  });
  // Reads and drops the upgrade request, never answers it.
  const stallServer = createTcpServer((socket) => {
    track(socket, stall);
    socket.resume();
  });

  const listen = (server) =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, HOST, () => {
        server.off('error', reject);
        server.on('error', () => {});
        resolve(server.address().port);
      });
    });
  const [echoPort, stallPort] = await Promise.all([listen(http), listen(stallServer)]);

  let isStopping = false;
  const stop = () => {
    if (isStopping) return;
    isStopping = true;
    for (const socket of sockets) socket.destroy();
    let pending = 2;
    const closed = () => --pending === 0 && process.exit(0);
    wss.close();
    http.close(closed);
    stallServer.close(closed);
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('message', (message) => {
    if (message?.type === 'counts') {
      process.send({ type: 'counts', id: message.id, echo: { ...echo, wsOpen: wss.clients.size }, stall: { ...stall } });
    } else if (message?.type === 'stop') stop();
  });
  // The parent going away, whatever the reason, ends the servers; so does the hard life limit.
  process.on('disconnect', stop);
  setTimeout(stop, maxLifeMs).unref();
  process.send({ type: 'ready', echoPort, stallPort });
}

/** Starts the server process; resolves once both servers listen. */
function startServers(maxLifeMs, onUnexpectedExit) {
  const child = fork(SELF, ['serve', String(maxLifeMs)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const waiting = new Map();
  let nextId = 0;
  let isStopping = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the server process did not report its ports within 10 s'));
    }, 10_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      for (const { reject: fail } of waiting.values()) fail(new Error('the server process exited'));
      waiting.clear();
      if (!isStopping) onUnexpectedExit(`the server process exited unexpectedly (${signal ?? `code ${code}`})`);
    });
    child.on('message', (message) => {
      if (message.type === 'counts') {
        const entry = waiting.get(message.id);
        waiting.delete(message.id);
        entry?.resolve({ echo: message.echo, stall: message.stall });
      } else if (message.type === 'ready') {
        clearTimeout(timer);
        resolve({
          echoUrl: `ws://${HOST}:${message.echoPort}`,
          stallUrl: `ws://${HOST}:${message.stallPort}`,
          /** The servers' connection counts, asked over IPC. */
          counts: () =>
            withTimeout(
              new Promise((resolveCounts, rejectCounts) => {
                const id = nextId++;
                waiting.set(id, { resolve: resolveCounts, reject: rejectCounts });
                child.send({ type: 'counts', id });
              }),
              STEP_TIMEOUT_MS,
              'server counts',
            ),
          async stop() {
            isStopping = true;
            if (child.exitCode !== null || child.signalCode !== null) return;
            child.send({ type: 'stop' });
            const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
            await exited;
            clearTimeout(killer);
          },
        });
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Small async helpers; none leaves a timer behind.

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The next `message` event's data; the listener is removed either way. */
function nextMessage(socket, ms) {
  return new Promise((resolve, reject) => {
    const off = socket.once('message', ({ data }) => {
      clearTimeout(timer);
      resolve(data);
    });
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no echo within ${ms} ms`));
    }, ms);
  });
}

async function collectGarbage() {
  // Several rounds with a turn of the event loop between them: FinalizationRegistry callbacks and the closes of
  // native handles run in later tasks, and what they release is collected by the next round.
  for (let i = 0; i < 6; i++) {
    globalThis.gc();
    await sleep(10);
  }
  globalThis.gc();
}

function countResources() {
  const counts = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** Types with more resources in `now` than in `reference`, as { type: [reference, now] }. */
function excessResources(now, reference) {
  const excess = {};
  for (const [type, count] of Object.entries(now)) if (count > (reference[type] ?? 0)) excess[type] = [reference[type] ?? 0, count];
  return excess;
}

/**
 * What the resources must come back to: per type, the lower of the start and the baseline. The warm-up may
 * fill caches and compile code (heap), but nothing it ran may keep a handle or a timer.
 */
function resourceReference(start, baseline) {
  const reference = {};
  for (const type of new Set([...Object.keys(start.resources), ...Object.keys(baseline.resources)])) {
    reference[type] = Math.min(start.resources[type] ?? 0, baseline.resources[type] ?? 0);
  }
  return reference;
}

const increment = (counts, key) => (counts[key] = (counts[key] ?? 0) + 1);

// ---------------------------------------------------------------------------------------------
// The soak

async function main(flags) {
  const startedAt = performance.now();
  const limitMs = flags.timeLimitS * 1000;
  const deadline = startedAt + limitMs;
  const isPastDeadline = () => performance.now() >= deadline;
  const out = flags.json ? () => {} : (line = '') => console.log(line);

  // process.stdout and process.stderr are created on first use, and net's Socket#_destroy compares itself with
  // process.stderr: create both now, or the first socket closed adds a pipe handle that looks like a leak.
  void process.stdout;
  void process.stderr;

  const failures = [];
  let failureCount = 0;
  const fail = (message) => {
    failureCount++;
    if (failures.length < 50) failures.push(message);
  };
  // Recorded rather than fatal, so the report still prints; either one fails the run.
  process.on('unhandledRejection', (reason) => {
    process.exitCode = 1;
    fail(`unhandled rejection: ${reason?.stack ?? reason}`);
  });
  process.on('uncaughtException', (error) => {
    process.exitCode = 1;
    fail(`uncaught exception: ${error?.stack ?? error}`);
  });

  const { ReconnectingSocket, opened } = await import(pathToFileURL(DIST_ESM).href);
  const { WebSocket } = await import('ws');

  // Every socket and every inner `ws` socket is counted when created and when collected: after GC, a socket
  // still alive once the soak has let go of it is held by something.
  const alive = { sockets: { created: 0, collected: 0 }, inner: { created: 0, collected: 0 } };
  const registry = new FinalizationRegistry((kind) => alive[kind].collected++);
  const counted = (object, kind) => {
    alive[kind].created++;
    registry.register(object, kind);
    return object;
  };
  // The default transport in Node is this same `ws` class; the subclass only counts its instances.
  class CountedWebSocket extends WebSocket {
    constructor(...args) {
      super(...args);
      counted(this, 'inner');
    }
  }

  const servers = await startServers(limitMs + 60_000, fail);
  const snapshots = [];
  const phases = [];
  let totalCycles = 0;
  let isFinished = false;

  const report = (reason) => {
    if (isFinished) return;
    isFinished = true;
    const result = verdict({ flags, snapshots, phases, failures, failureCount, reason, elapsedMs: performance.now() - startedAt, limitMs, alive });
    if (flags.json) console.log(JSON.stringify(result));
    else printReport(result);
    return result;
  };

  // The time limit is unref'd so it never shows in the resource counts; the server process keeps the loop up.
  const limitTimer = setTimeout(() => {
    process.exitCode = 1;
    fail(`time limit: the run did not end within ${flags.timeLimitS} s`);
    report('time limit exceeded');
    void servers.stop().finally(() => process.exit(1));
    setTimeout(() => process.exit(1), 4000).unref();
  }, limitMs);
  limitTimer.unref();

  // ── one cycle of each kind ─────────────────────────────────────────────────────────────────────────────

  const watchErrors = (socket, phase, expected = []) =>
    socket.on('error', ({ error }) => {
      increment(phase.errors, error.code);
      if (!expected.includes(error.code)) fail(`${phase.name}: unexpected error event ${error.code}: ${error.message}`);
    });

  const echoOnce = async (socket, i) => {
    const payload = `soak ${i}`;
    const echoed = nextMessage(socket, STEP_TIMEOUT_MS);
    const sent = socket.send(payload);
    if (sent !== 'sent') {
      echoed.catch(() => {});
      throw new Error(`send() returned ${JSON.stringify(sent)} while open`);
    }
    const data = await echoed;
    if (data !== payload) throw new Error(`echo mismatch: sent ${JSON.stringify(payload)}, got ${JSON.stringify(data)}`);
  };

  const expectCause = (phase, record, cause) => {
    increment(phase.causes, record?.cause ?? 'none');
    if (record?.cause !== cause) throw new Error(`closed with cause ${JSON.stringify(record?.cause)} (code ${record?.code}), expected ${JSON.stringify(cause)}`);
  };

  async function openCloseCycle(phase, i) {
    const socket = counted(
      new ReconnectingSocket(servers.echoUrl, { WebSocket: CountedWebSocket, closeTimeoutMs: CLOSE_TIMEOUT_MS, connectTimeoutMs: STEP_TIMEOUT_MS, maxRetries: 0 }),
      'sockets',
    );
    watchErrors(socket, phase);
    try {
      await opened(socket, { timeoutMs: STEP_TIMEOUT_MS });
      await echoOnce(socket, i);
      const record = await withTimeout(socket.close(), STEP_TIMEOUT_MS, 'close()');
      expectCause(phase, record, 'client');
      if (record.code !== 1000) throw new Error(`close() resolved with code ${record.code}, expected 1000`);
      if (socket.state !== 'closed') throw new Error(`state ${socket.state} after close()`);
    } catch (error) {
      socket.dispose();
      throw error;
    }
  }

  async function timeoutCycle(phase) {
    const socket = counted(
      new ReconnectingSocket(servers.stallUrl, { WebSocket: CountedWebSocket, connectTimeoutMs: flags.connectTimeoutMs, maxRetries: 0 }),
      'sockets',
    );
    watchErrors(socket, phase, ['CONNECT_TIMEOUT']);
    try {
      const record = await withTimeout(socket.closed, flags.connectTimeoutMs + STEP_TIMEOUT_MS, 'closed');
      expectCause(phase, record, 'connect-timeout');
      if (socket.state !== 'closed') throw new Error(`state ${socket.state} after the final close`);
    } catch (error) {
      socket.dispose();
      throw error;
    }
  }

  // Three kinds in turn: while connecting to the stall server (0-3 ms in, before or after TCP connects), while
  // connecting to the echo server (before the handshake can complete), and while open (after an echo).
  const DISPOSE_KINDS = ['connecting (stall)', 'connecting (echo)', 'open'];
  async function disposeCycle(phase, i) {
    const kind = DISPOSE_KINDS[i % DISPOSE_KINDS.length];
    const url = kind === 'connecting (stall)' ? servers.stallUrl : servers.echoUrl;
    const socket = counted(
      new ReconnectingSocket(url, { WebSocket: CountedWebSocket, closeTimeoutMs: CLOSE_TIMEOUT_MS, connectTimeoutMs: STEP_TIMEOUT_MS, maxRetries: 0 }),
      'sockets',
    );
    watchErrors(socket, phase);
    try {
      if (kind === 'connecting (stall)') await sleep(i % 4);
      else if (kind === 'connecting (echo)') await null;
      else {
        await opened(socket, { timeoutMs: STEP_TIMEOUT_MS });
        await echoOnce(socket, i);
      }
      const expectedState = kind === 'open' ? 'open' : 'connecting';
      if (socket.state !== expectedState) throw new Error(`${kind}: state ${socket.state} before dispose(), expected ${expectedState}`);
      socket.dispose();
      const record = await withTimeout(socket.closed, STEP_TIMEOUT_MS, 'closed');
      expectCause(phase, record, 'dispose');
      if (socket.state !== 'closed' || !socket.isDisposed) throw new Error(`${kind}: state ${socket.state}, isDisposed ${socket.isDisposed} after dispose()`);
      increment(phase.kinds, kind);
    } catch (error) {
      socket.dispose();
      throw new Error(`${kind}: ${error.message}`);
    }
  }

  // ── phases and snapshots ───────────────────────────────────────────────────────────────────────────────

  // Once the time limit has reported, the run only waits for the exit: nothing more is started or printed.
  const haltIfFinished = () => (isFinished ? new Promise(() => {}) : undefined);

  async function runPhase(name, count, cycle) {
    await haltIfFinished();
    const phase = { name, requested: count, completed: 0, failed: 0, ms: 0, errors: {}, causes: {}, kinds: {} };
    phases.push(phase);
    const started = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < count && !isPastDeadline()) {
        const i = next++;
        try {
          await cycle(phase, i);
          phase.completed++;
        } catch (error) {
          phase.failed++;
          fail(`${name} #${i}: ${error?.message ?? error}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(flags.concurrency, count) }, worker));
    phase.ms = performance.now() - started;
    totalCycles += phase.completed + phase.failed;
    if (phase.completed + phase.failed < count) fail(`${name}: only ${phase.completed + phase.failed} of ${count} cycles ran before the time limit`);
    return phase;
  }

  /**
   * Waits (bounded) until the servers hold no connection, every socket let go of has been collected and, once
   * there is a reference, the resources are back to it; then records the figures, measured after GC. A leak
   * shows as a figure still off when the wait gives up; a close or a finalizer that is merely late does not.
   */
  async function snapshot(label, reference) {
    await haltIfFinished();
    const settleUntil = performance.now() + SETTLE_MS;
    let server;
    for (;;) {
      server = await servers.counts();
      await collectGarbage();
      const isServerQuiet = server.echo.open === 0 && server.stall.open === 0;
      const isCollected = alive.sockets.created === alive.sockets.collected && alive.inner.created === alive.inner.collected;
      const isBack = !reference || Object.keys(excessResources(countResources(), reference)).length === 0;
      if ((isServerQuiet && isCollected && isBack) || performance.now() >= settleUntil) break;
      await sleep(25);
    }
    await haltIfFinished();
    const entry = {
      label,
      cycles: totalCycles,
      elapsedMs: performance.now() - startedAt,
      heapUsed: process.memoryUsage().heapUsed,
      resources: countResources(),
      server,
      socketsAlive: alive.sockets.created - alive.sockets.collected,
      innerAlive: alive.inner.created - alive.inner.collected,
    };
    snapshots.push(entry);
    out(
      `${label.padEnd(10)} ${fmtInt(entry.cycles).padStart(6)} cycles  ${(entry.elapsedMs / 1000).toFixed(1).padStart(6)} s  ` +
        `heap ${(entry.heapUsed / MiB).toFixed(2)} MiB  sockets alive ${entry.socketsAlive}  server open ${server.echo.open + server.stall.open}`,
    );
    return entry;
  }

  out(`Leak soak: ReconnectingSocket from dist/, servers in a child process on ${HOST} (echo ${servers.echoUrl}, stall ${servers.stallUrl}).`);
  out(
    `open/close ${flags.openClose}, timeouts ${flags.timeouts} (connectTimeoutMs ${flags.connectTimeoutMs}), dispose ${flags.dispose}, ` +
      `warm-up ${flags.warmup}, concurrency ${flags.concurrency}, time limit ${flags.timeLimitS} s.\n`,
  );

  const start = await snapshot('start');
  const warmups = [
    await runPhase('warm-up open/close', flags.warmup, openCloseCycle),
    await runPhase('warm-up timeouts', Math.ceil(flags.warmup / 2), timeoutCycle),
    await runPhase('warm-up dispose', Math.ceil(flags.warmup / 5), disposeCycle),
  ];
  for (const phase of warmups) phase.isWarmup = true;
  const baseline = await snapshot('baseline', start.resources);
  const reference = resourceReference(start, baseline);

  await runPhase('open/close', flags.openClose, openCloseCycle);
  await snapshot('open/close', reference);
  await runPhase('timeouts', flags.timeouts, timeoutCycle);
  await snapshot('timeouts', reference);
  await runPhase('dispose', flags.dispose, disposeCycle);
  await snapshot('dispose', reference);
  await sleep(100);
  await snapshot('end', reference);

  clearTimeout(limitTimer);
  const result = report();
  await servers.stop();
  process.exit(result.ok ? 0 : 1);
}

// ---------------------------------------------------------------------------------------------
// Verdict and printing

function verdict({ flags, snapshots, phases, failures, failureCount, reason, elapsedMs, limitMs, alive }) {
  const start = snapshots.find((s) => s.label === 'start');
  const baseline = snapshots.find((s) => s.label === 'baseline');
  const end = snapshots.find((s) => s.label === 'end');
  const checks = {};
  if (baseline && end) {
    const limitBytes = flags.heapSlackMb * MiB + (baseline.heapUsed * flags.heapSlackPct) / 100;
    const measured = phases.filter((p) => !p.isWarmup).reduce((sum, p) => sum + p.completed + p.failed, 0);
    const growth = end.heapUsed - baseline.heapUsed;
    checks.heap = { ok: growth <= limitBytes, baseline: baseline.heapUsed, end: end.heapUsed, growth, limitBytes, bytesPerCycle: measured ? growth / measured : 0 };
    const reference = resourceReference(start, baseline);
    const excess = excessResources(end.resources, reference);
    checks.resources = { ok: Object.keys(excess).length === 0, reference, end: end.resources, excess };
    const open = { echo: end.server.echo.open, echoWs: end.server.echo.wsOpen, stall: end.server.stall.open };
    checks.serverClients = { ok: open.echo === 0 && open.echoWs === 0 && open.stall === 0, ...open };
    checks.alive = { ok: end.socketsAlive === 0 && end.innerAlive === 0, sockets: end.socketsAlive, inner: end.innerAlive, created: alive.sockets.created };
  }
  const incomplete = phases.filter((p) => p.completed !== p.requested).map((p) => `${p.name} ${p.completed}/${p.requested}`);
  checks.cycles = { ok: incomplete.length === 0 && failureCount === 0, incomplete, failureCount };
  checks.time = { ok: elapsedMs <= limitMs && reason === undefined, elapsedMs, limitMs };
  const isComplete = Boolean(baseline && end);
  const ok = isComplete && Object.values(checks).every((check) => check.ok);
  return { ok, ...(reason && { reason }), flags, checks, phases, snapshots, failures, failureCount };
}

const fmtMiB = (bytes) => (bytes / MiB).toFixed(2);
const fmtKiB = (bytes) => `${bytes >= 0 ? '+' : ''}${fmtInt(bytes / 1024)}`;
const mark = (ok) => (ok ? 'ok' : 'FAIL');

function printReport(result) {
  const { snapshots, phases, checks } = result;
  const baseline = snapshots.find((s) => s.label === 'baseline');
  console.log('\nPhases');
  printTable(
    ['phase', 'cycles', 'failed', 'time s', 'cycles/s', 'close causes', 'error events', 'kinds'],
    phases.map((p) => [
      p.name,
      `${fmtInt(p.completed)}/${fmtInt(p.requested)}`,
      fmtInt(p.failed),
      (p.ms / 1000).toFixed(1),
      fmtInt(p.ms ? ((p.completed + p.failed) * 1000) / p.ms : 0),
      Object.entries(p.causes).map(([k, v]) => `${k} ${v}`).join(', ') || '-',
      Object.entries(p.errors).map(([k, v]) => `${k} ${v}`).join(', ') || '-',
      Object.entries(p.kinds).map(([k, v]) => `${k} ${v}`).join(', ') || '-',
    ]),
  );

  console.log('\nAfter GC, at each snapshot (server counts: connections still open / accepted in all)');
  printTable(
    ['snapshot', 'cycles', 'time s', 'heapUsed MiB', 'vs baseline KiB', 'sockets alive', 'ws alive', 'echo server open', 'echo ws open', 'echo accepted', 'stall open', 'stall accepted'],
    snapshots.map((s) => [
      s.label,
      fmtInt(s.cycles),
      (s.elapsedMs / 1000).toFixed(1),
      fmtMiB(s.heapUsed),
      baseline ? fmtKiB(s.heapUsed - baseline.heapUsed) : 'n/a',
      fmtInt(s.socketsAlive),
      fmtInt(s.innerAlive),
      fmtInt(s.server.echo.open),
      fmtInt(s.server.echo.wsOpen),
      fmtInt(s.server.echo.accepted),
      fmtInt(s.server.stall.open),
      fmtInt(s.server.stall.accepted),
    ]),
  );

  const types = [...new Set(snapshots.flatMap((s) => Object.keys(s.resources)))].sort();
  console.log('\nActive resources (process.getActiveResourcesInfo(), by type; the soak itself holds the server process, its IPC channel, and stdout/stderr when they are pipes)');
  printTable(['snapshot', ...types], snapshots.map((s) => [s.label, ...types.map((type) => fmtInt(s.resources[type] ?? 0))]));

  console.log('\nChecks');
  if (checks.heap) {
    const h = checks.heap;
    console.log(
      `${mark(h.ok).padEnd(4)}  heap: ${fmtMiB(h.end)} MiB at the end, ${fmtMiB(h.baseline)} MiB at the baseline, growth ${fmtKiB(h.growth)} KiB ` +
        `(${h.bytesPerCycle.toFixed(1)} B per cycle); limit +${fmtInt(h.limitBytes / 1024)} KiB (${result.flags.heapSlackMb} MiB + ${result.flags.heapSlackPct}%)`,
    );
    const r = checks.resources;
    const excess = Object.entries(r.excess).map(([type, [was, now]]) => `${type} ${was} -> ${now}`);
    console.log(`${mark(r.ok).padEnd(4)}  active resources back to the start/baseline${excess.length ? `: ${excess.join(', ')}` : ''}`);
    const c = checks.serverClients;
    console.log(`${mark(c.ok).padEnd(4)}  server-side connections left: echo ${c.echo} (ws ${c.echoWs}), stall ${c.stall}`);
    const a = checks.alive;
    console.log(`${mark(a.ok).padEnd(4)}  reachable after GC: ${a.sockets} of ${fmtInt(a.created)} sockets, ${a.inner} inner ws sockets`);
  } else console.log('FAIL  the soak did not reach its end snapshot');
  console.log(`${mark(checks.cycles.ok).padEnd(4)}  cycles: ${checks.cycles.failureCount} failure(s)${checks.cycles.incomplete.length ? `; incomplete: ${checks.cycles.incomplete.join(', ')}` : ''}`);
  console.log(`${mark(checks.time.ok).padEnd(4)}  time: ${(checks.time.elapsedMs / 1000).toFixed(1)} s of ${checks.time.limitMs / 1000} s allowed`);
  if (result.failures.length) {
    console.log(`\nFailures (${result.failureCount}${result.failureCount > result.failures.length ? `, first ${result.failures.length}` : ''}):`);
    for (const line of result.failures) console.log(`  ${line}`);
  }
  console.log(`\n${result.ok ? 'PASS' : `FAIL${result.reason ? ` (${result.reason})` : ''}`}`);
}

// ---------------------------------------------------------------------------------------------
// Entry

/** gc() is needed to measure; without it, run this same file again with --expose-gc. */
function reexecWithGc() {
  const child = spawn(process.execPath, ['--expose-gc', ...process.execArgv, SELF, ...process.argv.slice(2)], { stdio: 'inherit' });
  // Ctrl+C reaches the whole process group; this process only waits for the child's verdict.
  const forward = (signal) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('error', (error) => {
    console.error(`soak.mjs: could not start node --expose-gc: ${error.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (process.argv[2] === 'serve') {
  await serve(Number(process.argv[3]) || 15 * 60_000);
} else {
  const parsed = parseFlags(process.argv.slice(2));
  if (parsed.help) {
    console.log(USAGE);
  } else if (parsed.error) {
    console.error(`soak.mjs: ${parsed.error}\n\n${USAGE}`);
    process.exitCode = 2;
  } else if (typeof globalThis.gc !== 'function') {
    reexecWithGc();
  } else {
    await main(parsed.flags).catch((error) => {
      console.error(`soak.mjs: ${error?.stack ?? error}`);
      process.exit(1);
    });
  }
}
