import type { SessionCtx } from './context.js';
import { ACTIVE_SET } from './context.js';
import { releaseKv } from './explicit.js';

export interface SweepResult {
  ended: number;
  abandoned: number;
  /** More idle sessions remain than one run handles; the next run continues. */
  more: boolean;
  ended_ids: string[];
}

/**
 * Mark idle sessions over (a paused session is never idle: it waits for resume or end) in Postgres (completed, or abandoned if still waiting; ended at their
 * last activity), emit their `session_ended` events, and clear their KV state. At most `limit`
 * per run; SKIP LOCKED lets overlapping runs share the work. A second run finds nothing to do.
 */
export async function sweep(ctx: SessionCtx, limit = 500): Promise<SweepResult> {
  const now = ctx.now();
  const rows = await ctx.sql.query<{ id: string; student_id: string | null; status: string; total: number }>(
    `WITH due AS (
       SELECT id FROM sessions
       WHERE status IN ('waiting', 'active') AND ended_at IS NULL AND paused_at IS NULL
         AND last_activity_at < $1::timestamptz - $2::int * interval '1 millisecond'
       ORDER BY last_activity_at
       LIMIT $3
       FOR UPDATE SKIP LOCKED
     ),
     upd AS (
       UPDATE sessions s SET
         status = CASE WHEN s.status = 'waiting' THEN 'abandoned' ELSE 'completed' END,
         ended_at = s.last_activity_at, end_reason = 'timeout', updated_at = now()
       FROM due WHERE s.id = due.id
       RETURNING s.id, s.student_id, s.status, s.ended_at
     ),
     -- The event names the session's student only while that student exists: one session left
     -- pointing at a deleted student must not fail the events foreign key for every session of
     -- the run, which would end none of them, this time or any other.
     ev AS (
       INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, created_at)
       SELECT gen_random_uuid(), id, (SELECT st.id FROM students st WHERE st.id = upd.student_id),
              'session_ended', jsonb_build_object('reason', 'timeout', 'status', status), ended_at FROM upd
     )
     SELECT id, student_id, status, (SELECT count(*)::int FROM due) AS total FROM upd`,
    [now.toISOString(), ctx.timeoutMs, limit],
  );
  await Promise.all(rows.map((r) => releaseKv(ctx, r)));
  // Scores older than the timeout in the active set belong to sittings that are over.
  const stale = await ctx.kv.zrangeByScore(ACTIVE_SET, 0, now.getTime() - ctx.timeoutMs, 1000).catch(() => []);
  if (stale.length) await ctx.kv.zrem(ACTIVE_SET, ...stale.map((m) => m.member)).catch(() => 0);
  return {
    ended: rows.filter((r) => r.status === 'completed').length,
    abandoned: rows.filter((r) => r.status === 'abandoned').length,
    more: rows.length >= limit,
    ended_ids: rows.map((r) => r.id),
  };
}
