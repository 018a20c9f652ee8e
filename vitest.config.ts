import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts'],
    testTimeout: 20_000,
    // Test files mostly wait on sockets, timers and child processes, so four run at once
    // on two cores (measured: 3.3 min against 6 with one; six made a timing test flaky).
    maxWorkers: 4,
    hookTimeout: 30_000,
    globalSetup: ['scripts/vitest-scratch.ts'],
  },
});
