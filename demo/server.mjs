#!/usr/bin/env node
// The demo server: one Node process on 127.0.0.1 that serves the page, bundles demo/app.ts against the
// library's built ESM (dist/index.js) and runs a misbehaving-on-demand echo WebSocket endpoint at /ws.
//
//   node demo/server.mjs [--port 5178] [--strict-port]      (or PORT=5178, STRICT_PORT=1)
//
// Controls (POST, JSON answer with the server status): /control/drop, /control/close?code=1008&reason=…,
// /control/blackhole?seconds=5, /control/refuse?seconds=5, /control/ignore-close?on=1, /control/restart,
// /control/heal. GET /control/status reads the status.
//
// The page's "Tabs" panel (opt-in: /?tabs) uses a second, plain echo endpoint at /tabs, counted on its own and
// left alone by the misbehaviour controls (a restart still closes it); GET /tabs/stats reads its count.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { build } from 'esbuild';
import { WebSocketServer } from 'ws';
import { createResumeDemo } from './resume.mjs';

const HOST = '127.0.0.1';
const DEFAULT_PORT = 5178;
const RESTART_GAP_MS = 1500;
const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const LIBRARY = path.join(ROOT, 'dist', 'index.js');
const SHARED_LIBRARY = path.join(ROOT, 'dist', 'shared', 'index.js');

// ---------------------------------------------------------------------------------------------- options

function parseArgs(argv, env) {
  let port = env.PORT;
  let strictPort = env.STRICT_PORT === '1';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--port') port = argv[++i];
    else if (arg.startsWith('--port=')) port = arg.slice('--port='.length);
    else if (arg === '--strict-port') strictPort = true;
    else if (arg === '--help' || arg === '-h') {
      console.log('usage: node demo/server.mjs [--port N] [--strict-port]   (env: PORT, STRICT_PORT=1)');
      process.exit(0);
    } else {
      console.error(`demo: unknown argument ${JSON.stringify(arg)} (try --help)`);
      process.exit(2);
    }
  }
  const parsed = port === undefined || port === '' ? DEFAULT_PORT : Number(port);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) {
    console.error(`demo: --port/PORT must be a whole number in 0..65535, got ${JSON.stringify(port)}`);
    process.exit(2);
  }
  return { port: parsed, strictPort };
}

// ----------------------------------------------------------------------------------------------- bundle

/** Bundles the page script from the built library; fails if Node's `ws` would end up in the browser. */
async function bundlePage() {
  try {
    await stat(LIBRARY);
  } catch {
    throw new Error(`demo: ${path.relative(ROOT, LIBRARY)} is missing; run \`npm run build\` first (or use \`npm run demo\`).`);
  }
  const entry = (await stat(path.join(HERE, 'app.ts')).catch(() => null)) ? 'app.ts' : 'app.js';
  const result = await build({
    entryPoints: [path.join(HERE, entry)],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    minify: true,
    target: 'es2022',
    sourcemap: 'linked',
    write: false,
    metafile: true,
    outdir: path.join(HERE, 'dist'),
    logLevel: 'silent',
    plugins: [
      {
        // The page imports the package by name; point that at the built ESM, not at src/.
        name: 'built-library',
        setup(b) {
          b.onResolve({ filter: /^resilient-websocket$/ }, () => ({ path: LIBRARY }));
          b.onResolve({ filter: /^resilient-websocket\/shared$/ }, () => ({ path: SHARED_LIBRARY }));
        },
      },
    ],
  });
  const inputs = Object.keys(result.metafile.inputs);
  const nodeOnly = inputs.filter((file) => /(^|\/)node_modules\/ws\//.test(file) || /isomorphic-ws\/node\.js$/.test(file));
  if (nodeOnly.length > 0) throw new Error(`demo: Node-only modules leaked into the page bundle: ${nodeOnly.join(', ')}`);
  if (!inputs.some((file) => file.endsWith('dist/index.js'))) throw new Error('demo: the page bundle does not include dist/index.js');
  const files = new Map();
  for (const file of result.outputFiles) files.set(`/${path.basename(file.path)}`, file.contents);
  return { files, inputs };
}

// ------------------------------------------------------------------------------------------ misbehaviour

/**
 * Everything the server can be told to do wrong. Each connection is tracked with its raw TCP socket (from
 * the `upgrade` event), so misbehaviour works on the socket itself, not on `ws` internals.
 */
const misbehaviour = {
  blackholeUntil: 0,
  refuseUntil: 0,
  ignoreClose: false,
};
/** @type {Map<import('ws').WebSocket, { socket: import('node:net').Socket, id: number, paused: boolean, closingByServer: boolean }>} */
const connections = new Map();
/** Upgrade requests held unanswered during a black hole: answered (if still alive) when it ends. */
const heldUpgrades = new Set();
const timers = new Set();
let nextConnectionId = 1;
let restarting = false;

function later(fn, ms) {
  const id = setTimeout(() => {
    timers.delete(id);
    fn();
  }, ms);
  timers.add(id);
  return id;
}

function status() {
  const now = Date.now();
  return {
    clients: connections.size,
    blackholeMs: Math.max(0, misbehaviour.blackholeUntil - now),
    refuseMs: Math.max(0, misbehaviour.refuseUntil - now),
    ignoreClose: misbehaviour.ignoreClose,
    restarting,
  };
}

const isBlackholed = () => Date.now() < misbehaviour.blackholeUntil;
const isRefusing = () => Date.now() < misbehaviour.refuseUntil;

/**
 * Filters what the server writes to a connection, by wrapping `write` on our own TCP socket object:
 * - during a black hole, every write is dropped (its callback still runs, as if it went out into the void);
 * - with "never answer close frames" on, from the moment `ws` answers a close frame the peer sent, every write
 *   is swallowed and its callback never runs, so the peer never sees our close frame and its close handshake
 *   can only end by its own timeout.
 */
function filterWrites(conn) {
  const { socket } = conn;
  const write = socket.write.bind(socket);
  let isMuted = false;
  socket.write = (chunk, ...rest) => {
    const isCloseFrame = Buffer.isBuffer(chunk) && chunk.length > 0 && chunk[0] === 0x88;
    if (!isMuted && isCloseFrame && misbehaviour.ignoreClose && !conn.closingByServer) isMuted = true;
    if (isMuted) return true;
    if (conn.paused) {
      const callback = rest.find((arg) => typeof arg === 'function');
      if (callback) process.nextTick(callback);
      return true;
    }
    return write(chunk, ...rest);
  };
}

function pauseConnection(conn) {
  if (conn.paused) return;
  conn.paused = true;
  conn.socket.pause();
}

function startBlackhole(seconds) {
  misbehaviour.blackholeUntil = Date.now() + seconds * 1000;
  for (const conn of connections.values()) pauseConnection(conn);
  later(endBlackholeIfDue, seconds * 1000 + 5);
}

function endBlackholeIfDue() {
  if (isBlackholed()) return;
  // Like a healed network path: what the client sent is now read and answered late (TCP retransmits, so
  // inbound data is delayed, not lost); what the server wrote meanwhile is gone. The client has usually given
  // up on these connections by now.
  for (const conn of connections.values()) {
    if (!conn.paused) continue;
    conn.paused = false;
    conn.socket.resume();
  }
  for (const held of [...heldUpgrades]) {
    heldUpgrades.delete(held);
    if (held.socket.destroyed) continue;
    held.socket.resume();
    accept(held.request, held.socket, held.head);
  }
}

function dropAll() {
  // A TCP reset: the client sees the connection vanish with no close frame (1006).
  const count = connections.size;
  for (const conn of connections.values()) conn.socket.resetAndDestroy();
  for (const held of heldUpgrades) held.socket.resetAndDestroy();
  heldUpgrades.clear();
  return count;
}

function closeAll(code, reason) {
  for (const [ws, conn] of connections) {
    conn.closingByServer = true;
    ws.close(code, reason);
  }
}

function heal() {
  misbehaviour.blackholeUntil = 0;
  misbehaviour.refuseUntil = 0;
  misbehaviour.ignoreClose = false;
  endBlackholeIfDue();
}

// ------------------------------------------------------------------------------------------------ server

const wss = new WebSocketServer({ noServer: true, clientTracking: false, maxPayload: 1 << 20 });

/**
 * The Tabs panel's endpoint: echoes, and counts the connections open on it. Kept apart from `connections`, so
 * neither the misbehaviour controls nor the client count of /control/status see it.
 */
const tabsWss = new WebSocketServer({ noServer: true, clientTracking: false, maxPayload: 1 << 16 });
/** @type {Map<import('ws').WebSocket, import('node:net').Socket>} */
const tabsConnections = new Map();
let tabsAccepted = 0;

function acceptTabs(request, socket, head) {
  tabsWss.handleUpgrade(request, socket, head, (ws) => {
    tabsAccepted++;
    tabsConnections.set(ws, socket);
    ws.on('error', () => {});
    ws.on('close', () => tabsConnections.delete(ws));
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
}

function tabsStats() {
  return { connections: tabsConnections.size, accepted: tabsAccepted };
}

function accept(request, socket, head) {
  wss.handleUpgrade(request, socket, head, (ws) => {
    const conn = { socket, id: nextConnectionId++, paused: false, closingByServer: false };
    connections.set(ws, conn);
    filterWrites(conn);
    if (isBlackholed()) pauseConnection(conn);
    ws.on('error', () => {}); // a reset peer is routine here
    ws.on('close', () => connections.delete(ws));
    ws.on('message', (data, isBinary) => {
      if (isBinary) return ws.send(data, { binary: true });
      const text = data.toString();
      // The page's app-level heartbeat: {"type":"ping","t":…} gets {"type":"pong","t":…}.
      if (text.startsWith('{"type":"ping"')) {
        let t;
        try {
          t = JSON.parse(text).t;
        } catch {}
        return ws.send(JSON.stringify({ type: 'pong', t }));
      }
      ws.send(text);
    });
  });
}

function onUpgrade(request, socket, head) {
  socket.on('error', () => {});
  if (resumeDemo?.upgrade(request, socket, head)) return;
  const { pathname } = new URL(request.url ?? '/', 'http://localhost');
  if (pathname === '/tabs') {
    if (restarting) socket.destroy();
    else acceptTabs(request, socket, head);
    return;
  }
  if (pathname !== '/ws') {
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  if (restarting || isRefusing()) {
    socket.destroy();
    return;
  }
  if (isBlackholed()) {
    // Never answer the handshake while the black hole lasts; the client's connect timeout has to notice.
    socket.pause();
    heldUpgrades.add({ request, socket, head });
    return;
  }
  accept(request, socket, head);
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
};

function send(res, code, body, type = 'text/plain; charset=utf-8') {
  res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

function json(res, code, value) {
  send(res, code, JSON.stringify(value), 'application/json; charset=utf-8');
}

function seconds(params, res) {
  const value = Number(params.get('seconds') ?? '5');
  if (!Number.isFinite(value) || value <= 0 || value > 600) {
    json(res, 400, { error: `seconds must be a number in (0, 600], got ${JSON.stringify(params.get('seconds'))}` });
    return undefined;
  }
  return value;
}

function control(action, params, res) {
  switch (action) {
    case 'status':
      return json(res, 200, status());
    case 'drop': {
      const dropped = dropAll();
      return json(res, 200, { ...status(), done: `reset ${dropped} connection(s)` });
    }
    case 'close': {
      const code = Number(params.get('code') ?? '1000');
      const reason = params.get('reason') ?? '';
      const isSendable = code === 1000 || (code >= 1001 && code <= 1014 && ![1004, 1005, 1006].includes(code)) || (code >= 3000 && code <= 4999);
      if (!Number.isInteger(code) || !isSendable) return json(res, 400, { error: `code ${params.get('code')} cannot be sent in a close frame` });
      if (Buffer.byteLength(reason) > 123) return json(res, 400, { error: 'reason must be at most 123 bytes' });
      const count = connections.size;
      closeAll(code, reason);
      return json(res, 200, { ...status(), done: `closed ${count} connection(s) with ${code}` });
    }
    case 'blackhole': {
      const s = seconds(params, res);
      if (s === undefined) return;
      startBlackhole(s);
      return json(res, 200, { ...status(), done: `black-holing for ${s}s` });
    }
    case 'refuse': {
      const s = seconds(params, res);
      if (s === undefined) return;
      misbehaviour.refuseUntil = Date.now() + s * 1000;
      return json(res, 200, { ...status(), done: `refusing connections for ${s}s` });
    }
    case 'ignore-close': {
      const on = params.get('on');
      misbehaviour.ignoreClose = on === null ? !misbehaviour.ignoreClose : on === '1' || on === 'true';
      return json(res, 200, { ...status(), done: misbehaviour.ignoreClose ? 'close frames go unanswered' : 'close frames are answered' });
    }
    case 'heal':
      heal();
      return json(res, 200, { ...status(), done: 'all misbehaviour cleared' });
    case 'restart':
      if (restarting) return json(res, 409, { ...status(), error: 'already restarting' });
      // Answer first: the restart closes this very HTTP connection too.
      res.once('finish', restart);
      return json(res, 200, { ...status(), restarting: true, restartMs: RESTART_GAP_MS, done: 'restarting' });
    default:
      return json(res, 404, { error: `unknown control ${JSON.stringify(action)}` });
  }
}

function createHandler(page) {
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = url.pathname;
    if (route.startsWith('/control/')) {
      const action = route.slice('/control/'.length);
      if (action !== 'status' && req.method !== 'POST') return json(res, 405, { error: 'use POST' });
      return control(action, url.searchParams, res);
    }
    if (resumeDemo?.http(req, res, route)) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed');
    if (route === '/health') return json(res, 200, { ok: true });
    if (route === '/tabs/stats') return json(res, 200, tabsStats());
    const built = page.files.get(route);
    if (built) return send(res, 200, built, TYPES[path.extname(route)]);
    const file = route === '/' ? 'index.html' : route.slice(1);
    if (!['index.html', 'styles.css'].includes(file)) return send(res, 404, 'not found');
    try {
      return send(res, 200, await readFile(path.join(HERE, file)), TYPES[path.extname(file)]);
    } catch {
      return send(res, 404, 'not found');
    }
  };
}

let httpServer;
let boundPort;
/** The Resume panel's endpoint (demo/resume.mjs). */
let resumeDemo;

function listen(port) {
  return new Promise((resolve, reject) => {
    const onError = (error) => {
      httpServer.off('listening', onListening);
      reject(error);
    };
    const onListening = () => {
      httpServer.off('error', onError);
      resolve(httpServer.address().port);
    };
    httpServer.once('error', onError);
    httpServer.once('listening', onListening);
    httpServer.listen(port, HOST);
  });
}

function restart() {
  restarting = true;
  closeAll(1012, 'server restart');
  for (const ws of tabsConnections.keys()) ws.close(1012, 'server restart');
  for (const held of heldUpgrades) held.socket.destroy();
  heldUpgrades.clear();
  httpServer.close();
  httpServer.closeAllConnections();
  later(() => {
    for (const conn of connections.values()) conn.socket.destroy(); // anyone who did not finish closing
    for (const tabsSocket of tabsConnections.values()) tabsSocket.destroy();
    listen(boundPort).then(
      () => {
        restarting = false;
        console.log(`demo: restarted on http://${HOST}:${boundPort}/`);
      },
      (error) => {
        console.error(`demo: could not listen again on ${boundPort}: ${error.message}`);
        process.exit(1);
      },
    );
  }, RESTART_GAP_MS);
}

async function main() {
  const { port, strictPort } = parseArgs(process.argv.slice(2), process.env);
  const startedAt = Date.now();
  const page = await bundlePage();
  resumeDemo = await createResumeDemo();
  const bytes = page.files.get('/app.js')?.length ?? 0;
  httpServer = createServer(createHandler(page));
  httpServer.on('upgrade', onUpgrade);
  httpServer.on('clientError', (_error, socket) => socket.destroy());
  try {
    boundPort = await listen(port);
  } catch (error) {
    if (error.code === 'EADDRINUSE' && strictPort) throw new Error(`demo: port ${port} is taken (and --strict-port forbids another)`);
    if (error.code !== 'EADDRINUSE' || port === 0) throw error;
    console.log(`demo: port ${port} is taken; picking a free one`);
    boundPort = await listen(0);
  }
  console.log(`demo: page bundle ${(bytes / 1024).toFixed(1)} KiB from ${page.inputs.length} modules (no ws) in ${Date.now() - startedAt} ms`);
  console.log(`demo: open http://${HOST}:${boundPort}/   (WebSocket endpoint ws://${HOST}:${boundPort}/ws)`);

  const stop = () => {
    for (const id of timers) clearTimeout(id);
    for (const conn of connections.values()) conn.socket.destroy();
    for (const tabsSocket of tabsConnections.values()) tabsSocket.destroy();
    for (const held of heldUpgrades) held.socket.destroy();
    httpServer.close();
    httpServer.closeAllConnections();
    wss.close();
    tabsWss.close();
    resumeDemo.stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
