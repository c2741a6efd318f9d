import type { SessionCtx } from './context.js';
import { ended, notFound } from './errors.js';
import type { SessionRow } from './rows.js';

/**
 * Pause and resume. A paused session is an open session (stored status 'active' or 'waiting',
 * no ended_at) with paused_at set: reads show it as `paused`, the inactivity timeout skips it (the
 * sweep, effective status, endSession) and its pauses do not count in its duration
 * (duration.ts). Activity arriving for it — an interaction, a transcript entry, a phase or summary
 * change, a join — resumes it implicitly at the activity's time: the student is evidently back,
 * and leaving the session paused would hide that activity from the duration. Activity older than
 * the pause (a late, out-of-order delivery) does not resume it.
 */

/** Milliseconds from the current pause to `t` (a SQL timestamptz expression), for column prefix `q`. */
export const pauseLength = (t: string, q: string) => `GREATEST(0, floor(extract(epoch FROM (${t} - ${q}paused_at)) * 1000))::bigint`;

/**
 * SET-clause assignments that end a pause at time `t` when the session is paused and `t` is not
 * earlier than the pause; otherwise they leave the row as it is. `q` prefixes the columns (e.g.
 * `sessions.` in an ON CONFLICT update).
 */
export function resumeOnActivitySet(t: string, q = ''): string {
  const resumes = `${q}paused_at IS NOT NULL AND ${t} >= ${q}paused_at`;
  return `paused_ms = ${q}paused_ms + CASE WHEN ${resumes} THEN ${pauseLength(t, q)} ELSE 0 END,
          paused_at = CASE WHEN ${resumes} THEN NULL ELSE ${q}paused_at END`;
}

/**
 * The `session_resumed` event of an implicit resume. `was` is a CTE read before the update
 * (`SELECT id, paused_at FROM sessions WHERE ... AND paused_at IS NOT NULL`); `upd` the updated rows.
 */
export const implicitResumeEvent = (upd: string, was: string, t: string, by: string) =>
  `SELECT gen_random_uuid(), ${upd}.id, ${upd}.student_id, 'session_resumed',
          jsonb_build_object('implicit', true, 'by', '${by}', 'paused_ms', ${pauseLength(t, `${was}.`)}), ${t}
   FROM ${upd} JOIN ${was} ON ${was}.id = ${upd}.id WHERE ${t} >= ${was}.paused_at`;

/** SQL: a session with columns under prefix `q` is open and paused. */
export const PAUSED = (q = '') => `(${q}paused_at IS NOT NULL AND ${q}ended_at IS NULL AND ${q}status IN ('waiting', 'active'))`;

export interface PauseResult {
  row: SessionRow;
  /** False when the call found the session already in the requested state (idempotent repeat). */
  changed: boolean;
}

/**
 * POST /api/sessions/{id}/pause. Only an open session pauses (one idle past the timeout is over,
 * even before the sweep marks it). The pause counts as activity: last_activity_at moves to now.
 */
export async function pauseSession(ctx: SessionCtx, id: string): Promise<PauseResult> {
  const now = ctx.now().toISOString();
  const rows = await ctx.sql.query<SessionRow>(
    `WITH upd AS (
       UPDATE sessions SET paused_at = $2::timestamptz, last_activity_at = GREATEST(last_activity_at, $2::timestamptz), updated_at = now()
       WHERE id = $1 AND ended_at IS NULL AND status IN ('waiting', 'active') AND paused_at IS NULL
         AND last_activity_at >= $2::timestamptz - $3::int * interval '1 millisecond'
       RETURNING *
     ),
     ev AS (
       INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, created_at)
       SELECT $4::uuid, id, student_id, 'session_paused', jsonb_build_object('status', status), $2::timestamptz FROM upd
     )
     SELECT * FROM upd`,
    [id, now, ctx.timeoutMs, crypto.randomUUID()],
  );
  if (rows[0]) return { row: rows[0], changed: true };
  return { row: await unchanged(ctx, id), changed: false };
}

/** POST /api/sessions/{id}/resume: the timeout counts again, from now. */
export async function resumeSession(ctx: SessionCtx, id: string): Promise<PauseResult> {
  const now = ctx.now().toISOString();
  const rows = await ctx.sql.query<SessionRow>(
    `WITH was AS (SELECT id, paused_at FROM sessions WHERE id = $1 FOR UPDATE),
     upd AS (
       UPDATE sessions s SET paused_ms = s.paused_ms + ${pauseLength('$2::timestamptz', 's.')}, paused_at = NULL,
         last_activity_at = GREATEST(s.last_activity_at, $2::timestamptz), updated_at = now()
       FROM was WHERE s.id = was.id AND ${PAUSED('s.')}
       RETURNING s.*, was.paused_at AS was_paused_at
     ),
     ev AS (
       INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, created_at)
       SELECT $3::uuid, id, student_id, 'session_resumed',
              jsonb_build_object('implicit', false, 'paused_ms', ${pauseLength('$2::timestamptz', 'was_')}), $2::timestamptz FROM upd
     )
     SELECT * FROM upd`,
    [id, now, crypto.randomUUID()],
  );
  const row = rows[0];
  if (row) {
    delete (row as { was_paused_at?: unknown }).was_paused_at;
    return { row, changed: true };
  }
  return { row: await unchanged(ctx, id), changed: false };
}

/**
 * Why a pause or resume changed nothing: already in that state (the row, for a 200), unknown
 * (404), or over (409) — ended, or idle past the timeout and so over whatever the sweep did yet.
 */
async function unchanged(ctx: SessionCtx, id: string): Promise<SessionRow> {
  const [row] = await ctx.sql.query<SessionRow & { paused_now: boolean; idle: boolean }>(
    `SELECT *, ${PAUSED()} AS paused_now,
       last_activity_at < $2::timestamptz - $3::int * interval '1 millisecond' AS idle
     FROM sessions WHERE id = $1`,
    [id, ctx.now().toISOString(), ctx.timeoutMs],
  );
  if (!row) throw notFound(id);
  const { paused_now, idle, ...session } = row;
  if (paused_now) return session; // pausing a paused session (or a resume raced with a pause)
  if (row.ended_at || !(row.status === 'active' || row.status === 'waiting') || idle) throw ended(id);
  return session; // resuming a session that is not paused (or a pause raced with a resume)
}
