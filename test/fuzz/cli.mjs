#!/usr/bin/env node
// `npm run fuzz -- --runs N --seed S [--profile P] [--path P] [--skip id,id]`: runs the model-based fuzz
// (test/fuzz/model.test.ts) longer than `npm test` does, through vitest, and exits with its status.
// Without --seed it picks one and prints it, so any failure can be replayed.
import { spawn } from 'node:child_process';

const USAGE = `usage: npm run fuzz -- [--runs N] [--seed S] [--profile everything|reentrancy|messaging|lifecycle] [--path P] [--skip ids] [--explore]
  --runs N      scenarios per profile (default 2000)
  --seed S      base seed, an integer (default: random, printed); profile i uses S + i
  --profile P   run one profile only
  --path P      replay a counter-example: the path printed with a failure (needs its --seed and --profile)
  --skip ids    comma-separated violation ids (or invN) to look past, to find the next failure
  --explore     after each failure, skip its ids and go on; report every distinct failure found`;

const FLAGS = { '--runs': 'runs', '--seed': 'seed', '--profile': 'profile', '--path': 'path', '--skip': 'skip' };

function parse(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.split(/=(.*)/s, 2);
    if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    if (flag === '--explore') {
      args.explore = true;
      continue;
    }
    const name = FLAGS[flag];
    const value = name && (inline ?? argv[++i]);
    if (!name || value === undefined) {
      console.error(`fuzz: ${name ? `${flag} needs a value` : `unknown argument ${JSON.stringify(arg)}`}\n${USAGE}`);
      process.exit(2);
    }
    args[name] = value;
  }
  for (const name of ['runs', 'seed']) {
    if (args[name] !== undefined && !/^-?\d+$/.test(args[name])) {
      console.error(`fuzz: --${name} must be an integer, got ${JSON.stringify(args[name])}`);
      process.exit(2);
    }
  }
  return args;
}

const args = parse(process.argv.slice(2));
const runs = args.runs ?? '2000';
const seed = args.seed ?? String(Math.floor(Math.random() * 2 ** 31));
const mode = [args.profile && `profile ${args.profile}`, args.path && `replaying path ${args.path}`, args.skip && `skipping ${args.skip}`, args.explore && 'exploring'];
console.log(`fuzz: seed ${seed}, runs ${runs} per profile${mode.filter(Boolean).map((part) => `, ${part}`).join('')}`);

const env = { ...process.env, FUZZ_RUNS: runs, FUZZ_SEED: seed };
if (args.profile) env.FUZZ_PROFILE = args.profile;
if (args.path) env.FUZZ_PATH = args.path;
if (args.skip) env.FUZZ_SKIP = args.skip;
if (args.explore) env.FUZZ_EXPLORE = '1';

const child = spawn('npx', ['vitest', 'run', 'test/fuzz/model.test.ts'], { stdio: 'inherit', env, shell: process.platform === 'win32' });
child.on('error', (error) => {
  console.error(`fuzz: could not start vitest: ${error.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  console.log(`fuzz: seed ${seed}, runs ${runs} per profile: ${code === 0 ? 'no invariant broken' : 'FAILED (replay with the seed above)'}`);
  process.exit(code ?? (signal ? 1 : 0));
});
