import type { Sql } from '../storage/sql.js';

/** An event ready to store: validated, times resolved, data serialised. */
export interface NewEvent {
  eventUuid: string;
  sessionToken: string;
  /** Lowercased email of a workshop student, or null. */
  email: string | null;
  name: string | null;
  /** A student id known without an email (tutoring ids like `emma_smith`), or null. */
  studentId: string | null;
  eventType: string;
  /** JSON text of an object. */
  eventData: string;
  clientTs: Date | null;
  createdAt: Date;
}

/** Client timestamps further ahead than this are not trusted as "the past". */
const MAX_CLIENT_LEAD_MS = 0;
/** Nor further back than this (queued offline for a year is the most we believe). */
const MAX_CLIENT_LAG_MS = 366 * 86_400_000;

/**
 * The stored event time. With both `timestamp` and `sentAt` we correct the client's clock the way
 * Segment does: stored = received − (sentAt − timestamp), so a phone whose clock is an hour off
 * still lands in the right place. With only `timestamp` we trust it. Never in the future.
 */
export function eventTime(receivedAt: Date, timestamp?: string | number, sentAt?: string | number): Date {
  const received = receivedAt.getTime();
  if (timestamp === undefined) return receivedAt;
  const ts = new Date(timestamp).getTime();
  let t = ts;
  if (sentAt !== undefined) t = received - (new Date(sentAt).getTime() - ts);
  if (!Number.isFinite(t) || t > received + MAX_CLIENT_LEAD_MS) t = received;
  // A skew correction cannot move an event further back than a year: that is a broken clock.
  if (t < received - MAX_CLIENT_LAG_MS) t = received - MAX_CLIENT_LAG_MS;
  return new Date(t);
}

/**
 * Store events in ONE round trip: one statement whose CTEs upsert the students (by email, or by
 * id for tutoring students), insert the events, skipping event uuids already stored (the
 * client's eventId makes retries idempotent), and keep each token's workshop session current.
 * Returns the uuids actually inserted.
 *
 * Only the public ingest path (POST /api/session-log) calls this: every call makes or updates a
 * workshop session (id = token, platform `web`). Session records written by other code paths
 * (interactions, transcripts, Vapi, the sweep) insert their events themselves and make no web session.
 */
export async function insertEvents(sql: Sql, events: readonly NewEvent[]): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  try {
    return await insertOnce(sql, events);
  } catch (err) {
    // Two requests creating the same new student race on the students primary key, which the
    // email ON CONFLICT arbiter does not cover (23505). The retry sees the committed row and takes
    // the conflict path. Event uuids cannot raise 23505: their conflicts are DO NOTHING.
    if ((err as { code?: string }).code !== '23505') throw err;
    return insertOnce(sql, events);
  }
}

async function insertOnce(sql: Sql, events: readonly NewEvent[]): Promise<Set<string>> {
  const rows = await sql.query<{ event_uuid: string }>(INSERT_EVENTS, [
    events.map((e) => e.eventUuid),
    events.map((e) => e.sessionToken),
    events.map((e) => e.email),
    events.map((e) => e.name),
    events.map((e) => e.studentId),
    events.map((e) => e.eventType),
    events.map((e) => e.eventData),
    events.map((e) => (e.clientTs ? e.clientTs.toISOString() : null)),
    events.map((e) => e.createdAt.toISOString()),
  ]);
  return new Set(rows.map((r) => r.event_uuid));
}

/*
 * Students by email: a public page may introduce a new student (inserted with the name it gives)
 * but never renames, re-links or otherwise edits an existing one — an admin's PUT /api/students
 * must stand (issue 12). The conflict arm is therefore a no-op `SET email = students.email`: DO
 * UPDATE (rather than DO NOTHING) only so the row comes back from RETURNING even when it already
 * existed — a plain SELECT in the same statement cannot see a row another transaction committed
 * while this one waited on it. DISTINCT ON keeps one row per email, the last non-null name winning
 * for a new student, because one statement may not update the same row twice. What the page
 * claimed (email and name as sent) is kept on each event (claimed_email, claimed_name).
 * Students by id (no email) are created if missing and never renamed here.
 *
 * Workshop sessions (one row per token, kept by this statement so ingest stays one round trip):
 * - An event without an email is the student's when the token's workshop session knows its student
 *   (`known`, as of the statement's start) or, failing that, when the batch names one for the token
 *   (`batch_student`), so a student's export is complete. When a batch first names the student of
 *   a session that had none (`named`, almost always empty), the session's earlier anonymous events
 *   are attributed too (`attrib`). Its shape pins the plan: `= ANY (ARRAY(...))` walks only those
 *   tokens' events_session_time ranges, and COALESCE keeps `student_id IS NULL` out of reach of the
 *   events_student_time index — with a plain join the planner started from every anonymous event in
 *   the log (250 ms per ingest with 140,000 of them; faults-postgres' flapping test caught it).
 * - Counts come from `ins`, i.e. only events actually inserted: duplicates skipped by eventId never count.
 * - ON CONFLICT DO UPDATE adds the counts and takes GREATEST of last activity, so concurrent batches
 *   on one token both land (the second waits on the row lock and adds to what the first committed).
 * - current_step/step_name come from the latest event by event time that carries them; a batch
 *   only replaces them when its event is not older than the stored one (offline queues arrive late).
 * - `WHERE sessions.workshop`: a token equal to another kind of session's id (tutoring, explicit,
 *   voice) never converts that session; its events are stored and read through the token as before.
 * - Reopen: id = token, so a token that posts again after its session ended (timeout, or ended
 *   through the API) with an event later than the end continues the same session: active again.
 * - No session_started record is written: the event log of a token holds what its page posted
 *   (GET /api/session-log and exports read it), so the first posted event opens the timeline.
 * Rows are inserted ORDER BY id so two multi-token batches lock sessions in the same order.
 */
const STEP_OK = `IN ('string', 'number', 'boolean')`;
const INSERT_EVENTS = `
WITH input AS (
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                       $7::text[], $8::timestamptz[], $9::timestamptz[]) WITH ORDINALITY
    AS t(event_uuid, session_token, email, name, student_id, event_type, event_data, client_ts, created_at, ord)
),
by_email AS (
  INSERT INTO students (id, email, name)
  SELECT DISTINCT ON (email) email, email, name FROM input i
  WHERE email IS NOT NULL
    -- A tutoring student whose id is this email (and who has no such email row) is that student.
    AND NOT EXISTS (SELECT 1 FROM students s WHERE s.id = i.email AND s.email IS DISTINCT FROM i.email)
  ORDER BY email, (name IS NULL), ord DESC
  ON CONFLICT (email) DO UPDATE SET email = students.email
  RETURNING id, email
),
by_id AS (
  INSERT INTO students (id)
  SELECT DISTINCT student_id FROM input WHERE email IS NULL AND student_id IS NOT NULL
  ON CONFLICT (id) DO NOTHING
),
resolved AS (
  SELECT i.*, COALESCE(s.id, (SELECT t.id FROM students t WHERE t.id = i.email), i.student_id) AS sid
  FROM input i LEFT JOIN by_email s ON s.email = i.email
),
batch_student AS (
  SELECT DISTINCT ON (session_token) session_token, sid FROM resolved WHERE sid IS NOT NULL ORDER BY session_token, ord DESC
),
known AS (
  SELECT ws.id, ws.student_id FROM sessions ws JOIN students st ON st.id = ws.student_id
  WHERE ws.id IN (SELECT session_token FROM input) AND ws.workshop
),
ins AS (
  INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, client_ts, created_at, claimed_email, claimed_name)
  SELECT r.event_uuid, r.session_token, COALESCE(r.sid, k.student_id, b.sid),
         r.event_type, r.event_data::jsonb, r.client_ts, r.created_at, r.email, r.name
  FROM resolved r LEFT JOIN known k ON k.id = r.session_token LEFT JOIN batch_student b ON b.session_token = r.session_token
  ORDER BY r.ord
  ON CONFLICT (event_uuid) DO NOTHING
  RETURNING id, event_uuid, session_token, student_id, event_type, event_data, created_at
),
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
)
SELECT event_uuid::text FROM ins
`;
