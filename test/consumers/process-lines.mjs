// A child process whose output lines can be awaited: for checks that drive a program by what it prints
// (test/consumers/readme.mjs, test/runtimes/run.mjs).

import { spawn } from 'node:child_process';

/** A child process whose output lines can be awaited. */
export function start(command, args, options) {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  const waiters = new Set();
  let buffered = '';
  const take = (chunk) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop();
    for (const line of parts) {
      lines.push(line);
      for (const waiter of waiters) waiter();
    }
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const exited = new Promise((resolve) => child.on('close', (code, signal) => {
    resolve({ code, signal });
    for (const waiter of waiters) waiter();
  }));
  return {
    child,
    lines,
    exited,
    /** Resolves with the first line from index `from` on that matches; rejects after `timeoutMs` or on exit. */
    waitFor(pattern, { from = 0, timeoutMs = 30_000 } = {}) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const index = lines.findIndex((line, at) => at >= from && pattern.test(line));
          if (index !== -1) return finish(() => resolve({ line: lines[index], index }));
          if (child.exitCode !== null || child.signalCode !== null) {
            finish(() => reject(new Error(`${args.join(' ')} exited before printing ${pattern}; it printed:\n${lines.join('\n')}`)));
          }
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms; ${args.join(' ')} printed:\n${lines.join('\n')}`))), timeoutMs);
        const finish = (settle) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM'); // our own child, by its pid
      await exited;
    },
  };
}

