// How long does a Node process take to exit after close(), when the server never answers the close frame?
//
//   node bench/close-to-exit.mjs        (after `npm run build`)
//
// Each client runs in its own child process: it opens one connection to a local server that completes the
// WebSocket upgrade and then ignores every byte, prints the time, calls close(), and does nothing else. The
// parent measures wall time from that moment until the child process has exited.
// - resilient-websocket bounds the close handshake with closeTimeoutMs (default 5000 ms), then lets go.
// - raw `ws` waits for its own internal close timer (30 s) before it destroys the socket.
// Each run is capped at 40 s (the child is killed); the script always terminates by itself.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const CAP_MS = 40_000;
const self = fileURLToPath(import.meta.url);
const libraryEntry = new URL('../dist/index.js', import.meta.url);
const now = () => performance.timeOrigin + performance.now();

if (process.argv[2] === 'child') await runChild(process.argv[3], process.argv[4]);
else await runBench();

async function runChild(client, url) {
  if (client === 'library') {
    const { ReconnectingSocket, opened } = await import(libraryEntry.href);
    const socket = new ReconnectingSocket(url, { heartbeat: false });
    await opened(socket, { timeoutMs: 10_000 });
    console.log(`closing ${now()}`);
    void socket.close();
  } else {
    const { WebSocket } = await import('ws');
    const ws = new WebSocket(url);
    ws.on('error', () => {});
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('close', () => reject(new Error('closed before open')));
    });
    console.log(`closing ${now()}`);
    ws.close(1000);
  }
}

/** Completes the upgrade by hand (RFC 6455 §4.2.2), then reads and ignores everything, never closing. */
async function startSilentServer() {
  const sockets = new Set();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let head = '';
    const onData = (chunk) => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      socket.on('data', () => {}); // the close frame lands here and is never answered
      const key = /^sec-websocket-key:[ \t]*(\S+)/im.exec(head.slice(0, end))?.[1];
      if (!key) return void socket.destroy();
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    };
    socket.on('data', onData);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `ws://127.0.0.1:${server.address().port}`,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(resolve);
      }),
  };
}

/** Runs one client in a child process; resolves with the milliseconds from close() to exit (or the cap). */
function measure(client, url) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [self, 'child', client, url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let closingAt;
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      out += chunk;
      const match = /^closing (\d+(?:\.\d+)?)$/m.exec(out);
      if (match && closingAt === undefined) closingAt = Number(match[1]);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk) => (err += chunk));
    const cap = setTimeout(() => child.kill('SIGKILL'), CAP_MS);
    child.once('exit', (code, signal) => {
      const exitedAt = now();
      clearTimeout(cap);
      if (closingAt === undefined) resolve({ client, error: `exited (${signal ?? code}) before close(): ${err.trim()}` });
      else resolve({ client, ms: exitedAt - closingAt, killed: signal === 'SIGKILL', code, signal });
    });
  });
}

async function runBench() {
  if (!existsSync(libraryEntry)) {
    console.error('dist/index.js is missing: run `npm run build` first.');
    process.exitCode = 1;
    return;
  }
  const server = await startSilentServer();
  console.log(`close() → process exit, against a server that never answers the close frame (cap ${CAP_MS / 1000} s per run)\n`);
  try {
    // Side by side: both clients run at once, each in its own process.
    const results = await Promise.all([measure('library', server.url), measure('ws', server.url)]);
    const labels = {
      library: 'resilient-websocket  close()  (closeTimeoutMs: 5000, the default)',
      ws: 'ws                   close()  (its own 30 s close timer)',
    };
    for (const result of results) {
      const value = result.error
        ? `error: ${result.error}`
        : result.killed
          ? `> ${(CAP_MS / 1000).toFixed(0)} s (killed at the cap)`
          : `${(result.ms / 1000).toFixed(2).padStart(6)} s`;
      console.log(`  ${labels[result.client].padEnd(72)} ${value}`);
    }
    const [library, ws] = results;
    if (!library.error && !ws.error) console.log(`\n  raw ws takes ${(ws.ms / library.ms).toFixed(1)}x as long to let the process exit`);
  } finally {
    await server.close();
  }
}
