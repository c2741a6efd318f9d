import type { Sql } from '../storage/sql.js';
import type { NewEvent } from './new-event.js';
import { INS_RETURNING, inputParams } from './ingest-sql.js';

/*
 * The lean statement: what group commit sends most of the time — a few single events, each of a
 * different page (session token), each from a student the cache already knows. It does what
 * INSERT_KNOWN does for such events, in about three quarters of its PostgreSQL CPU (ADR 0021,
 * last amendment): no CTE per step, no aggregate per session (one event per token, so each
 * inserted row is its session's whole delta), and only the inserted uuids come back.
 *
 * Anything it does not handle it leaves alone, uninserted, for the caller to send through the
 * usual statements, which decide its fate as before:
 * - an event whose cached student id fails the same check INSERT_KNOWN makes (unverified);
 * - an event into a session another kind of request opened (tutoring, explicit, voice) without
 *   its write token (refused there), and one into a workshop session that has no student yet
 *   (the usual statement names the session's student and attributes its earlier events);
 * - an event uuid already stored (a duplicate there).
 * The session upsert is SESSION_TAIL's, row by row: the caller guarantees distinct tokens, so no
 * session row is touched twice, and rows lock in token order as there.
 *
 * Each check is a scalar subquery on a primary key, not EXISTS: the planner may turn an EXISTS into
 * a hash join over a scan of the whole table, and a prepared statement keeps the generic plan made
 * when the table was small (tests/integration/ingest-plan.test.ts). So the plan has one shape,
 * whatever the row estimates, and Postgres should plan it once: `(SELECT $1::uuid[])` hides the
 * array's length from the planner, so a custom plan estimates the input as a generic one does. Otherwise each custom plan, costed for the few events it knew of, looked
 * cheaper than the generic one, and Postgres planned the statement again on every execution
 * (pg_prepared_statements: 0 generic, 229 custom plans; single events at 8 connections 0.47× → 0.35×).
 */
const INSERT_LEAN = `
WITH t AS (
  SELECT * FROM unnest((SELECT $1::uuid[]), $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $8::timestamptz[], $9::timestamptz[], $10::boolean[]) WITH ORDINALITY
    AS t(event_uuid, session_token, email, name, sid, event_type, client_ts, created_at, may_write, ord)
),
ins AS (
  INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, client_ts, created_at, claimed_email, claimed_name)
  SELECT t.event_uuid, t.session_token, t.sid, t.event_type, $7::jsonb -> (t.ord::int - 1), t.client_ts, t.created_at, t.email, t.name
  FROM t
  WHERE (SELECT CASE WHEN s.workshop THEN s.student_id IS NULL ELSE NOT t.may_write END FROM sessions s WHERE s.id = t.session_token) IS NOT TRUE
    AND (SELECT s.email = t.email OR s.id = t.email FROM students s WHERE s.id = t.sid) IS TRUE
    AND (SELECT x.id <> t.sid AND x.email IS DISTINCT FROM t.email FROM students x WHERE x.id = t.email) IS NOT TRUE
  ORDER BY t.ord
  ON CONFLICT (event_uuid) DO NOTHING
  RETURNING ${INS_RETURNING}
),
sess AS (
  INSERT INTO sessions AS cur (id, student_id, platform, kind, status, started_at, last_activity_at, workshop, event_count, error_count,
                               current_step, step_at, step_name, step_name_at, participants)
  SELECT i.session_token, i.student_id, 'web', 'auto', 'active', i.created_at, i.created_at, true, 1, (i.event_type = 'error')::int,
         i.step, CASE WHEN i.step IS NOT NULL THEN i.created_at END, i.step_name, CASE WHEN i.step_name IS NOT NULL THEN i.created_at END,
         jsonb_build_array(jsonb_build_object('id', i.student_id, 'role', 'student',
           'joined_at', to_char(i.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
  FROM ins i ORDER BY i.session_token
  ON CONFLICT (id) DO UPDATE SET
    student_id = COALESCE(cur.student_id, EXCLUDED.student_id),
    participants = CASE WHEN cur.student_id IS NULL THEN EXCLUDED.participants ELSE cur.participants END,
    started_at = LEAST(cur.started_at, EXCLUDED.started_at),
    last_activity_at = GREATEST(cur.last_activity_at, EXCLUDED.last_activity_at),
    event_count = cur.event_count + EXCLUDED.event_count,
    error_count = cur.error_count + EXCLUDED.error_count,
    current_step = CASE WHEN EXCLUDED.step_at >= cur.step_at OR cur.step_at IS NULL AND EXCLUDED.step_at IS NOT NULL
                        THEN EXCLUDED.current_step ELSE cur.current_step END,
    step_at = GREATEST(cur.step_at, EXCLUDED.step_at),
    step_name = CASE WHEN EXCLUDED.step_name_at >= cur.step_name_at OR cur.step_name_at IS NULL AND EXCLUDED.step_name_at IS NOT NULL
                     THEN EXCLUDED.step_name ELSE cur.step_name END,
    step_name_at = GREATEST(cur.step_name_at, EXCLUDED.step_name_at),
    status = CASE WHEN EXCLUDED.last_activity_at > cur.ended_at THEN 'active' ELSE cur.status END,
    end_reason = CASE WHEN EXCLUDED.last_activity_at > cur.ended_at THEN NULL ELSE cur.end_reason END,
    ended_at = CASE WHEN EXCLUDED.last_activity_at > cur.ended_at THEN NULL ELSE cur.ended_at END,
    updated_at = now()
  WHERE cur.workshop
)
SELECT event_uuid::text FROM ins
`;

/** Whether the lean statement may carry these events: each of its own session token. */
export function leanFits(events: readonly NewEvent[]): boolean {
  if (events.length === 1) return true;
  const tokens = new Set<string>();
  for (const e of events) {
    if (tokens.has(e.sessionToken)) return false;
    tokens.add(e.sessionToken);
  }
  return true;
}

/**
 * Insert events whose students' ids the cache gives (`sids[i]` for `events[i]`), each of a
 * different session (leanFits). Returns the uuids inserted; the rest were left for the usual
 * statements (see INSERT_LEAN).
 */
export async function insertLean(sql: Sql, events: readonly NewEvent[], sids: readonly string[]): Promise<Set<string>> {
  const rows = await sql.query<{ event_uuid: string }>(INSERT_LEAN, inputParams(events, sids), { prepare: 'sl_ingest_lean' });
  return new Set(rows.map((r) => r.event_uuid));
}
