import type { Context } from 'hono';
import { describeError } from '../deps.js';
import { defer } from './defer.js';
import type { AppEnv } from './env.js';

/**
 * Background work with a name (openstatus's `runInBackground(label, work)`): start `work` now,
 * keep it alive past the response through `defer`, and log a failure as "<label> failed" with
 * `fields` and the error's name and message. The response has already gone, so nothing is
 * thrown; the returned promise settles when the work does, so tests can await it.
 */
export function runInBackground(c: Context<AppEnv>, label: string, work: () => Promise<unknown>, fields: Record<string, unknown> = {}): Promise<void> {
  const log = c.get('deps').log;
  // async: a synchronous throw in `work` becomes a logged rejection too.
  const run = (async () => work())().then(
    () => undefined,
    (err: unknown) => log.error(`${label} failed`, { ...fields, error: describeError(err) }),
  );
  return defer(c, run);
}
