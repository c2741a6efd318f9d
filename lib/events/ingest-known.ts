import type { Sql } from '../storage/sql.js';
import type { NewEvent } from './new-event.js';
import { INS_RETURNING, inputCte, inputParams, SESSION_TAIL } from './ingest-sql.js';

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
${inputCte('sid')}
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
  SELECT event_uuid, session_token, sid, event_type, event_data, client_ts, created_at, email, name
  FROM checked ORDER BY ord
  ON CONFLICT (event_uuid) DO NOTHING
  RETURNING ${INS_RETURNING}
),
${SESSION_TAIL}
SELECT event_uuid::text, 'inserted' AS fate FROM ins
UNION ALL
SELECT event_uuid::text, 'unverified' FROM input WHERE event_uuid NOT IN (SELECT event_uuid FROM checked)
UNION ALL
SELECT event_uuid::text, 'refused' FROM refused
`;

/**
 * Insert events whose students' ids are given (`sids[i]` for `events[i]`, from the cache). Returns
 * the uuids inserted, those refused (a session the request may not write to, ingest-sql.ts) and
 * the events the statement would not vouch for (to be inserted by the full statement). An event
 * in none of these was a duplicate.
 */
export async function insertKnown(
  sql: Sql,
  events: readonly NewEvent[],
  sids: readonly string[],
): Promise<{ inserted: Set<string>; refused: Set<string>; unverified: NewEvent[] }> {
  const rows = await sql.query<{ event_uuid: string; fate: 'inserted' | 'unverified' | 'refused' }>(INSERT_KNOWN, inputParams(events, sids), { prepare: 'sl_ingest_known' });
  const inserted = new Set<string>();
  const refused = new Set<string>();
  const bad = new Set<string>();
  for (const r of rows) (r.fate === 'inserted' ? inserted : r.fate === 'refused' ? refused : bad).add(r.event_uuid);
  return { inserted, refused, unverified: bad.size ? events.filter((e) => bad.has(e.eventUuid)) : [] };
}
