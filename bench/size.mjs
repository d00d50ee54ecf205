// Browser bundle size, side by side with the peers: tiny entries bundled as a production build makes them
// (esbuild ESM, minified, the `production` condition, NODE_ENV "production"; see browserBundle in lib.mjs),
// gzipped with zlib level 9. Issue 18's targets: { ReconnectingSocket } at most 5,000 B; each compat class at most
// the core + 1,500 B, the React hook the core + 1,000 B, the shared entry the core + 3,000 B. CI holds a ratchet
// on the core (test/size/bundle-size.test.ts) so it can only shrink.
//
//   node bench/size.mjs
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync, constants as zlib } from 'node:zlib';
import { BENCH_DIR, ROOT_DIR, browserBundle, fmtInt, printTable, watchdog } from './lib.mjs';

const BUDGET_GZIP_BYTES = 5000;
const TOP_INPUTS = 14;

// `over`: the budget over the core (the first entry), in gzipped bytes; `ratchet`: an entry over its budget
// (PartySocket's room client: partysocket's own PartySocket adds 1.3 KB to its WebSocket) held where it stands.
const ENTRIES = [
  { name: 'resilient-websocket: { ReconnectingSocket }', ours: true, budget: BUDGET_GZIP_BYTES, code: "export { ReconnectingSocket } from '../dist/index.js';" },
  { name: 'resilient-websocket: export *', ours: true, code: "export * from '../dist/index.js';" },
  { name: 'compat: { ReconnectingWebSocket }', ours: true, over: 1500, code: "export { ReconnectingWebSocket } from '../dist/compat/index.js';" },
  { name: 'compat/reconnecting-websocket: default', ours: true, over: 1500, code: "export { default } from '../dist/compat/reconnecting-websocket.js';" },
  { name: 'compat/partysocket/ws: default', ours: true, over: 1500, code: "export { default } from '../dist/compat/partysocket/ws.js';" },
  { name: 'compat/partysocket: { PartySocket }', ours: true, over: 1500, ratchet: 2550, code: "export { PartySocket } from '../dist/compat/partysocket.js';" },
  { name: 'react: { useSocket }', ours: true, over: 1000, external: ['react'], code: "export { useSocket } from '../dist/react/index.js';" },
  { name: 'shared: { SharedSocket }', ours: true, over: 3000, code: "export { SharedSocket } from '../dist/shared/index.js';" },
  { name: 'resume: { ResumableSocket }', ours: true, code: "export { ResumableSocket } from '../dist/resume/index.js';" },
  { name: 'reconnecting-websocket', code: "export { default } from 'reconnecting-websocket';" },
  { name: 'partysocket/ws (its WebSocket class)', code: "export { default } from 'partysocket/ws';" },
  { name: 'partysocket (export *)', code: "export * from 'partysocket';" },
  { name: 'partysocket/react: { useWebSocket }', external: ['react'], code: "export { useWebSocket } from 'partysocket/react';" },
  { name: 'sockette', code: "export { default } from 'sockette';" },
  { name: 'websocket-ts: { WebsocketBuilder }', code: "export { WebsocketBuilder } from 'websocket-ts';" },
];

/** The core from its sources, for the breakdowns (the package.json `imports` resolve to src/ with `source`). */
const SOURCE_ENTRY = "export { ReconnectingSocket } from '../src/index.ts';";

/**
 * What each part of the core costs: the bundle from the sources is gzipped again without one module's slice of
 * the output (esbuild writes each module's code in one piece), and the difference is that module's share.
 */
const PARTS = [
  ['link.ts', 'class Link: one connection: the attempt and its providers, the inner socket\'s events, refusals, errors, the heartbeat\'s host'],
  ['reconnecting-socket.ts', 'class ReconnectingSocket: the machine\'s effects, the state\'s timer, environment and signal, close(), dispose(), closed'],
  ['outbox.ts', 'class Outbox: send(), the queue\'s place in the order, the flush after open, drops at the final close'],
  ['machine.ts', 'the transition table: states, inputs, holds (offline, hidden, pagehide), close records of our own ends'],
  ['emitter.ts', 'listeners and the one event queue (commit, then announce; never nested; listener throws isolated)'],
  ['options.ts', 'defaults, options layered over them, the close-code policy'],
  ['checks.production.ts', 'option checks of a production build (types only) and close()\'s arguments'],
  ['policy.ts', 'the retry plan: shouldReconnect, backoff, Retry-After, refusals, holds'],
  ['heartbeat.ts', 'the heartbeat: ping frames or application pings, deadlines, probes, clock jumps'],
  ['connection.ts', 'the shared socket listeners, retiring a socket, close records, socket errors'],
  ['queue.ts', 'the bounded queue: overflow policies, TTL, byte counts'],
  ['errors.ts', 'SocketError (code, cause, data, toJSON), describing a thrown value, uncaught reports'],
  ['transport.ts', 'URL checks, byte sizes, the timer limit'],
  ['environment.ts', 'browser signals: online/offline, visibility, pagehide/pageshow'],
  ['backoff.ts', 'the backoff curves (decorrelated, full, none)'],
  ['platform.browser.ts', 'the browser platform: the native WebSocket, what Node adds left out'],
  ['codec.ts', 'the raw codec (the default)'],
  ['waits.ts', 'the timeout check probe() shares with opened()'],
];

watchdog(2 * 60_000, 'size.mjs');

/**
 * Blanks the contents of string and template literals in minified code (regex literals skipped by a
 * heuristic), to estimate what messages cost: returns the blanked code and the characters removed.
 */
function withoutStringContents(code) {
  let out = '';
  let removed = 0;
  let previous = '';
  for (let i = 0; i < code.length; ) {
    const c = code[i];
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < code.length && code[j] !== c) j += code[j] === '\\' ? 2 : 1;
      removed += j - i - 1;
      out += c + c;
      i = j + 1;
      previous = c;
    } else if (c === '`') {
      let j = i + 1;
      out += '`';
      while (j < code.length && code[j] !== '`') {
        if (code[j] === '\\') {
          j += 2;
          removed += 2;
        } else if (code[j] === '$' && code[j + 1] === '{') {
          // Keep the substitution's code; nested braces are counted, nested templates are rare in our output.
          let depth = 1;
          let k = j + 2;
          for (; k < code.length && depth > 0; k++) {
            if (code[k] === '{') depth++;
            else if (code[k] === '}') depth--;
          }
          out += code.slice(j, k);
          j = k;
        } else {
          j++;
          removed++;
        }
      }
      out += '`';
      i = j + 1;
      previous = '`';
    } else if (c === '/' && '(,=:[!&|?{};'.includes(previous)) {
      let j = i + 1;
      let inClass = false;
      while (j < code.length && (code[j] !== '/' || inClass)) {
        if (code[j] === '\\') j++;
        else if (code[j] === '[') inClass = true;
        else if (code[j] === ']') inClass = false;
        j++;
      }
      out += code.slice(i, j + 1);
      i = j + 1;
      previous = '/';
    } else {
      out += c;
      if (c.trim()) previous = c;
      i++;
    }
  }
  return { code: out, removed };
}

async function measure(entry) {
  const { result, gzip } = await browserBundle(entry.code, BENCH_DIR, [], { external: entry.external, source: entry.source });
  const output = result.outputFiles[0].contents;
  const inputs = Object.entries(Object.values(result.metafile.outputs)[0].inputs)
    .map(([file, { bytesInOutput }]) => ({ file, bytes: bytesInOutput }))
    .filter((input) => input.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes);
  const blanked = withoutStringContents(result.outputFiles[0].text);
  const stringsGzip = gzip.length - gzipSync(blanked.code, { level: zlib.Z_BEST_COMPRESSION }).length;
  return { minified: output.length, gzip: gzip.length, inputs, stringChars: blanked.removed, stringsGzip };
}

/** Each module's gzipped share, largest first, with what it holds. */
async function partCosts() {
  const { result, gzip } = await browserBundle(SOURCE_ENTRY, BENCH_DIR, [], { source: true });
  const output = Buffer.from(result.outputFiles[0].contents);
  const gz = (bytes) => gzipSync(bytes, { level: zlib.Z_BEST_COMPRESSION }).length;
  const described = new Map(PARTS);
  const parts = [];
  let at = 0;
  for (const [file, { bytesInOutput }] of Object.entries(Object.values(result.metafile.outputs)[0].inputs)) {
    const without = Buffer.concat([output.subarray(0, at), output.subarray(at + bytesInOutput)]);
    at += bytesInOutput;
    if (bytesInOutput > 0) parts.push({ file: path.relative(ROOT_DIR, path.resolve(file)), bytes: gzip.length - gz(without), what: described.get(path.basename(file)) ?? '' });
  }
  return { total: gzip.length, parts: parts.sort((x, y) => y.bytes - x.bytes) };
}

const rows = [];
const verdicts = [];
let core;
let failed = false;
for (const entry of ENTRIES) {
  const file = entry.ours && entry.code.match(/'\.\.\/(dist\/[^']+)'/)?.[1];
  if (file && !existsSync(path.join(ROOT_DIR, file))) {
    rows.push([entry.name, 'n/a', 'n/a', `${file} missing: run \`npm run build\``]);
    failed = true;
    continue;
  }
  try {
    const size = await measure(entry);
    let note = '';
    if (entry.budget) {
      core = size;
      const verdict = size.gzip <= entry.budget ? 'MET' : 'NOT MET';
      note = `target ${fmtInt(entry.budget)}: ${verdict}`;
      const margin = entry.budget - size.gzip;
      verdicts.push(`${entry.name}: ${fmtInt(size.gzip)} B (${margin >= 0 ? `${fmtInt(margin)} B under` : `${fmtInt(-margin)} B over`} ${fmtInt(entry.budget)}) -> ${verdict}`);
      verdicts.push(`  of which the contents of string and template literals (messages): ~${fmtInt(size.stringsGzip)} B gzipped (the bundle re-gzipped with them blanked; ${fmtInt(size.stringChars)} characters)`);
    } else if (entry.ours && core && entry.code !== ENTRIES[1].code) {
      const extra = size.gzip - core.gzip;
      note = `+${fmtInt(extra)} over the core`;
      if (entry.over) {
        const limit = entry.ratchet ?? entry.over;
        const verdict = extra <= entry.over ? 'MET' : extra <= limit ? `NOT MET (held at +${fmtInt(limit)})` : 'NOT MET';
        note += `; target +${fmtInt(entry.over)}: ${verdict}`;
        verdicts.push(`${entry.name}: core + ${fmtInt(extra)} B (target core + ${fmtInt(entry.over)}) -> ${verdict}`);
      }
    }
    rows.push([entry.name, fmtInt(size.minified), fmtInt(size.gzip), note]);
  } catch (error) {
    rows.push([entry.name, 'n/a', 'n/a', `build failed: ${error.message.split('\n')[0]}`]);
    failed = true;
  }
}

console.log('Browser bundle size, production build: esbuild bundle + minify, platform browser, format esm, the production condition; gzip level 9 (bytes). React left out of both hooks.');
printTable(['entry', 'minified', 'gzipped', 'note'], rows);
try {
  const { inputs, minified } = await measure({ code: SOURCE_ENTRY, source: true });
  console.log('');
  console.log(`Where the bytes come from: the largest inputs of { ReconnectingSocket } built from src/ (minified bytes, before gzip; total ${fmtInt(minified)}):`);
  printTable(
    ['input', 'bytes', 'share'],
    inputs.slice(0, TOP_INPUTS).map(({ file, bytes }) => [path.relative(ROOT_DIR, path.resolve(file)), fmtInt(bytes), `${((bytes / minified) * 100).toFixed(1)}%`]),
  );
} catch (error) {
  console.log(`(no per-module breakdown: ${error.message.split('\n')[0]})`);
}
try {
  const { total, parts } = await partCosts();
  console.log('');
  console.log(`What each part costs, gzipped: { ReconnectingSocket } from src/ (${fmtInt(total)} B) gzipped again without that module's code (shares overlap a little: gzip shares context):`);
  printTable(['part', 'gzipped', 'what it holds'], parts.map(({ file, what, bytes }) => [file, fmtInt(bytes), what]));
} catch (error) {
  console.log(`(no per-part costs: ${error.message.split('\n')[0]})`);
}
console.log('');
console.log('Targets (issue 18):');
if (verdicts.length) for (const line of verdicts) console.log(`  ${line}`);
else console.log('  NOT MEASURED (dist/ missing or the build failed)');
if (failed) process.exitCode = 1;
