/**
 * Scheduled maintenance for platforms that call a handler on a timer instead of an HTTP route
 * (Cloudflare Workers' cron triggers call `scheduled`). It runs the same domain operations as the
 * /api/cron/* routes (lib/routes/cron.ts), awaited to the end: a scheduled invocation has no
 * response to return early, and the platform keeps it alive only for the promise it is given.
 */
import type { Deps } from './deps.js';
import { evaluateCohort } from './alerts/evaluate.js';
import { applyRetention, type RetentionResult } from './lifecycle/retention.js';
import { sweepWithFollowUp } from './lifecycle/follow-up.js';
import { sessionCtx } from './routes/sessions/shared.js';
import type { SweepResult } from './sessions/sweep.js';

/**
 * The cron expressions wrangler.jsonc schedules (tests/unit/wrangler-config.test.ts keeps the two
 * equal). The sweep ends idle sessions every 5 minutes; retention runs daily at a quiet hour; the
 * alerts' cohort pass (stuck students, due delivery retries) runs every minute, which there takes
 * it off posted events (ALERT_PASS_ON_INGEST defaults to false on Cloudflare) and also finds a
 * student stuck in a room where nobody posts.
 */
export const SCHEDULES = { sweep: '*/5 * * * *', retention: '17 3 * * *', alerts: '* * * * *' } as const;

export type ScheduledOutcome =
  | { job: 'sweep'; result: SweepResult }
  | { job: 'retention'; result: RetentionResult }
  | { job: 'alerts'; result: { raised: number } };

/** Run the job scheduled as `cron`. An expression this app does not know is an error, not a no-op. */
export async function runScheduled(cron: string, deps: Deps): Promise<ScheduledOutcome> {
  if (cron === SCHEDULES.retention) {
    const result = await applyRetention(deps.sql, deps.now(), deps.config.retentionDays);
    deps.log.info('scheduled retention', { ...result });
    return { job: 'retention', result };
  }
  if (cron === SCHEDULES.alerts) {
    // One pass a minute (a KV marker, per deployment with Upstash): the sweep's follow-up, which
    // runs one too, skips it when this ran first in the same minute, and the other way round; the
    // alerts' cooldown keeps a pass run twice from alerting twice.
    const raised = await evaluateCohort(deps);
    if (raised.length) deps.log.info('scheduled alerts', { raised: raised.length });
    return { job: 'alerts', result: { raised: raised.length } };
  }
  if (cron === SCHEDULES.sweep) {
    // The sweep route's work, its follow-up awaited: the platform keeps only this promise alive.
    const { result, followUp } = await sweepWithFollowUp(deps, sessionCtx(deps));
    await followUp;
    deps.log.info('scheduled sweep', { ended: result.ended_ids.length });
    return { job: 'sweep', result };
  }
  throw new Error(`no job is scheduled as "${cron}" (known: ${Object.values(SCHEDULES).join(', ')})`);
}
