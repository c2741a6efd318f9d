import type { NewEvent } from './new-event.js';

/**
 * The `input` CTE both ingest statements start from: one row per event, from eight parallel arrays
 * and one JSON array of the events' data ($1…$9, built by inputParams), numbered by `ord`.
 * `student` names the fifth column: the id the page sent (insertEvents) or the id the student
 * cache vouches for (insertKnown). `event_data` is jsonb.
 *
 * The data goes in as one JSON document ($7), each event's object as the JSON text it already is:
 * as a ninth text array (until issue 16's profiling), pg and Neon's driver quoted and escaped every
 * object into an array literal, and Postgres parsed that literal and then each object a second time
 * (selecting `input` for 100 events, Node and Postgres: 1.19 -> 1.03 ms). The other columns stay arrays
 * on purpose: `unnest` of an array parameter is what the planner's row estimate for `input` is
 * built on, and a set-returning function's default estimate (100 rows) turned `checked` into a
 * scan of every student per statement in the generic plan (ADR 0021).
 */
export function inputCte(student: 'student_id' | 'sid'): string {
  return `WITH sent AS (
  SELECT t.event_uuid, t.session_token, t.email, t.name, t.${student}, t.event_type, $7::jsonb -> (t.ord::int - 1) AS event_data,
         t.client_ts, t.created_at, t.ord, t.may_write,
         CASE WHEN t.may_write THEN false ELSE (SELECT NOT s.workshop FROM sessions s WHERE s.id = t.session_token) END AS is_foreign
  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $8::timestamptz[], $9::timestamptz[], $10::boolean[]) WITH ORDINALITY
    AS t(event_uuid, session_token, email, name, ${student}, event_type, client_ts, created_at, may_write, ord)
),
${FOREIGN}`;
}

/*
 * Sessions a page did not open (tutoring, explicit, voice) take events only with their write token
 * (lib/sessions/write-token.ts; the route verified it and set `may_write`). `sent.is_foreign` is
 * true for an event without it that names such a session; `input`, which everything after reads,
 * leaves those out, and `refused` lists them for the caller. A token that is no session yet opens a
 * workshop session as before. The check is a scalar subquery per event (a primary-key probe the
 * planner cannot turn into a hash): `s.id = ANY($2)` with IN/NOT IN over the result cost 150 µs of
 * PostgreSQL CPU per single-event statement at 8 connections (bench/statement-cpu.ts), this 15-20.
 */
const FOREIGN = `input AS (
  SELECT * FROM sent WHERE is_foreign IS NOT TRUE
),
refused AS (
  SELECT event_uuid FROM sent WHERE is_foreign
),`;

/** The ten parameters `inputCte` reads; `studentIds[i]` is the fifth column of `events[i]`. */
export function inputParams(events: readonly NewEvent[], studentIds: readonly (string | null)[]): unknown[] {
  return [
    events.map((e) => e.eventUuid),
    events.map((e) => e.sessionToken),
    events.map((e) => e.email),
    events.map((e) => e.name),
    studentIds,
    events.map((e) => e.eventType),
    // Each eventData is the JSON text of an object (validate.ts): the array is their concatenation.
    `[${events.map((e) => e.eventData).join(',')}]`,
    events.map((e) => (e.clientTs ? e.clientTs.toISOString() : null)),
    events.map((e) => e.createdAt.toISOString()),
    events.map((e) => e.writeAllowed === true),
  ];
}

/*
 * The sessions half of the ingest statement, shared by both shapes (ingest.ts INSERT_EVENTS for
 * any event, INSERT_KNOWN below for events whose student is already stored). It reads two CTEs
 * the statement defines before it: `ins` (the events actually inserted) and `batch_student` (per
 * token, the student the batch names). See ingest.ts for why each part is shaped as it is.
 */
const STEP_OK = `IN ('string', 'number', 'boolean')`;
const stepOf = (key: string) => `CASE WHEN jsonb_typeof(event_data->'${key}') ${STEP_OK} THEN left(event_data->>'${key}', 200) END`;
/**
 * A navigation's step is where it goes (`to`), and its name `toStepName`, else the page's `stepName`
 * when its `currentStep` is that same step: a page that logs the move before updating its own
 * context still names the step it left. The Now view reads steps the same way (attention/query.ts).
 */
const NAV_TO = `event_type = 'navigation' AND jsonb_typeof(event_data->'to') IN ('number', 'string')`;
const STEP = `CASE WHEN ${NAV_TO} THEN left(event_data->>'to', 200) ELSE ${stepOf('currentStep')} END`;
const STEP_NAME = `CASE WHEN ${NAV_TO}
  THEN left(COALESCE(event_data->>'toStepName', CASE WHEN event_data->>'currentStep' = event_data->>'to' AND jsonb_typeof(event_data->'stepName') ${STEP_OK} THEN event_data->>'stepName' END), 200)
  ELSE ${stepOf('stepName')} END`;
/**
 * What the events insert returns for the sessions half: the step fields it needs, not the whole
 * `event_data` (every returned row is kept in the CTE's tuplestore until the statement ends).
 */
export const INS_RETURNING = `id, event_uuid, session_token, student_id, event_type, created_at, ${STEP} AS step, ${STEP_NAME} AS step_name`;
/** The workshop session's columns an ingest statement inserts (SESSION_TAIL, ingest-lean.ts). */
export const SESSION_COLUMNS = `(id, student_id, platform, kind, status, started_at, last_activity_at, workshop, event_count, error_count,
                        current_step, step_at, step_name, step_name_at, participants)`;

/** A new workshop session's participants: its student, joined at its first event, if it has one. */
export const participantsOf = (student: string, firstAt: string) => `CASE WHEN ${student} IS NULL THEN '[]'::jsonb
              ELSE jsonb_build_array(jsonb_build_object('id', ${student}, 'role', 'student',
                     'joined_at', to_char(${firstAt} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))) END`;

/**
 * An ingest statement's delta (EXCLUDED) added to a session already stored: counts, times, the
 * latest step, reopen after an end (ingest.ts explains each). Only a workshop session changes.
 */
export const SESSION_ON_CONFLICT = `ON CONFLICT (id) DO UPDATE SET
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
  WHERE sessions.workshop`;

export const SESSION_TAIL = `
named AS (
  SELECT b.session_token, b.sid FROM batch_student b
  JOIN sessions ws ON ws.id = b.session_token AND ws.workshop AND ws.student_id IS NULL
),
attrib AS (
  UPDATE events e SET student_id = (SELECT n.sid FROM named n WHERE n.session_token = e.session_token)
  WHERE EXISTS (SELECT FROM named)
    AND e.session_token = ANY (ARRAY(SELECT session_token FROM named))
    AND COALESCE(e.student_id, '') = ''
),
agg AS (
  SELECT session_token AS id, count(*)::int AS n, (count(*) FILTER (WHERE event_type = 'error'))::int AS errors,
         min(created_at) AS first_at, max(created_at) AS last_at,
         (array_agg(student_id ORDER BY created_at DESC, id DESC) FILTER (WHERE student_id IS NOT NULL))[1] AS student_id,
         (array_agg(step ORDER BY created_at DESC, id DESC) FILTER (WHERE step IS NOT NULL))[1] AS current_step,
         max(created_at) FILTER (WHERE step IS NOT NULL) AS step_at,
         (array_agg(step_name ORDER BY created_at DESC, id DESC) FILTER (WHERE step_name IS NOT NULL))[1] AS step_name,
         max(created_at) FILTER (WHERE step_name IS NOT NULL) AS step_name_at
  FROM ins GROUP BY session_token
),
sess AS (
  INSERT INTO sessions ${SESSION_COLUMNS}
  SELECT a.id, a.student_id, 'web', 'auto', 'active', a.first_at, a.last_at, true, a.n, a.errors,
         a.current_step, a.step_at, a.step_name, a.step_name_at, ${participantsOf('a.student_id', 'a.first_at')}
  FROM agg a ORDER BY a.id
  ${SESSION_ON_CONFLICT}
)`;
