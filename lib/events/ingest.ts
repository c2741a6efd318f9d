import type { Sql } from '../storage/sql.js';
import type { NewEvent } from './new-event.js';
import { insertKnown } from './ingest-known.js';
import { insertLean, leanFits } from './ingest-lean.js';
import { insertPage, pageFits } from './ingest-page.js';
import { INS_RETURNING, inputCte, inputParams, SESSION_TAIL } from './ingest-sql.js';
import { cachedOrAnonymous, knownStudents, rememberStudents, type StudentCache, studentCacheFor } from './student-cache.js';

export type { NewEvent } from './new-event.js';

/**
 * What became of the events: `inserted` were stored now, `refused` name a session the request may
 * not write to (no valid write token, ingest-sql.ts); every other one was already stored (its
 * eventId is a duplicate).
 */
export interface IngestOutcome {
  inserted: Set<string>;
  refused: Set<string>;
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
 * Returns the uuids actually inserted, and those refused (IngestOutcome).
 *
 * When every event's student is in the student cache (student-cache.ts), the lighter statement of
 * ingest-known.ts goes instead, still one round trip; a stale cache entry costs a second one. When
 * besides each event is of its own session (group commit's usual statement), the leaner one of
 * ingest-lean.ts goes first, and the events it leaves (rare) take the usual way. One page's batch
 * (one token, student and write permission: the browser client's flush) whose student the cache
 * knows, or which is anonymous, takes ingest-page.ts, which checks once per batch; a stale cache
 * entry sends it through the full statement.
 *
 * Only the public ingest path (POST /api/session-log) calls this: every call makes or updates a
 * workshop session (id = token, platform `web`). Session records written by other code paths
 * (interactions, transcripts, Vapi, the sweep) insert their events themselves and make no web session.
 */
export async function insertEvents(sql: Sql, events: readonly NewEvent[]): Promise<IngestOutcome> {
  if (events.length === 0) return { inserted: new Set(), refused: new Set() };
  const cache = studentCacheFor(sql);
  const pageSid = pageStudent(cache, events);
  if (pageSid !== undefined) {
    // One page's batch (the browser client's flush): one statement that checks once per batch.
    try {
      const page = await insertPage(sql, events, pageSid);
      if (page.fate === 'stored') return { inserted: page.inserted, refused: new Set() };
      if (page.fate === 'refused') return { inserted: new Set(), refused: new Set(events.map((e) => e.eventUuid)) };
    } catch (err) {
      // 23503: a student erased after the statement's snapshot checked it (as in insertUsual).
      if ((err as { code?: string }).code !== '23503') throw err;
    }
    // The cached student is stale (or was erased meanwhile): the full statement resolves it anew.
    forget(cache, events);
    return insertFull(sql, events, cache);
  }
  const sids = leanFits(events) ? cachedOrAnonymous(cache, events) : null;
  if (sids) {
    // Most of group commit's statements: the lean one, then the usual ones for whatever it left.
    let lean: Awaited<ReturnType<typeof insertLean>>;
    try {
      lean = await insertLean(sql, events, sids);
    } catch (err) {
      // 23503: a student erased after the statement's snapshot checked it (as in insertUsual).
      if ((err as { code?: string }).code !== '23503') throw err;
      forget(cache, events);
      return insertUsual(sql, events, cache);
    }
    if (lean.left.length === 0) return { inserted: lean.inserted, refused: new Set() };
    const more = await insertUsual(sql, lean.left, cache);
    for (const uuid of more.inserted) lean.inserted.add(uuid);
    return { inserted: lean.inserted, refused: more.refused };
  }
  return insertUsual(sql, events, cache);
}

/**
 * The known-student statement when the cache knows every student, else the full one (exported for
 * tests/unit/ingest-lean.test.ts, which holds the lean statement to it).
 */
export async function insertUsual(sql: Sql, events: readonly NewEvent[], cache: StudentCache): Promise<IngestOutcome> {
  const sids = knownStudents(cache, events);
  if (sids) {
    try {
      const { inserted, refused, unverified } = await insertKnown(sql, events, sids);
      if (unverified.length === 0) return { inserted, refused };
      // The cache was stale (student erased, email moved): those events take the full statement,
      // which recreates or re-resolves the student exactly as on a first visit.
      forget(cache, unverified);
      const rest = await insertFull(sql, unverified, cache);
      for (const uuid of rest.inserted) inserted.add(uuid);
      for (const uuid of rest.refused) refused.add(uuid);
      return { inserted, refused };
    } catch (err) {
      // 23503: the student was erased after the statement's snapshot checked it. Forget the
      // cached ids and take the full path, which recreates the student.
      if ((err as { code?: string }).code !== '23503') throw err;
      forget(cache, events);
    }
  }
  return insertFull(sql, events, cache);
}

/**
 * For one page's batch (pageFits): its student's cached id, or null when its events are
 * anonymous. Undefined when the page-batch statement does not apply: not such a batch, or a
 * student the cache does not know yet.
 */
function pageStudent(cache: StudentCache, events: readonly NewEvent[]): string | null | undefined {
  if (!pageFits(events)) return undefined;
  const { email } = events[0] as NewEvent;
  return email === null ? null : cache.get(email);
}

/** Drop the cached students of these events: the database said an entry is stale. */
function forget(cache: StudentCache, events: readonly NewEvent[]): void {
  for (const e of events) if (e.email !== null) cache.delete(e.email);
}

async function insertFull(sql: Sql, events: readonly NewEvent[], cache: StudentCache): Promise<IngestOutcome> {
  try {
    return await insertOnce(sql, events, cache);
  } catch (err) {
    // Two requests creating the same new student race on the students primary key, which the
    // email ON CONFLICT arbiter does not cover (23505). The retry sees the committed row and takes
    // the conflict path. Event uuids cannot raise 23505: their conflicts are DO NOTHING. 23503: a
    // student erased between this statement's snapshot and its insert; the retry recreates it.
    // 40P01: a deadlock victim was rolled back whole, so running it again is safe.
    const code = (err as { code?: string }).code;
    if (code !== '23505' && code !== '23503' && code !== '40P01') throw err;
    return insertOnce(sql, events, cache);
  }
}

async function insertOnce(sql: Sql, events: readonly NewEvent[], cache: StudentCache): Promise<IngestOutcome> {
  const rows = await sql.query<{ event_uuid: string; student_id: string | null; refused: boolean }>(
    INSERT_EVENTS,
    inputParams(events, events.map((e) => e.studentId)),
    { prepare: 'sl_ingest_events' },
  );
  const out: IngestOutcome = { inserted: new Set(), refused: new Set() };
  for (const r of rows) (r.refused ? out.refused : out.inserted).add(r.event_uuid);
  rememberStudents(cache, events, rows);
  return out;
}

/*
 * Students by email: a public page may introduce a new student (inserted with the name it gives)
 * but never renames, re-links or otherwise edits an existing one — an admin's PUT /api/students
 * must stand (issue 12). The conflict arm is therefore a no-op `SET name = students.name`: DO
 * UPDATE (rather than DO NOTHING) only so the row comes back from RETURNING even when it already
 * existed — a plain SELECT in the same statement cannot see a row another transaction committed
 * while this one waited on it. It sets `name`, not `email`: naming a key column (email is unique)
 * makes ON CONFLICT lock the row FOR UPDATE, which blocks the events foreign-key checks
 * (FOR KEY SHARE) of every other statement filing an event under that student; two statements
 * with two students each then deadlocked (40P01) once group commit put several students in one
 * statement. FOR NO KEY UPDATE does not conflict with KEY SHARE. DISTINCT ON keeps one row per email, the last non-null name winning
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
 *   `EXISTS (SELECT FROM named)` holds no column of `events`, so the planner makes it a one-time
 *   filter above the scan: with no session to name (nearly every statement) the scan never starts.
 *   Without it, a prepared statement's generic plan built while `events` was small (a fresh
 *   database, or right after a TRUNCATE) seq-scanned all of `events` on every ingest, and kept
 *   doing so as the table grew (ADR 0021).
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
const INSERT_EVENTS = `
${inputCte('student_id')}
by_email AS (
  INSERT INTO students (id, email, name)
  SELECT DISTINCT ON (email) email, email, name FROM input i
  WHERE email IS NOT NULL
    -- A tutoring student whose id is this email (and who has no such email row) is that student.
    AND NOT EXISTS (SELECT 1 FROM students s WHERE s.id = i.email AND s.email IS DISTINCT FROM i.email)
  ORDER BY email, (name IS NULL), ord DESC
  ON CONFLICT (email) DO UPDATE SET name = students.name
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
         r.event_type, r.event_data, r.client_ts, r.created_at, r.email, r.name
  FROM resolved r LEFT JOIN known k ON k.id = r.session_token LEFT JOIN batch_student b ON b.session_token = r.session_token
  ORDER BY r.ord
  ON CONFLICT (event_uuid) DO NOTHING
  RETURNING ${INS_RETURNING}
),
${SESSION_TAIL}
SELECT event_uuid::text, student_id, false AS refused FROM ins
UNION ALL
SELECT event_uuid::text, NULL, true FROM refused
`;
