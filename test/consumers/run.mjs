#!/usr/bin/env node
// Consumer smoke tests: the packed tarball, installed into a throwaway project under the system's temp
// directory, used the ways users use it. Run by `npm run test:consumers` (which builds first) from .ci/run.
//
//   1. lint     publint --strict, and attw on the tarball (node10, node16 from CJS and ESM, bundler)
//   2. pack     the tarball holds dist/, docs/*.md, package.json, README.md, CHANGELOG.md, LICENSE, and every export
//               target; every link of its Markdown files resolves inside it
//   3. node     `import` (ESM) and `require` (CJS) of every entry point, each talking to a loopback server
//      readme   the README's examples: strict TypeScript for Node and browsers, then run against each other on
//               loopback across a server restart (test/consumers/readme.mjs)
//   4. vite     a Vite SPA build: no warnings, and no `ws`, Node built-ins, bare `process` or `Buffer` in the output
//   5. browser  that SPA in Chromium, against a loopback echo server
//   6. types    strict consumers (skipLibCheck: false) under bundler, node16 and node10 resolution, per TypeScript
//
// Everything it starts (servers, the browser) is stopped and the temp directory removed, pass or fail.

import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { WebSocketServer } from 'ws';
import { brokenLinks } from './links.mjs';
import { readmeExamples, runReadmeExamples } from './readme.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURES = join(REPO, 'test/consumers/fixtures');
const BIN = join(REPO, 'node_modules/.bin');
/** The TypeScript versions a consumer may have: the oldest supported and the newest. */
const TYPESCRIPT = { '5.4': '~5.4.0', '5.9': '~5.9.0' };
const CHROMIUM = '/usr/bin/chromium';

const started = performance.now();
const results = [];
const cleanups = [];

/** Runs a command; resolves with its output, rejects with it on a non-zero exit. */
function run(command, args, options = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? REPO, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolvePromise(output);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code ?? signal}:\n${output}`));
    });
  });
}

async function step(name, fn) {
  const at = performance.now();
  try {
    const detail = (await fn())?.trim?.();
    results.push({ name, ok: true });
    console.log(`ok    ${name} (${((performance.now() - at) / 1000).toFixed(1)} s)${detail ? `: ${detail}` : ''}`);
  } catch (error) {
    results.push({ name, ok: false });
    console.log(`FAIL  ${name} (${((performance.now() - at) / 1000).toFixed(1)} s)\n${String(error?.stack ?? error).replace(/^/gm, '      ')}`);
  }
}

function filesUnder(directory) {
  return readdirSync(directory, { recursive: true })
    .map((name) => join(directory, String(name)))
    .filter((path) => statSync(path).isFile());
}

const root = mkdtempSync(join(tmpdir(), 'resilient-websocket-consumers-'));
// CONSUMERS_KEEP=1 keeps the project for a look after the run.
if (process.env.CONSUMERS_KEEP) console.log(`keeping ${root}`);
else cleanups.push(() => rmSync(root, { recursive: true, force: true }));
const project = join(root, 'project');

try {
  const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  // The build ran before this script; --ignore-scripts keeps `prepare` from building again into the JSON output.
  const packed = JSON.parse(await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', root]));
  const tarball = join(root, packed[0].filename);
  const entries = Object.keys(manifest.exports).filter((entry) => entry !== './package.json');

  await step('lint: publint --strict', async () => {
    const output = await run(join(BIN, 'publint'), ['--strict']);
    if (!/All good/.test(output)) throw new Error(output);
  });

  await step(`lint: attw, ${entries.length} entry points × node10, node16 (CJS, ESM), bundler`, async () => {
    // attw exits non-zero on any problem; --format table-flipped prints one row per entry point.
    await run(join(BIN, 'attw'), [tarball, '--format', 'table-flipped']);
  });

  await step('pack: only what users need, and every export target', () => {
    const files = packed[0].files.map(({ path }) => path);
    const extra = files.filter((path) => !/^(dist\/.+\.(c?js|d\.c?ts|c?js\.map)|docs\/[\w-]+\.md|package\.json|README\.md|CHANGELOG\.md|LICENSE)$/.test(path));
    if (extra.length > 0) throw new Error(`unexpected files in the tarball: ${extra.join(', ')}`);
    for (const name of ['LICENSE', 'CHANGELOG.md', 'README.md', 'docs/reference.md']) if (!files.includes(name)) throw new Error(`${name} is missing`);
    const targets = JSON.stringify(manifest.exports).match(/\.\/dist\/[^"]+/g) ?? [];
    const missing = targets.map((target) => target.slice(2)).filter((target) => !files.includes(target));
    if (missing.length > 0) throw new Error(`export targets missing from the tarball: ${missing.join(', ')}`);
    return `${files.length} files, ${(packed[0].size / 1024).toFixed(0)} KiB packed`;
  });

  await step('pack: every link in the README and docs resolves inside the tarball, anchors included', () => {
    const files = packed[0].files.map(({ path }) => path);
    const broken = brokenLinks(files, (path) => readFileSync(join(REPO, path), 'utf8'));
    if (broken.length > 0) throw new Error(broken.join('\n'));
    return `${files.filter((path) => path.endsWith('.md')).length} Markdown files`;
  });

  // One throwaway project for every consumer: installing once keeps the run short.
  cpSync(FIXTURES, project, { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
  const vite = JSON.parse(readFileSync(join(REPO, 'node_modules/vite/package.json'), 'utf8')).version.split('.')[0];
  await step('install: the tarball with ws, react, vite and TypeScript ' + Object.keys(TYPESCRIPT).join(' and '), async () => {
    const typescripts = Object.entries(TYPESCRIPT).map(([name, range]) => `ts${name.replace('.', '')}@npm:typescript@${range}`);
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, 'ws@^8', 'react@^19', '@types/react@^19', '@types/node@^20', `vite@^${vite}`, ...typescripts], { cwd: project });
  });
  if (results.at(-1)?.ok === false) throw new Error('install failed; the consumers cannot run');

  await step('node: ESM import of every entry point, on a loopback server', () => run(process.execPath, ['node/esm.mjs'], { cwd: project }));
  await step('node: CJS require of every entry point, on a loopback server', () => run(process.execPath, ['node/cjs.cjs'], { cwd: project }));

  // The README's examples as a user pastes them: strict TypeScript for Node and for a browser, then run in Node.
  const readmeDir = join(project, 'readme');
  const readmeStrict = { strict: true, skipLibCheck: false, target: 'ES2022', lib: ['ES2022', 'DOM'], module: 'NodeNext', moduleResolution: 'NodeNext' };
  await step('readme: the examples are extracted (every ts/js block of README.md is one)', () => {
    const examples = readmeExamples(readFileSync(join(REPO, 'README.md'), 'utf8'));
    mkdirSync(readmeDir);
    for (const [name, code] of Object.entries(examples)) writeFileSync(join(readmeDir, name), code);
    writeFileSync(join(readmeDir, 'tsconfig.node.json'), JSON.stringify({ compilerOptions: { ...readmeStrict, types: ['node'] }, files: ['client.ts'] }, null, 2));
    writeFileSync(join(readmeDir, 'tsconfig.browser.json'), JSON.stringify({ compilerOptions: { ...readmeStrict, types: [], noEmit: true }, files: ['client.ts'] }, null, 2));
    return Object.keys(examples).join(', ');
  });
  for (const version of Object.keys(TYPESCRIPT)) {
    const tsc = join(project, `node_modules/ts${version.replace('.', '')}/bin/tsc`);
    await step(`readme: client.ts type-checks under TypeScript ${version}, for Node and for a browser`, async () => {
      await run(process.execPath, [tsc, '-p', 'tsconfig.browser.json'], { cwd: readmeDir });
      await run(process.execPath, [tsc, '-p', 'tsconfig.node.json'], { cwd: readmeDir }); // emits client.js
    });
  }
  await step('readme: the examples run in Node on loopback: echoes, a server restart, the queued messages after it', () =>
    runReadmeExamples({ dir: readmeDir, serverFile: 'server.mjs', clientFile: 'client.js' }),
  );

  const spa = join(project, 'spa');
  await step('vite: an SPA build with no warnings and nothing from Node', async () => {
    const output = await run(join(project, 'node_modules/.bin/vite'), ['build', '--logLevel', 'info'], { cwd: spa, env: { NO_COLOR: '1' } });
    const warnings = output.split('\n').filter((line) => /warn|\(!\)|externalized|deprecat/i.test(line));
    if (warnings.length > 0) throw new Error(`vite warned:\n${warnings.join('\n')}`);
    const scripts = filesUnder(join(spa, 'dist')).filter((path) => path.endsWith('.js'));
    if (scripts.length === 0) throw new Error('vite wrote no script');
    // Module specifiers of ws or Node built-ins, Node globals, and ws's own code (its handshake GUID, its server).
    // `globalThis.process?.…` is a guarded read that a browser answers with undefined; a bare `process` throws there.
    const forbidden = [/(?<!globalThis\.)\bprocess\b/, /\bBuffer\b/, /\brequire\(/, /["']node:/, /(from|import\()\s*["']ws["']/, /258EAFA5|WebSocketServer/];
    for (const path of scripts) {
      const code = readFileSync(path, 'utf8');
      for (const pattern of forbidden) {
        const match = pattern.exec(code);
        if (match) throw new Error(`${relative(spa, path)} contains ${pattern}: …${code.slice(Math.max(0, match.index - 60), match.index + 60)}…`);
      }
    }
    return `${scripts.length} script(s), ${(scripts.reduce((sum, path) => sum + statSync(path).size, 0) / 1024).toFixed(1)} KiB`;
  });

  await step('browser: the SPA in Chromium, core and compat against a loopback echo server', async () => {
    const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' };
    const dist = join(spa, 'dist');
    const server = createServer((request, response) => {
      const path = join(dist, new URL(request.url ?? '/', 'http://localhost').pathname.replace(/\/$/, '/index.html'));
      if (path.endsWith('favicon.ico')) return void response.writeHead(204).end();
      try {
        if (!path.startsWith(dist)) throw new Error('outside');
        const body = readFileSync(path);
        response.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' }).end(body);
      } catch {
        response.writeHead(404).end();
      }
    });
    const wss = new WebSocketServer({ server, path: '/echo' });
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    await new Promise((done) => server.listen(0, '127.0.0.1', done));
    const stopServer = () =>
      new Promise((done) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => done());
      });
    cleanups.push(stopServer);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    cleanups.push(() => browser.close());
    const page = await browser.newPage();
    const problems = [];
    page.on('console', (message) => ['error', 'warning'].includes(message.type()) && problems.push(`console.${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => document.title === 'done', undefined, { timeout: 15_000 });
    const text = await page.textContent('#out');
    if (text !== 'browser 1000|ping|ping') throw new Error(`the page reported: ${text}`);
    if (problems.length > 0) throw new Error(problems.join('\n'));
    return text;
  });

  // Strict consumers: lib ES2022 + DOM and skipLibCheck: false throughout. The browser one has no @types/node,
  // so nothing Node declares (Symbol.dispose, say) can hide a missing lib.
  const strict = { strict: true, skipLibCheck: false, noEmit: true, target: 'ES2022', lib: ['ES2022', 'DOM'], esModuleInterop: true, forceConsistentCasingInFileNames: true };
  const configs = {
    'bundler, browser (no @types/node)': { compilerOptions: { ...strict, module: 'ESNext', moduleResolution: 'Bundler', types: [] }, files: ['browser.ts'] },
    'bundler, node': { compilerOptions: { ...strict, module: 'ESNext', moduleResolution: 'Bundler', types: ['node'] }, files: ['node.ts'] },
    'node16, ESM and CJS': { compilerOptions: { ...strict, module: 'Node16', moduleResolution: 'Node16', types: ['node'] }, files: ['node.ts', 'node-cjs.cts'] },
    'node10': { compilerOptions: { ...strict, module: 'CommonJS', moduleResolution: 'Node', types: ['node'] }, files: ['node.ts', 'browser.ts'] },
  };
  const typesDir = join(project, 'types');
  cpSync(join(typesDir, 'node.ts'), join(typesDir, 'node-cjs.cts'));
  for (const [index, [name, config]] of Object.entries(configs).entries()) {
    writeFileSync(join(typesDir, `tsconfig.${index}.json`), JSON.stringify(config, null, 2));
    for (const version of Object.keys(TYPESCRIPT)) {
      const tsc = join(project, `node_modules/ts${version.replace('.', '')}/bin/tsc`);
      await step(`types: TypeScript ${version}, ${name}`, () => run(process.execPath, [tsc, '-p', `tsconfig.${index}.json`], { cwd: typesDir }));
    }
  }
} catch (error) {
  results.push({ name: 'setup', ok: false });
  console.log(`FAIL  setup\n${String(error?.stack ?? error).replace(/^/gm, '      ')}`);
} finally {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      console.log(`cleanup failed: ${error}`);
    }
  }
}

const failed = results.filter(({ ok }) => !ok).length;
console.log(`\nconsumers: ${results.length - failed} passed, ${failed} failed (${((performance.now() - started) / 1000).toFixed(0)} s)`);
process.exitCode = failed > 0 ? 1 : 0;
