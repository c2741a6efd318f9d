import type { SessionDocument, SessionSummaryRow } from '../schemas/session.js';
import { GlobalStats, SessionStats } from '../schemas/session.js';
import { paramList } from '../storage/sql.js';
import { decodeCursor, encodeCursor } from '../util/cursor.js';
import type { SessionCtx } from './context.js';
import { activeDurationMsSql } from './duration.js';
import { notFound } from './errors.js';
import { ATTEMPTS_LATERAL, type AttemptAggregates, accuracyOf, averageMs, jsonArray } from './attempts.js';
import { toDocument, toSummaryRow } from './documents.js';
import { countWords, type EventLite, effectiveStatusSql, type SessionRow, type SummarySource, sessionDurationMs, summaryColumns } from './rows.js';

/**
 * Per-session counts shown in lists, and the student's name and email (FROM ... LEFT JOIN STUDENT).
 * event_count is every event of the timeline (an index-only count), so a workshop session a call
 * joined counts the call's events too. error_count of a workshop session is kept on the row by
 * ingest (only pages post `error` events); CASE evaluates lazily, so those rows skip that subquery,
 * the one that reads the events themselves.
 */
const COUNTS = `(SELECT count(*)::int FROM events e WHERE e.session_token = s.id) AS n_events,
  CASE WHEN s.workshop THEN s.error_count ELSE (SELECT count(*)::int FROM events e WHERE e.session_token = s.id AND e.event_type = 'error') END AS n_errors,
  st.name AS student_name, st.email AS student_email`;
const STUDENT = 'LEFT JOIN students st ON st.id = s.student_id';
/** The columns a list row is built from (rows.ts SUMMARY_COLUMNS), for `sessions s`. */
const SUMMARY = summaryColumns('s');

/** `q` as an ILIKE pattern matching any part: LIKE's own wildcards in it are literal. */
export const containsPattern = (q: string) => `%${q.replace(/[\\%_]/g, '\\$&')}%`;

/** The whole session document, with its latest completed session_summary analysis. */
export async function getDocument(ctx: SessionCtx, id: string): Promise<SessionDocument> {
  const rows = await ctx.sql.query<SessionRow & { interactions: EventLite[] | null; transcript: EventLite[] | null; analysis: unknown }>(
    `SELECT s.*, ${COUNTS},
       (SELECT json_agg(json_build_object('event_type', e.event_type, 'event_data', e.event_data, 'created_at', e.created_at) ORDER BY e.created_at, e.id)
          FROM events e WHERE e.session_token = s.id AND e.event_type = 'interaction') AS interactions,
       (SELECT json_agg(json_build_object('event_type', e.event_type, 'event_data', e.event_data, 'created_at', e.created_at) ORDER BY e.created_at, e.id)
          FROM events e WHERE e.session_token = s.id AND e.event_type = 'transcript') AS transcript,
       (SELECT json_build_object('id', a.id::text, 'template', a.template, 'model', a.model, 'completed_at', a.completed_at, 'result', a.result)
          FROM analyses a WHERE a.session_id = s.id AND a.template = 'session_summary' AND a.status = 'completed'
          ORDER BY a.completed_at DESC LIMIT 1) AS analysis
     FROM sessions s ${STUDENT} WHERE s.id = $1`,
    [id],
  );
  const row = rows[0];
  if (!row) throw notFound(id);
  return toDocument(row, parseJson(row.interactions) ?? [], parseJson(row.transcript) ?? [], ctx.now(), ctx.timeoutMs, parseJson(row.analysis as string | null) ?? null);
}

/** json_agg comes back parsed from pg/Neon, but as text from some drivers: accept both. */
function parseJson<T>(v: T | string | null): T | null {
  return typeof v === 'string' ? (JSON.parse(v) as T) : v;
}

export interface SessionFilter {
  /** Any part of the session id/token or the student's id, email or name (case-insensitive). */
  q?: string | undefined;
  studentId?: string | undefined;
  status?: string | undefined;
  platform?: string | undefined;
  /** Session ids starting with this (one workshop's page tokens); `_` and `%` are literal. */
  workshop?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
}

export interface SessionCursor {
  t: string;
  id: string;
}

export const encodeSessionCursor = (c: SessionCursor): string => encodeCursor([c.t, c.id]);

/** A cursor from encodeSessionCursor, or InvalidCursorError (lib/util/cursor.ts). */
export const decodeSessionCursor = (s: string): SessionCursor =>
  decodeCursor(s, ([t, id]) => (typeof t === 'string' && !Number.isNaN(Date.parse(t)) && typeof id === 'string' ? { t, id } : undefined));

/** History, newest first, keyset-paged on (started_at, id). Status filters use the effective status. */
export async function listSessions(
  ctx: SessionCtx,
  filter: SessionFilter,
  limit: number,
  after?: SessionCursor,
): Promise<{ sessions: SessionSummaryRow[]; next: SessionCursor | null }> {
  const { values: params, p } = paramList();
  const where: string[] = [];
  if (filter.studentId) where.push(`s.student_id = ${p(filter.studentId)}`);
  const q = filter.q?.trim();
  if (q) {
    // A UNION of per-table matches rather than one OR across the join, so each arm can use its
    // trigram GIN index. lower(col) LIKE lower(pattern), not ILIKE: the indexes are on lower(col)
    // (sessions_id_trgm, sessions_student_trgm, students_email_trgm, students_name_trgm; see 006).
    const like = `lower(${p(containsPattern(q))})`;
    where.push(`s.id IN (SELECT x.id FROM sessions x WHERE lower(x.id) LIKE ${like} OR lower(x.student_id) LIKE ${like}
      UNION SELECT x.id FROM students y JOIN sessions x ON x.student_id = y.id WHERE lower(y.email) LIKE ${like} OR lower(y.name) LIKE ${like})`);
  }
  if (filter.platform) where.push(`s.platform = ${p(filter.platform)}`);
  // starts_with, not LIKE: a prefix's `_` is a character, not a wildcard (as in every workshop filter).
  if (filter.workshop) where.push(`starts_with(s.id, ${p(filter.workshop)})`);
  if (filter.status) {
    const status = effectiveStatusSql(p(ctx.now().toISOString()), p(ctx.timeoutMs));
    where.push(`${status} = ${p(filter.status)}`);
  }
  if (filter.since) where.push(`s.started_at >= ${p(filter.since.toISOString())}`);
  if (filter.until) where.push(`s.started_at < ${p(filter.until.toISOString())}`);
  if (after) where.push(`(s.started_at, s.id) < (${p(after.t)}::timestamptz, ${p(after.id)})`);
  const rows = await ctx.sql.query<SummarySource>(
    `SELECT ${SUMMARY}, ${COUNTS} FROM sessions s ${STUDENT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY s.started_at DESC, s.id DESC LIMIT ${p(limit + 1)}`,
    params,
  );
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const now = ctx.now();
  return {
    sessions: page.map((r) => toSummaryRow(r, now, ctx.timeoutMs)),
    next: rows.length > limit && last ? { t: new Date(last.started_at).toISOString(), id: last.id } : null,
  };
}

/**
 * Sessions open now (waiting or active inside the timeout, or paused), most recently active first;
 * with `workshop`, only those whose id starts with it.
 */
export async function activeSessions(ctx: SessionCtx, limit = 500, workshop?: string): Promise<SessionSummaryRow[]> {
  const now = ctx.now();
  const rows = await ctx.sql.query<SummarySource>(
    `SELECT ${SUMMARY}, ${COUNTS} FROM sessions s ${STUDENT}
     WHERE s.status IN ('waiting', 'active') AND s.ended_at IS NULL
       AND (s.paused_at IS NOT NULL OR s.last_activity_at >= $1::timestamptz - $2::int * interval '1 millisecond')
       AND ($4::text IS NULL OR starts_with(s.id, $4::text))
     ORDER BY s.last_activity_at DESC LIMIT $3`,
    [now.toISOString(), ctx.timeoutMs, limit, workshop ?? null],
  );
  return rows.map((r) => toSummaryRow(r, now, ctx.timeoutMs));
}

/** GET /api/sessions/{id}/summary: what happened, counted in Postgres. */
export async function sessionStats(ctx: SessionCtx, id: string): Promise<SessionStats> {
  const rows = await ctx.sql.query<SessionRow & AttemptAggregates & { by_type: Record<string, number> | string | null; data_requests: number; accessed: string[] | string | null; words_text: string | null }>(
    `SELECT s.*, att.*,
       (SELECT json_object_agg(t.event_type, t.n) FROM (SELECT event_type, count(*)::int AS n FROM events WHERE session_token = s.id GROUP BY event_type) t) AS by_type,
       (SELECT count(*)::int FROM events WHERE session_token = s.id AND event_type = 'interaction'
          AND jsonb_typeof(event_data->'data_provided') = 'array' AND jsonb_array_length(event_data->'data_provided') > 0) AS data_requests,
       (SELECT json_agg(DISTINCT x) FROM events e,
          jsonb_array_elements_text(CASE WHEN jsonb_typeof(e.event_data->'subjects_accessed') = 'array' THEN e.event_data->'subjects_accessed' ELSE '[]'::jsonb END) AS x
        WHERE e.session_token = s.id AND e.event_type = 'interaction' AND x IS NOT NULL) AS accessed,
       (SELECT string_agg(event_data->>'text', ' ') FROM events WHERE session_token = s.id AND event_type = 'transcript') AS words_text
     FROM sessions s ${ATTEMPTS_LATERAL} WHERE s.id = $1`,
    [id],
  );
  const row = rows[0];
  if (!row) throw notFound(id);
  const now = ctx.now();
  const byType = parseJson(row.by_type) ?? {};
  const conv = row.conversation ?? {};
  const words = typeof conv.transcript === 'string' ? countWords(conv.transcript) : countWords(row.words_text ?? '');
  const totalMs = Math.round(Number(row.total_ms));
  const practiced = jsonArray(row.subjects);
  // A practice run that names its subject on the session rather than on each attempt.
  if (!practiced.length && row.attempts && row.subject) practiced.push(row.subject);
  return SessionStats.parse({
    duration_seconds: Math.round(sessionDurationMs(row, now, ctx.timeoutMs) / 1000),
    interactions: byType.interaction ?? 0,
    data_requests: row.data_requests,
    subjects_accessed: (parseJson(row.accessed) ?? []).sort(),
    word_count: words,
    events_by_type: byType,
    errors: byType.error ?? 0,
    attempts: row.attempts,
    correct: row.correct,
    accuracy: accuracyOf(row.attempts, row.correct),
    total_time_ms: totalMs,
    avg_time_per_question_ms: averageMs(totalMs, row.timed),
    subjects_practiced: practiced.sort(),
  });
}

/** GET /api/stats. "Today" is the current UTC day. */
export async function globalStats(ctx: SessionCtx): Promise<GlobalStats> {
  const now = ctx.now();
  const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const rows = await ctx.sql.query<{ active: number; today: number; events_today: number; by_platform: Record<string, number> | string | null; avg: number | string | null }>(
    `SELECT
       (SELECT count(*)::int FROM sessions WHERE status IN ('waiting', 'active') AND ended_at IS NULL
          AND (paused_at IS NOT NULL OR last_activity_at >= $1::timestamptz - $2::int * interval '1 millisecond')) AS active,
       (SELECT count(*)::int FROM sessions WHERE started_at >= $3) AS today,
       (SELECT count(*)::int FROM events WHERE created_at >= $3) AS events_today,
       (SELECT json_object_agg(platform, n) FROM (SELECT platform, count(*)::int AS n FROM sessions GROUP BY platform) t) AS by_platform,
       (SELECT (avg(${activeDurationMsSql('s')}) / 1000)::float8 FROM sessions s
          WHERE s.ended_at IS NOT NULL OR (s.paused_at IS NULL AND s.last_activity_at < $1::timestamptz - $2::int * interval '1 millisecond')) AS avg`,
    [now.toISOString(), ctx.timeoutMs, day.toISOString()],
  );
  const r = rows[0];
  return GlobalStats.parse({
    active_sessions: r?.active ?? 0,
    sessions_today: r?.today ?? 0,
    events_today: r?.events_today ?? 0,
    sessions_by_platform: parseJson(r?.by_platform ?? null) ?? {},
    average_duration_seconds: r?.avg === null || r?.avg === undefined ? null : Math.round(Number(r.avg)),
  });
}
