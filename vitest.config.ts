import { defineConfig } from 'vitest/config';

/**
 * Separate worlds, as the house style asks: `unit` runs in-process on PGlite + memory KV;
 * `integration` needs real PostgreSQL and Redis (TEST_DATABASE_URL / TEST_REDIS_URL);
 * `edge` runs the worker bundle in workerd through miniflare; `browser` drives Debian's Chromium
 * with playwright-core against the app served on loopback.
 */
export default defineConfig({
  test: {
    // PGlite takes seconds and hundreds of MB to start: one per file, two files at a time.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // A folder per run for builds several files share (tests/helpers/shared-build.ts).
    globalSetup: ['tests/global-setup.ts'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['tests/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'integration', include: ['tests/integration/**/*.test.ts'] } },
      { extends: true, test: { name: 'edge', include: ['tests/edge/**/*.test.ts'] } },
      // A browser test walks several views in Chromium; on a slower 2-core machine, beside another
      // test file, one took 30 s (the hostile-data views on a phone).
      { extends: true, test: { name: 'browser', include: ['tests/browser/**/*.test.ts'], testTimeout: 120_000 } },
    ],
  },
});
