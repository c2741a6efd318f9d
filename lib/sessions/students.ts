import type { SessionCtx } from './context.js';
import { DomainError, notFound } from './errors.js';
import type { SessionRow } from './rows.js';
import { normalizePhone } from '../util/phone.js';

export interface StudentRow {
  id: string;
  email: string | null;
  name: string | null;
  aliases: string[];
  phone_numbers: string[];
}

/** Create or update a student (the phone numbers map Vapi callers to the student). */
export async function upsertStudent(
  ctx: SessionCtx,
  id: string,
  input: { phone_numbers?: string[] | undefined; email?: string | undefined; name?: string | undefined; aliases?: string[] | undefined },
): Promise<StudentRow> {
  const phones = input.phone_numbers?.map(normalizePhone);
  try {
    const rows = await ctx.sql.query<StudentRow>(
      `INSERT INTO students (id, email, name, phone_numbers, aliases) VALUES ($1, $2, $3, COALESCE($4::text[], '{}'), COALESCE($5::text[], '{}'))
       ON CONFLICT (id) DO UPDATE SET
         email = COALESCE(EXCLUDED.email, students.email),
         name = COALESCE(EXCLUDED.name, students.name),
         phone_numbers = COALESCE($4::text[], students.phone_numbers),
         aliases = COALESCE($5::text[], students.aliases),
         updated_at = now()
       RETURNING id, email, name, aliases, phone_numbers`,
      [id, input.email ?? null, input.name ?? null, phones ?? null, input.aliases ? [...new Set(input.aliases.map((a) => a.trim()))] : null],
    );
    return rows[0] as StudentRow;
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw new DomainError('conflict', 'that email belongs to another student', 'email');
    throw err;
  }
}

export async function getStudent(ctx: SessionCtx, id: string): Promise<StudentRow> {
  const rows = await ctx.sql.query<StudentRow>('SELECT id, email, name, aliases, phone_numbers FROM students WHERE id = $1', [id]);
  if (!rows[0]) throw new DomainError('not_found', `student ${id} does not exist`);
  return rows[0];
}

/**
 * Attach a session (typically an unidentified call) to a student: the session and all its events
 * now belong to them, and a `session_assigned` event records the change. Suggestions made while
 * the call was unknown (`suggested_student_ids`) are settled by it and dropped.
 */
export async function assignSession(ctx: SessionCtx, id: string, studentId: string): Promise<SessionRow> {
  const row = await assign(ctx, id, studentId, false, {});
  if (!row) throw notFound(id);
  return row;
}

/**
 * Assign a session only while it is still the `unknown` student's (automatic identification must
 * never override a person or an earlier step), merging `metadata` (e.g. `identified_by`) into its
 * platform_metadata. Null when the session is not, or no longer, unknown. The row lock makes two
 * concurrent identifications of one call assign it once.
 */
export async function assignUnknownSession(ctx: SessionCtx, id: string, studentId: string, metadata: Record<string, unknown>): Promise<SessionRow | null> {
  return assign(ctx, id, studentId, true, metadata);
}

async function assign(ctx: SessionCtx, id: string, studentId: string, onlyUnknown: boolean, metadata: Record<string, unknown>): Promise<SessionRow | null> {
  const rows = await ctx.sql.query<SessionRow>(
    `WITH student AS (INSERT INTO students (id) VALUES ($2) ON CONFLICT DO NOTHING),
     old AS (SELECT id, student_id FROM sessions WHERE id = $1 AND (NOT $5::boolean OR student_id = 'unknown') FOR UPDATE),
     upd AS (
       UPDATE sessions s SET student_id = $2,
         participants = CASE WHEN s.participants @> jsonb_build_array(jsonb_build_object('id', $2::text)) THEN s.participants
                             ELSE s.participants || jsonb_build_array(jsonb_build_object('id', $2::text, 'role', 'student', 'joined_at', $4::text)) END,
         platform_metadata = (s.platform_metadata - 'suggested_student_ids') || $6::jsonb,
         updated_at = now()
       FROM old WHERE s.id = old.id
       RETURNING s.*, old.student_id AS previous_student
     ),
     evs AS (UPDATE events SET student_id = $2 WHERE session_token = $1 AND (SELECT count(*) FROM upd) > 0),
     ev AS (
       INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, created_at)
       SELECT $3::uuid, id, $2, 'session_assigned', jsonb_build_object('student_id', $2::text, 'previous_student_id', previous_student) || $6::jsonb, $4::timestamptz FROM upd
     )
     SELECT * FROM upd`,
    [id, studentId, crypto.randomUUID(), ctx.now().toISOString(), onlyUnknown, JSON.stringify(metadata)],
  );
  return rows[0] ?? null;
}
