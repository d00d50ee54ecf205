import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exitWithin, fixturePath, spawnNode } from '../helpers/child.js';
import { startRefusingServer, startServer, startSilentServer, waitFor } from '../helpers/servers.js';

// Runs the BUILT package (dist/) in a child process: after close(), the process must exit by itself,
// which proves no timer, socket or listener is left keeping the event loop alive. Needs `npm run build`.

const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from the child printing `closing` (it just called close()) to its exit. */
  exitAfterCloseMs: number | undefined;
}

async function runChild(args: string[], killAfterMs: number): Promise<ChildResult> {
  // tsup cleans dist/ first when it rebuilds: if a build is running right now, give it time to finish.
  await waitFor(() => existsSync(dist), 15_000, 'dist/index.js (run `npm run build`)');
  const child = spawnNode(fixturePath('close-exit.mjs'), args);
  // When the child printed `closing`; undefined if it never did.
  const closing = child.waitFor(/closing/, killAfterMs).then(
    () => performance.now(),
    () => undefined,
  );
  if ((await exitWithin(child, killAfterMs)) === 'still running') child.process.kill('SIGKILL');
  const { code, signal, at: exitedAt } = await child.exited;
  await child.drained;
  const closingAt = await closing;
  return { code, signal, stdout: child.stdout(), stderr: child.stderr(), exitAfterCloseMs: closingAt === undefined ? undefined : exitedAt - closingAt };
}

function closedRecord(stdout: string): Record<string, unknown> | undefined {
  const line = stdout.split('\n').find((l) => l.startsWith('closed '));
  return line ? JSON.parse(line.slice('closed '.length)) : undefined;
}

describe('the process exits by itself after close() (built package, child process)', () => {
  it('dist is built', async () => {
    await waitFor(() => existsSync(dist), 15_000, 'dist/index.js (run `npm run build`)');
  });

  it('against a peer that never answers the close frame: exits within closeTimeoutMs + margin', async () => {
    const silent = await startSilentServer();
    const result = await runChild([silent.url, '500'], 15_000);
    expect(result.stderr).toBe('');
    expect(result.signal).toBeNull();
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('closing open');
    expect(closedRecord(result.stdout)).toMatchObject({ cause: 'close-timeout', code: 1006 });
    expect(result.exitAfterCloseMs).toBeDefined();
    expect(result.exitAfterCloseMs!).toBeLessThan(3_000);
    expect(silent.connections).toBe(1);
  });

  it('close() then connect() during the handshake, an error listener that closes: forced down, exits', async () => {
    // Regression: the listener's close() replaced the closing state before the close timeout ran; the socket
    // stayed closing forever with no timer, the TCP connection open, and the process alive.
    const silent = await startSilentServer();
    const result = await runChild([silent.url, '500', 'reentrant'], 15_000);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(closedRecord(result.stdout)).toMatchObject({ cause: 'close-timeout', code: 1006 });
    expect(result.exitAfterCloseMs!).toBeLessThan(3_000);
  });

  it('against a peer that answers: exits promptly after a clean close', async () => {
    const server = await startServer();
    const result = await runChild([server.url, '5000'], 15_000);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(closedRecord(result.stdout)).toMatchObject({ cause: 'client', code: 1000, wasClean: true });
    // Far below the 5 s close timeout: nothing waited for it.
    expect(result.exitAfterCloseMs!).toBeLessThan(3_000);
    expect(server.closeFrames).toEqual([{ code: 1000, reason: '' }]);
  });

  it('while still connecting: exits promptly', async () => {
    const silent = await startSilentServer();
    const result = await runChild([silent.url, '5000', 'now'], 15_000);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('closing connecting');
    expect(result.exitAfterCloseMs!).toBeLessThan(3_000);
  });

  it('while waiting in backoff (a 10 s retry timer is pending): exits promptly', async () => {
    const refusing = await startRefusingServer(503);
    const result = await runChild([refusing.url, '5000', 'backoff'], 15_000);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('closing closed');
    expect(result.exitAfterCloseMs!).toBeLessThan(3_000);
    expect(refusing.attempts).toBe(1);
  });
});
