import type { Context } from 'hono';
import type { AppEnv, Family } from '../http/env.js';
import { runInBackground } from '../http/background.js';
import { register } from '../http/register.js';
import { applyRetention } from '../lifecycle/retention.js';
import { sweepWithFollowUp } from '../lifecycle/follow-up.js';
import { getRetentionRoute, getSweepRoute, postRetentionRoute, postSweepRoute } from './cron.routes.js';
import { ctxOf } from './sessions/shared.js';

/** Maintenance run by Vercel cron (its own Vercel function, api/cron.ts). */
export const cronFamily: Family = (app, deps) => {
  const runSweep = async (c: Context<AppEnv>) => {
    const { result, followUp } = await sweepWithFollowUp(deps, ctxOf(c));
    // Analysis of the sessions this run ended, retries, the cohort's alert pass: after the response.
    runInBackground(c, 'sweep follow-up', () => followUp);
    return c.json(result);
  };
  register(app, getSweepRoute, runSweep);
  register(app, postSweepRoute, runSweep);

  // Daily: delete what is older than RETENTION_DAYS, in bounded batches (call again while `more`).
  const retention = async (c: Context<AppEnv>) => c.json(await applyRetention(deps.sql, deps.now(), deps.config.retentionDays));
  register(app, getRetentionRoute, retention);
  register(app, postRetentionRoute, retention);
};
