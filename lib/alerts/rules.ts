import { computeAttention } from '../attention/compute.js';
import type { AlertsConfig } from '../config.js';
import type { Sql } from '../storage/sql.js';
import type { AlertDraft } from './types.js';

/*
 * The rules. Each reads only what it needs through an index: the tokens of the request (events by
 * session and time), the error types of the request (events by type and time), or one session.
 * The stuck rule needs the whole cohort and runs at most once a minute (lib/alerts/evaluate.ts).
 */

interface Who {
  student_id: string | null;
  student_name: string | null;
  student_email: string | null;
}
const who = (w: Who, token: string | null) => w.student_name ?? w.student_email ?? w.student_id ?? (token ? `session ${token}` : 'a student');
const studentKey = (studentId: string | null, token: string) => studentId ?? `token:${token}`;
const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`;
const clip = (s: string, max = 300) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** The same error (type + message) `count` times within the window, per student, for these tokens. */
export async function repeatedErrors(sql: Sql, tokens: readonly string[], now: Date, rule: AlertsConfig['repeatedError']): Promise<AlertDraft[]> {
  if (!rule.enabled || tokens.length === 0) return [];
  const rows = await sql.query<Who & { token: string; error_type: string; message: string | null; n: number; first_at: string; last_at: string }>(
    `SELECT r.*, s.name AS student_name, s.email AS student_email FROM (
       SELECT e.session_token AS token,
              (array_agg(e.student_id ORDER BY e.created_at DESC, e.id DESC) FILTER (WHERE e.student_id IS NOT NULL))[1] AS student_id,
              COALESCE(NULLIF(left(e.event_data->>'errorType', 200), ''), '(unspecified)') AS error_type,
              left(e.event_data->>'errorMessage', 500) AS message, count(*)::int AS n, min(e.created_at) AS first_at, max(e.created_at) AS last_at
       FROM events e
       WHERE e.session_token = ANY ($1::text[]) AND e.event_type = 'error'
         AND e.created_at > $2::timestamptz - $3::int * interval '1 millisecond' AND e.created_at <= $2::timestamptz
       GROUP BY 1, 3, 4 HAVING count(*) >= $4::int
     ) r LEFT JOIN students s ON s.id = r.student_id
     ORDER BY r.n DESC, r.last_at DESC`,
    [tokens, now.toISOString(), rule.windowMs, rule.count],
  );
  return rows.map((r) => ({
    rule: 'repeated_error',
    key: studentKey(r.student_id, r.token),
    studentId: r.student_id,
    sessionId: r.token,
    title: `${who(r, r.token)} hit the same error ${r.n}× in ${minutes(rule.windowMs)}`,
    detail: clip(`${r.error_type}${r.message ? `: ${r.message}` : ''}`),
    data: { error_type: r.error_type, message: r.message, count: r.n, first_at: new Date(r.first_at).toISOString(), last_at: new Date(r.last_at).toISOString() },
  }));
}

/** At least `students` different students hit one of these error types within the window. */
export async function errorSpikes(sql: Sql, errorTypes: readonly string[], now: Date, rule: AlertsConfig['errorSpike']): Promise<AlertDraft[]> {
  if (!rule.enabled || errorTypes.length === 0) return [];
  const rows = await sql.query<{ error_type: string; students: number; n: number; message: string | null }>(
    `SELECT COALESCE(NULLIF(left(event_data->>'errorType', 200), ''), '(unspecified)') AS error_type,
            count(DISTINCT COALESCE(student_id, 'token:' || session_token))::int AS students, count(*)::int AS n,
            mode() WITHIN GROUP (ORDER BY left(event_data->>'errorMessage', 500)) AS message
     FROM events
     WHERE event_type = 'error' AND created_at > $2::timestamptz - $3::int * interval '1 millisecond' AND created_at <= $2::timestamptz
       AND COALESCE(NULLIF(left(event_data->>'errorType', 200), ''), '(unspecified)') = ANY ($1::text[])
     GROUP BY 1 HAVING count(DISTINCT COALESCE(student_id, 'token:' || session_token)) >= $4::int`,
    [errorTypes, now.toISOString(), rule.windowMs, rule.students],
  );
  return rows.map((r) => ({
    rule: 'error_spike',
    key: r.error_type,
    studentId: null,
    sessionId: null,
    title: `${r.students} students hit ${r.error_type} in the last ${minutes(rule.windowMs)}`,
    detail: clip(`A broken step rather than a broken student? ${r.n} errors${r.message ? `; most often: ${r.message}` : ''}`),
    data: { error_type: r.error_type, students: r.students, count: r.n, message: r.message },
  }));
}

/** Students on one step far longer than the cohort took (the attention query's stuck reason). */
export async function stuckStudents(sql: Sql, now: Date, timeoutMs: number, rule: AlertsConfig['stuck']): Promise<AlertDraft[]> {
  if (!rule.enabled) return [];
  const a = await computeAttention({ sql, now, timeoutMs, options: { stuckMultiplier: rule.multiplier, stuckMinMs: rule.minMs } });
  return a.students.flatMap((s) => {
    if (!s.stuck) return [];
    const reason = s.reasons.find((r) => r.code === 'stuck');
    return [
      {
        rule: 'stuck' as const,
        key: studentKey(s.student_id, s.session_id),
        studentId: s.student_id,
        sessionId: s.session_id,
        title: `${who(s, s.session_id)} is stuck on step ${s.stuck.step}${s.step_name ? ` (${clip(s.step_name, 80)})` : ''}`,
        detail: reason?.message ?? '',
        data: { step: s.stuck.step, step_name: s.step_name, seconds: s.stuck.seconds, median_seconds: s.stuck.medianSeconds },
      },
    ];
  });
}

/** A voice call whose session ended with an error `endedReason` (from the end-of-call report). */
export async function callError(sql: Sql, sessionId: string, rule: AlertsConfig['callError']): Promise<AlertDraft[]> {
  if (!rule.enabled) return [];
  const [s] = await sql.query<Who & { ended_reason: string | null; platform: string }>(
    `SELECT s.platform, s.student_id, st.name AS student_name, st.email AS student_email,
            COALESCE(s.platform_metadata->>'ended_reason', s.platform_metadata->>'endedReason') AS ended_reason
     FROM sessions s LEFT JOIN students st ON st.id = s.student_id WHERE s.id = $1`,
    [sessionId],
  );
  const reason = s?.ended_reason?.toLowerCase();
  if (!s || !reason || !rule.endedReasons.some((f) => reason.includes(f))) return [];
  return [
    {
      rule: 'call_error',
      key: s.student_id ?? `session:${sessionId}`,
      studentId: s.student_id,
      sessionId,
      title: `${who(s, sessionId)}'s call ended with an error: ${clip(s.ended_reason ?? '', 120)}`,
      detail: `The ${s.platform} call of session ${sessionId} ended with endedReason "${clip(s.ended_reason ?? '', 200)}".`,
      data: { ended_reason: s.ended_reason, platform: s.platform },
    },
  ];
}
