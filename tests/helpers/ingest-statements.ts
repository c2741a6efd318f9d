/**
 * What the ingest-statement tests share: telling the statements apart by shape, counting the ones
 * an Sql passes on, numbered test events, and the columns two databases are compared on.
 */
import type { NewEvent } from '../../lib/events/new-event.js';
import type { Sql } from '../../lib/storage/sql.js';

export type IngestShape = 'full' | 'known' | 'lean' | 'page';

/** Which ingest statement `text` is (by the clause only it has), or undefined for any other statement. */
export function ingestShape(text: string): IngestShape | undefined {
  if (!text.includes('INSERT INTO events')) return undefined;
  if (text.includes('checked AS')) return 'known';
  if (text.includes('by_email AS')) return 'full';
  if (text.includes('FROM t WHERE t.ok')) return 'lean';
  if (text.includes('WITH v AS')) return 'page';
  return undefined;
}

/** The Sql `inner` is, calling `count` with the shape of each ingest statement it passes on. */
export function countingSql(inner: Sql, count: (shape: IngestShape) => void): Sql {
  return {
    driver: inner.driver,
    query(text, params, opts) {
      const shape = ingestShape(text);
      if (shape) count(shape);
      return inner.query(text, params, opts);
    },
    batch: (statements) => inner.batch(statements),
    close: () => inner.close(),
  };
}

/** A time on the tests' fixed day. */
export const at = (iso: string) => new Date(`2026-11-02T${iso}Z`);

let n = 0;
/** A workshop event with the next of a run of fixed uuids (so both databases store the same rows). */
export const ev = (sessionToken: string, email: string | null, createdAt: Date, data: Record<string, unknown> = {}, more: Partial<NewEvent> = {}): NewEvent => ({
  eventUuid: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  sessionToken,
  email,
  name: null,
  studentId: null,
  eventType: 'action',
  eventData: JSON.stringify(data),
  clientTs: null,
  createdAt,
  ...more,
});

const SESSION_COLUMNS = 'id, student_id, platform, kind, status, started_at, last_activity_at, ended_at, end_reason, workshop, event_count, error_count, current_step, step_at, step_name, step_name_at, participants';
const EVENT_COLUMNS = 'event_uuid, session_token, student_id, event_type, event_data, client_ts, created_at, claimed_email, claimed_name';

/** Every session and event column an ingest statement writes (and the students, when asked). */
export async function ingestState(sql: Sql, o: { students?: boolean } = {}) {
  return {
    sessions: await sql.query(`SELECT ${SESSION_COLUMNS} FROM sessions ORDER BY id`),
    events: await sql.query(`SELECT ${EVENT_COLUMNS} FROM events ORDER BY event_uuid`),
    ...(o.students ? { students: await sql.query('SELECT id, email, name FROM students ORDER BY id') } : {}),
  };
}
