/**
 * The statements of an erasure (lib/lifecycle/erase.ts). They run in ONE transaction (`sql.batch`)
 * after a read that found the student and sorted the sessions they appear in into theirs (deleted)
 * and shared (kept, redacted). ADR 0014 says which is which and why.
 */

/**
 * The sessions a student appears in. $1 their student rows' ids (Person.rowIds), $2 lowercased
 * id/email (what a participant entry or a claim holds), $3 phone numbers, $4 lowercased
 * id/email/name/aliases (what a speaker may be).
 * `theirs`: the session's student is one of their rows; or nobody else ever took part (every participant is
 * them); or an unidentified call from one of their numbers.
 */
export const FIND_SESSIONS = `
WITH phone_of AS (
  SELECT id, regexp_replace(COALESCE(platform_metadata->>'phone_number', platform_metadata->>'phone', ''), '[^0-9+]', '', 'g') AS phone
  FROM sessions WHERE student_id IS NULL AND cardinality($3::text[]) > 0
)
SELECT s.id, s.student_id,
  (s.student_id = ANY($1::text[])
   OR (s.student_id IS NULL AND jsonb_array_length(s.participants) > 0
       AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(s.participants) p WHERE lower(p->>'id') <> ALL($2::text[])))
   OR s.id IN (SELECT id FROM phone_of WHERE phone <> '' AND phone = ANY($3::text[]))) AS theirs
FROM sessions s
WHERE s.student_id = ANY($1::text[])
   OR EXISTS (SELECT 1 FROM jsonb_array_elements(s.participants) p WHERE lower(p->>'id') = ANY($2::text[]))
   OR s.id IN (SELECT id FROM phone_of WHERE phone <> '' AND phone = ANY($3::text[]))
   OR s.id IN (SELECT session_token FROM events
               WHERE student_id = ANY($1::text[]) OR lower(claimed_email) = ANY($2::text[])
                  OR (event_type = 'transcript' AND lower(event_data->>'speaker') = ANY($4::text[]))
                  OR (event_type = 'participant_joined' AND lower(event_data->>'participant') = ANY($4::text[])))`;

/**
 * Everything that is theirs: $1 their student rows' ids, $2 lowercased id/email, $3 their session ids, $4 shared
 * session ids (their analyses are derived from the unredacted timeline: deleted, re-runnable).
 * Unreferenced data-modifying CTEs still run. Returns counts, and the calls and sessions whose KV
 * state must go.
 */
export const DELETE_THEIRS = `
WITH their_calls AS (SELECT call_id FROM calls WHERE student_id = ANY($1::text[]) OR session_id = ANY($3::text[])),
 a AS (DELETE FROM analyses WHERE session_id = ANY($3::text[]) OR session_id = ANY($4::text[]) RETURNING 1),
 c AS (DELETE FROM calls WHERE call_id IN (SELECT call_id FROM their_calls) RETURNING call_id, platform),
 e AS (DELETE FROM events WHERE student_id = ANY($1::text[]) OR session_token = ANY($3::text[]) OR lower(claimed_email) = ANY($2::text[]) RETURNING 1),
 s AS (DELETE FROM sessions WHERE id = ANY($3::text[]) OR student_id = ANY($1::text[]) RETURNING id),
 st AS (DELETE FROM students WHERE id = ANY($1::text[]) OR lower(email) = ANY($2::text[]) OR lower(id) = ANY($2::text[]) RETURNING 1),
 al AS (DELETE FROM alerts WHERE student_id = ANY($1::text[]) OR lower(key) = ANY($2::text[]) OR session_id = ANY($3::text[]) RETURNING 1),
 ac AS (DELETE FROM alert_cooldowns WHERE lower(key) = ANY($2::text[]) OR key IN (SELECT 'token:' || x FROM unnest($3::text[]) x) RETURNING 1),
 -- Unknown calls that suggested them (lib/calls/identify.ts) keep the other suggestions only.
 sg AS (
   UPDATE sessions SET platform_metadata = jsonb_set(platform_metadata, '{suggested_student_ids}', (
     SELECT COALESCE(jsonb_agg(x), '[]'::jsonb) FROM jsonb_array_elements(platform_metadata->'suggested_student_ids') AS x WHERE x #>> '{}' <> ALL($1::text[])))
   WHERE jsonb_typeof(platform_metadata->'suggested_student_ids') = 'array'
     AND platform_metadata->'suggested_student_ids' ?| $1::text[]
     AND NOT (id = ANY($3::text[]))
 )
SELECT (SELECT count(*)::int FROM e) AS events, (SELECT count(*)::int FROM s) AS sessions,
       (SELECT count(*)::int FROM a) AS analyses, (SELECT count(*)::int FROM c) AS calls,
       (SELECT count(*)::int FROM st) AS students,
       (SELECT json_agg(json_build_object('platform', platform, 'call_id', call_id)) FROM c) AS links`;

/** Redacted rows written back: $1 ids, $2 event_data, $3 claimed_email, $4 claimed_name. */
export const UPDATE_EVENTS = `
UPDATE events e SET event_data = u.d::jsonb, claimed_email = u.ce, claimed_name = u.cn
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u(id, d, ce, cn) WHERE e.id = u.id`;

/** $1 ids, then participants, metadata, agent, conversation, platform_metadata (jsonb text), summary, subject, topic, subtopic, phase, step_name, current_step. */
export const UPDATE_SESSIONS = `
UPDATE sessions s SET participants = u.pa::jsonb, metadata = u.me::jsonb, agent = u.ag::jsonb, conversation = u.co::jsonb,
  platform_metadata = u.pm::jsonb, summary = u.su, subject = u.sj, topic = u.tp, subtopic = u.st, phase = u.ph,
  step_name = u.sn, current_step = u.cs, updated_at = now()
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
  AS u(id, pa, me, ag, co, pm, su, sj, tp, st, ph, sn, cs)
WHERE s.id = u.id`;

/** $1 ids, $2 title, $3 detail, $4 data: alerts about others that mention them (an error spike's list). */
export const UPDATE_ALERTS = `
UPDATE alerts a SET title = u.t, detail = u.d, data = u.x::jsonb
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u(id, t, d, x) WHERE a.id = u.id`;

/**
 * A shared session whose id names them (explicit ids are made from the creating participant) is
 * renamed everywhere it is referenced: $1 old ids, $2 new ids.
 */
export const RENAME_SESSIONS = [
  'UPDATE sessions s SET id = u.n FROM unnest($1::text[], $2::text[]) AS u(o, n) WHERE s.id = u.o',
  'UPDATE events e SET session_token = u.n FROM unnest($1::text[], $2::text[]) AS u(o, n) WHERE e.session_token = u.o',
  'UPDATE calls c SET session_id = u.n FROM unnest($1::text[], $2::text[]) AS u(o, n) WHERE c.session_id = u.o',
  'UPDATE alerts a SET session_id = u.n FROM unnest($1::text[], $2::text[]) AS u(o, n) WHERE a.session_id = u.o',
  `UPDATE alerts a SET key = 'token:' || u.n FROM unnest($1::text[], $2::text[]) AS u(o, n) WHERE a.key = 'token:' || u.o`,
  `UPDATE alert_cooldowns a SET key = 'token:' || u.n FROM unnest($1::text[], $2::text[]) AS u(o, n) WHERE a.key = 'token:' || u.o`,
];

/**
 * Audit entries: a path segment or a query value that names them becomes "[erased]" whole
 * ($1: sqlPattern of the needles, case-insensitive).
 */
export const REDACT_AUDIT = `
UPDATE audit_log SET
  path = array_to_string(ARRAY(
    SELECT CASE WHEN p ~* $1 THEN '[erased]' ELSE p END
    FROM unnest(string_to_array(path, '/')) WITH ORDINALITY AS u(p, n) ORDER BY n), '/'),
  detail = CASE WHEN jsonb_typeof(detail->'query') = 'object' THEN jsonb_set(detail, '{query}', (
    SELECT COALESCE(jsonb_object_agg(k, CASE WHEN v ~* $1 THEN '[erased]' ELSE v END), '{}'::jsonb)
    FROM jsonb_each_text(detail->'query') AS q(k, v))) ELSE detail END
WHERE path ~* $1
   OR (jsonb_typeof(detail->'query') = 'object' AND EXISTS (SELECT 1 FROM jsonb_each_text(detail->'query') AS q(k, v) WHERE v ~* $1))
RETURNING 1`;
