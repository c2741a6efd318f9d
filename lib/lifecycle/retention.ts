import type { Sql } from '../storage/sql.js';

export interface RetentionResult {
  cutoff: string;
  events_deleted: number;
  sessions_deleted: number;
  analyses_deleted: number;
  calls_deleted: number;
  /** Old rows remain: call again (the next run continues where this one stopped). */
  more: boolean;
}

/**
 * Delete what is older than the retention window, oldest first, in bounded batches so one call
 * never holds long locks or outlives a serverless time limit. Resumable by construction: a run
 * deletes whatever is still older than the cutoff, so an interrupted run loses no progress.
 * Sessions go once ended (or idle) before the cutoff, with their analyses and call links; events
 * go by their own time, so a long-lived session keeps its recent events.
 */
export async function applyRetention(sql: Sql, now: Date, days: number, opts: { batch?: number; maxBatches?: number } = {}): Promise<RetentionResult> {
  const batch = opts.batch ?? 5000;
  const maxBatches = opts.maxBatches ?? 20;
  const cutoff = new Date(now.getTime() - days * 86_400_000);
  const out: RetentionResult = { cutoff: cutoff.toISOString(), events_deleted: 0, sessions_deleted: 0, analyses_deleted: 0, calls_deleted: 0, more: false };
  for (let i = 0; i < maxBatches; i++) {
    const [r] = await sql.query<{ events: number; sessions: number; analyses: number; calls: number }>(
      `WITH old_sessions AS (
         SELECT id FROM sessions
         WHERE COALESCE(ended_at, last_activity_at) < $1::timestamptz
           AND (ended_at IS NOT NULL OR status IN ('completed', 'abandoned') OR last_activity_at < $1::timestamptz)
         ORDER BY last_activity_at LIMIT $2
       ),
       a AS (DELETE FROM analyses WHERE session_id IN (SELECT id FROM old_sessions) RETURNING 1),
       c AS (DELETE FROM calls WHERE session_id IN (SELECT id FROM old_sessions) RETURNING 1),
       s AS (DELETE FROM sessions WHERE id IN (SELECT id FROM old_sessions) RETURNING 1),
       -- Alerts (and long-expired cooldowns) age out with the events they were about; data-modifying
       -- CTEs run whether or not the final SELECT reads them.
       al AS (DELETE FROM alerts WHERE id IN (SELECT id FROM alerts WHERE created_at < $1::timestamptz ORDER BY created_at LIMIT $2) RETURNING 1),
       ac AS (DELETE FROM alert_cooldowns WHERE until < $1::timestamptz RETURNING 1),
       e AS (
         DELETE FROM events WHERE id IN (SELECT id FROM events WHERE created_at < $1::timestamptz ORDER BY created_at LIMIT $2)
         RETURNING 1
       )
       SELECT (SELECT count(*)::int FROM e) AS events, (SELECT count(*)::int FROM s) AS sessions,
              (SELECT count(*)::int FROM a) AS analyses, (SELECT count(*)::int FROM c) AS calls`,
      [cutoff.toISOString(), batch],
    );
    if (!r) break;
    out.events_deleted += r.events;
    out.sessions_deleted += r.sessions;
    out.analyses_deleted += r.analyses;
    out.calls_deleted += r.calls;
    if (r.events < batch && r.sessions < batch) return out;
  }
  out.more = true;
  return out;
}
