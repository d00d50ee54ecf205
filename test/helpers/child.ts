import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cleanup } from './teardown.js';

/** How a child process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** performance.now() when the process exited. */
  at: number;
}

/** A Node child process whose output is collected as it arrives. */
export interface Child {
  readonly process: ChildProcess;
  readonly exited: Promise<Exit>;
  /** Resolves once stdout and stderr are fully read. */
  readonly drained: Promise<void>;
  stdout(): string;
  stderr(): string;
  /**
   * Resolves with the first match of `pattern` in stdout; rejects if the output ends without one or after
   * `timeoutMs`.
   */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

/** The absolute path of `test/fixtures/<name>`. */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}

/**
 * Throws unless every file exists; `files` are relative to the repository root (`dist/index.js`). The fixtures
 * run the built package.
 */
export function assertBuilt(files: readonly string[]): void {
  for (const file of files) {
    if (!existsSync(fileURLToPath(new URL(`../../${file}`, import.meta.url)))) throw new Error(`${file} is missing: run \`npm run build\` before these tests.`);
  }
}

/**
 * Runs `node [...nodeArgs] script [...args]` for the current test; if it is still running once the test has
 * finished, it is killed (SIGKILL) and awaited.
 */
export function spawnNode(script: string, args: readonly string[], nodeArgs: readonly string[] = []): Child {
  const name = script.split(/[\\/]/).at(-1)!;
  const proc = spawn(process.execPath, [...nodeArgs, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let isDrained = false;
  const watchers = new Set<() => void>();
  const notify = () => {
    for (const watcher of [...watchers]) watcher();
  };
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    notify();
  });
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<Exit>((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() }));
    // A process that could not be started never emits 'exit': it ends here, its error on stderr.
    proc.on('error', (error) => {
      err += `${error.message}\n`;
      if (proc.pid === undefined) resolve({ code: null, signal: null, at: performance.now() });
    });
  });
  const drained = new Promise<void>((resolve) => proc.once('close', () => resolve()));
  // Output can still arrive after 'exit': a pattern is only given up on once both pipes are closed.
  void drained.then(() => {
    isDrained = true;
    notify();
  });
  const child: Child = {
    process: proc,
    exited,
    drained,
    stdout: () => out,
    stderr: () => err,
    waitFor: (pattern, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const stop = () => {
          clearTimeout(timer);
          watchers.delete(check);
        };
        const check = () => {
          const match = pattern.exec(out);
          if (match) {
            stop();
            resolve(match);
          } else if (isDrained) {
            stop();
            reject(new Error(`${name} exited (${proc.exitCode ?? proc.signalCode}) before printing ${pattern}\nstdout: ${out}\nstderr: ${err}`));
          }
        };
        const timer = setTimeout(() => {
          stop();
          reject(new Error(`${name} did not print ${pattern} within ${timeoutMs} ms\nstdout: ${out}\nstderr: ${err}`));
        }, timeoutMs);
        watchers.add(check);
        check();
      }),
  };
  cleanup(async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
  });
  return child;
}

/** Runs `test/fixtures/<name>` with `args` as one JSON argument (see `spawnNode`). */
export function runFixture(name: string, args: unknown, nodeArgs: readonly string[] = []): Child {
  return spawnNode(fixturePath(name), [JSON.stringify(args)], nodeArgs);
}

/** `signal SIGINT` or `code 0`, for one readable assertion on how a process ended. */
export const describeExit = (exit: Exit): string => (exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`);

/** Resolves with the exit, or with 'still running' if the process is alive after `ms`. */
export function exitWithin(child: Child, ms: number): Promise<Exit | 'still running'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    child.exited.finally(() => clearTimeout(timer)),
    new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), ms))),
  ]);
}
