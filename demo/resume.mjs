// The demo's Resume panel, server side (opt-in on the page: /?resume). demo/server.mjs hooks it in with a few
// lines; everything else lives here:
//
// - GET /resume.js: demo/resume.ts bundled against the built package (dist/index.js, dist/resume/index.js);
// - ws /resume: a ws server with attachResume(): while the page streams, each side sends a numbered message
//   every 25 ms; the server checks what it gets (in order, once) and reports it in every message it sends;
// - POST /resume/cut: a TCP reset of every /resume connection, mid-stream (the page reconnects and resumes).
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { WebSocketServer } from 'ws';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DIST = path.resolve(HERE, '..', 'dist');
const STREAM_MS = 25;

async function bundlePanel() {
  await stat(path.join(DIST, 'resume', 'index.js')).catch(() => {
    throw new Error('demo: dist/resume/index.js is missing; run `npm run build` first (or use `npm run demo`).');
  });
  const result = await build({
    entryPoints: [path.join(HERE, 'resume.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    minify: true,
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    plugins: [
      {
        name: 'built-library',
        setup(b) {
          b.onResolve({ filter: /^resilient-websocket$/ }, () => ({ path: path.join(DIST, 'index.js') }));
          b.onResolve({ filter: /^resilient-websocket\/resume$/ }, () => ({ path: path.join(DIST, 'resume', 'index.js') }));
        },
      },
    ],
  });
  return result.outputFiles[0].contents;
}

/** Starts the panel's endpoint; returns the hooks demo/server.mjs calls. */
export async function createResumeDemo() {
  const script = await bundlePanel();
  const { attachResume } = await import(pathToFileURL(path.join(DIST, 'server', 'index.js')).href);
  const wss = new WebSocketServer({ noServer: true, clientTracking: false, maxPayload: 1 << 16 });
  const resume = attachResume(wss, { sessionTtlMs: 60_000, pingIntervalMs: 10_000 });
  resume.on('error', ({ error }) => console.log(`demo: resume: ${error.message}`));
  /** The raw TCP socket of each /resume connection, for the cut. */
  const tcp = new Set();

  resume.on('session', ({ session }) => {
    const seen = { got: 0, duplicates: 0, outOfOrder: 0 };
    let next = 0;
    let timer;
    const stream = (on) => {
      clearInterval(timer);
      timer = on ? setInterval(() => session.send(JSON.stringify({ n: next++, ...seen })), STREAM_MS) : undefined;
    };
    session.on('message', ({ data }) => {
      let message;
      try {
        message = JSON.parse(data.toString());
      } catch {
        return;
      }
      if (message.type === 'stream') return stream(message.on === true);
      if (typeof message.n !== 'number') return;
      if (message.n < seen.got) seen.duplicates++;
      else if (message.n > seen.got) seen.outOfOrder++;
      seen.got = Math.max(seen.got, message.n + 1);
    });
    session.on('end', () => stream(false));
  });

  return {
    /** Serves GET /resume.js and POST /resume/cut; false for any other route. */
    http(req, res, route) {
      if (route === '/resume.js') {
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
        res.end(script);
        return true;
      }
      if (route === '/resume/cut' && req.method === 'POST') {
        const count = tcp.size;
        for (const socket of tcp) socket.resetAndDestroy();
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
        res.end(JSON.stringify({ done: `reset ${count} connection(s)` }));
        return true;
      }
      return false;
    },
    /** Takes the upgrade of /resume; false for any other path. */
    upgrade(request, socket, head) {
      if (new URL(request.url ?? '/', 'http://localhost').pathname !== '/resume') return false;
      wss.handleUpgrade(request, socket, head, (ws) => {
        tcp.add(socket);
        socket.once('close', () => tcp.delete(socket));
        wss.emit('connection', ws, request);
      });
      return true;
    },
    stop() {
      resume.close();
      for (const socket of tcp) socket.destroy();
      wss.close();
    },
  };
}
