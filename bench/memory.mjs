// Heap per open client: K clients connected to a local echo server (its own process), each having
// exchanged one message, measured with process.memoryUsage() after forced GC, in a fresh child process
// (started with --expose-gc) per library and round. Budget: every ReconnectingSocket instance (default and
// non-default options) at most 1 KiB more than ws.
//
//   node bench/memory.mjs               (BENCH_CLIENTS=k, BENCH_ROUNDS=n to change the defaults;
//                                        BENCH_ONLY=ws,ReconnectingSocket,... to measure only those, by exact name;
//                                        BENCH_DIST=/path/to/dist to measure a private build; a copy outside
//                                        the repo needs `ln -s "$PWD/node_modules" /path/to/dist/node_modules`)
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { clientAdapters, fmtInt, fmtNum, median, printTable, spreadPct, startEchoServer, watchdog } from './lib.mjs';

const CLIENTS = Math.max(10, Math.min(2000, Number(process.env.BENCH_CLIENTS) || 2000));
const ROUNDS = Math.max(1, Math.min(15, Number(process.env.BENCH_ROUNDS) || 5));
const WARMUP_CLIENTS = 20;
const BATCH = 50;
const BUDGET_BYTES = 1024;
const CHILD_TIMEOUT_MS = 60_000;

async function collectGarbage() {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** In the child: measure one library, print one JSON line. */
async function measure(name, url, count) {
  watchdog(CHILD_TIMEOUT_MS, `memory.mjs child (${name})`);
  if (typeof globalThis.gc !== 'function') throw new Error('run the child with --expose-gc');
  const adapter = clientAdapters().find((a) => a.name === name);
  if (!adapter || !(await adapter.load())) throw new Error(`${name}: not available`);

  let echoes = 0;
  const onMessage = () => {
    echoes++;
  };
  const waitForEchoes = async (expected) => {
    for (let i = 0; i < 500 && echoes < expected; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    if (echoes < expected) throw new Error(`${name}: ${echoes}/${expected} echoes after 5 s`);
  };
  const openBatch = async (into, from, to) => {
    for (let i = from; i < to; i++) into[i] = adapter.create(url, onMessage);
    await Promise.all(into.slice(from, to).map((socket) => adapter.opened(socket)));
    for (let i = from; i < to; i++) adapter.send(into[i], 'ping');
  };

  // Warm up: load and compile every code path once, so the baseline already holds them.
  const warm = new Array(WARMUP_CLIENTS);
  await openBatch(warm, 0, WARMUP_CLIENTS);
  await waitForEchoes(WARMUP_CLIENTS);
  await Promise.all(warm.map((socket) => adapter.close(socket)));
  warm.fill(undefined);
  echoes = 0;
  const sockets = new Array(count).fill(undefined); // allocated before the baseline, so it is not counted
  await new Promise((resolve) => setTimeout(resolve, 50));
  await collectGarbage();
  const before = process.memoryUsage();

  for (let from = 0; from < count; from += BATCH) await openBatch(sockets, from, Math.min(count, from + BATCH));
  await waitForEchoes(count);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await collectGarbage();
  const after = process.memoryUsage();

  // Only heapUsed: rss and heapTotal grow in steps (V8 enlarges its spaces once), which is not a per-client cost.
  const result = { heapPerClient: (after.heapUsed - before.heapUsed) / count };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  await Promise.all(sockets.map((socket) => adapter.close(socket)));
  process.exit(0);
}

/** In the parent: run one measurement in a fresh `node --expose-gc` child. */
function runChild(name, url) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), 'child', name, url, String(CLIENTS)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: CHILD_TIMEOUT_MS + 5000,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('close', (code, signal) => {
      const line = out.trim().split('\n').pop();
      try {
        resolve(JSON.parse(line));
      } catch {
        resolve({ error: `exit ${code ?? signal}: ${(err.trim().split('\n').find((l) => /Error/.test(l)) ?? err.trim()).slice(0, 200)}` });
      }
    });
  });
}

async function main() {
  const only = process.env.BENCH_ONLY?.split(',').map((name) => name.trim());
  const chosen = clientAdapters().filter((a) => a.memory !== false && (!only || only.includes(a.name)));
  // Each child is bounded by CHILD_TIMEOUT_MS; the whole run by that many children, plus a margin.
  watchdog(5 * 60_000 + ROUNDS * chosen.length * CHILD_TIMEOUT_MS, 'memory.mjs');
  const server = await startEchoServer();
  const adapters = [];
  for (const adapter of chosen) {
    try {
      if (await adapter.load()) adapters.push(adapter);
      else console.log(`skipped ${adapter.name}: not available (${adapter.isSubject ? 'run `npm run build` first' : 'not installed'})`);
    } catch (error) {
      console.log(`skipped ${adapter.name}: ${error.message}`);
    }
  }
  console.log(`Heap per open client: ${CLIENTS} clients to a local echo server (child process), one echo each,`);
  console.log(`heapUsed delta after gc() in a fresh --expose-gc child per library and round; ${ROUNDS} rounds, interleaved.`);

  const results = Object.fromEntries(adapters.map((a) => [a.name, []]));
  const failures = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const adapter of adapters) {
        const result = await runChild(adapter.name, server.url);
        if (result.error) failures.push(`round ${round + 1} ${adapter.name}: ${result.error}`);
        results[adapter.name].push(result.error ? undefined : result);
      }
    }
  } finally {
    await server.stop();
  }

  const field = (name, key) => results[name].map((r) => r?.[key] ?? NaN);
  const baseline = adapters.find((a) => a.isBaseline);
  const baseHeap = baseline ? median(field(baseline.name, 'heapPerClient')) : NaN;
  console.log('');
  printTable(
    ['library', 'heap B/client', 'spread', 'vs ws'],
    adapters.map((adapter) => {
      const heap = median(field(adapter.name, 'heapPerClient'));
      const diff = heap - baseHeap;
      return [
        adapter.name,
        fmtInt(heap),
        `±${fmtNum(spreadPct(field(adapter.name, 'heapPerClient')) / 2)}%`,
        adapter === baseline ? '—' : `${diff >= 0 ? '+' : ''}${fmtInt(diff)}`,
      ];
    }),
  );
  console.log('');
  // The budget holds for every instance of ours: default options and non-default ones alike.
  const ours = adapters.filter((a) => a.isSubject || a.name.startsWith('ReconnectingSocket'));
  if (baseline && ours.length) {
    for (const adapter of ours) {
      const diffs = field(adapter.name, 'heapPerClient').map((heap, i) => heap - field(baseline.name, 'heapPerClient')[i]).filter(Number.isFinite);
      const diff = median(diffs);
      console.log(
        `Budget: heap per open client at most ${BUDGET_BYTES} B more than ws -> ${adapter.name} ${diff >= 0 ? '+' : ''}${fmtInt(diff)} B ` +
          `(paired median over ${diffs.length} rounds, range ${fmtInt(Math.min(...diffs))} .. ${fmtInt(Math.max(...diffs))}) -> ` +
          `${diff <= BUDGET_BYTES ? 'MET' : 'NOT MET'}`,
      );
    }
  } else {
    console.log('Budget: heap per open client at most 1 KiB more than ws -> NOT MEASURED (ReconnectingSocket or ws unavailable)');
  }
  if (failures.length) {
    console.log(`Failed measurements (${failures.length}):`);
    for (const line of failures.slice(0, 20)) console.log(`  ${line}`);
    process.exitCode = 1;
  }
}

if (process.argv[2] === 'child') {
  await measure(process.argv[3], process.argv[4], Number(process.argv[5]));
} else {
  await main();
}
