import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, describeExit, runFixture } from '../helpers/child.js';

// installGracefulShutdown exits with the signal's conventional status, 128 + its number (SIGINT 130, SIGTERM
// 143). With no other listener for the signal it re-raises it (the existing tests accept either outcome); with
// another listener present it must call process.exit with exactly that status, which these tests pin down.

beforeAll(() => assertBuilt(['dist/node/index.js']));

describe('the exit status when the application also listens for the signal', () => {
  for (const [signal, status] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`${signal}: exits with status ${status}, after the application's own listener ran`, async () => {
      const child = runFixture('exit-status-with-listener.mjs', {});
      await child.waitFor(/ready/);
      child.process.kill(signal);
      const exit = await child.exited;
      await child.drained;
      expect(describeExit(exit)).toBe(`code ${status}`);
      expect(child.stdout()).toContain(`app saw ${signal}`);
    });
  }
});
