#!/usr/bin/env node
// Bun and Deno: the package's built default import, run by each runtime (test/runtimes/client.mjs) against a
// loopback `ws` server that this script runs in Node. Run by `npm run test:runtimes` (which builds first) and by
// `npm test`.
//
// For each runtime: the client opens, gets an echo and a protocol pong; the server stops; the client reports the
// close and queues three messages; the server comes back on the same port; the client reopens, the three arrive
// at the server in order (nothing else, nothing twice), the client closes, and its process then ends by itself
// with status 0. Both runtimes come from the npm registry as devDependencies (`bun`, `deno`); their binaries are
// in the platform packages (@oven/bun-*, @deno/*), so no install script has to run (package.json allowScripts).

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { start } from '../consumers/process-lines.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLIENT = 'test/runtimes/client.mjs';
const NODE_MODULES = join(REPO, 'node_modules');
const EXE = process.platform === 'win32' ? '.exe' : '';
/** Generous: a busy 2-core machine, and the retry after the restart comes within maxDelayMs (500 ms here). */
const STEP_MS = 30_000;

/** Binaries in the platform packages under `scope`, e.g. node_modules/@oven/bun-linux-x64/bin/bun. */
function platformBinaries(scope, relative) {
  const dir = join(NODE_MODULES, scope);
  return existsSync(dir) ? readdirSync(dir).map((name) => join(dir, name, relative)) : [];
}

/** The first candidate that exists and answers `--version`, with that answer. */
function findBinary(name, candidates) {
  for (const path of candidates) {
    if (!path || !existsSync(path)) continue;
    const probe = spawnSync(path, ['--version'], { encoding: 'utf8' });
    if (probe.status === 0) return { path, version: /\d+\.\d+\.\d+/.exec(probe.stdout)?.[0] ?? probe.stdout.trim() };
  }
  throw new Error(`${name} is not installed: run \`npm ci\` (it is a devDependency), or set ${name.toUpperCase()} to its binary`);
}

const RUNTIMES = [
  {
    name: 'Bun',
    find: () => findBinary('Bun', [process.env.BUN, ...platformBinaries('@oven', `bin/bun${EXE}`), join(NODE_MODULES, 'bun/bin/bun.exe')]),
    args: (url) => [CLIENT, url],
  },
  {
    name: 'Deno',
    find: () => findBinary('Deno', [process.env.DENO, ...platformBinaries('@deno', `deno${EXE}`), join(NODE_MODULES, `deno/deno${EXE}`)]),
    // ws reads environment variables and the package files; the network only on loopback. No lock file written.
    args: (url) => ['run', '--no-lock', '--allow-net=127.0.0.1', '--allow-read', '--allow-env', CLIENT, url],
  },
];

/** An echo server on 127.0.0.1 that can stop and start again on the same port; it records what it received. */
class EchoServer {
  received = [];
  #wss;

  async start(port = 0) {
    this.#wss = new WebSocketServer({ host: '127.0.0.1', port });
    this.#wss.on('connection', (ws) => {
      ws.on('error', () => {});
      ws.on('message', (data, isBinary) => {
        this.received.push(String(data));
        ws.send(data, { binary: isBinary });
      });
    });
    await new Promise((done, fail) => this.#wss.once('listening', done).once('error', fail));
    return `ws://127.0.0.1:${this.#wss.address().port}`;
  }

  /** Drops every client without a close frame (as a crashed server would) and stops listening. */
  async stop() {
    if (!this.#wss) return;
    const wss = this.#wss;
    this.#wss = undefined;
    for (const client of wss.clients) client.terminate();
    await new Promise((done) => wss.close(() => done()));
  }
}

async function check(runtime) {
  const { path, version } = runtime.find();
  const server = new EchoServer();
  const url = await server.start();
  const client = start(path, runtime.args(url), { cwd: REPO, env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1' } });
  const wait = (pattern, from = 0) => client.waitFor(pattern, { from, timeoutMs: STEP_MS });
  try {
    await wait(/^send hello sent$/);
    await wait(/^echo hello$/);
    await wait(/^heartbeat$/); // a protocol ping answered: the heartbeat works in this runtime

    await server.stop();
    const closed = await wait(/^close 1006 network will reconnect$/);
    await wait(/^queued q1:queued q2:queued q3:queued$/, closed.index);
    const before = server.received.length;
    await server.start(Number(new URL(url).port));
    await wait(/^open 2$/, closed.index);
    await wait(/^delivered q1 q2 q3$/);
    await wait(/^closed 1000 client$/);

    const after = server.received.slice(before);
    if (after.join() !== 'q1,q2,q3') throw new Error(`after the restart the server received ${JSON.stringify(after)}, expected q1, q2, q3 once each, in order`);
    const exit = await Promise.race([client.exited, new Promise((done) => setTimeout(done, STEP_MS, 'running'))]);
    if (exit === 'running') throw new Error(`the process was still running ${STEP_MS / 1000} s after close(): something kept it alive`);
    if (exit.code !== 0) throw new Error(`the process exited with ${exit.code ?? exit.signal}`);
    const unexpected = client.lines.filter((line) => !/^(open \d|send hello sent|echo hello|heartbeat|close 1006 network will reconnect|queued .+|error SOCKET_ERROR|delivered .+|close 1000 client final|closed 1000 client)$/.test(line));
    if (unexpected.length > 0) throw new Error(`unexpected output:\n${unexpected.join('\n')}`);
    return version;
  } catch (error) {
    throw new Error(`${error.message}\n--- ${runtime.name} printed:\n${client.lines.join('\n')}`);
  } finally {
    await client.stop();
    await server.stop();
  }
}

if (!existsSync(join(REPO, 'dist/index.js'))) {
  console.log('FAIL  dist/index.js is missing: run `npm run build` first (npm run test:runtimes does)');
  process.exit(1);
}
const started = performance.now();
let failed = 0;
for (const runtime of RUNTIMES) {
  const at = performance.now();
  try {
    const version = await check(runtime);
    console.log(`ok    ${runtime.name} (${version}): open, echo, ping, a server restart with 3 queued messages delivered in order, close, exit by itself (${((performance.now() - at) / 1000).toFixed(1)} s)`);
  } catch (error) {
    failed++;
    console.log(`FAIL  ${runtime.name} (${((performance.now() - at) / 1000).toFixed(1)} s)\n${String(error?.message ?? error).replace(/^/gm, '      ')}`);
  }
}
console.log(`\nruntimes: ${RUNTIMES.length - failed} passed, ${failed} failed (${((performance.now() - started) / 1000).toFixed(0)} s)`);
process.exitCode = failed > 0 ? 1 : 0;
