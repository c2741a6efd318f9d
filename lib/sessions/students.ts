import { normalizePhone } from '../calls/vapi/message.js';
import type { SessionCtx } from './context.js';
import { DomainError, notFound } from './errors.js';
import type { SessionRow } from './rows.js';

export interface StudentRow {
  id: string;
  email: string | null;
  name: string | null;
  phone_numbers: string[];
}

/** Create or update a student (the phone numbers map Vapi callers to the student). */
export async function upsertStudent(
  ctx: SessionCtx,
  id: string,
  input: { phone_numbers?: string[] | undefined; email?: string | undefined; name?: string | undefined },
): Promise<StudentRow> {
  const phones = input.phone_numbers?.map(normalizePhone);
  try {
    const rows = await ctx.sql.query<StudentRow>(
      `INSERT INTO students (id, email, name, phone_numbers) VALUES ($1, $2, $3, COALESCE($4::text[], '{}'))
       ON CONFLICT (id) DO UPDATE SET
         email = COALESCE(EXCLUDED.email, students.email),
         name = COALESCE(EXCLUDED.name, students.name),
         phone_numbers = COALESCE($4::text[], students.phone_numbers),
         updated_at = now()
       RETURNING id, email, name, phone_numbers`,
      [id, input.email ?? null, input.name ?? null, phones ?? null],
    );
    return rows[0] as StudentRow;
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw new DomainError('conflict', 'that email belongs to another student', 'email');
    throw err;
  }
}

export async function getStudent(ctx: SessionCtx, id: string): Promise<StudentRow> {
  const rows = await ctx.sql.query<StudentRow>('SELECT id, email, name, phone_numbers FROM students WHERE id = $1', [id]);
  if (!rows[0]) throw new DomainError('not_found', `student ${id} does not exist`);
  return rows[0];
}

/**
 * Attach a session (typically an unidentified call) to a student: the session and all its events
 * now belong to them, and a `session_assigned` event records the change.
 */
export async function assignSession(ctx: SessionCtx, id: string, studentId: string): Promise<SessionRow> {
  const rows = await ctx.sql.query<SessionRow>(
    `WITH student AS (INSERT INTO students (id) VALUES ($2) ON CONFLICT DO NOTHING),
     old AS (SELECT id, student_id FROM sessions WHERE id = $1 FOR UPDATE),
     upd AS (
       UPDATE sessions s SET student_id = $2,
         participants = CASE WHEN s.participants @> jsonb_build_array(jsonb_build_object('id', $2::text)) THEN s.participants
                             ELSE s.participants || jsonb_build_array(jsonb_build_object('id', $2::text, 'role', 'student', 'joined_at', $4::text)) END,
         updated_at = now()
       FROM old WHERE s.id = old.id
       RETURNING s.*, old.student_id AS previous_student
     ),
     evs AS (UPDATE events SET student_id = $2 WHERE session_token = $1 AND (SELECT count(*) FROM upd) > 0),
     ev AS (
       INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, created_at)
       SELECT $3::uuid, id, $2, 'session_assigned', jsonb_build_object('student_id', $2::text, 'previous_student_id', previous_student), $4::timestamptz FROM upd
     )
     SELECT * FROM upd`,
    [id, studentId, crypto.randomUUID(), ctx.now().toISOString()],
  );
  if (!rows[0]) throw notFound(id);
  return rows[0];
}
