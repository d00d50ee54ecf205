import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Real sockets on loopback and child processes: keep the two cores from oversubscribing.
    maxWorkers: 2,
  },
});
