/**
 * Attempts (events of type `attempt`, posted by practice pages): how many, how many correct, how
 * long each took and which subjects they practised. One SQL fragment, so the session summary and a
 * student's progress count them the same way.
 */

/** Longest time one attempt may claim (a day): a stray `timeMs` or an overnight gap must not swamp averages. */
export const MAX_ATTEMPT_MS = 86_400_000;

/**
 * A LATERAL subquery over the attempts of session `s` (alias `att`): `attempts`, `correct`,
 * `timed` (attempts with a time), `total_ms`, `subjects` and `topics` (jsonb arrays of text).
 * An attempt's time is its `eventData.timeMs` when that is a number in [0, a day]; otherwise the time
 * since the session's previous attempt (event times). The first attempt without `timeMs` has no time,
 * so `total_ms / timed` is the average time per attempt and an untimed first attempt does not drag it.
 * The nested CASEs keep the numeric cast away from strings (Postgres evaluates CASE branches in order).
 */
export const ATTEMPTS_LATERAL = `LEFT JOIN LATERAL (
  SELECT count(*)::int AS attempts,
         count(*) FILTER (WHERE a.correct)::int AS correct,
         count(a.t_ms)::int AS timed,
         COALESCE(sum(a.t_ms), 0)::float8 AS total_ms,
         to_jsonb(COALESCE(array_agg(DISTINCT a.subject) FILTER (WHERE a.subject IS NOT NULL), '{}')) AS subjects,
         to_jsonb(COALESCE(array_agg(DISTINCT a.topic) FILTER (WHERE a.topic IS NOT NULL), '{}')) AS topics
  FROM (
    SELECT x.correct, x.subject, x.topic,
           -- LEAST ignores NULLs: without the CASE a first attempt would claim a whole day.
           COALESCE(x.own_ms, CASE WHEN x.gap_ms IS NOT NULL THEN LEAST(x.gap_ms, ${MAX_ATTEMPT_MS}) END) AS t_ms
    FROM (
      SELECT e.event_data->'correct' = 'true'::jsonb AS correct,
             CASE WHEN jsonb_typeof(e.event_data->'timeMs') = 'number' THEN
               CASE WHEN (e.event_data->'timeMs')::numeric BETWEEN 0 AND ${MAX_ATTEMPT_MS} THEN (e.event_data->'timeMs')::numeric::float8 END END AS own_ms,
             extract(epoch FROM e.created_at - lag(e.created_at) OVER (ORDER BY e.created_at, e.id))::float8 * 1000 AS gap_ms,
             CASE WHEN jsonb_typeof(e.event_data->'subject') = 'string' THEN NULLIF(btrim(e.event_data->>'subject'), '') END AS subject,
             CASE WHEN jsonb_typeof(e.event_data->'topic') = 'string' THEN NULLIF(btrim(e.event_data->>'topic'), '') END AS topic
      FROM events e WHERE e.session_token = s.id AND e.event_type = 'attempt'
    ) x
  ) a
) att ON true`;

export interface AttemptAggregates {
  attempts: number;
  correct: number;
  timed: number;
  total_ms: number | string;
  subjects: string[] | string | null;
  topics: string[] | string | null;
}

/** Accuracy to three decimals, null without attempts. */
export const accuracyOf = (attempts: number, correct: number): number | null => (attempts ? Math.round((correct / attempts) * 1000) / 1000 : null);

/** Average milliseconds per timed attempt, null when none was timed. */
export const averageMs = (totalMs: number, timed: number): number | null => (timed ? Math.round(totalMs / timed) : null);

/** jsonb comes back parsed from pg/Neon/PGlite, but as text from some drivers: accept both. */
export function jsonArray(v: string[] | string | null | undefined): string[] {
  const parsed: unknown = typeof v === 'string' ? JSON.parse(v) : v;
  return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [];
}
