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
 * id for tutoring students) and insert the events, skipping event uuids already stored (the
 * client's eventId makes retries idempotent). Returns the uuids actually inserted.
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
 * Students by email: DO UPDATE (rather than DO NOTHING) so the row comes back from RETURNING even
 * when it already existed — a plain SELECT in the same statement cannot see a row another
 * transaction committed while this one waited on it. DISTINCT ON keeps one row per email, the
 * last non-null name winning, because one statement may not update the same row twice.
 * Students by id (no email) are created if missing and never renamed here.
 */
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
  ON CONFLICT (email) DO UPDATE SET name = COALESCE(EXCLUDED.name, students.name)
  RETURNING id, email
),
by_id AS (
  INSERT INTO students (id)
  SELECT DISTINCT student_id FROM input WHERE email IS NULL AND student_id IS NOT NULL
  ON CONFLICT (id) DO NOTHING
)
INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, client_ts, created_at)
SELECT i.event_uuid, i.session_token, COALESCE(s.id, (SELECT t.id FROM students t WHERE t.id = i.email), i.student_id),
       i.event_type, i.event_data::jsonb, i.client_ts, i.created_at
FROM input i LEFT JOIN by_email s ON s.email = i.email
ORDER BY i.ord
ON CONFLICT (event_uuid) DO NOTHING
RETURNING event_uuid::text
`;
