import { paramList, type Sql } from '../storage/sql.js';
import { StoredEvent } from '../schemas/event.js';
import type { Cursor } from './cursor.js';

export { type Cursor, decodeEventCursor, encodeEventCursor } from './cursor.js';

export interface EventFilter {
  sessionToken?: string | undefined;
  studentEmail?: string | undefined;
  studentId?: string | undefined;
  eventType?: string | undefined;
  /** Error events whose errorType, named as the top errors name it (ERROR_TYPE), is this. */
  errorType?: string | undefined;
  /** Session tokens starting with this (one workshop). */
  tokenPrefix?: string | undefined;
  /** Inclusive. */
  since?: Date | undefined;
  /** Exclusive. */
  until?: Date | undefined;
  order: 'asc' | 'desc';
}

interface EventRow {
  id: string;
  event_id: string;
  session_token: string;
  event_type: string;
  event_data: Record<string, unknown>;
  created_at: Date | string;
  student_id: string | null;
  student_email: string | null;
  student_name: string | null;
  claimed_email: string | null;
  claimed_name: string | null;
}

/**
 * An error event's type as GET /api/attention, /api/session-log/stats and the alert rules name it:
 * its errorType (the first 200 characters), '(unspecified)' when it gave none.
 */
const ERROR_TYPE = `COALESCE(NULLIF(left(e.event_data->>'errorType', 200), ''), '(unspecified)')`;

/** What every event read selects (events `e` joined to students `s`): one list, so no reader lacks a field. */
const EVENT_COLUMNS = `e.id::text AS id, e.event_uuid::text AS event_id, e.session_token, e.event_type, e.event_data,
  e.created_at, e.student_id, s.email AS student_email, s.name AS student_name, e.claimed_email, e.claimed_name,
  e.id AS seq`;

/**
 * Most bytes of stored event_data (its jsonb text) one page carries. Neon's HTTP endpoint refuses a
 * response over 10 MiB (507, "response is too large"); a 1000-row page of 32 KB events is ~32 MB.
 * The proxy JSON-encodes the raw text again, which at worst doubles it (every `"` or `\\` escaped),
 * and a row's other columns add under 1 KB: 2 x 4 MiB + 1001 x 1 KB stays under 10 MiB. A single
 * event (at most 32 KB) always fits, so a page is never empty while events remain.
 */
export const PAGE_BYTE_BUDGET = 4 * 1024 * 1024;

interface PagedRow extends EventRow {
  /** True for a row past the byte budget: its event_data was left out, it only says "there is more". */
  over_budget: boolean;
}

/**
 * Wrap an event SELECT (columns EVENT_COLUMNS, no ORDER/LIMIT; `orderBy` on e.created_at and e.id) so the page stops at a byte budget
 * as well as a row count. A running sum of octet_length(event_data::text) in the page order marks
 * the rows that start past the budget; those come back without their event_data (nulled in SQL,
 * so the bytes never cross the wire) and only tell the caller to stop and hand out a cursor. The
 * first row always starts at 0 bytes, so it is always kept.
 */
function byteBoundedPage(select: string, orderBy: string, limitParam: string, budgetParam: string): string {
  // Outside the subquery `id` is the text form; the bigint `seq` keeps the numeric order.
  const outer = orderBy.replaceAll('e.id', 'seq').replaceAll('e.created_at', 'created_at');
  return `
    SELECT id, event_id, session_token, event_type, created_at, student_id, student_email, student_name, claimed_email, claimed_name,
           CASE WHEN over_budget THEN NULL ELSE event_data END AS event_data, over_budget
    FROM (
      SELECT page.*, (sum(octet_length(page.event_data::text)) OVER w - octet_length(page.event_data::text)) >= ${budgetParam}::bigint AS over_budget
      FROM (${select} ORDER BY ${orderBy} LIMIT ${limitParam}) page
      WINDOW w AS (ORDER BY ${outer} ROWS UNBOUNDED PRECEDING)
    ) bounded
    ORDER BY ${outer}`;
}

/** The rows of a byte-bounded page to return: up to `limit`, stopping at the first over budget. */
function keepWithinBudget(rows: PagedRow[], limit: number): PagedRow[] {
  const stop = rows.findIndex((r) => r.over_budget);
  return rows.slice(0, Math.min(limit, stop === -1 ? rows.length : stop));
}

/**
 * One page of events, newest first (or oldest first), keyset-paged on (created_at, id) so deep
 * pages cost the same as the first. The WHERE clause only names the filters given, which lets
 * the planner pick the matching (session|student|type, created_at, id) index.
 */
export async function listEvents(
  sql: Sql,
  filter: EventFilter,
  limit: number,
  after?: Cursor,
  byteBudget = PAGE_BYTE_BUDGET,
): Promise<{ events: StoredEvent[]; next: Cursor | null }> {
  const where: string[] = [];
  const { values: params, p } = paramList();
  if (filter.sessionToken !== undefined) where.push(`e.session_token = ${p(filter.sessionToken)}`);
  if (filter.studentId !== undefined) where.push(`e.student_id = ${p(filter.studentId)}`);
  if (filter.studentEmail !== undefined) {
    // The student with this email, else a tutoring student whose id is the email itself. A scalar
    // subquery (one id, two index lookups) keeps the ordered (student_id, created_at, id) index
    // scan; an OR or IN here makes Postgres read and sort all of the student's events.
    const email = p(filter.studentEmail);
    where.push(
      `e.student_id = (SELECT id FROM (SELECT id, 0 AS pref FROM students WHERE email = ${email} UNION ALL SELECT id, 1 FROM students WHERE id = ${email}) m ORDER BY pref LIMIT 1)`,
    );
  }
  if (filter.eventType !== undefined) where.push(`e.event_type = ${p(filter.eventType)}`);
  // Through the (event_type, created_at, id) index; the errorType is read from each error row.
  if (filter.errorType !== undefined) where.push(`e.event_type = 'error' AND ${ERROR_TYPE} = ${p(filter.errorType)}`);
  if (filter.tokenPrefix !== undefined) where.push(`starts_with(e.session_token, ${p(filter.tokenPrefix)})`);
  if (filter.since) where.push(`e.created_at >= ${p(filter.since.toISOString())}`);
  if (filter.until) where.push(`e.created_at < ${p(filter.until.toISOString())}`);
  const dir = filter.order === 'asc' ? 'ASC' : 'DESC';
  if (after) {
    where.push(`(e.created_at, e.id) ${filter.order === 'asc' ? '>' : '<'} (${p(after.t)}::timestamptz, ${p(after.id)}::bigint)`);
  }
  const text = byteBoundedPage(
    `SELECT ${EVENT_COLUMNS}
     FROM events e LEFT JOIN students s ON s.id = e.student_id
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`,
    `e.created_at ${dir}, e.id ${dir}`,
    p(limit + 1),
    p(byteBudget),
  );
  const rows = await sql.query<PagedRow & Record<string, unknown>>(text, params);
  const page = keepWithinBudget(rows, limit);
  const last = page.at(-1);
  const next =
    rows.length > page.length && last ? { t: new Date(last.created_at).toISOString(), id: last.id, order: filter.order } : null;
  return { events: page.map(toStoredEvent), next };
}

/** Every page for a filter, up to `max` events, for streaming exports. */
export async function* iterateEvents(sql: Sql, filter: EventFilter, max: number, pageSize = 1000): AsyncGenerator<StoredEvent[]> {
  let remaining = max;
  let after: Cursor | undefined;
  while (remaining > 0) {
    const { events, next } = await listEvents(sql, filter, Math.min(pageSize, remaining), after);
    if (events.length) yield events;
    remaining -= events.length;
    if (!next) return;
    after = next;
  }
}

function toStoredEvent(r: EventRow): StoredEvent {
  const data = (typeof r.event_data === 'string' ? JSON.parse(r.event_data) : r.event_data) as Record<string, unknown>;
  const checked = StoredEvent.parse({
    event_id: r.event_id,
    session_token: r.session_token,
    event_type: r.event_type,
    event_data: data,
    created_at: new Date(r.created_at).toISOString(),
    student_id: r.student_id,
    student_email: r.student_email,
    student_name: r.student_name,
    claimed: r.claimed_email == null && r.claimed_name == null ? null : { email: r.claimed_email ?? null, name: r.claimed_name ?? null },
  });
  // Validated, but returned as stored: zod's copy of a record would drop a `__proto__` key.
  return { ...checked, event_data: data };
}

const CSV_COLUMNS = ['event_id', 'created_at', 'session_token', 'event_type', 'student_id', 'student_email', 'student_name', 'event_data'] as const;

export const CSV_HEADER = `${CSV_COLUMNS.join(',')}\r\n`;

/**
 * RFC 4180 row. Cells that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) get a
 * leading apostrophe: an exported log must not execute what a student typed.
 */
export function csvRow(e: StoredEvent): string {
  return `${CSV_COLUMNS.map((k) => csvCell(k === 'event_data' ? JSON.stringify(e.event_data) : e[k])).join(',')}\r\n`;
}

function csvCell(v: string | null): string {
  if (v === null) return '';
  let s = v;
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * Live tail: events of a session token that ARRIVED after `afterSeq` (the events table's identity,
 * i.e. arrival order), whatever their event time. A (created_at, id) cursor would miss a late
 * event whose corrected time is in the past; arrival order misses nothing.
 */
export async function tailEvents(
  sql: Sql,
  sessionToken: string,
  afterSeq: string,
  limit: number,
  byteBudget = PAGE_BYTE_BUDGET,
): Promise<{ events: StoredEvent[]; lastSeq: string; seqs: string[] }> {
  const rows = await sql.query<PagedRow>(
    byteBoundedPage(
      `SELECT ${EVENT_COLUMNS}
       FROM events e LEFT JOIN students s ON s.id = e.student_id
       WHERE e.session_token = $1 AND e.id > $2::bigint`,
      'e.id',
      '$3',
      '$4',
    ),
    [sessionToken, afterSeq, limit, byteBudget],
  );
  const page = keepWithinBudget(rows, limit);
  // seqs[i] is events[i]'s arrival sequence: the stream's `id:` lines (lib/streams/session.ts).
  return { events: page.map(toStoredEvent), lastSeq: page.at(-1)?.id ?? afterSeq, seqs: page.map((r) => r.id) };
}

/** The newest arrival sequence for a session token ("0" when it has none): where a tail starts. */
export async function lastSeq(sql: Sql, sessionToken: string): Promise<string> {
  const rows = await sql.query<{ seq: string | null }>('SELECT max(id)::text AS seq FROM events WHERE session_token = $1', [sessionToken]);
  return rows[0]?.seq ?? '0';
}

export interface LogStats {
  since: string;
  until: string;
  total: number;
  by_type: Record<string, number>;
  top_errors: Array<{ error_type: string; count: number; students: number; last_seen: string }>;
  students_with_errors: Array<{
    student_id: string | null;
    student_email: string | null;
    student_name: string | null;
    session_token: string;
    errors: number;
    last_error_at: string;
    last_error: string | null;
  }>;
}

/**
 * Troubleshooting aggregates over a time window: counts by event type (most frequent first, as
 * the top errors are: a GROUP BY alone gives its keys in hash order), the most frequent errorType
 * values, and who hit errors (a student, or an anonymous page by its session token). `json`, not
 * `jsonb`, keeps the keys in that order, and JSON.parse keeps them too.
 */
export async function logStats(sql: Sql, since: Date, until: Date): Promise<LogStats> {
  const rows = await sql.query<{ total: number; by_type: unknown; top_errors: unknown; students: unknown }>(
    `WITH ev AS (
       SELECT id, event_type, event_data, student_id, session_token, created_at FROM events
       WHERE created_at >= $1::timestamptz AND created_at < $2::timestamptz
     ),
     errs AS (SELECT * FROM ev WHERE event_type = 'error')
     SELECT
       (SELECT count(*)::int FROM ev) AS total,
       (SELECT json_object_agg(event_type, n ORDER BY n DESC, event_type) FROM (SELECT event_type, count(*)::int AS n FROM ev GROUP BY event_type) t) AS by_type,
       (SELECT json_agg(t) FROM (
          SELECT COALESCE(NULLIF(event_data->>'errorType', ''), '(unspecified)') AS error_type, count(*)::int AS count,
                 count(DISTINCT COALESCE(student_id, 'token:' || session_token))::int AS students, max(created_at) AS last_seen
          FROM errs GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 20) t) AS top_errors,
       (SELECT json_agg(t) FROM (
          SELECT e.student_id, s.email AS student_email, s.name AS student_name,
                 (array_agg(e.session_token ORDER BY e.created_at DESC, e.id DESC))[1] AS session_token,
                 count(*)::int AS errors, max(e.created_at) AS last_error_at,
                 (array_agg(COALESCE(e.event_data->>'errorMessage', e.event_data->>'errorType') ORDER BY e.created_at DESC, e.id DESC))[1] AS last_error
          FROM errs e LEFT JOIN students s ON s.id = e.student_id
          GROUP BY e.student_id, s.email, s.name, CASE WHEN e.student_id IS NULL THEN e.session_token END
          ORDER BY max(e.created_at) DESC LIMIT 100) t) AS students`,
    [since.toISOString(), until.toISOString()],
  );
  const r = rows[0];
  const json = <T>(v: unknown): T | null => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T | null));
  const iso = (v: string) => new Date(v).toISOString();
  return {
    since: since.toISOString(),
    until: until.toISOString(),
    total: r?.total ?? 0,
    by_type: json<Record<string, number>>(r?.by_type) ?? {},
    top_errors: (json<LogStats['top_errors']>(r?.top_errors) ?? []).map((e) => ({ ...e, last_seen: iso(e.last_seen) })),
    students_with_errors: (json<LogStats['students_with_errors']>(r?.students) ?? []).map((s) => ({ ...s, last_error_at: iso(s.last_error_at) })),
  };
}
