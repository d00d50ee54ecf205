#!/usr/bin/env node
// Runs each command given as an argument, in order, through the shell, whatever became of the ones before it;
// then prints one line per command and exits non-zero if any failed. A chain of `&&` stops at the first failure
// and leaves the rest unrun and unreported; this reports every part. Ctrl+C stops it: no further part starts.
//
//   node .ci/parts.mjs "npm run typecheck" "vitest run"

import { spawn } from 'node:child_process';

const commands = process.argv.slice(2);
if (commands.length === 0) {
  console.error('usage: node .ci/parts.mjs "command" ["command" ...]');
  process.exit(2);
}

let isInterrupted = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  // The children share our terminal's process group and get the signal themselves; we only stop starting more.
  process.on(signal, () => {
    isInterrupted = true;
  });
}

const results = [];
for (const command of commands) {
  if (isInterrupted) {
    results.push({ command, outcome: 'not run (interrupted)' });
    continue;
  }
  console.log(`\n> ${command}\n`);
  const started = performance.now();
  const { code, signal } = await new Promise((resolve) => {
    const child = spawn(command, { shell: true, stdio: 'inherit' });
    child.on('error', (error) => resolve({ code: null, signal: error.message }));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  results.push({ command, ok: code === 0, outcome: code === 0 ? `${seconds} s` : `exit ${code ?? signal}, ${seconds} s` });
}

console.log('');
for (const { command, ok, outcome } of results) console.log(`${ok ? 'ok  ' : 'FAIL'}  ${command} (${outcome})`);
const failed = results.filter(({ ok }) => !ok).length;
console.log(`parts: ${results.length - failed} passed, ${failed} failed`);
process.exitCode = failed > 0 || isInterrupted ? 1 : 0;
