import type { Sql } from '../storage/sql.js';
import type { NewEvent } from './new-event.js';
import { INS_RETURNING, SESSION_TAIL } from './ingest-sql.js';

/*
 * The page-batch statement: what the browser client sends when it flushes a page's queue — several
 * events of one session token from one student the cache already knows (or all anonymous). It
 * does what INSERT_KNOWN (or INSERT_EVENTS, for anonymous events) does for them, but decides once
 * what the usual statements decide per event (ADR 0021, page-batch amendment):
 * - whether the session is another kind's (tutoring, explicit, voice) and the request has no
 *   write token for it (`refused`: then nothing is inserted, and every event is refused);
 * - whether the cached student id is still what the email resolves to (`verified`, the check
 *   INSERT_KNOWN makes per event: else nothing is inserted and the caller sends every event
 *   through the full statement);
 * - for anonymous events, the student the page's workshop session knows (INSERT_EVENTS's `known`).
 * Each is a scalar subquery over parameters only, so Postgres runs it once per statement (an
 * InitPlan) instead of once per event; the per-event columns come from arrays as in
 * inputCte. The session half is SESSION_TAIL itself (naming a session that had no student and
 * attributing its earlier anonymous events included), with `batch_student` the one student.
 * `(SELECT $1::uuid[])` hides the array's length from the planner, as in ingest-lean.ts, so the
 * statement keeps one generic plan.
 */
const INSERT_PAGE = `
WITH v AS (
  SELECT CASE WHEN $10::boolean THEN false ELSE (SELECT NOT s.workshop FROM sessions s WHERE s.id = $2::text) END IS TRUE AS refused,
         $5::text IS NULL
         OR (SELECT s.email = $3::text OR s.id = $3::text FROM students s WHERE s.id = $5::text) IS TRUE
            AND (SELECT x.id <> $5::text AND x.email IS DISTINCT FROM $3::text FROM students x WHERE x.id = $3::text) IS NOT TRUE AS verified
),
ins AS (
  INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, client_ts, created_at, claimed_email, claimed_name)
  SELECT u.event_uuid, $2::text,
         COALESCE($5::text, (SELECT ws.student_id FROM sessions ws JOIN students st ON st.id = ws.student_id WHERE ws.id = $2::text AND ws.workshop)),
         u.event_type, $7::jsonb -> (u.ord::int - 1), u.client_ts, u.created_at, $3::text, $4::text
  FROM unnest((SELECT $1::uuid[]), $6::text[], $8::timestamptz[], $9::timestamptz[]) WITH ORDINALITY AS u(event_uuid, event_type, client_ts, created_at, ord)
  WHERE (SELECT NOT v.refused AND v.verified FROM v)
  ORDER BY u.ord
  ON CONFLICT (event_uuid) DO NOTHING
  RETURNING ${INS_RETURNING}
),
batch_student AS (
  SELECT $2::text AS session_token, $5::text AS sid FROM v WHERE NOT v.refused AND v.verified AND $5::text IS NOT NULL
),
${SESSION_TAIL}
SELECT u.event_uuid::text, NULL AS fate FROM unnest((SELECT $1::uuid[])) u(event_uuid)
WHERE (SELECT NOT v.refused AND v.verified FROM v) AND u.event_uuid NOT IN (SELECT event_uuid FROM ins)
UNION ALL
SELECT NULL, CASE WHEN v.refused THEN 'refused' ELSE 'unverified' END FROM v WHERE v.refused OR NOT v.verified
`;

/**
 * Whether the page-batch statement may carry these events: two or more, one session token, one
 * claimed email and name, no tutoring student id, one write permission. (A single event takes the
 * lean statement.)
 */
export function pageFits(events: readonly NewEvent[]): boolean {
  if (events.length < 2) return false;
  const [first] = events as [NewEvent, ...NewEvent[]];
  if (first.studentId !== null) return false;
  const may = first.writeAllowed === true;
  for (const e of events) {
    if (e.sessionToken !== first.sessionToken || e.email !== first.email || e.name !== first.name || e.studentId !== null || (e.writeAllowed === true) !== may) return false;
  }
  return true;
}

/** The statement's ten parameters: per-event arrays, and what the events share as scalars ($2–$5, $10). */
export function pageParams(events: readonly NewEvent[], sid: string | null): unknown[] {
  const [first] = events as [NewEvent, ...NewEvent[]];
  return [
    events.map((e) => e.eventUuid),
    first.sessionToken,
    first.email,
    first.name,
    sid,
    events.map((e) => e.eventType),
    // Each eventData is the JSON text of an object (validate.ts): the array is their concatenation.
    `[${events.map((e) => e.eventData).join(',')}]`,
    events.map((e) => (e.clientTs ? e.clientTs.toISOString() : null)),
    events.map((e) => e.createdAt.toISOString()),
    first.writeAllowed === true,
  ];
}
/** The SQL types of pageParams, in order (for tests that PREPARE the statement themselves). */
export const PAGE_PARAM_TYPES = ['uuid[]', 'text', 'text', 'text', 'text', 'text[]', 'jsonb', 'timestamptz[]', 'timestamptz[]', 'boolean'] as const;

export type PageOutcome = { fate: 'stored'; inserted: Set<string> } | { fate: 'refused' | 'unverified' };

/**
 * Insert one page's events (pageFits) whose student id is `sid` (the cache's, or null when the
 * events are anonymous). `stored`: the uuids inserted (any other event was a duplicate);
 * `refused`: none inserted, the session may not be written to; `unverified`: none inserted, the
 * cached id is stale (the caller forgets it and takes the full statement).
 */
export async function insertPage(sql: Sql, events: readonly NewEvent[], sid: string | null): Promise<PageOutcome> {
  const rows = await sql.query<{ event_uuid: string | null; fate: 'refused' | 'unverified' | null }>(INSERT_PAGE, pageParams(events, sid), { prepare: 'sl_ingest_page' });
  // The statement names the events it did not insert (duplicates, nearly always none) rather than
  // the hundred it did: fewer rows for Postgres to send and for the driver to parse.
  const skipped = new Set<string>();
  for (const r of rows) {
    if (r.fate) return { fate: r.fate };
    if (r.event_uuid) skipped.add(r.event_uuid);
  }
  const inserted = new Set<string>();
  for (const e of events) if (!skipped.has(e.eventUuid)) inserted.add(e.eventUuid);
  return { fate: 'stored', inserted };
}
