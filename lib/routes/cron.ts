import type { Context } from 'hono';
import type { AppEnv, Family } from '../http/env.js';
import { evaluateCohort } from '../alerts/evaluate.js';
import { retryFailed } from '../analysis/run.js';
import { runInBackground } from '../http/background.js';
import { register } from '../http/register.js';
import { applyRetention } from '../lifecycle/retention.js';
import { sweep } from '../sessions/sweep.js';
import { onSessionComplete } from './session-complete.js';
import { getRetentionRoute, getSweepRoute, postRetentionRoute, postSweepRoute } from './cron.routes.js';
import { ctxOf } from './sessions/shared.js';

/** Maintenance run by Vercel cron (its own Vercel function, api/cron.ts). */
export const cronFamily: Family = (app, deps) => {
  const runSweep = async (c: Context<AppEnv>) => {
    const ctx = ctxOf(c);
    const result = await sweep(ctx);
    // Analysis of the sessions this run ended, and retries of failed analyses, after the response.
    for (const id of result.ended_ids) runInBackground(c, 'sweep analysis', () => onSessionComplete(deps, id), { sessionId: id });
    runInBackground(c, 'sweep analysis', () => retryFailed(ctx, deps.config.analysis));
    runInBackground(c, 'sweep alerts', () => evaluateCohort(deps)); // stuck students, and alert webhooks that failed before
    return c.json(result);
  };
  register(app, getSweepRoute, runSweep);
  register(app, postSweepRoute, runSweep);

  // Daily: delete what is older than RETENTION_DAYS, in bounded batches (call again while `more`).
  const retention = async (c: Context<AppEnv>) => c.json(await applyRetention(deps.sql, deps.now(), deps.config.retentionDays));
  register(app, getRetentionRoute, retention);
  register(app, postRetentionRoute, retention);
};
