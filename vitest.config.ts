import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

// The chaos matrix runs in its own project so that only its workers get Node's strict unhandled-rejection mode
// (vitest passes `execArgv` per project, not per file): a rejection nobody handles crashes the run there.
const CHAOS = 'test/chaos/**/*.test.ts';

export default defineConfig({
  // The package's conditional modules (package.json "imports"), as Node resolves them: full option checks, ws.
  resolve: {
    alias: {
      '#checks': fileURLToPath(new URL('./src/checks.ts', import.meta.url)),
      '#platform': fileURLToPath(new URL('./src/platform.ts', import.meta.url)),
    },
  },
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Real sockets on loopback and child processes: keep the two cores from oversubscribing.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'main', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, CHAOS] } },
      { extends: true, test: { name: 'chaos', include: [CHAOS], execArgv: ['--unhandled-rejections=strict'] } },
    ],
  },
});
