import { describe, it } from 'vitest';

/** Real servers for the integration and edge suites. `.ci/run` always sets both. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL;

const noticed = new Set<string>();
function notice(what: string) {
  if (noticed.has(what)) return;
  noticed.add(what);
  // Visible in the vitest output: a skipped real-server suite must never pass silently.
  console.warn(`\n[sessionlog tests] ${what} is not set: SKIPPING the suites that need it. CI sets it (.ci/run).\n`);
}

/** `it` when PostgreSQL is configured, otherwise a skipped test with a visible notice (one test of a unit file). */
export function itWithPostgres(name: string, fn: () => Promise<void>, timeout?: number) {
  if (!TEST_DATABASE_URL) notice('TEST_DATABASE_URL');
  return (TEST_DATABASE_URL ? it : it.skip)(name, fn, timeout);
}

/** `describe` when PostgreSQL is configured, otherwise a skipped block with a visible notice. */
export function describeWithPostgres(name: string, fn: () => void) {
  if (!TEST_DATABASE_URL) notice('TEST_DATABASE_URL');
  return (TEST_DATABASE_URL ? describe : describe.skip)(name, fn);
}

export function describeWithRedis(name: string, fn: () => void) {
  if (!TEST_REDIS_URL) notice('TEST_REDIS_URL');
  return (TEST_REDIS_URL ? describe : describe.skip)(name, fn);
}

export function describeWithBoth(name: string, fn: () => void) {
  if (!TEST_DATABASE_URL) notice('TEST_DATABASE_URL');
  if (!TEST_REDIS_URL) notice('TEST_REDIS_URL');
  return (TEST_DATABASE_URL && TEST_REDIS_URL ? describe : describe.skip)(name, fn);
}
