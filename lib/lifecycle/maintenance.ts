import type { Deps } from '../deps.js';
import type { SessionCtx } from '../sessions/context.js';
import type { SweepResult } from '../sessions/sweep.js';
import { sweepWithFollowUp } from './follow-up.js';
import type { Sql } from '../storage/sql.js';

/**
 * Take the lease on `job` if it last started at least `everyMs` before `now`. True for exactly one
 * caller among any number of concurrent ones, across instances: the conflicting upsert locks the
 * row, and a second caller re-checks the WHERE against the first caller's new time and gets no row.
 */
export async function claimRun(sql: Sql, job: string, now: Date, everyMs: number): Promise<boolean> {
  const rows = await sql.query(
    `INSERT INTO maintenance_runs (job, last_run_at) VALUES ($1, $2::timestamptz)
     ON CONFLICT (job) DO UPDATE SET last_run_at = EXCLUDED.last_run_at
     WHERE maintenance_runs.last_run_at <= EXCLUDED.last_run_at - $3::int * interval '1 millisecond'
     RETURNING job`,
    [job, now.toISOString(), everyMs],
  );
  return rows.length === 1;
}

/**
 * The sweep ordinary traffic runs (so no frequent cron is needed): at most once per
 * `config.trafficSweepMs` across the whole deployment. Null when another request holds the lease.
 */
export async function sweepIfDue(deps: Deps): Promise<SweepResult | null> {
  if (!(await claimRun(deps.sql, 'sweep', deps.now(), deps.config.trafficSweepMs))) return null;
  const ctx: SessionCtx = { sql: deps.sql, kv: deps.kv, timeoutMs: deps.config.sessionTimeoutMs, now: deps.now, log: deps.log };
  const { result, followUp } = await sweepWithFollowUp(deps, ctx);
  await followUp;
  if (result.ended_ids.length) deps.log.info('traffic sweep', { ended: result.ended, abandoned: result.abandoned, more: result.more });
  return result;
}
