import type { NewEvent } from './new-event.js';

/**
 * The `input` CTE both ingest statements start from: one row per event, from one JSON array ($1,
 * built by inputParams), numbered by `ord`. `student` names the fifth column: the id the page sent
 * (insertEvents) or the id the student cache vouches for (insertKnown). `event_data` is jsonb.
 *
 * One JSON document rather than nine parallel arrays (as until issue 16's profiling): pg and Neon's
 * driver turn a JS array into an array literal, quoting and escaping every element (event_data's
 * JSON twice over), which was a tenth of the server's CPU on a 100-event batch; here each event's
 * data goes in as the JSON text it already is, and Postgres parses the document once.
 */
export function inputCte(student: 'student_id' | 'sid'): string {
  return `WITH input AS (
  SELECT (r->>'u')::uuid AS event_uuid, r->>'t' AS session_token, r->>'e' AS email, r->>'n' AS name, r->>'s' AS ${student},
         r->>'y' AS event_type, r->'d' AS event_data, (r->>'c')::timestamptz AS client_ts, (r->>'a')::timestamptz AS created_at, ord
  FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS j(r, ord)
),`;
}

const str = (v: string | null): string => (v === null ? 'null' : JSON.stringify(v));

/** The one parameter `inputCte` reads; `studentIds[i]` is the fifth column of `events[i]`. */
export function inputParams(events: readonly NewEvent[], studentIds: readonly (string | null)[]): unknown[] {
  const rows = events.map(
    (e, i) =>
      `{"u":${str(e.eventUuid)},"t":${str(e.sessionToken)},"e":${str(e.email)},"n":${str(e.name)},"s":${str(studentIds[i] ?? null)},` +
      `"y":${str(e.eventType)},"d":${e.eventData},"c":${str(e.clientTs ? e.clientTs.toISOString() : null)},"a":${str(e.createdAt.toISOString())}}`,
  );
  return [`[${rows.join(',')}]`];
}

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
  WHERE EXISTS (SELECT FROM named)
    AND e.session_token = ANY (ARRAY(SELECT session_token FROM named))
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
