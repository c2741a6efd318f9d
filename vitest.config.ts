import { defineConfig } from 'vitest/config';

/**
 * Unit files that check what a process does the first time (the OpenAPI document built only when
 * asked for, the warm-ups that must read no clock, a door's lazy app, a door imported with its own
 * environment, configuration errors logged once): each runs in a fresh process of its own, as
 * every file did before. The other unit files share their worker process, one file after another
 * (`isolate: false`): hono, zod's schemas and PGlite's WebAssembly are loaded and compiled once per
 * worker instead of once per file, which was a third of the unit project's CPU time. Their module
 * state (caches keyed by the database or KV a file opens, the OpenAPI document once built) carries
 * from file to file; a new file that checks a first use belongs in this list.
 */
const UNIT_FRESH_PROCESS = [
  'tests/unit/cold-start.test.ts',
  'tests/unit/lazy-app.test.ts',
  'tests/unit/attention-warm.test.ts',
  'tests/unit/validate-warm.test.ts',
  'tests/unit/vercel-size.test.ts',
  'tests/unit/config-secrets.test.ts',
];

/**
 * Separate worlds, as the house style asks: `unit` runs in-process on PGlite + memory KV;
 * `integration` needs real PostgreSQL and Redis (TEST_DATABASE_URL / TEST_REDIS_URL);
 * `edge` runs the worker bundle in workerd through miniflare; `browser` drives Debian's Chromium
 * with playwright-core against the app served on loopback. `--project 'unit*'` runs both unit projects.
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
      { extends: true, test: { name: 'unit', include: ['tests/unit/**/*.test.ts'], exclude: UNIT_FRESH_PROCESS, isolate: false } },
      { extends: true, test: { name: 'unit-fresh-process', include: UNIT_FRESH_PROCESS } },
      { extends: true, test: { name: 'integration', include: ['tests/integration/**/*.test.ts'] } },
      { extends: true, test: { name: 'edge', include: ['tests/edge/**/*.test.ts'] } },
      // A browser test walks several views in Chromium; on a slower 2-core machine, beside another
      // test file, one took 30 s (the hostile-data views on a phone).
      { extends: true, test: { name: 'browser', include: ['tests/browser/**/*.test.ts'], testTimeout: 120_000 } },
    ],
  },
});
