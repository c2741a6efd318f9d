import { callLinkKey } from '../calls/link.js';
import { describeError } from '../deps.js';
import type { SessionCtx } from '../sessions/context.js';
import { ACTIVE_SET, activeKey } from '../sessions/context.js';
import { DomainError } from '../sessions/errors.js';

export interface EraseResult {
  student_id: string;
  events_deleted: number;
  sessions_deleted: number;
  analyses_deleted: number;
  calls_deleted: number;
  audit_entries_redacted: number;
}

/**
 * Erase a student (GDPR): their sessions with the analyses and call links, every event that is
 * theirs or belongs to one of their sessions, the student row, and their KV state — in one
 * transaction-sized statement. Audit entries that named them are redacted (the deletion itself is
 * audited under a one-way hash). `who` is a student id or an email.
 */
export async function eraseStudent(ctx: SessionCtx, who: string): Promise<EraseResult> {
  const [row] = await ctx.sql.query<{ id: string; email: string | null }>(
    'SELECT id, email FROM students WHERE id = $1 OR email = lower($1) ORDER BY (id = $1) DESC LIMIT 1',
    [who],
  );
  // Sessions may name a student who never got a students row (e.g. only via explicit sessions).
  const id = row?.id ?? who;
  const email = row?.email ?? null;
  const [r] = await ctx.sql.query<{
    events: number;
    sessions: number;
    analyses: number;
    calls: number;
    audits: number;
    students: number;
    session_ids: string[] | null;
    links: Array<{ platform: string; call_id: string }> | null;
  }>(
    `WITH their_sessions AS (SELECT id FROM sessions WHERE student_id = $1),
     their_calls AS (SELECT call_id FROM calls WHERE student_id = $1 OR session_id IN (SELECT id FROM their_sessions)),
     a AS (DELETE FROM analyses WHERE session_id IN (SELECT id FROM their_sessions) RETURNING 1),
     c AS (DELETE FROM calls WHERE call_id IN (SELECT call_id FROM their_calls) RETURNING call_id, platform),
     e AS (DELETE FROM events WHERE student_id = $1 OR session_token IN (SELECT id FROM their_sessions) RETURNING 1),
     s AS (DELETE FROM sessions WHERE id IN (SELECT id FROM their_sessions) RETURNING id),
     st AS (DELETE FROM students WHERE id = $1 RETURNING 1),
     -- Alerts name the student (title, key): they go too (an unreferenced data-modifying CTE still runs).
     al AS (DELETE FROM alerts WHERE student_id = $1 OR session_id IN (SELECT id FROM their_sessions) RETURNING 1),
     ac AS (DELETE FROM alert_cooldowns WHERE key = $1 RETURNING 1),
     -- Unknown calls that suggested them (lib/calls/identify.ts) keep the other suggestions only.
     sg AS (
       UPDATE sessions SET platform_metadata = jsonb_set(platform_metadata, '{suggested_student_ids}', (
         SELECT COALESCE(jsonb_agg(x), '[]'::jsonb) FROM jsonb_array_elements(platform_metadata->'suggested_student_ids') AS x WHERE x #>> '{}' <> $1))
       WHERE jsonb_typeof(platform_metadata->'suggested_student_ids') = 'array'
         AND platform_metadata->'suggested_student_ids' @> jsonb_build_array($1::text)
         AND id NOT IN (SELECT id FROM their_sessions)
     ),
     -- Redact whole path segments and whole query values equal to the id or email (never substrings).
     au AS (
       UPDATE audit_log SET
         path = array_to_string(ARRAY(
           SELECT CASE WHEN p = $1 OR p = $2 THEN '[erased]' ELSE p END
           FROM unnest(string_to_array(path, '/')) WITH ORDINALITY AS u(p, n) ORDER BY n), '/'),
         detail = CASE WHEN jsonb_typeof(detail->'query') = 'object' THEN jsonb_set(detail, '{query}', (
           SELECT COALESCE(jsonb_object_agg(k, CASE WHEN v = $1 OR v = $2 THEN '[erased]' ELSE v END), '{}'::jsonb)
           FROM jsonb_each_text(detail->'query') AS q(k, v))) ELSE detail END
       WHERE $1 = ANY(string_to_array(path, '/')) OR ($2::text IS NOT NULL AND $2 = ANY(string_to_array(path, '/')))
          OR EXISTS (SELECT 1 FROM jsonb_each_text(CASE WHEN jsonb_typeof(detail->'query') = 'object' THEN detail->'query' ELSE '{}'::jsonb END) AS q(k, v)
                     WHERE v = $1 OR v = $2)
       RETURNING 1
     )
     SELECT (SELECT count(*)::int FROM e) AS events, (SELECT count(*)::int FROM s) AS sessions,
            (SELECT count(*)::int FROM a) AS analyses, (SELECT count(*)::int FROM c) AS calls,
            (SELECT count(*)::int FROM au) AS audits, (SELECT count(*)::int FROM st) AS students,
            (SELECT array_agg(id) FROM s) AS session_ids, (SELECT json_agg(json_build_object('platform', platform, 'call_id', call_id)) FROM c) AS links`,
    [id, email],
  );
  if (!r || (r.students === 0 && r.sessions === 0 && r.events === 0)) throw new DomainError('not_found', 'no such student');
  // Hot state: the active pointer, the active-set entries and the cached call links — keyed by
  // the platform each call was linked under (the calls row keeps it), so every platform's go.
  const keys = [activeKey(id), ...(r.links ?? []).map((l) => callLinkKey(l.platform, l.call_id))];
  await Promise.all([
    ctx.kv.del(...keys),
    (r.session_ids?.length ? ctx.kv.zrem(ACTIVE_SET, ...r.session_ids) : Promise.resolve(0)),
  ]).catch((err: unknown) => ctx.log.warn('kv erase failed (entries expire on their own)', { error: describeError(err) }));
  return {
    student_id: id,
    events_deleted: r.events,
    sessions_deleted: r.sessions,
    analyses_deleted: r.analyses,
    calls_deleted: r.calls,
    audit_entries_redacted: r.audits,
  };
}
