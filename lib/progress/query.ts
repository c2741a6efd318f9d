import type { SessionCtx } from '../sessions/context.js';
import { ATTEMPTS_LATERAL, type AttemptAggregates } from '../sessions/attempts.js';
import { SUMMARY_COLUMNS, type SummarySource } from '../sessions/rows.js';

/** The most sessions one progress answer reads (the latest ones); `truncated` says when there are more. */
export const MAX_PROGRESS_SESSIONS = 200;

/** A session's columns a progress row reads: not its transcript (rows.ts SUMMARY_COLUMNS). */
const COLUMNS = SUMMARY_COLUMNS.join(', ');

export type ProgressRow = SummarySource &
  AttemptAggregates & {
    n_events: number;
    n_errors: number;
    accessed: string[] | string | null;
    analysis_id: string | null;
    analysis_result: unknown;
  };

export interface StudentHead {
  student: { id: string; name: string | null; email: string | null } | null;
  total: number;
}

/**
 * Everything progress needs in two statements sent together: the student and their session count,
 * and their latest sessions with per-session counts (attempts, errors, events, subjects their tool
 * calls accessed) and the latest completed analysis of each. `before` keeps only sessions that started
 * before a time (what the analysis of a session may look back on); `exclude` drops one session.
 */
export async function loadProgressRows(
  ctx: SessionCtx,
  studentId: string,
  opts: { before?: Date | undefined; exclude?: string | undefined } = {},
): Promise<{ head: StudentHead; rows: ProgressRow[] }> {
  const params = [studentId, opts.before?.toISOString() ?? null, opts.exclude ?? null];
  const scope = `student_id = $1 AND ($2::timestamptz IS NULL OR started_at < $2::timestamptz) AND ($3::text IS NULL OR id <> $3::text)`;
  const [heads, rows] = await Promise.all([
    ctx.sql.query<{ student: StudentHead['student'] | string | null; total: number }>(
      `SELECT (SELECT json_build_object('id', id, 'name', name, 'email', email) FROM students WHERE id = $1) AS student,
              (SELECT count(*)::int FROM sessions WHERE ${scope}) AS total`,
      params,
    ),
    ctx.sql.query<ProgressRow>(
      `SELECT s.*, att.*,
         (SELECT count(*)::int FROM events e WHERE e.session_token = s.id) AS n_events,
         (SELECT count(*)::int FROM events e WHERE e.session_token = s.id AND e.event_type = 'error') AS n_errors,
         (SELECT to_jsonb(COALESCE(array_agg(DISTINCT x), '{}')) FROM events e,
            jsonb_array_elements_text(CASE WHEN jsonb_typeof(e.event_data->'subjects_accessed') = 'array' THEN e.event_data->'subjects_accessed' ELSE '[]'::jsonb END) AS x
          WHERE e.session_token = s.id AND e.event_type = 'interaction') AS accessed,
         an.id AS analysis_id, an.result AS analysis_result
       FROM (SELECT ${COLUMNS} FROM sessions WHERE ${scope} ORDER BY started_at DESC, id DESC LIMIT ${MAX_PROGRESS_SESSIONS}) s
       ${ATTEMPTS_LATERAL}
       LEFT JOIN LATERAL (
         SELECT a.id::text AS id, a.result FROM analyses a
         WHERE a.session_id = s.id AND a.status = 'completed' AND a.result IS NOT NULL
         ORDER BY a.completed_at DESC, a.id DESC LIMIT 1
       ) an ON true
       ORDER BY s.started_at, s.id`,
      params,
    ),
  ]);
  const h = heads[0];
  const student = typeof h?.student === 'string' ? (JSON.parse(h.student) as StudentHead['student']) : (h?.student ?? null);
  return { head: { student, total: h?.total ?? 0 }, rows };
}

/**
 * The id of the student whose email this is (case-insensitive), for a progress request that names a
 * student by the email an instructor knows them by when their id is another (a tool server's
 * `emma_smith`). Asked only when nobody has the text as their id; the oldest student wins a tie.
 */
export async function studentIdByEmail(ctx: SessionCtx, email: string): Promise<string | undefined> {
  const [row] = await ctx.sql.query<{ id: string }>('SELECT id FROM students WHERE lower(email) = lower($1) ORDER BY created_at, id LIMIT 1', [email]);
  return row?.id;
}
