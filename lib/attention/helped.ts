/**
 * "Helped": an instructor (or a teaching assistant) who has gone to a student marks it, and the Now
 * view stops listing the student for what happened before the mark. Whatever happens after it —
 * a new error, a failed call, another full stuck threshold on the same step — lists them again,
 * with the mark beside the reasons. The mark is an event in the session's timeline
 * (`attention_helped`, undone by `attention_help_undone`), so the session's history shows who
 * helped when, every instructor's view reads the same marks, and the attention stream moves on it
 * as on any event. Both types are reserved: a page cannot take itself off the list.
 */
import type { HelpedMark } from '../schemas/attention.js';
import type { Sql } from '../storage/sql.js';

export const HELPED = 'attention_helped';
export const HELP_UNDONE = 'attention_help_undone';

/** How long a mark keeps a student in the response's `helped` list (who is being helped). */
export const HELPED_LIST_MS = 30 * 60_000;

export type MarkOutcome = { ok: true; helped: HelpedMark | null } | { ok: false; why: 'not_found' | 'not_workshop' };

/**
 * Write the mark (or its undo) into a workshop session's timeline, at `now`. A session that is not
 * a workshop page's (a call, an explicit session) is never on the Now view: `not_workshop`.
 */
export async function writeHelpedMark(
  sql: Sql,
  m: { sessionId: string; by: string; note: string | null; now: Date; undo: boolean },
): Promise<MarkOutcome> {
  const data = m.undo ? { by: m.by } : { by: m.by, ...(m.note ? { note: m.note } : {}) };
  const rows = await sql.query<{ workshop: boolean | null; at: string | null }>(
    `WITH s AS (SELECT id, student_id, workshop FROM sessions WHERE id = $1),
     ins AS (
       INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, created_at)
       SELECT $2::uuid, s.id, s.student_id, $3, $4::jsonb, $5::timestamptz FROM s WHERE s.workshop
       RETURNING created_at
     )
     SELECT (SELECT workshop FROM s) AS workshop, (SELECT created_at FROM ins) AS at`,
    [m.sessionId, crypto.randomUUID(), m.undo ? HELP_UNDONE : HELPED, JSON.stringify(data), m.now.toISOString()],
  );
  const r = rows[0];
  if (r?.workshop === null || r?.workshop === undefined) return { ok: false, why: 'not_found' };
  if (!r.workshop || r.at === null) return { ok: false, why: 'not_workshop' };
  return { ok: true, helped: m.undo ? null : { at: new Date(r.at).toISOString(), by: m.by, note: m.note } };
}
