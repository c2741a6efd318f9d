import { RESERVED_EVENT_TYPES } from '../events/reserved.js';
import { HELP_UNDONE, HELPED } from './helped.js';
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
/** An active student's last helped mark (not undone), with who the student is. */
export interface HelpedRow {
  token: string;
  at: string;
  by: string;
  note: string | null;
  student_id: string | null;
  student_name: string | null;
  student_email: string | null;
}
export interface AttentionFacts {
  /**
   * The active students for whom some reason may hold (an error or failed call in its window, a
   * repeated error, an error as the last event, or the stuck rule, loosely); scoreStudents
   * decides. The others are only counted: a room's students are mostly fine, and reading them all
   * cost the instructor's poll ~0.5 KB of JSON per student (ADR 0024, amendment).
   */
  active: ActiveRow[];
  /** Every active student. */
  activeCount: number;
  /** How many active students are on each step now. */
  onStep: Map<string, number>;
  repeats: RepeatRow[];
  steps: StepRow[];
  topErrors: TopErrorRow[];
  /** Each active student's helped mark in force, by token. */
  helped: Map<string, HelpedRow>;
}

/** Which events a statement reads: one workshop's (or every web session's) in the window, or the room as it is now. */
export type AttentionScope = 'window' | 'now';

export interface FactWindows {
  since: Date;
  now: Date;
  /** Session-token prefix, or null for every web session. */
  prefix: string | null;
  /** 'window': every session with events since `since`; 'now': only those seen within max(timeoutMs, topErrorsWindowMs, quietAfterErrorMs), with their history since `since`. */
  scope: AttentionScope;
  /** Inactivity that ends a session (config sessionTimeoutMs). */
  timeoutMs: number;
  /** Window of the "same error repeated" and "failed API calls" reasons. */
  repeatWindowMs: number;
  repeatCount: number;
  /** Window of "errors in the last few minutes". */
  recentWindowMs: number;
  /** Window of top_errors. */
  topErrorsWindowMs: number;
  /**
   * The stuck rule (ScoreOptions): a student on a step for less than stuckMinMs, or for less than
   * stuckMultiplier x the step's median, or on a step fewer than stuckMinPassed students passed,
   * is left out of `active` unless another reason may apply.
   */
  stuckMinMs: number;
  stuckMultiplier: number;
  stuckMinPassed: number;
  /**
   * A student whose last event is an error stays in the room this long after it, past the session
   * timeout (and the idle sweep that ends the session then): the student who went quiet after an
   * error has likely given up, and must not drop off the list the moment the timeout passes.
   */
  quietAfterErrorMs: number;
}

/*
 * How the events are reached. 'window': every page event in [since, now] (the events_time index
 * bounds it; a workshop prefix narrows it further). 'now' (no workshop given): only the sessions
 * seen in the last max(session timeout, top-errors window, quiet-after-error window) — the room as it is now — found in that
 * short stretch of events_time, and then their history in [since, now] through events_session_time
 * (one index scan over the list of tokens); so the cost follows the live sessions, not the log.
 */
const SOURCE: Record<AttentionScope, string> = {
  window: `
  FROM events e
  WHERE e.created_at >= $1::timestamptz AND e.created_at <= $2::timestamptz
    AND ($3::text IS NULL OR starts_with(e.session_token, $3::text))
    AND e.event_type <> ALL ($4::text[])`,
  now: `
  FROM (
    SELECT * FROM events
    WHERE session_token = ANY (ARRAY(
            SELECT DISTINCT r.session_token FROM events r
            WHERE r.created_at > $2::timestamptz - GREATEST($5::int, $9::int, $13::int) * interval '1 millisecond'
              AND r.created_at >= $1::timestamptz AND r.created_at <= $2::timestamptz
              AND ($3::text IS NULL OR starts_with(r.session_token, $3::text))
              AND r.event_type <> ALL ($4::text[])))
      AND created_at >= $1::timestamptz AND created_at <= $2::timestamptz
      AND event_type <> ALL ($4::text[])
  ) e`,
};

/*
 * ONE statement. `ev` is the page events of SOURCE. A token is a web session unless a sessions row
 * says it is another platform's — so this reads the same before and after workshop tokens get their
 * own `sessions` rows; it is listed (active) unless that row also says it ended after its last
 * event, but an ended one still counts in the steps' cohort. Steps: an event's step is navigation's `to`,
 * else its `currentStep`; consecutive events on one step form a segment (gaps and islands); a
 * segment left for a later step (or any other step when steps are not numbers) is a step "passed",
 * and the cohort median of a step is over the students who passed it.
 * Cost: rows are narrow; events are sorted per token twice (the step rows for the segments, the
 * active tokens' rows for their latest values), and no aggregate sorts per group. CTEs meet only
 * through hashed lookups or joins where one side is small (steps, active tokens): with fresh,
 * unanalysed tables every CTE is estimated at one row, and a nested loop between two large ones
 * costs rows × rows.
 */
const facts = (scope: AttentionScope) => `
WITH ev0 AS MATERIALIZED (
  -- Narrow rows: only what the reasons read is extracted from event_data, once, so the sorts and
  -- window functions below move a few columns, not whole JSON documents.
  SELECT e.id, e.session_token AS token, e.student_id, e.event_type, e.created_at,
         CASE WHEN e.event_type = 'navigation' AND jsonb_typeof(e.event_data->'to') IN ('number', 'string')
              THEN NULLIF(left(e.event_data->>'to', 100), '')
              WHEN jsonb_typeof(e.event_data->'currentStep') IN ('number', 'string')
              THEN NULLIF(left(e.event_data->>'currentStep', 100), '') END AS step,
         -- A navigation's step is where it goes (\`to\`), named by \`toStepName\`, else by the page's
         -- \`stepName\` when its \`currentStep\` is that same step (a page that names the step it moves
         -- to as its current one); a \`stepName\` of the step it left is not that step's name.
         left(CASE WHEN e.event_type = 'navigation' AND jsonb_typeof(e.event_data->'to') IN ('number', 'string')
                   THEN COALESCE(e.event_data->>'toStepName', CASE WHEN e.event_data->>'currentStep' = e.event_data->>'to' THEN e.event_data->>'stepName' END)
                   ELSE e.event_data->>'stepName' END, 200) AS step_name,
         CASE WHEN e.event_type = 'error' THEN COALESCE(NULLIF(left(e.event_data->>'errorType', 200), ''), '(unspecified)') END AS err_type,
         CASE WHEN e.event_type = 'error' THEN left(e.event_data->>'errorMessage', 500) END AS err_msg,
         CASE WHEN e.event_type <> 'api_call' THEN false
              WHEN e.event_data->'success' = 'false'::jsonb THEN true
              WHEN jsonb_typeof(e.event_data->'status') = 'number' THEN (e.event_data->>'status')::numeric >= 400
              ELSE false END AS failed
  ${SOURCE[scope]}
),
tok AS MATERIALIZED (
  -- Each token with its last event: a web session unless a sessions row says it is another
  -- platform's; active when that event is within the session timeout, or within $13 when it is an
  -- error (quiet after an error: the idle sweep's end of such a session does not take the student
  -- off the list), and the session was not ended after it. An ended web session still counts in
  -- the cohort (the steps its student passed, how long each took): the students who finished and
  -- left are the ones who set the pace, and whether the idle sweep has ended their sessions yet
  -- must not move the medians the stuck are measured against.
  SELECT t.token,
         (t.last_at > $2::timestamptz - $5::int * interval '1 millisecond'
           OR t.quiet AND t.last_at > $2::timestamptz - $13::int * interval '1 millisecond')
         AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = t.token
                           AND s.ended_at >= t.last_at AND NOT (t.quiet AND s.end_reason = 'timeout')) AS active,
         NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = t.token AND s.platform <> 'web') AS web
  FROM (SELECT token, max(created_at) AS last_at,
               COALESCE(max(created_at) FILTER (WHERE err_type IS NOT NULL) = max(created_at), false) AS quiet
        FROM ev0 GROUP BY token) t
),
ev AS MATERIALIZED (
  -- The tokens' flags by hashed lookups, not a join of two CTEs (see above).
  SELECT * FROM (
    SELECT ev0.*, ev0.token IN (SELECT token FROM tok WHERE web) AS web,
           ev0.token IN (SELECT token FROM tok WHERE web AND active) AS active
    FROM ev0) x
  WHERE web
),
marked AS (
  -- The events that carry a step, in order once: where the step changes, and how many named
  -- events came before (to tell whether a segment has a name without grouping its events).
  SELECT token, active, id, created_at, step,
         step IS DISTINCT FROM lag(step) OVER w AS change,
         count(*) FILTER (WHERE step_name <> '') OVER w - CASE WHEN step_name <> '' THEN 1 ELSE 0 END AS named_before,
         count(*) FILTER (WHERE step_name <> '') OVER (PARTITION BY token) AS named_total
  FROM ev WHERE step IS NOT NULL
  WINDOW w AS (PARTITION BY token ORDER BY created_at, id)
),
timed AS MATERIALIZED (
  -- One row per segment (its first event), with the segment after it (none: the token's current one).
  SELECT token, active, step, created_at AS started_at, id AS start_id,
         lead(created_at) OVER w AS left_at, lead(id) OVER w AS left_id, lead(step) OVER w AS next_step,
         COALESCE(lead(named_before) OVER w, named_total) > named_before AS named
  FROM marked WHERE change
  WINDOW w AS (PARTITION BY token ORDER BY created_at, id)
),
nums AS MATERIALIZED (
  -- Each step seen, as a number when it reads as one (steps are few: one pattern match each).
  SELECT step, CASE WHEN step ~ '^-?[0-9]{1,15}(\\.[0-9]{1,15})?$' THEN step::numeric END AS num,
         min(started_at) AS first_seen, max(started_at) FILTER (WHERE named) AS named_at
  FROM timed GROUP BY step
),
passed AS (
  SELECT t.step, t.token, sum(t.left_at - t.started_at) AS spent
  FROM timed t JOIN nums a ON a.step = t.step JOIN nums b ON b.step = t.next_step
  WHERE t.left_at IS NOT NULL AND NOT COALESCE(b.num < a.num, false)
  GROUP BY t.step, t.token
),
med AS MATERIALIZED (
  -- Each step's cohort median and how many students passed it: the steps' progress bars, and
  -- which students on a step for long may be stuck.
  SELECT step, percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM spent)) AS median_s, count(*)::int AS passed
  FROM passed GROUP BY step
),
named AS MATERIALIZED (
  -- Of each step, the name of the named segment that started last (of several started at once,
  -- one): its latest event carrying a name. Steps are few, so are these segments.
  SELECT DISTINCT ON (p.step) p.step, e.step_name
  FROM (SELECT DISTINCT ON (t.step) t.* FROM timed t JOIN nums x ON x.step = t.step AND t.started_at = x.named_at
        WHERE t.named ORDER BY t.step, t.token) p
  JOIN ev e ON e.token = p.token
  WHERE e.step IS NOT NULL AND e.step_name <> ''
    AND (e.created_at, e.id) >= (p.started_at, p.start_id)
    AND (p.left_at IS NULL OR (e.created_at, e.id) < (p.left_at, p.left_id))
  ORDER BY p.step, e.created_at DESC, e.id DESC
),
cur AS MATERIALIZED (SELECT token, step, started_at, start_id FROM timed WHERE active AND left_at IS NULL),
hm AS MATERIALIZED (
  -- Each token's helped mark in force: its last mark or undo, when that is a mark
  -- (lib/attention/helped.ts). The marks are few, read by type and time (events_type_time).
  SELECT h.session_token AS mark_token, h.created_at AS mark_at, h.event_data AS mark_data
  FROM (SELECT DISTINCT ON (session_token) session_token, created_at, event_type, event_data FROM events
        WHERE event_type IN ('${HELPED}', '${HELP_UNDONE}')
          AND created_at >= $1::timestamptz AND created_at <= $2::timestamptz
          AND ($3::text IS NULL OR starts_with(session_token, $3::text))
        ORDER BY session_token, created_at DESC, id DESC) h
  WHERE h.event_type = '${HELPED}'
),
evh AS (
  -- The active tokens' events, each saying whether it counts in the reasons' windows: after a
  -- mark, only what came after it (stop 38). Compared at millisecond precision, as the score
  -- reads times, so an event a fraction of a millisecond after the mark is not counted here and
  -- dropped there. hm is small (the marked students), so this join is.
  SELECT ev.*, hm.mark_at IS NULL OR date_trunc('milliseconds', ev.created_at) > hm.mark_at AS counts
  FROM ev LEFT JOIN hm ON hm.mark_token = ev.token
  WHERE ev.active
),
latest AS MATERIALIZED (
  -- Per active token, in one ordered pass: its last event, and the last of its events naming a
  -- student, reporting an error, naming a step (a row is the last of a kind when the running count
  -- of that kind has reached the token's total); and the counts of the recent windows.
  SELECT token, max(created_at) AS last_at,
    max(event_type) FILTER (WHERE is_last) AS last_type,
    max(student_id) FILTER (WHERE last_student) AS student_id,
    max(err_type || COALESCE(': ' || left(err_msg, 300), '')) FILTER (WHERE last_error) AS last_error,
    max(step_name) FILTER (WHERE last_named) AS named, max(created_at) FILTER (WHERE last_named) AS named_at, max(id) FILTER (WHERE last_named) AS named_id,
    max(recent_errors)::int AS recent_errors, max(recent_first) AS recent_first, max(recent_last) AS recent_last,
    max(failed_calls)::int AS failed_calls, max(failed_first) AS failed_first, max(failed_last) AS failed_last
  FROM (
    SELECT token, id, created_at, event_type, student_id, err_type, err_msg, step_name,
      lead(id) OVER w IS NULL AS is_last,
      student_id IS NOT NULL AND count(student_id) OVER w = count(student_id) OVER p AS last_student,
      err_type IS NOT NULL AND count(err_type) OVER w = count(err_type) OVER p AS last_error,
      step IS NOT NULL AND step_name <> '' AND count(*) FILTER (WHERE step IS NOT NULL AND step_name <> '') OVER w
        = count(*) FILTER (WHERE step IS NOT NULL AND step_name <> '') OVER p AS last_named,
      count(*) FILTER (WHERE counts AND err_type IS NOT NULL AND created_at > $2::timestamptz - $7::int * interval '1 millisecond') OVER p AS recent_errors,
      min(created_at) FILTER (WHERE counts AND err_type IS NOT NULL AND created_at > $2::timestamptz - $7::int * interval '1 millisecond') OVER p AS recent_first,
      max(created_at) FILTER (WHERE counts AND err_type IS NOT NULL AND created_at > $2::timestamptz - $7::int * interval '1 millisecond') OVER p AS recent_last,
      count(*) FILTER (WHERE counts AND failed AND created_at > $2::timestamptz - $6::int * interval '1 millisecond') OVER p AS failed_calls,
      min(created_at) FILTER (WHERE counts AND failed AND created_at > $2::timestamptz - $6::int * interval '1 millisecond') OVER p AS failed_first,
      max(created_at) FILTER (WHERE counts AND failed AND created_at > $2::timestamptz - $6::int * interval '1 millisecond') OVER p AS failed_last
    FROM evh
    WINDOW p AS (PARTITION BY token), w AS (p ORDER BY created_at, id)
  ) x
  WHERE is_last OR last_student OR last_error OR last_named
  GROUP BY token
),
rep AS (
  SELECT token, err_type AS error_type, err_msg AS message, count(*)::int AS n, min(created_at) AS first_at, max(created_at) AS last_at
  FROM evh
  WHERE counts AND err_type IS NOT NULL AND created_at > $2::timestamptz - $6::int * interval '1 millisecond'
  GROUP BY token, err_type, err_msg HAVING count(*) >= $8::int
)
SELECT
  (SELECT json_agg(json_build_object(
     'token', g.token, 'student_id', g.student_id, 'student_name', s.name, 'student_email', s.email,
     'last_at', g.last_at, 'last_type', g.last_type,
     'last_error', g.last_error,
     'recent_errors', g.recent_errors, 'recent_first', g.recent_first, 'recent_last', g.recent_last,
     'failed_calls', g.failed_calls, 'failed_first', g.failed_first, 'failed_last', g.failed_last,
     -- The current segment's name: the token's last named event, when it is in that segment.
     'step', c.step, 'step_name', CASE WHEN (g.named_at, g.named_id) >= (c.started_at, c.start_id) THEN g.named END, 'step_since', c.started_at))
   FROM latest g LEFT JOIN cur c USING (token) LEFT JOIN students s ON s.id = g.student_id
   -- Only students some reason may apply to; scoreStudents decides. The stuck test here is looser
   -- than the score's, never tighter: the step's start is read at millisecond precision, as a
   -- JavaScript date reads it (a start a fraction of a millisecond short of stuckMinMs ago counts),
   -- and the time on the step need only reach 0.999 x the multiple, so rounding cannot leave out
   -- a student the score would call stuck.
   WHERE g.recent_errors > 0 OR g.failed_calls > 0 OR g.last_type = 'error' OR g.token IN (SELECT token FROM rep)
      OR (date_trunc('milliseconds', c.started_at) <= $2::timestamptz - $10::int * interval '1 millisecond'
          AND EXISTS (SELECT 1 FROM med m WHERE m.step = c.step AND m.passed >= $11::int
                        AND extract(epoch FROM $2::timestamptz - date_trunc('milliseconds', c.started_at))::float8 * 1000
                            >= $12::float8 * greatest(1000, m.median_s * 1000) * 0.999))) AS active,
  (SELECT count(*)::int FROM latest) AS active_count,
  (SELECT json_agg(json_build_array(step, n)) FROM (SELECT step, count(*)::int AS n FROM cur GROUP BY step) o) AS on_step,
  (SELECT json_agg(rep) FROM rep) AS repeats,
  (SELECT json_agg(json_build_object('step', f.step, 'step_name', n.step_name, 'first_seen', f.first_seen, 'median_s', m.median_s, 'passed', COALESCE(m.passed, 0)))
   FROM nums f
   LEFT JOIN med m USING (step)
   LEFT JOIN named n USING (step)) AS steps,
  (SELECT json_agg(t) FROM (
     SELECT ev.err_type AS error_type, mode() WITHIN GROUP (ORDER BY ev.err_msg) AS message,
            count(DISTINCT COALESCE(ev.student_id, 'token:' || ev.token))::int AS students, count(*)::int AS count, max(ev.created_at) AS last_at
     FROM ev
     WHERE ev.err_type IS NOT NULL AND ev.created_at > $2::timestamptz - $9::int * interval '1 millisecond'
     GROUP BY 1 ORDER BY students DESC, count DESC, last_at DESC LIMIT 20) t) AS top_errors,
  -- Each active student's helped mark in force (hm), matched to the active tokens.
  (SELECT json_agg(json_build_object('token', h.mark_token, 'at', h.mark_at, 'by', h.mark_data->>'by', 'note', h.mark_data->>'note',
                                     'student_id', g.student_id, 'student_name', s.name, 'student_email', s.email))
   FROM hm h
   JOIN latest g ON g.token = h.mark_token
   LEFT JOIN students s ON s.id = g.student_id) AS helped
`;

/** The statement of each scope (the bench prints their plans). */
export const ATTENTION_SQL: Record<AttentionScope, string> = { window: facts('window'), now: facts('now') };

const RESERVED = [...RESERVED_EVENT_TYPES];

/** Read the facts the attention score is computed from, in one round trip. */
export async function readAttentionFacts(sql: Sql, w: FactWindows): Promise<AttentionFacts> {
  const rows = await sql.query<{ active: unknown; active_count: number; on_step: unknown; repeats: unknown; steps: unknown; top_errors: unknown; helped: unknown }>(ATTENTION_SQL[w.scope], [
    w.since.toISOString(),
    w.now.toISOString(),
    w.prefix,
    RESERVED,
    Math.round(w.timeoutMs),
    Math.round(w.repeatWindowMs),
    Math.round(w.recentWindowMs),
    w.repeatCount,
    Math.round(w.topErrorsWindowMs),
    Math.round(w.stuckMinMs),
    Math.round(w.stuckMinPassed),
    w.stuckMultiplier,
    Math.round(w.quietAfterErrorMs),
  ]);
  const r = rows[0];
  // json_agg comes back parsed from pg and PGlite, as text from some drivers.
  const json = <T>(v: unknown): T[] => ((typeof v === 'string' ? JSON.parse(v) : v) as T[] | null) ?? [];
  return {
    active: json(r?.active),
    activeCount: Number(r?.active_count ?? 0),
    onStep: new Map(json<[string, number]>(r?.on_step)),
    repeats: json(r?.repeats),
    steps: json(r?.steps),
    topErrors: json(r?.top_errors),
    helped: new Map(json<HelpedRow>(r?.helped).map((h) => [h.token, h])),
  };
}

