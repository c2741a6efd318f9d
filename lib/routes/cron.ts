import type { Context } from 'hono';
import type { AppEnv, Family } from '../http/env.js';
import { evaluateCohort } from '../alerts/evaluate.js';
import { retryFailed } from '../analysis/run.js';
import { describeError } from '../deps.js';
import { defer } from '../http/defer.js';
import { register } from '../http/register.js';
import { applyRetention } from '../lifecycle/retention.js';
import { sweep } from '../sessions/sweep.js';
import { onSessionComplete } from './analysis.js';
import { getRetentionRoute, getSweepRoute, postRetentionRoute, postSweepRoute } from './cron.routes.js';
import { ctxOf } from './sessions/shared.js';

/** Maintenance run by Vercel cron (its own Vercel function, api/cron.ts). */
export const cronFamily: Family = (app, deps) => {
  const runSweep = async (c: Context<AppEnv>) => {
    const ctx = ctxOf(c);
    const result = await sweep(ctx);
    // Analysis of the sessions this run ended, and retries of failed analyses, after the response.
    const work = Promise.allSettled([
      ...result.ended_ids.map((id) => onSessionComplete(deps, id)),
      retryFailed(ctx, deps.config.analysis),
      evaluateCohort(deps), // stuck students, and alert webhooks that failed before
    ]).then((outcomes) => {
      for (const o of outcomes) if (o.status === 'rejected') deps.log.error('sweep analysis failed', { error: describeError(o.reason) });
    });
    defer(c, work);
    return c.json(result);
  };
  register(app, getSweepRoute, runSweep);
  register(app, postSweepRoute, runSweep);

  // Daily: delete what is older than RETENTION_DAYS, in bounded batches (call again while `more`).
  const retention = async (c: Context<AppEnv>) => c.json(await applyRetention(deps.sql, deps.now(), deps.config.retentionDays));
  register(app, getRetentionRoute, retention);
  register(app, postRetentionRoute, retention);
};
