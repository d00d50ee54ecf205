// Runs every benchmark in bench/ (all *.mjs but this file and lib.mjs), each in its own child process, in a
// fixed order, and prints their output followed by a summary. Benchmarks print figures and say whether each
// budget is met; a missed budget is not a failure here, a benchmark that crashes or hangs is.
//
//   npm run bench        (= npm run build && node bench/run.mjs)
//   node bench/run.mjs size throughput   (only these, by file name without .mjs)
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { BENCH_DIR, DIST_ESM } from './lib.mjs';

/** The fixed order; any other bench/*.mjs runs after these, alphabetically. */
const ORDER = ['size.mjs', 'throughput.mjs', 'memory.mjs', 'blackhole.mjs', 'recovery.mjs', 'close-to-exit.mjs'];
const NOT_BENCHMARKS = new Set(['run.mjs', 'lib.mjs']);
const SCRIPT_TIMEOUT_MS = 8 * 60_000;

const found = readdirSync(BENCH_DIR).filter((file) => file.endsWith('.mjs') && !NOT_BENCHMARKS.has(file));
const rank = (file) => (ORDER.includes(file) ? ORDER.indexOf(file) : ORDER.length);
let scripts = found.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
const only = process.argv.slice(2).map((name) => (name.endsWith('.mjs') ? name : `${name}.mjs`));
if (only.length) {
  const unknown = only.filter((name) => !scripts.includes(name));
  if (unknown.length) {
    console.error(`Unknown benchmark(s): ${unknown.join(', ')}. Available: ${scripts.join(', ')}`);
    process.exit(2);
  }
  scripts = scripts.filter((file) => only.includes(file));
}
if (!existsSync(DIST_ESM)) console.log('Note: dist/index.js is missing; run `npm run build` (or `npm run bench`) first.\n');

function runScript(file) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [path.join(BENCH_DIR, file)], { stdio: 'inherit', cwd: path.dirname(BENCH_DIR) });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, SCRIPT_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ file, status: `could not start: ${error.message}`, ok: false, seconds: 0 });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const seconds = (performance.now() - started) / 1000;
      const status = timedOut ? `killed after ${SCRIPT_TIMEOUT_MS / 1000} s` : signal ? `killed by ${signal}` : `exit ${code}`;
      resolve({ file, status, ok: !timedOut && code === 0, seconds });
    });
  });
}

const summary = [];
for (const file of scripts) {
  console.log(`\n===== bench/${file} =====\n`);
  summary.push(await runScript(file));
}

console.log('\n===== summary =====');
for (const { file, status, ok, seconds } of summary) {
  console.log(`${ok ? 'ok  ' : 'FAIL'}  ${file.padEnd(20)} ${status.padEnd(10)} ${seconds.toFixed(1).padStart(6)} s`);
}
const total = summary.reduce((sum, s) => sum + s.seconds, 0);
console.log(`${summary.length} benchmark(s) in ${total.toFixed(1)} s; budgets are reported above each one's output.`);
if (summary.some((s) => !s.ok)) process.exitCode = 1;
