import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests start real servers on random ports; two workers match the 2-core machines CI runs on.
    pool: 'forks',
    maxWorkers: 2,
  },
});
