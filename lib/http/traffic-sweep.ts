import type { MiddlewareHandler } from 'hono';
import type { Deps } from '../deps.js';
import type { AppEnv } from './env.js';
import { describeError } from '../deps.js';
import { defer } from './defer.js';

/**
 * Sessions past their inactivity timeout are ended (and analysed) by ordinary traffic, so a daily
 * cron (all Vercel Hobby allows) is enough. After a response, a request that finds this instance
 * has not tried for `trafficSweepMs` starts one sweep in the background; the Postgres lease in
 * sweepIfDue lets only one instance of the deployment run it. Reads never wait for it: they
 * already show the effective status (ended once idle past the timeout).
 */
export function trafficSweep(deps: Deps): MiddlewareHandler<AppEnv> {
  let nextTry = 0;
  return async (c, next) => {
    await next();
    const every = deps.config.trafficSweepMs;
    if (every <= 0) return;
    const now = deps.now().getTime();
    // The per-instance gate keeps this to one lease query per instance per interval.
    if (now < nextTry) return;
    nextTry = now + every;
    // The sweep's code (lifecycle, analysis, alerts and their schemas) is imported here, in the
    // background, not with the function: a cold start compiles only what its request runs (ADR 0020).
    defer(
      c,
      import('../lifecycle/maintenance.js').then(({ sweepIfDue }) => sweepIfDue(deps)).catch((err: unknown) => {
        nextTry = 0; // the database was unreachable: let the next request try again
        deps.log.warn('traffic sweep failed', { error: describeError(err) });
      }),
    );
  };
}
