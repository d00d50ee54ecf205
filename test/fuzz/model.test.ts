import fc from 'fast-check';
import { describe, it } from 'vitest';
import { FuzzFailure, PROFILES, realNow, runScenario, scenarioArb, type Profile } from './harness.js';

// The bounded model-based fuzz that runs with `npm test`: fixed seeds, so every run explores the same
// scenarios. `npm run fuzz -- --runs N --seed S` runs it longer (see test/fuzz/README.md), through these env vars:
//   FUZZ_RUNS     scenarios per profile            FUZZ_SEED     base seed (profile i uses seed + i)
//   FUZZ_PROFILE  run one profile only             FUZZ_PATH     replay a counter-example (with its seed)
//   FUZZ_SKIP     comma-separated violation ids (or invN) to look past, e.g. "inv3,no-deadline:closing"
//   FUZZ_EXPLORE  1: after a failure, skip its ids and go on, then report every distinct failure found

const env = process.env;
const RUNS = Number(env.FUZZ_RUNS) > 0 ? Number(env.FUZZ_RUNS) : 1000;
const SEED = env.FUZZ_SEED !== undefined && env.FUZZ_SEED !== '' ? Number(env.FUZZ_SEED) : 20_260_101;
const PATH = env.FUZZ_PATH || undefined;
const SKIP = (env.FUZZ_SKIP ?? '').split(',').map((id) => id.trim()).filter(Boolean);
const EXPLORE = env.FUZZ_EXPLORE === '1';
/** Wall-clock time spent shrinking a counter-example before settling for the smallest one found so far. */
const SHRINK_BUDGET_MS = Number(env.FUZZ_SHRINK_MS) > 0 ? Number(env.FUZZ_SHRINK_MS) : 2000;

/** One fast-check run of a profile; returns the failure report, or undefined when every run held. */
async function fuzz(profile: Profile, seed: number, skip: ReadonlySet<string>): Promise<{ report: string; ids: string[] } | undefined> {
  let failedAt: number | undefined;
  const property = fc.asyncProperty(scenarioArb(profile), async (scenario) => {
    // Past the budget every candidate passes, so shrinking stops with the smallest failure found.
    if (failedAt !== undefined && realNow() - failedAt > SHRINK_BUDGET_MS) return;
    try {
      await runScenario(scenario, skip);
    } catch (error) {
      failedAt ??= realNow();
      throw error;
    }
  });
  const details = await fc.check(property, { seed, numRuns: RUNS, ...(PATH && { path: PATH }) });
  if (!details.failed) return undefined;
  const error = details.errorInstance;
  const skipArg = skip.size > 0 ? ` --skip ${[...skip].join(',')}` : '';
  const replay = `replay: npm run fuzz -- --seed ${SEED} --profile ${profile.name}${skipArg} --path ${details.counterexamplePath}`;
  const cause = error instanceof Error ? (error instanceof FuzzFailure ? error.message : error.stack ?? error.message) : String(error);
  return {
    report: `profile "${profile.name}", seed ${seed}, failed after ${details.numRuns} runs (${details.numShrinks} shrinks)\n${replay}\n\n${cause}`,
    ids: error instanceof FuzzFailure ? error.violations.map((v) => v.id) : [],
  };
}

describe('model-based fuzz of ReconnectingSocket (fake socket, fake timers)', () => {
  PROFILES.forEach((profile, index) => {
    it.runIf(!env.FUZZ_PROFILE || env.FUZZ_PROFILE === profile.name)(
      `profile "${profile.name}": every invariant holds after every step`,
      async () => {
        const skip = new Set(SKIP);
        const reports: string[] = [];
        for (;;) {
          const failure = await fuzz(profile, SEED + index, skip);
          if (!failure) break;
          reports.push(failure.report);
          // A harness error has no violation ids to skip: exploring further would only repeat it.
          if (!EXPLORE || failure.ids.length === 0 || failure.ids.every((id) => skip.has(id))) break;
          for (const id of failure.ids) skip.add(id);
        }
        if (reports.length > 0) throw new Error(`${reports.length} distinct failure(s)\n\n${reports.join('\n\n────────\n\n')}`);
      },
      Math.max(120_000, RUNS * 400),
    );
  });
});
