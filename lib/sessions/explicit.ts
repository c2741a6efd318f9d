import { describeError } from '../deps.js';
import type { CreateSessionInput, TranscriptEntryInput } from '../schemas/session.js';
import { ACTIVE_SET, activeKey, autoSessionId, idCandidates, type SessionCtx } from './context.js';
import { DomainError, ended, notFound } from './errors.js';
import { implicitResumeEvent, pauseLength, resumeOnActivitySet } from './pause.js';
import type { SessionRow } from './rows.js';

const ROLES = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * Conditions under which a session still takes writes ($now, $timeout ms as parameters). A paused
 * session does, whatever its idle time: the write resumes it (RESUME below, pause.ts).
 */
const OPEN = (now: string, timeout: string, t = '') =>
  `${t}ended_at IS NULL AND ${t}status IN ('waiting', 'active') AND (${t}paused_at IS NOT NULL OR ${t}last_activity_at >= ${now}::timestamptz - ${timeout}::int * interval '1 millisecond')`;

/** Read before a write's UPDATE: the pause it may end, for its `session_resumed` event. */
const WAS_PAUSED = (id: string) => `was AS (SELECT id, paused_at FROM sessions WHERE id = ${id} AND paused_at IS NOT NULL AND ended_at IS NULL)`;

/**
 * POST /api/sessions: an explicit session (participants and an agent). It waits for more
 * participants while it has fewer than max_participants. With a student, the student's
 * interactions join it (the KV pointer is set to it).
 */
export async function createSession(ctx: SessionCtx, input: CreateSessionInput): Promise<SessionRow> {
  const now = ctx.now();
  const max = input.max_participants ?? 2;
  const ids = input.session_id ? [input.session_id] : idCandidates(autoSessionId(input.student_id ?? input.participant, now));
  for (const id of ids) {
    const rows = await ctx.sql.query<SessionRow>(CREATE, [
      id,
      input.student_id ?? null,
      input.platform ?? 'generic',
      max > 1 ? 'waiting' : 'active',
      now.toISOString(),
      input.subject ?? null,
      input.topic ?? null,
      input.subtopic ?? null,
      input.agent ? JSON.stringify(input.agent) : null,
      JSON.stringify(input.metadata ?? {}),
      max,
      JSON.stringify([{ id: input.participant, role: 'A', joined_at: now.toISOString() }]),
      crypto.randomUUID(),
      JSON.stringify({ platform: input.platform ?? 'generic', student_id: input.student_id ?? null, participant: input.participant }),
      crypto.randomUUID(),
      JSON.stringify({ participant: input.participant, role: 'A' }),
    ]);
    const row = rows[0];
    if (row) {
      if (input.student_id) await pointStudentAt(ctx, input.student_id, row);
      return row;
    }
    if (input.session_id) throw new DomainError('conflict', `session ${input.session_id} already exists`, 'session_id');
  }
  throw new Error('no free session id');
}

const CREATE = `
WITH student AS (INSERT INTO students (id) SELECT $2::text WHERE $2::text IS NOT NULL ON CONFLICT DO NOTHING),
ins AS (
  INSERT INTO sessions (id, student_id, platform, kind, status, started_at, last_activity_at, subject, topic, subtopic,
                        agent, metadata, max_participants, participants)
  VALUES ($1, $2, $3, 'explicit', $4, $5, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11, $12::jsonb)
  ON CONFLICT (id) DO NOTHING
  RETURNING *
),
ev AS (
  INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, created_at)
  SELECT $13::uuid, id, student_id, 'session_started', $14::jsonb, started_at FROM ins
  UNION ALL
  SELECT $15::uuid, id, student_id, 'participant_joined', $16::jsonb, started_at FROM ins
)
SELECT * FROM ins`;

async function pointStudentAt(ctx: SessionCtx, studentId: string, row: SessionRow): Promise<void> {
  await ctx.kv
    .setActive({
      key: activeKey(studentId),
      setKey: ACTIVE_SET,
      id: row.id,
      start: new Date(row.started_at).getTime(),
      last: new Date(row.last_activity_at).getTime(),
      timeoutMs: ctx.timeoutMs,
      now: ctx.now().getTime(),
    })
    .catch((err: unknown) => ctx.log.warn('kv pointer not set', { error: describeError(err) }));
}

/** The oldest session still waiting for a participant, or null. */
export async function oldestWaiting(ctx: SessionCtx): Promise<SessionRow | null> {
  const rows = await ctx.sql.query<SessionRow>(
    `SELECT * FROM sessions WHERE status = 'waiting' AND ended_at IS NULL AND paused_at IS NULL
       AND last_activity_at >= $1::timestamptz - $2::int * interval '1 millisecond'
     ORDER BY started_at, id LIMIT 1`,
    [ctx.now().toISOString(), ctx.timeoutMs],
  );
  return rows[0] ?? null;
}

/** Explain why a conditional write matched no row: unknown id (404) or ended session (409). */
async function whyNot(ctx: SessionCtx, id: string): Promise<never> {
  const rows = await ctx.sql.query('SELECT 1 FROM sessions WHERE id = $1', [id]);
  throw rows.length ? ended(id) : notFound(id);
}

/**
 * Join as the next role (B, C...). One UPDATE under the row lock, so concurrent joins cannot
 * overfill the session. Joining twice returns the same role.
 */
export async function joinSession(ctx: SessionCtx, id: string, participant: string): Promise<{ row: SessionRow; role: string }> {
  const now = ctx.now().toISOString();
  const rows = await ctx.sql.query<SessionRow>(
    `WITH ${WAS_PAUSED('$1')},
     upd AS (
       UPDATE sessions SET
         participants = participants || jsonb_build_array(jsonb_build_object('id', $2::text, 'role', substr($5, jsonb_array_length(participants) + 1, 1), 'joined_at', $7::text)),
         status = CASE WHEN jsonb_array_length(participants) + 1 >= max_participants THEN 'active' ELSE status END,
         last_activity_at = GREATEST(last_activity_at, $3::timestamptz),
         ${resumeOnActivitySet('$3::timestamptz')},
         updated_at = now()
       WHERE id = $1 AND ${OPEN('$3', '$4')}
         AND jsonb_array_length(participants) < max_participants
         AND NOT participants @> jsonb_build_array(jsonb_build_object('id', $2::text))
       RETURNING *
     ),
     ev AS (
       INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, created_at)
       SELECT $6::uuid, id, student_id, 'participant_joined',
              jsonb_build_object('participant', $2::text, 'role', substr($5, jsonb_array_length(participants), 1)), $3::timestamptz
       FROM upd
       UNION ALL ${implicitResumeEvent('upd', 'was', '$3::timestamptz', 'participant_joined')}
     )
     SELECT * FROM upd`,
    [id, participant, now, ctx.timeoutMs, ROLES, crypto.randomUUID(), now],
  );
  const row = rows[0] ?? (await currentRow(ctx, id));
  const me = row.participants.find((p) => p.id === participant);
  if (me) return { row, role: me.role };
  if (row.ended_at || row.status === 'completed' || row.status === 'abandoned') throw ended(id);
  if (row.participants.length >= row.max_participants) {
    throw new DomainError('conflict', `session ${id} is full (${row.max_participants} participants)`);
  }
  throw ended(id); // open-conditions failed: idle past the timeout
}

async function currentRow(ctx: SessionCtx, id: string): Promise<SessionRow> {
  const rows = await ctx.sql.query<SessionRow>('SELECT * FROM sessions WHERE id = $1', [id]);
  if (!rows[0]) throw notFound(id);
  return rows[0];
}

/** Append transcript entries (events of type `transcript`) and touch the session, in one statement. */
export async function appendTranscript(ctx: SessionCtx, id: string, entries: readonly TranscriptEntryInput[]): Promise<number> {
  const now = ctx.now();
  // Entry times come from the speaker's side; never later than now.
  const times = entries.map((e) => new Date(Math.min(e.timestamp ? Date.parse(e.timestamp) : now.getTime(), now.getTime())));
  const latest = new Date(Math.max(...times.map((t) => t.getTime())));
  const rows = await ctx.sql.query<{ id: string }>(
    `WITH ${WAS_PAUSED('$1')},
     s AS (
       UPDATE sessions SET last_activity_at = GREATEST(last_activity_at, $3::timestamptz),
              ${resumeOnActivitySet('$3::timestamptz')},
              transcript_count = transcript_count + $4, updated_at = now()
       WHERE id = $1 AND ${OPEN('$2', '$5')}
       RETURNING id, student_id
     ),
     ev AS (
       INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, created_at)
       SELECT e.u, s.id, s.student_id, 'transcript', e.d::jsonb, e.t
       FROM s, unnest($6::uuid[], $7::text[], $8::timestamptz[]) AS e(u, d, t)
       UNION ALL ${implicitResumeEvent('s', 'was', '$3::timestamptz', 'transcript')}
     )
     SELECT id FROM s`,
    [
      id,
      now.toISOString(),
      latest.toISOString(),
      entries.length,
      ctx.timeoutMs,
      entries.map(() => crypto.randomUUID()),
      entries.map((e) => JSON.stringify({ speaker: e.speaker, text: e.text })),
      times.map((t) => t.toISOString()),
    ],
  );
  if (!rows.length) await whyNot(ctx, id);
  return entries.length;
}

export async function setPhase(ctx: SessionCtx, id: string, phase: string): Promise<SessionRow> {
  const now = ctx.now().toISOString();
  const rows = await ctx.sql.query<SessionRow>(
    `WITH ${WAS_PAUSED('$1')},
     old AS (SELECT id, phase FROM sessions WHERE id = $1 FOR UPDATE),
     upd AS (
       UPDATE sessions s SET phase = $2, last_activity_at = GREATEST(s.last_activity_at, $3::timestamptz),
         ${resumeOnActivitySet('$3::timestamptz', 's.')}, updated_at = now()
       FROM old WHERE s.id = old.id AND ${OPEN('$3', '$4', 's.')}
       RETURNING s.*, old.phase AS old_phase
     ),
     ev AS (
       INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, created_at)
       ${implicitResumeEvent('upd', 'was', '$3::timestamptz', 'phase_changed')}
       UNION ALL
       SELECT $5::uuid, id, student_id, 'phase_changed', jsonb_build_object('from', old_phase, 'to', $2::text), $3::timestamptz FROM upd
     )
     SELECT * FROM upd`,
    [id, phase, now, ctx.timeoutMs, crypto.randomUUID()],
  );
  return rows[0] ?? whyNot(ctx, id);
}

export async function setSummary(ctx: SessionCtx, id: string, summary: string): Promise<SessionRow> {
  const now = ctx.now().toISOString();
  const rows = await ctx.sql.query<SessionRow>(
    `WITH ${WAS_PAUSED('$1')},
     upd AS (
       UPDATE sessions SET summary = $2, last_activity_at = GREATEST(last_activity_at, $3::timestamptz),
         ${resumeOnActivitySet('$3::timestamptz')}, updated_at = now()
       WHERE id = $1 AND ${OPEN('$3', '$4')}
       RETURNING *
     ),
     ev AS (
       INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, created_at)
       ${implicitResumeEvent('upd', 'was', '$3::timestamptz', 'summary_updated')}
       UNION ALL
       SELECT $5::uuid, id, student_id, 'summary_updated', jsonb_build_object('length', length($2)), $3::timestamptz FROM upd
     )
     SELECT * FROM upd`,
    [id, summary, now, ctx.timeoutMs, crypto.randomUUID()],
  );
  return rows[0] ?? whyNot(ctx, id);
}

/**
 * End a session (completed, ended now — or at its last activity when it had already timed out).
 * Ending twice is harmless: the second call returns the record as it is. Returns whether this
 * call ended it, so callers run end-of-session work once.
 */
export async function endSession(ctx: SessionCtx, id: string, reason = 'explicit'): Promise<{ row: SessionRow; endedNow: boolean }> {
  const now = ctx.now().toISOString();
  // Idle past the timeout (and so ended at its last activity) — never while paused.
  const IDLE = `(paused_at IS NULL AND last_activity_at < $2::timestamptz - $3::int * interval '1 millisecond')`;
  const rows = await ctx.sql.query<SessionRow>(
    `WITH upd AS (
       UPDATE sessions SET
         status = CASE WHEN status = 'waiting' AND ${IDLE} THEN 'abandoned' ELSE 'completed' END,
         ended_at = CASE WHEN ${IDLE} THEN last_activity_at ELSE $2::timestamptz END,
         end_reason = CASE WHEN ${IDLE} THEN 'timeout' ELSE $4 END,
         -- Ending a paused session closes its pause: the pause is not active time.
         paused_ms = paused_ms + CASE WHEN paused_at IS NOT NULL THEN ${pauseLength('GREATEST($2::timestamptz, paused_at)', '')} ELSE 0 END,
         paused_at = NULL,
         updated_at = now()
       WHERE id = $1 AND ended_at IS NULL
       RETURNING *
     ),
     ev AS (
       INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, created_at)
       SELECT $5::uuid, id, student_id, 'session_ended', jsonb_build_object('reason', end_reason), ended_at FROM upd
     )
     SELECT * FROM upd`,
    [id, now, ctx.timeoutMs, reason, crypto.randomUUID()],
  );
  const row = rows[0];
  if (!row) return { row: await currentRow(ctx, id), endedNow: false };
  await releaseKv(ctx, row);
  return { row, endedNow: true };
}

/**
 * End the open session of a student (POST /api/sessions/close {student_id}): a tutoring session,
 * never a workshop page's, which is no sitting (interactions.ts) and ends by its page's inactivity.
 */
export async function endStudentSession(ctx: SessionCtx, studentId: string): Promise<{ row: SessionRow; endedNow: boolean }> {
  const rows = await ctx.sql.query<{ id: string }>(
    `SELECT id FROM sessions WHERE student_id = $1 AND NOT workshop AND ended_at IS NULL AND status IN ('waiting', 'active')
     ORDER BY last_activity_at DESC LIMIT 1`,
    [studentId],
  );
  if (!rows[0]) throw new DomainError('not_found', `student ${studentId} has no open session`);
  return endSession(ctx, rows[0].id);
}

export async function releaseKv(ctx: SessionCtx, row: Pick<SessionRow, 'id' | 'student_id'>): Promise<void> {
  await ctx.kv
    .releaseActive({ key: row.student_id ? activeKey(row.student_id) : null, setKey: ACTIVE_SET, id: row.id })
    .catch((err: unknown) => ctx.log.warn('kv release failed', { error: describeError(err) }));
}
