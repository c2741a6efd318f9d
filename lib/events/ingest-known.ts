import type { Sql } from '../storage/sql.js';
import type { NewEvent } from './new-event.js';

/*
 * The sessions half of the ingest statement, shared by both shapes (ingest.ts INSERT_EVENTS for
 * any event, INSERT_KNOWN below for events whose student is already stored). It reads two CTEs
 * the statement defines before it: `ins` (the events actually inserted) and `batch_student` (per
 * token, the student the batch names). See ingest.ts for why each part is shaped as it is.
 */
const STEP_OK = `IN ('string', 'number', 'boolean')`;
export const SESSION_TAIL = `
named AS (
  SELECT b.session_token, b.sid FROM batch_student b
  JOIN sessions ws ON ws.id = b.session_token AND ws.workshop AND ws.student_id IS NULL
),
attrib AS (
  UPDATE events e SET student_id = (SELECT n.sid FROM named n WHERE n.session_token = e.session_token)
  WHERE e.session_token = ANY (ARRAY(SELECT session_token FROM named))
    AND COALESCE(e.student_id, '') = ''
),
agg AS (
  SELECT session_token AS id, count(*)::int AS n, (count(*) FILTER (WHERE event_type = 'error'))::int AS errors,
         min(created_at) AS first_at, max(created_at) AS last_at,
         (array_agg(student_id ORDER BY created_at DESC, id DESC) FILTER (WHERE student_id IS NOT NULL))[1] AS student_id,
         (array_agg(left(event_data->>'currentStep', 200) ORDER BY created_at DESC, id DESC)
            FILTER (WHERE jsonb_typeof(event_data->'currentStep') ${STEP_OK}))[1] AS current_step,
         max(created_at) FILTER (WHERE jsonb_typeof(event_data->'currentStep') ${STEP_OK}) AS step_at,
         (array_agg(left(event_data->>'stepName', 200) ORDER BY created_at DESC, id DESC)
            FILTER (WHERE jsonb_typeof(event_data->'stepName') ${STEP_OK}))[1] AS step_name,
         max(created_at) FILTER (WHERE jsonb_typeof(event_data->'stepName') ${STEP_OK}) AS step_name_at
  FROM ins GROUP BY session_token
),
sess AS (
  INSERT INTO sessions (id, student_id, platform, kind, status, started_at, last_activity_at, workshop, event_count, error_count,
                        current_step, step_at, step_name, step_name_at, participants)
  SELECT a.id, a.student_id, 'web', 'auto', 'active', a.first_at, a.last_at, true, a.n, a.errors,
         a.current_step, a.step_at, a.step_name, a.step_name_at,
         CASE WHEN a.student_id IS NULL THEN '[]'::jsonb
              ELSE jsonb_build_array(jsonb_build_object('id', a.student_id, 'role', 'student',
                     'joined_at', to_char(a.first_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))) END
  FROM agg a ORDER BY a.id
  ON CONFLICT (id) DO UPDATE SET
    student_id = COALESCE(sessions.student_id, EXCLUDED.student_id),
    participants = CASE WHEN sessions.student_id IS NULL THEN EXCLUDED.participants ELSE sessions.participants END,
    started_at = LEAST(sessions.started_at, EXCLUDED.started_at),
    last_activity_at = GREATEST(sessions.last_activity_at, EXCLUDED.last_activity_at),
    event_count = sessions.event_count + EXCLUDED.event_count,
    error_count = sessions.error_count + EXCLUDED.error_count,
    current_step = CASE WHEN EXCLUDED.step_at >= sessions.step_at OR sessions.step_at IS NULL AND EXCLUDED.step_at IS NOT NULL
                        THEN EXCLUDED.current_step ELSE sessions.current_step END,
    step_at = GREATEST(sessions.step_at, EXCLUDED.step_at),
    step_name = CASE WHEN EXCLUDED.step_name_at >= sessions.step_name_at OR sessions.step_name_at IS NULL AND EXCLUDED.step_name_at IS NOT NULL
                     THEN EXCLUDED.step_name ELSE sessions.step_name END,
    step_name_at = GREATEST(sessions.step_name_at, EXCLUDED.step_name_at),
    status = CASE WHEN EXCLUDED.last_activity_at > sessions.ended_at THEN 'active' ELSE sessions.status END,
    end_reason = CASE WHEN EXCLUDED.last_activity_at > sessions.ended_at THEN NULL ELSE sessions.end_reason END,
    ended_at = CASE WHEN EXCLUDED.last_activity_at > sessions.ended_at THEN NULL ELSE sessions.ended_at END,
    updated_at = now()
  WHERE sessions.workshop
)`;

/*
 * Events whose student (by email) the in-process cache already knows: a plain insert, no student
 * upsert. The upsert's no-op `DO UPDATE` locks and rewrites the student row on every event (a new
 * tuple version, WAL, and every concurrent request of that student queued on the lock); here the
 * student is only read.
 *
 * The cache is a hint, never trusted: `checked` keeps an event only when the cached id is what the
 * full statement would resolve its email to today (the student with that email, or the tutoring
 * student whose id is that email), so an admin's edit or an erasure made by another instance
 * cannot misfile an event. Events that fail the check are not inserted and come back with
 * `ok = false`; the caller sends them through the full statement. A student erased after the
 * snapshot makes the events foreign key fail (23503), which the caller handles the same way.
 */
const INSERT_KNOWN = `
WITH input AS (
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                       $7::text[], $8::timestamptz[], $9::timestamptz[]) WITH ORDINALITY
    AS t(event_uuid, session_token, email, name, sid, event_type, event_data, client_ts, created_at, ord)
),
checked AS (
  SELECT i.* FROM input i
  WHERE EXISTS (SELECT 1 FROM students s WHERE s.id = i.sid AND (s.email = i.email OR s.id = i.email))
    AND NOT EXISTS (SELECT 1 FROM students t WHERE t.id = i.email AND t.id <> i.sid AND t.email IS DISTINCT FROM i.email)
),
batch_student AS (
  SELECT DISTINCT ON (session_token) session_token, sid FROM checked ORDER BY session_token, ord DESC
),
ins AS (
  INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, client_ts, created_at, claimed_email, claimed_name)
  SELECT event_uuid, session_token, sid, event_type, event_data::jsonb, client_ts, created_at, email, name
  FROM checked ORDER BY ord
  ON CONFLICT (event_uuid) DO NOTHING
  RETURNING id, event_uuid, session_token, student_id, event_type, event_data, created_at
),
${SESSION_TAIL}
SELECT event_uuid::text, true AS ok FROM ins
UNION ALL
SELECT event_uuid::text, false FROM input WHERE event_uuid NOT IN (SELECT event_uuid FROM checked)
`;

/**
 * Insert events whose students' ids are given (`sids[i]` for `events[i]`, from the cache). Returns
 * the uuids inserted and the events the statement would not vouch for (to be inserted by the full
 * statement). An event neither inserted nor unverified was a duplicate.
 */
export async function insertKnown(
  sql: Sql,
  events: readonly NewEvent[],
  sids: readonly string[],
): Promise<{ inserted: Set<string>; unverified: NewEvent[] }> {
  const rows = await sql.query<{ event_uuid: string; ok: boolean }>(INSERT_KNOWN, [
    events.map((e) => e.eventUuid),
    events.map((e) => e.sessionToken),
    events.map((e) => e.email),
    events.map((e) => e.name),
    sids,
    events.map((e) => e.eventType),
    events.map((e) => e.eventData),
    events.map((e) => (e.clientTs ? e.clientTs.toISOString() : null)),
    events.map((e) => e.createdAt.toISOString()),
  ], { prepare: 'sl_ingest_known' });
  const inserted = new Set<string>();
  const bad = new Set<string>();
  for (const r of rows) (r.ok ? inserted : bad).add(r.event_uuid);
  return { inserted, unverified: bad.size ? events.filter((e) => bad.has(e.eventUuid)) : [] };
}
