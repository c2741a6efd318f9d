import type { Sql } from '../storage/sql.js';
import type { NewEvent } from './new-event.js';
import { INS_RETURNING, inputParams, participantsOf, SESSION_COLUMNS, SESSION_ON_CONFLICT } from './ingest-sql.js';

/*
 * The lean statement: what group commit sends most of the time — a few single events, each of a
 * different page (session token), each either from a student the cache already knows or anonymous
 * (no email, no student id). It does what the usual statements do for such events (INSERT_KNOWN,
 * and INSERT_EVENTS for an anonymous one) in a fraction of their PostgreSQL CPU (ADR 0021, last
 * amendment): no CTE per step, no aggregate per session (one event per token, so each inserted
 * row is its session's whole delta). It answers which events it inserted and which it left; an
 * event it passed that is neither was already stored (a duplicate, one statement as before).
 *
 * An anonymous event is filed under the student its page's workshop session knows (if that
 * student is still stored), as INSERT_EVENTS's `known` does.
 *
 * Anything it does not handle it leaves alone (`ok` false), uninserted, for the caller to send
 * through the usual statements, which decide its fate as before:
 * - an event whose cached student id fails the same check INSERT_KNOWN makes (unverified);
 * - an event into a session another kind of request opened (tutoring, explicit, voice) without
 *   its write token (refused there), and a known student's event into a workshop session that has
 *   no student yet (the usual statement names the session's student and attributes its earlier
 *   events).
 * The session upsert is SESSION_TAIL's (the same columns, participants and conflict arm), row by row: the caller guarantees distinct tokens, so no
 * session row is touched twice, and rows lock in token order as there.
 *
 * Each check is a scalar subquery on a primary key, not EXISTS: the planner may turn an EXISTS into
 * a hash join over a scan of the whole table, and a prepared statement keeps the generic plan made
 * when the table was small (tests/integration/ingest-plan.test.ts). So the plan has one shape,
 * whatever the row estimates, and Postgres should plan it once: `(SELECT $1::uuid[])` hides the
 * array's length from the planner, so a custom plan estimates the input as a generic one does.
 * Otherwise each custom plan, costed for the few events it knew of, looked cheaper than the generic
 * one, and Postgres planned the statement again on every execution (pg_prepared_statements: 0
 * generic, 229 custom plans; single events at 8 connections 0.47× → 0.35×).
 */
const INSERT_LEAN = `
WITH t AS (
  SELECT u.*,
         (SELECT CASE WHEN s.workshop THEN u.sid IS NOT NULL AND s.student_id IS NULL ELSE NOT u.may_write END FROM sessions s WHERE s.id = u.session_token) IS NOT TRUE
         AND (u.sid IS NULL OR (SELECT s.email = u.email OR s.id = u.email FROM students s WHERE s.id = u.sid) IS TRUE)
         AND (SELECT x.id <> u.sid AND x.email IS DISTINCT FROM u.email FROM students x WHERE x.id = u.email) IS NOT TRUE AS ok
  FROM unnest((SELECT $1::uuid[]), $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $8::timestamptz[], $9::timestamptz[], $10::boolean[]) WITH ORDINALITY
    AS u(event_uuid, session_token, email, name, sid, event_type, client_ts, created_at, may_write, ord)
),
ins AS (
  INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, client_ts, created_at, claimed_email, claimed_name)
  SELECT t.event_uuid, t.session_token,
         COALESCE(t.sid, (SELECT ws.student_id FROM sessions ws JOIN students st ON st.id = ws.student_id WHERE ws.id = t.session_token AND ws.workshop)),
         t.event_type, $7::jsonb -> (t.ord::int - 1), t.client_ts, t.created_at, t.email, t.name
  FROM t WHERE t.ok
  ORDER BY t.ord
  ON CONFLICT (event_uuid) DO NOTHING
  RETURNING ${INS_RETURNING}
),
sess AS (
  INSERT INTO sessions ${SESSION_COLUMNS}
  SELECT i.session_token, i.student_id, 'web', 'auto', 'active', i.created_at, i.created_at, true, 1, (i.event_type = 'error')::int,
         i.step, CASE WHEN i.step IS NOT NULL THEN i.created_at END, i.step_name, CASE WHEN i.step_name IS NOT NULL THEN i.created_at END,
         ${participantsOf('i.student_id', 'i.created_at')}
  FROM ins i ORDER BY i.session_token
  ${SESSION_ON_CONFLICT}
)
SELECT event_uuid::text, true AS inserted FROM ins
UNION ALL
SELECT event_uuid::text, false FROM t WHERE NOT t.ok
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
 * Insert events whose students' ids are given (`sids[i]` for `events[i]`: the cache's, or null
 * for an anonymous event; cachedOrAnonymous in student-cache.ts), each of a different session (leanFits). Returns the
 * uuids inserted and the events left for the usual statements (see INSERT_LEAN); any other event
 * was a duplicate of one already stored.
 */
export async function insertLean(sql: Sql, events: readonly NewEvent[], sids: readonly (string | null)[]): Promise<{ inserted: Set<string>; left: NewEvent[] }> {
  const rows = await sql.query<{ event_uuid: string; inserted: boolean }>(INSERT_LEAN, inputParams(events, sids), { prepare: 'sl_ingest_lean' });
  const inserted = new Set<string>();
  const left = new Set<string>();
  for (const r of rows) (r.inserted ? inserted : left).add(r.event_uuid);
  return { inserted, left: left.size ? events.filter((e) => left.has(e.eventUuid)) : [] };
}
