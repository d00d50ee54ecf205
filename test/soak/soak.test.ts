import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, describeExit, spawnNode } from '../helpers/child.js';

// The short version of `npm run soak`: bench/soak.mjs runs the built package in a child process (with
// --expose-gc, so it measures heap after forced GC) and prints one JSON report.
const SOAK = fileURLToPath(new URL('../../bench/soak.mjs', import.meta.url));
const COUNTS = { openClose: 500, timeouts: 300, dispose: 100, warmup: 100 };
/** The script fails itself past this, with its report, before the test's own timeout. */
const TIME_LIMIT_S = 35;

type Counts = Record<string, number>;

/** The parts of the script's JSON report this test reads. */
interface SoakReport {
  ok: boolean;
  reason?: string;
  failures: string[];
  phases: Array<{ name: string; requested: number; completed: number; failed: number; causes: Counts; errors: Counts; kinds: Counts }>;
  snapshots: Array<{ label: string; heapUsed: number; resources: Counts; server: { echo: Counts; stall: Counts } }>;
  checks: {
    heap: { ok: boolean; baseline: number; end: number; growth: number; limitBytes: number };
    resources: { ok: boolean; reference: Counts; end: Counts; excess: Record<string, [number, number]> };
    serverClients: { ok: boolean; echo: number; echoWs: number; stall: number };
    alive: { ok: boolean; sockets: number; inner: number; created: number };
    cycles: { ok: boolean; failureCount: number };
  };
}

beforeAll(() => assertBuilt(['dist/index.js']));

describe('leak soak, short version (bench/soak.mjs --json)', () => {
  it('returns to its baseline after open/close, connect-timeout and dispose() cycles', async () => {
    const args = [
      ['--open-close', COUNTS.openClose],
      ['--timeouts', COUNTS.timeouts],
      ['--dispose', COUNTS.dispose],
      ['--warmup', COUNTS.warmup],
      ['--time-limit-s', TIME_LIMIT_S],
    ].flatMap(([flag, value]) => [String(flag), String(value)]);
    const child = spawnNode(SOAK, [...args, '--json'], ['--expose-gc']);
    const exit = await child.exited;
    await child.drained;

    const output = `stdout: ${child.stdout()}\nstderr: ${child.stderr()}`;
    let report: SoakReport;
    try {
      report = JSON.parse(child.stdout()) as SoakReport;
    } catch {
      throw new Error(`soak.mjs did not print one JSON report (${describeExit(exit)})\n${output}`);
    }
    expect(child.stderr()).not.toMatch(/error|unhandled|uncaught/i);
    expect(report.failures).toEqual([]);

    // Every cycle ran and ended the way its phase says.
    const phase = (name: string) => report.phases.find((p) => p.name === name)!;
    expect(report.phases.map((p) => [p.name, p.completed, p.failed])).toEqual(report.phases.map((p) => [p.name, p.requested, 0]));
    expect(phase('open/close')).toMatchObject({ completed: COUNTS.openClose, causes: { client: COUNTS.openClose }, errors: {} });
    expect(phase('timeouts')).toMatchObject({
      completed: COUNTS.timeouts,
      causes: { 'connect-timeout': COUNTS.timeouts },
      errors: { CONNECT_TIMEOUT: COUNTS.timeouts },
    });
    expect(phase('dispose')).toMatchObject({ completed: COUNTS.dispose, causes: { dispose: COUNTS.dispose }, errors: {} });
    expect(Object.values(phase('dispose').kinds)).toHaveLength(3);

    // The servers really saw the connections, and none is left.
    const end = report.snapshots.at(-1)!;
    expect(end.label).toBe('end');
    expect(end.server.echo.accepted).toBeGreaterThanOrEqual(COUNTS.openClose + COUNTS.warmup);
    expect(end.server.stall.accepted).toBeGreaterThanOrEqual(COUNTS.timeouts);
    expect(report.checks.serverClients).toMatchObject({ echo: 0, echoWs: 0, stall: 0 });

    // Back to the baseline: heap within the threshold, no extra timer or handle, no socket still reachable.
    const { heap, resources, alive } = report.checks;
    expect(heap.growth).toBeLessThanOrEqual(heap.limitBytes);
    expect(resources.excess).toEqual({});
    for (const [type, count] of Object.entries(resources.end)) expect({ type, count }).toEqual({ type, count: Math.min(count, resources.reference[type] ?? 0) });
    expect(alive).toMatchObject({ sockets: 0, inner: 0 });
    expect(alive.created).toBeGreaterThanOrEqual(COUNTS.openClose + COUNTS.timeouts + COUNTS.dispose);

    expect(report.ok, output).toBe(true);
    expect(describeExit(exit)).toBe('code 0');
  }, (TIME_LIMIT_S + 10) * 1000);
});
