// Browser bundle size: tiny entries bundled with esbuild (bundle, minify, platform browser, format esm),
// gzipped with zlib level 9. Target: the ReconnectingSocket entry at most 4500 bytes gzipped (CI holds a looser
// ratchet in test/size/bundle-size.test.ts so it can only shrink).
// The peers are bundled the same way for comparison, and the biggest inputs of our bundles are listed.
//
//   node bench/size.mjs
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync, constants as zlib } from 'node:zlib';
import { BENCH_DIR, DIST_ESM, ROOT_DIR, browserBundle, fmtInt, printTable, watchdog } from './lib.mjs';

const BUDGET_GZIP_BYTES = 4500;
const TOP_INPUTS = 12;

const ENTRIES = [
  { name: 'resilient-websocket: { ReconnectingSocket }', ours: true, budget: true, code: "export { ReconnectingSocket } from '../dist/index.js';" },
  { name: 'resilient-websocket: export *', ours: true, code: "export * from '../dist/index.js';" },
  // The compat flavours: what each adds over the core is reported against the first entry (ReconnectingSocket).
  { name: 'compat/partysocket: { ReconnectingWebSocket }', ours: true, compat: true, code: "export { ReconnectingWebSocket } from '../dist/compat/partysocket.js';" },
  {
    name: 'compat/reconnecting-websocket: { ReconnectingWebSocket }',
    ours: true,
    compat: true,
    code: "export { ReconnectingWebSocket } from '../dist/compat/reconnecting-websocket.js';",
  },
  // The shared entry (a connection shared across tabs): what it adds over the core, measured the same way.
  { name: 'shared: { SharedSocket }', ours: true, compat: true, code: "export { SharedSocket } from '../dist/shared/index.js';" },
  // Bundled from the TypeScript sources only to attribute the bytes to modules (dist/index.js is one file).
  { name: 'src/index.ts: { ReconnectingSocket }', breakdownOnly: true, code: "export { ReconnectingSocket } from '../src/index.ts';" },
  { name: 'reconnecting-websocket', code: "export { default } from 'reconnecting-websocket';" },
  { name: 'partysocket/ws (its WebSocket class)', code: "export { default } from 'partysocket/ws';" },
  { name: 'partysocket (export *)', code: "export * from 'partysocket';" },
  { name: 'sockette', code: "export { default } from 'sockette';" },
];

/**
 * What each part of the core costs: the bundle is built again from the sources with one module taken out (its
 * exports replaced by unknown globals, so the code that uses them stays), and the gzipped difference is that
 * module's cost. The class itself cannot be taken out: it is what remains.
 */
const PARTS = [
  ['options.ts', 'option defaults and checking (every message naming option, range, value), the close-code policy'],
  ['machine.ts', 'the transition table: states, holds (offline, hidden, pagehide), the retry decision'],
  ['connection.ts', 'socket listeners, close records, protocol errors, Retry-After, close() argument checks'],
  ['heartbeat.ts', 'the heartbeat: ping frames or application pings, deadlines, probes, clock jumps'],
  ['waits.ts', 'opened() and messages()'],
  ['providers.ts', 'url/protocols/headers/transport providers, URL checks'],
  ['queue.ts', 'the bounded outgoing queue with TTL and overflow policies'],
  ['emitter.ts', 'the event emitter (listener errors isolated)'],
  ['errors.ts', 'SocketError (brand, toJSON), URL redaction'],
  ['transport.ts', 'the default WebSocket, byte sizes, UTF-8 length'],
  ['environment.ts', 'browser signals: online/offline, visibility, pagehide/pageshow, clock jumps'],
  ['backoff.ts', 'the backoff curves'],
  ['registry.ts', 'the registry of live sockets (for Node shutdown)'],
];

/** An esbuild plugin that replaces src/<file>'s exports with unknown globals. */
function without(file) {
  return {
    name: `without-${file}`,
    setup(build) {
      build.onLoad({ filter: new RegExp(`[\\\\/]src[\\\\/]${file.replace('.', '\\.')}$`) }, (args) => {
        const names = [...readFileSync(args.path, 'utf8').matchAll(/^export (?:async )?(?:function|const|class|let) (\w+)/gm)].map((m) => m[1]);
        if (names.length === 0) throw new Error(`${file}: no exports found to take out`);
        return { contents: names.map((name) => `export const ${name} = globalThis.__removed_${name};`).join('\n'), loader: 'js' };
      });
    },
  };
}

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
  const { result, gzip } = await browserBundle(entry.code);
  const output = result.outputFiles[0].contents;
  const inputs = Object.entries(Object.values(result.metafile.outputs)[0].inputs)
    .map(([file, { bytesInOutput }]) => ({ file, bytes: bytesInOutput }))
    .filter((input) => input.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes);
  const blanked = withoutStringContents(result.outputFiles[0].text);
  const stringsGzip = gzip.length - gzipSync(blanked.code, { level: zlib.Z_BEST_COMPRESSION }).length;
  return { minified: output.length, gzip: gzip.length, inputs, stringChars: blanked.removed, stringsGzip };
}

/** Each part's gzipped cost, and what is left for the class. */
async function partCosts() {
  const entry = "export { ReconnectingSocket } from '../src/index.ts';";
  const total = (await browserBundle(entry)).gzip.length;
  const parts = [];
  for (const [file, what] of PARTS) parts.push({ file, what, bytes: total - (await browserBundle(entry, BENCH_DIR, [without(file)])).gzip.length });
  return { total, parts, rest: total - parts.reduce((sum, part) => sum + part.bytes, 0) };
}

const rows = [];
const verdicts = [];
const compatLines = [];
let core;
const breakdowns = [];
let failed = false;
for (const entry of ENTRIES) {
  if (entry.breakdownOnly) {
    try {
      const size = await measure(entry);
      breakdowns.push({ name: entry.name, inputs: size.inputs, minified: size.minified });
    } catch (error) {
      console.log(`(no per-module breakdown: ${error.message.split('\n')[0]})`);
    }
    continue;
  }
  if (entry.ours && !existsSync(entry.compat ? path.join(ROOT_DIR, 'dist', entry.name.startsWith('shared') ? 'shared' : 'compat') : DIST_ESM)) {
    rows.push([entry.name, 'n/a', 'n/a', 'not built: run `npm run build`']);
    failed = true;
    continue;
  }
  try {
    const size = await measure(entry);
    const verdict = entry.budget ? (size.gzip <= BUDGET_GZIP_BYTES ? 'MET' : 'NOT MET') : '';
    if (entry.budget) core = size;
    let note = entry.budget ? `budget ${fmtInt(BUDGET_GZIP_BYTES)}: ${verdict}` : '';
    if (entry.compat && core) {
      note = `+${fmtInt(size.minified - core.minified)} min, +${fmtInt(size.gzip - core.gzip)} gz over the core`;
      compatLines.push(`${entry.name}: adds ${fmtInt(size.gzip - core.gzip)} B gzipped (${fmtInt(size.minified - core.minified)} B minified) to { ReconnectingSocket }`);
    }
    rows.push([entry.name, fmtInt(size.minified), fmtInt(size.gzip), note]);
    if (entry.budget) {
      const margin = BUDGET_GZIP_BYTES - size.gzip;
      verdicts.push(`${entry.name}: ${fmtInt(size.gzip)} B gzipped (${margin >= 0 ? `${fmtInt(margin)} B under` : `${fmtInt(-margin)} B over`}) -> ${verdict}`);
      verdicts.push(
        `  of which string and template literal contents (messages): ~${fmtInt(size.stringChars)} B minified, ` +
          `~${fmtInt(size.stringsGzip)} B gzipped (estimate: the bundle re-gzipped with them blanked)`,
      );
    }
  } catch (error) {
    rows.push([entry.name, 'n/a', 'n/a', `build failed: ${error.message.split('\n')[0]}`]);
    failed = true;
  }
}

console.log('Browser bundle size: esbuild bundle + minify, platform browser, format esm; gzip level 9 (bytes)');
printTable(['entry', 'minified', 'gzipped', 'note'], rows);
for (const { name, inputs, minified } of breakdowns) {
  console.log('');
  console.log(`Where the bytes come from: largest inputs of "${name}" (minified bytes, before gzip; total ${fmtInt(minified)}):`);
  printTable(
    ['input', 'bytes', 'share'],
    inputs.slice(0, TOP_INPUTS).map(({ file, bytes }) => [
      path.relative(ROOT_DIR, path.resolve(ROOT_DIR, file)).replace(/^bench[\\/]/, ''),
      fmtInt(bytes),
      `${((bytes / minified) * 100).toFixed(1)}%`,
    ]),
  );
}
try {
  const { total, parts, rest } = await partCosts();
  console.log('');
  console.log(`What each part costs, gzipped: the bundle of src/index.ts (${fmtInt(total)} B) built again without it (the differences do not add up exactly: gzip shares context):`);
  printTable(
    ['part', 'gzipped', 'what it holds'],
    [...parts.map(({ file, what, bytes }) => [`src/${file}`, fmtInt(bytes), what]), ['the class (the rest)', fmtInt(rest), 'src/reconnecting-socket.ts: performs the transitions and their effects']],
  );
} catch (error) {
  console.log(`(no per-part costs: ${error.message.split('\n')[0]})`);
}
if (compatLines.length) {
  console.log('');
  console.log('Compat layer (drop-in ReconnectingWebSocket) and the shared entry, measured against the core bundle above:');
  for (const line of compatLines) console.log(`  ${line}`);
}
console.log('');
console.log(`Budget: browser bundle at most ${fmtInt(BUDGET_GZIP_BYTES)} B gzipped`);
if (verdicts.length) for (const line of verdicts) console.log(`  ${line}`);
else console.log('  NOT MEASURED (dist/index.js missing or the build failed)');
if (failed) process.exitCode = 1;
