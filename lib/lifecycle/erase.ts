import { quietKeys } from '../alerts/evaluate.js';
import { callLinkKey } from '../calls/link.js';
import { describeError } from '../deps.js';
import type { SessionCtx } from '../sessions/context.js';
import { ACTIVE_SET, activeKey } from '../sessions/context.js';
import { DomainError } from '../sessions/errors.js';
import type { Statement } from '../storage/sql.js';
import { redactSharedSessions } from './erase-shared.js';
import { DELETE_THEIRS, FIND_SESSIONS, REDACT_AUDIT, RENAME_SESSIONS, UPDATE_ALERTS } from './erase-sql.js';
import { jsPattern, needlesOf, type Person, redactJson, redactText, selvesOf, sqlPattern } from './redact.js';

export interface EraseResult {
  student_id: string;
  events_deleted: number;
  sessions_deleted: number;
  sessions_redacted: number;
  analyses_deleted: number;
  calls_deleted: number;
  audit_entries_redacted: number;
}

/**
 * Erase a student (GDPR; ADR 0014). `who` is a student id or an email (any case).
 *
 * Deleted: the student row, their sessions (theirs: see FIND_SESSIONS) with every event, analysis,
 * call and alert of them, every event they wrote or claimed anywhere, their KV state.
 * Redacted: sessions they shared with someone else keep the other participants' data; their
 * participant entry, their `participant_joined` event and their transcript turns say "[erased]",
 * and any mention of their id, email, name, aliases or phone in what remains is blanked. Audit
 * entries whose path or query names them are blanked the same way, case-insensitively.
 *
 * One read, then every write in ONE transaction: a failure leaves nothing half-erased.
 */
export async function eraseStudent(ctx: SessionCtx, who: string): Promise<EraseResult> {
  const person = await findPerson(ctx, who);
  const lowerIds = [...new Set([person.id, person.email].filter((s): s is string => !!s).map((s) => s.toLowerCase()))];
  const ids = person.rowIds;
  const sessions = await ctx.sql.query<{ id: string; student_id: string | null; theirs: boolean }>(FIND_SESSIONS, [
    ids,
    lowerIds,
    person.phones,
    selvesOf(person),
  ]);
  // Nothing of theirs: 404 before any write, so erasing a made-up id ("api") cannot blank the audit trail.
  if (!person.known && !sessions.length) {
    const [any] = await ctx.sql.query('SELECT 1 FROM events WHERE student_id = ANY($1::text[]) OR lower(claimed_email) = ANY($2::text[]) LIMIT 1', [ids, lowerIds]);
    if (!any) throw new DomainError('not_found', 'no such student');
  }
  const theirs = sessions.filter((s) => s.theirs).map((s) => s.id);
  const shared = sessions.filter((s) => !s.theirs);
  const needles = needlesOf(person, theirs);
  const re = jsPattern(needles);

  const redacted = re ? await redactSharedSessions(ctx.sql, person, shared.map((s) => s.id), re) : { statements: [], renamed: [], links: [] };
  const renamed = redacted.renamed;
  const alerts = re ? await redactAlerts(ctx, ids, theirs, re, sqlPattern(needles) ?? '') : [];
  const auditPattern = sqlPattern(needlesOf(person, [...theirs, ...renamed.map((r) => r.from)]));

  const statements: Statement[] = [
    { text: DELETE_THEIRS, params: [ids, lowerIds, theirs, shared.map((s) => s.id)] },
    ...redacted.statements,
    ...alerts,
    ...(renamed.length ? RENAME_SESSIONS.map((text) => ({ text, params: [renamed.map((r) => r.from), renamed.map((r) => r.to)] })) : []),
    ...(auditPattern ? [{ text: REDACT_AUDIT, params: [auditPattern] }] : []),
  ];
  const results = await ctx.sql.batch(statements);
  const r = results[0]?.[0] as { events: number; sessions: number; analyses: number; calls: number; students: number; links: Array<{ platform: string; call_id: string }> | null } | undefined;
  const audits = auditPattern ? (results[results.length - 1]?.length ?? 0) : 0;
  if (!r) throw new Error('erasure statement returned no row');

  await clearKv(ctx, person, theirs, renamed, [...(r.links ?? []), ...redacted.links]);
  return {
    student_id: person.id,
    events_deleted: r.events,
    sessions_deleted: r.sessions,
    sessions_redacted: shared.length,
    analyses_deleted: r.analyses,
    calls_deleted: r.calls,
    audit_entries_redacted: audits,
  };
}

/**
 * The student by exact id, else by email (any case); a bare id that sessions name but no row has.
 * With every row that is theirs (`rowIds`, read in the same statement): each row's sessions, calls
 * and alerts go with it, or they would outlive it, naming a student that is gone.
 */
async function findPerson(ctx: SessionCtx, who: string): Promise<Person & { known: boolean }> {
  const [row] = await ctx.sql.query<{ id: string; email: string | null; name: string | null; aliases: string[] | null; phone_numbers: string[] | null; row_ids: string[] }>(
    `WITH p AS (
       SELECT id, email, name, aliases, phone_numbers FROM students WHERE id = $1 OR lower(email) = lower($1) OR lower(id) = lower($1)
       ORDER BY (id = $1) DESC, (lower(email) = lower($1)) DESC LIMIT 1
     )
     SELECT p.*, ARRAY(SELECT s.id FROM students s
                       WHERE s.id = p.id OR lower(s.email) IN (lower(p.id), lower(p.email)) OR lower(s.id) IN (lower(p.id), lower(p.email))) AS row_ids
     FROM p`,
    [who],
  );
  if (!row) return { known: false, id: who, email: who.includes('@') ? who.toLowerCase() : null, name: null, aliases: [], phones: [], rowIds: [who] };
  return { known: true, id: row.id, email: row.email, name: row.name, aliases: row.aliases ?? [], phones: row.phone_numbers ?? [], rowIds: row.row_ids };
}

/** Alerts about someone else that mention them (an error spike lists the students it counted). */
async function redactAlerts(ctx: SessionCtx, ids: readonly string[], theirs: readonly string[], re: RegExp, pattern: string): Promise<Statement[]> {
  const rows = await ctx.sql.query<{ id: string; title: string; detail: string; data: unknown }>(
    `SELECT id::text AS id, title, detail, data FROM alerts
     WHERE NOT (COALESCE(student_id, '') = ANY($1::text[])) AND NOT (COALESCE(session_id, '') = ANY($2::text[])) AND (title || ' ' || detail || ' ' || data::text) ~* $3`,
    [ids, theirs, pattern],
  );
  if (!rows.length) return [];
  return [
    {
      text: UPDATE_ALERTS,
      params: [rows.map((a) => a.id), rows.map((a) => redactText(a.title, re)), rows.map((a) => redactText(a.detail, re)), rows.map((a) => JSON.stringify(redactJson(a.data, re)))],
    },
  ];
}

/**
 * Hot state: their active pointer, the active-set entries and quiet markers of their sessions and
 * of renamed ones, and every cached call link (keyed by the platform each call was linked under).
 * Best effort: all of it expires on its own, and Postgres no longer names them.
 */
async function clearKv(
  ctx: SessionCtx,
  person: Person,
  theirs: readonly string[],
  renamed: ReadonlyArray<{ from: string; to: string }>,
  links: ReadonlyArray<{ platform: string; call_id: string }>,
): Promise<void> {
  const gone = [...theirs, ...renamed.map((r) => r.from)];
  const keys = [
    ...[...new Set([...person.rowIds, ...(person.email ? [person.email] : [])])].map(activeKey),
    ...links.map((l) => callLinkKey(l.platform, l.call_id)),
    ...quietKeys(ctx.now(), gone),
  ];
  await Promise.all([ctx.kv.del(...keys), gone.length ? ctx.kv.zrem(ACTIVE_SET, ...gone) : Promise.resolve(0)]).catch((err: unknown) =>
    ctx.log.warn('kv erase failed (entries expire on their own)', { error: describeError(err) }),
  );
}
