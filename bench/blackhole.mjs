// How long does a black-holed connection take to be detected?
//
// For a few heartbeat settings, this opens a ReconnectingSocket through a tiny TCP proxy to a local `ws`
// server, waits a random fraction of an interval, then black-holes the proxy (it stops forwarding but keeps
// both TCP connections open, like a dead NAT entry or a pulled cable) and measures the time until the
// `close` event (cause `heartbeat-timeout`). The worst case should stay near intervalMs + timeoutMs.
//
// Usage: npm run build && node bench/blackhole.mjs [trials=3]
// Loopback only (127.0.0.1, ports chosen by the OS). Exits by itself in well under a minute.
import { createServer, connect } from 'node:net';
import { WebSocketServer } from 'ws';
import { ReconnectingSocket, opened } from '../dist/index.js';

const SETTINGS = [
  { intervalMs: 200, timeoutMs: 300 },
  { intervalMs: 500, timeoutMs: 500 },
  { intervalMs: 1_000, timeoutMs: 500 },
  { intervalMs: 250, timeoutMs: 1_000 },
];
const TRIALS = Math.max(1, Math.min(10, Number(process.argv[2]) || 3));

// A hard stop, in case something hangs: the bench must never outlive its budget.
const watchdog = setTimeout(() => {
  console.error('blackhole bench: gave up after 50 s');
  process.exit(1);
}, 50_000);
watchdog.unref();

/** A TCP proxy whose forwarding can be switched off in both directions without closing anything. */
function startProxy(targetPort) {
  const sockets = new Set();
  let isBlackholed = false;
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ]) {
      sockets.add(from);
      from.on('error', () => {});
      from.on('data', (chunk) => {
        if (!isBlackholed) to.write(chunk);
      });
      from.on('close', () => {
        sockets.delete(from);
        if (!isBlackholed) to.destroy();
      });
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: server.address().port,
        blackhole(on) {
          isBlackholed = on;
        },
        close() {
          for (const socket of sockets) socket.destroy();
          return new Promise((done) => server.close(() => done()));
        },
      });
    });
  });
}

function startWsServer() {
  return new Promise((resolve) => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 }, () => resolve(wss));
    wss.on('connection', (ws) => ws.on('error', () => {}));
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function trial(wssPort, heartbeat) {
  const proxy = await startProxy(wssPort);
  const socket = new ReconnectingSocket(`ws://127.0.0.1:${proxy.port}`, { heartbeat, maxRetries: 0, closeTimeoutMs: 200 });
  try {
    await opened(socket, { timeoutMs: 5_000 });
    // Black-hole at a random point of the ping cycle: detection time depends on it.
    await sleep(Math.random() * heartbeat.intervalMs);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    const started = performance.now();
    proxy.blackhole(true);
    const close = await Promise.race([closed, sleep(heartbeat.intervalMs + heartbeat.timeoutMs + 5_000).then(() => undefined)]);
    if (!close) return { ms: NaN, cause: 'not detected' };
    return { ms: performance.now() - started, cause: close.cause };
  } finally {
    socket.dispose();
    await proxy.close();
  }
}

const pad = (value, width) => String(value).padStart(width);
const wss = await startWsServer();
const wssPort = wss.address().port;

console.log(`black-hole detection time, ${TRIALS} trials per setting (ms)\n`);
const header = ['intervalMs', 'timeoutMs', 'bound', 'min', 'median', 'max', 'cause'];
const widths = [10, 9, 6, 6, 6, 6, 18];
console.log(header.map((h, i) => pad(h, widths[i])).join('  '));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const setting of SETTINGS) {
  const heartbeat = { ...setting, probeTimeoutMs: setting.timeoutMs };
  const results = [];
  for (let i = 0; i < TRIALS; i++) results.push(await trial(wssPort, heartbeat));
  const times = results.map((r) => r.ms).filter((ms) => Number.isFinite(ms)).sort((a, b) => a - b);
  const causes = [...new Set(results.map((r) => r.cause))].join(',');
  const fmt = (ms) => (ms === undefined ? '-' : Math.round(ms));
  const row = [setting.intervalMs, setting.timeoutMs, setting.intervalMs + setting.timeoutMs, fmt(times[0]), fmt(times[Math.floor(times.length / 2)]), fmt(times.at(-1)), causes];
  console.log(row.map((cell, i) => pad(cell, widths[i])).join('  '));
}
console.log('\nbound = intervalMs + timeoutMs, the worst case the heartbeat promises (plus timer slack).');

for (const client of wss.clients) client.terminate();
await new Promise((resolve) => wss.close(() => resolve()));
clearTimeout(watchdog);
