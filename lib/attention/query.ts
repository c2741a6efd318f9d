import { RESERVED_EVENT_TYPES } from '../events/reserved.js';
import type { Sql } from '../storage/sql.js';

/** What one query reads about the students in active web sessions and their cohort. */
export interface ActiveRow {
  token: string;
  student_id: string | null;
  student_name: string | null;
  student_email: string | null;
  last_at: string;
  last_type: string;
  last_error: string | null;
  recent_errors: number;
  recent_first: string | null;
  recent_last: string | null;
  failed_calls: number;
  failed_first: string | null;
  failed_last: string | null;
  step: string | null;
  step_name: string | null;
  step_since: string | null;
}
export interface RepeatRow {
  token: string;
  error_type: string;
  message: string | null;
  n: number;
  first_at: string;
  last_at: string;
}
export interface StepRow {
  step: string;
  step_name: string | null;
  first_seen: string;
  median_s: number | null;
  passed: number;
}
export interface TopErrorRow {
  error_type: string;
  message: string | null;
  students: number;
  count: number;
  last_at: string;
}
export interface AttentionFacts {
  active: ActiveRow[];
  repeats: RepeatRow[];
  steps: StepRow[];
  topErrors: TopErrorRow[];
}

export interface FactWindows {
  since: Date;
  now: Date;
  /** Session-token prefix, or null for every web session. */
  prefix: string | null;
  /** Inactivity that ends a session (config sessionTimeoutMs). */
  timeoutMs: number;
  /** Window of the "same error repeated" and "failed API calls" reasons. */
  repeatWindowMs: number;
  repeatCount: number;
  /** Window of "errors in the last few minutes". */
  recentWindowMs: number;
  /** Window of top_errors. */
  topErrorsWindowMs: number;
}

/*
 * ONE statement. `ev` is every page event in [since, now] (the events_time index bounds it; a
 * workshop prefix narrows it further). A token is a web session unless a sessions row says it is
 * another platform's, or ended after its last event — so this reads the same before and after
 * workshop tokens get their own `sessions` rows. Steps: an event's step is navigation's `to`, else
 * its `currentStep`; consecutive events on one step form a segment (gaps and islands); a segment
 * left for a later step (or any other step when steps are not numbers) is a step "passed", and the
 * cohort median of a step is over the students who passed it.
 */
const FACTS = `
WITH ev0 AS MATERIALIZED (
  -- Narrow rows: only what the reasons read is extracted from event_data, once, so the sorts and
  -- window functions below move a few columns, not whole JSON documents.
  SELECT e.id, e.session_token AS token, e.student_id, e.event_type, e.created_at,
         max(e.created_at) OVER (PARTITION BY e.session_token) AS last_at,
         CASE WHEN e.event_type = 'navigation' AND jsonb_typeof(e.event_data->'to') IN ('number', 'string')
              THEN NULLIF(left(e.event_data->>'to', 100), '')
              WHEN jsonb_typeof(e.event_data->'currentStep') IN ('number', 'string')
              THEN NULLIF(left(e.event_data->>'currentStep', 100), '') END AS step,
         left(CASE WHEN e.event_type = 'navigation' AND jsonb_typeof(e.event_data->'to') IN ('number', 'string')
                   THEN e.event_data->>'toStepName' ELSE e.event_data->>'stepName' END, 200) AS step_name,
         CASE WHEN e.event_type = 'error' THEN COALESCE(NULLIF(left(e.event_data->>'errorType', 200), ''), '(unspecified)') END AS err_type,
         CASE WHEN e.event_type = 'error' THEN left(e.event_data->>'errorMessage', 500) END AS err_msg,
         CASE WHEN e.event_type <> 'api_call' THEN false
              WHEN e.event_data->'success' = 'false'::jsonb THEN true
              WHEN jsonb_typeof(e.event_data->'status') = 'number' THEN (e.event_data->>'status')::numeric >= 400
              ELSE false END AS failed
  FROM events e
  WHERE e.created_at >= $1::timestamptz AND e.created_at <= $2::timestamptz
    AND ($3::text IS NULL OR starts_with(e.session_token, $3::text))
    AND e.event_type <> ALL ($4::text[])
),
ev AS MATERIALIZED (
  SELECT ev0.*, ev0.last_at > $2::timestamptz - $5::int * interval '1 millisecond' AS active
  FROM ev0
  WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = ev0.token AND (s.platform <> 'web' OR s.ended_at >= ev0.last_at))
),
marked AS (
  SELECT token, active, id, created_at, step, step_name,
         CASE WHEN step IS DISTINCT FROM lag(step) OVER (PARTITION BY token ORDER BY created_at, id) THEN 1 ELSE 0 END AS change
  FROM ev WHERE step IS NOT NULL
),
numbered AS (SELECT *, sum(change) OVER (PARTITION BY token ORDER BY created_at, id) AS seg FROM marked),
segs AS MATERIALIZED (
  SELECT token, seg, bool_or(active) AS active, min(step) AS step, min(created_at) AS started_at,
         (array_agg(step_name ORDER BY created_at DESC, id DESC) FILTER (WHERE step_name IS NOT NULL AND step_name <> ''))[1] AS step_name
  FROM numbered GROUP BY token, seg
),
timed AS MATERIALIZED (
  SELECT *, lead(started_at) OVER w AS left_at, lead(step) OVER w AS next_step
  FROM segs WINDOW w AS (PARTITION BY token ORDER BY seg)
),
passed AS (
  SELECT step, token, sum(left_at - started_at) AS spent FROM timed
  WHERE left_at IS NOT NULL
    AND NOT CASE WHEN step ~ '^-?[0-9]{1,15}(\\.[0-9]{1,15})?$' AND next_step ~ '^-?[0-9]{1,15}(\\.[0-9]{1,15})?$'
                 THEN next_step::numeric < step::numeric ELSE false END
  GROUP BY step, token
),
cur AS MATERIALIZED (
  SELECT DISTINCT ON (token) token, step, step_name, started_at FROM timed WHERE active ORDER BY token, seg DESC
),
agg AS MATERIALIZED (
  SELECT ev.token, max(ev.created_at) AS last_at,
    (array_agg(ev.student_id ORDER BY ev.created_at DESC, ev.id DESC) FILTER (WHERE ev.student_id IS NOT NULL))[1] AS student_id,
    (array_agg(ev.event_type ORDER BY ev.created_at DESC, ev.id DESC))[1] AS last_type,
    (array_agg(ev.err_type || COALESCE(': ' || left(ev.err_msg, 300), '') ORDER BY ev.created_at DESC, ev.id DESC) FILTER (WHERE ev.err_type IS NOT NULL))[1] AS last_error,
    count(*) FILTER (WHERE ev.err_type IS NOT NULL AND ev.created_at > $2::timestamptz - $7::int * interval '1 millisecond')::int AS recent_errors,
    min(ev.created_at) FILTER (WHERE ev.err_type IS NOT NULL AND ev.created_at > $2::timestamptz - $7::int * interval '1 millisecond') AS recent_first,
    max(ev.created_at) FILTER (WHERE ev.err_type IS NOT NULL AND ev.created_at > $2::timestamptz - $7::int * interval '1 millisecond') AS recent_last,
    count(*) FILTER (WHERE ev.failed AND ev.created_at > $2::timestamptz - $6::int * interval '1 millisecond')::int AS failed_calls,
    min(ev.created_at) FILTER (WHERE ev.failed AND ev.created_at > $2::timestamptz - $6::int * interval '1 millisecond') AS failed_first,
    max(ev.created_at) FILTER (WHERE ev.failed AND ev.created_at > $2::timestamptz - $6::int * interval '1 millisecond') AS failed_last
  FROM ev WHERE ev.active GROUP BY ev.token
),
rep AS (
  SELECT token, err_type AS error_type, err_msg AS message, count(*)::int AS n, min(created_at) AS first_at, max(created_at) AS last_at
  FROM ev
  WHERE ev.active AND ev.err_type IS NOT NULL AND ev.created_at > $2::timestamptz - $6::int * interval '1 millisecond'
  GROUP BY token, err_type, err_msg HAVING count(*) >= $8::int
)
SELECT
  (SELECT json_agg(json_build_object(
     'token', g.token, 'student_id', g.student_id, 'student_name', s.name, 'student_email', s.email,
     'last_at', g.last_at, 'last_type', g.last_type,
     'last_error', g.last_error,
     'recent_errors', g.recent_errors, 'recent_first', g.recent_first, 'recent_last', g.recent_last,
     'failed_calls', g.failed_calls, 'failed_first', g.failed_first, 'failed_last', g.failed_last,
     'step', c.step, 'step_name', c.step_name, 'step_since', c.started_at))
   FROM agg g LEFT JOIN cur c USING (token) LEFT JOIN students s ON s.id = g.student_id) AS active,
  (SELECT json_agg(rep) FROM rep) AS repeats,
  (SELECT json_agg(json_build_object('step', f.step, 'step_name', n.step_name, 'first_seen', f.first_seen, 'median_s', m.median_s, 'passed', COALESCE(m.passed, 0)))
   FROM (SELECT step, min(started_at) AS first_seen FROM segs GROUP BY step) f
   LEFT JOIN (SELECT step, percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM spent)) AS median_s, count(*)::int AS passed
              FROM passed GROUP BY step) m USING (step)
   LEFT JOIN (SELECT DISTINCT ON (step) step, step_name FROM segs WHERE step_name IS NOT NULL ORDER BY step, started_at DESC) n USING (step)) AS steps,
  (SELECT json_agg(t) FROM (
     SELECT ev.err_type AS error_type, mode() WITHIN GROUP (ORDER BY ev.err_msg) AS message,
            count(DISTINCT COALESCE(ev.student_id, 'token:' || ev.token))::int AS students, count(*)::int AS count, max(ev.created_at) AS last_at
     FROM ev
     WHERE ev.err_type IS NOT NULL AND ev.created_at > $2::timestamptz - $9::int * interval '1 millisecond'
     GROUP BY 1 ORDER BY students DESC, count DESC, last_at DESC LIMIT 20) t) AS top_errors
`;

const RESERVED = [...RESERVED_EVENT_TYPES];

/** Read the facts the attention score is computed from, in one round trip. */
export async function readAttentionFacts(sql: Sql, w: FactWindows): Promise<AttentionFacts> {
  const rows = await sql.query<{ active: unknown; repeats: unknown; steps: unknown; top_errors: unknown }>(FACTS, [
    w.since.toISOString(),
    w.now.toISOString(),
    w.prefix,
    RESERVED,
    Math.round(w.timeoutMs),
    Math.round(w.repeatWindowMs),
    Math.round(w.recentWindowMs),
    w.repeatCount,
    Math.round(w.topErrorsWindowMs),
  ]);
  const r = rows[0];
  // json_agg comes back parsed from pg and PGlite, as text from some drivers.
  const json = <T>(v: unknown): T[] => ((typeof v === 'string' ? JSON.parse(v) : v) as T[] | null) ?? [];
  return { active: json(r?.active), repeats: json(r?.repeats), steps: json(r?.steps), topErrors: json(r?.top_errors) };
}

export { FACTS as ATTENTION_SQL };
