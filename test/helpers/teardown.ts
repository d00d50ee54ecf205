import { onTestFinished } from 'vitest';

/**
 * Registers `fn` to run once the current test has finished (passed or failed). Errors thrown or rejected by
 * `fn` are swallowed: teardown must never turn a passing test red or hide the real failure of a failing one.
 * Must be called while a test is running (inside `it(...)`, or a helper called from one).
 */
export function cleanup(fn: () => unknown | Promise<unknown>): void {
  onTestFinished(async () => {
    try {
      await fn();
    } catch {
      // Teardown is best-effort by design.
    }
  });
}
