import { describeError } from '../deps.js';
import { autoSessionId, idCandidates, type SessionCtx } from '../sessions/context.js';
import { assignUnknownSession } from '../sessions/students.js';
import { stableUuid } from '../util/stable-uuid.js';
import { type Identification, identifyFromTurns } from './identify.js';
import type { Identity } from './types.js';

export interface CallInfo {
  platform: string;
  /** The platform's call id; null when the payload has none. */
  callId: string | null;
  identity: Identity;
  startedAt: Date;
  /** Window around the call's start in which a student's active session joins the call. */
  matchWindowMs: number;
  /** The caller's first turns when this delivery carries them: the last identification step. */
  userTurns?: readonly string[];
  /** The call id of the conversation this one continues (CallDelivery.follows). */
  follows?: string | undefined;
  /** Other ids of this conversation, linked to its session too (CallDelivery.aliases). */
  aliases?: readonly string[] | undefined;
}

export interface Linked {
  sessionId: string;
  studentId: string | null;
  /** This delivery created the session. */
  created: boolean;
  via: 'call' | 'session_id' | 'student' | 'phone' | 'transcript' | 'unknown';
  /** What the caller's turns named when the conversation step ran here, so a delivery reads the students once. */
  heard?: Identification;
}

const CALL_LINK_TTL_MS = 24 * 60 * 60_000;
/**
 * The KV key of a cached call link. The one place it is built: erasure (lib/lifecycle/erase.ts)
 * derives the keys it clears from it, so a platform's links can never be left behind.
 */
export const callLinkKey = (platform: string, callId: string) => `call:${platform}:${callId}`;

/** Anything safe as a session id (the event log's session-token alphabet). */
const slug = (s: string) => s.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 180);

/**
 * Find or make the session a call belongs to, and remember the link (Postgres `calls`, cached in
 * KV). Order: a link an earlier message of the same call made; the link of the conversation it
 * continues (`follows`: a Vapi chat's previousChatId); an explicit session id in the
 * call's metadata (the session is created with exactly that id if missing — how a workshop page
 * hands its session token to a call); the student (metadata or customer.externalId, else the
 * caller's number mapped through students.phone_numbers), whose session active within the match
 * window joins the call, else a new one; the caller's own introduction in their first turns when it
 * names exactly one student (lib/calls/identify.ts); finally a session of student `unknown` keyed by
 * the call (settleUnknownCall may assign it later, when the turns arrive).
 * Every path is idempotent, so concurrent deliveries of one call land in one session.
 */
export async function linkCall(ctx: SessionCtx, call: CallInfo): Promise<Linked> {
  if (call.callId) {
    const known = await findLink(ctx, call.platform, call.callId);
    if (known) {
      // The call id may have been linked by a message without them (a Vapi session's session.created
      // names no chat): its aliases are recorded whichever message of it comes first.
      await recordAliases(ctx, call, call.callId, known);
      return { ...known, created: false, via: 'call' };
    }
  }
  // A conversation that continues a linked one (a chat by previousChatId) is that one's sitting:
  // the follow-up need not name anyone, and its student's other sittings must not win over it.
  const continued = call.callId && call.follows ? await findLink(ctx, call.platform, call.follows) : null;
  const linked = continued ? { ...continued, created: false, via: 'call' as const } : await newLink(ctx, call);
  return call.callId ? recordLink(ctx, call, call.callId, linked) : linked;
}

/** The session of a call no earlier message linked: by session id, student, phone, what was said, else `unknown`. */
async function newLink(ctx: SessionCtx, call: CallInfo): Promise<Linked> {
  let studentId = call.identity.studentId ?? null;
  let via: Linked['via'] = studentId ? 'student' : 'unknown';
  if (!studentId && call.identity.phone) {
    const rows = await ctx.sql.query<{ id: string }>('SELECT id FROM students WHERE $1 = ANY(phone_numbers) ORDER BY created_at LIMIT 1', [call.identity.phone]);
    studentId = rows[0]?.id ?? null;
    if (studentId) via = 'phone';
  }
  // The last step before `unknown`. Not for a handed session id: that session says who it is.
  let heard: Identification | undefined;
  if (!studentId && !call.identity.sessionId && call.userTurns?.length) {
    const found = await identifyFromTurns(ctx.sql, call.userTurns);
    heard = found;
    if (found.kind === 'one') {
      studentId = found.studentId;
      via = 'transcript';
    }
  }

  let linked: Linked;
  if (call.identity.sessionId) {
    const id = slug(call.identity.sessionId);
    // A workshop page's token: its events may already say who the student is.
    if (!studentId) {
      const known = await ctx.sql.query<{ student_id: string }>(
        'SELECT student_id FROM events WHERE session_token = $1 AND student_id IS NOT NULL ORDER BY id DESC LIMIT 1',
        [id],
      );
      studentId = known[0]?.student_id ?? null;
    }
    const created = await ensureSession(ctx, id, studentId, call);
    const rows = await ctx.sql.query<{ student_id: string | null }>('SELECT student_id FROM sessions WHERE id = $1', [id]);
    linked = { sessionId: id, studentId: rows[0]?.student_id ?? studentId, created, via: 'session_id' };
  } else if (studentId) {
    linked = await matchStudent(ctx, studentId, call, via);
    if (via === 'transcript') {
      await ctx.sql.query(`UPDATE sessions SET platform_metadata = platform_metadata || '{"identified_by":"transcript"}'::jsonb WHERE id = $1`, [linked.sessionId]);
    }
  } else {
    const key = call.callId ?? `nocall_${(await stableUuid(call.startedAt.toISOString())).slice(0, 8)}`;
    const id = slug(`${call.platform}_${key}`);
    const created = await ensureSession(ctx, id, 'unknown', call);
    linked = { sessionId: id, studentId: 'unknown', created, via: 'unknown', ...(heard ? { heard } : {}) };
  }
  return linked;
}

/** Remember the call's link (and its aliases'); a concurrent delivery that linked it first decides the session. */
async function recordLink(ctx: SessionCtx, call: CallInfo, callId: string, found: Linked): Promise<Linked> {
  let linked = found;
  // First writer wins: a concurrent delivery that linked the call first decides the session.
  const rows = await ctx.sql.query<{ session_id: string; student_id: string | null }>(
    `WITH ins AS (
       INSERT INTO calls (call_id, platform, session_id, student_id, started_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (call_id) DO NOTHING RETURNING session_id, student_id)
     SELECT session_id, student_id FROM ins UNION ALL SELECT session_id, student_id FROM calls WHERE call_id = $1 LIMIT 1`,
    [callId, call.platform, linked.sessionId, linked.studentId, call.startedAt.toISOString()],
  );
  const winner = rows[0];
  if (winner && winner.session_id !== linked.sessionId) {
    // A concurrent delivery linked the call first. If this one made a session for it, that
    // session is an empty orphan now: remove it (it holds nothing but its session_started).
    if (linked.created) {
      await ctx.sql.query(
        `WITH gone AS (
           DELETE FROM sessions s WHERE s.id = $1
             AND NOT EXISTS (SELECT 1 FROM events e WHERE e.session_token = $1 AND e.event_type <> 'session_started')
           RETURNING id)
         DELETE FROM events WHERE session_token IN (SELECT id FROM gone)`,
        [linked.sessionId],
      );
    }
    linked = { ...linked, sessionId: winner.session_id, studentId: winner.student_id, created: false };
  }
  await ctx.kv
    .set(callLinkKey(call.platform, callId), JSON.stringify([linked.sessionId, linked.studentId]), { ttlMs: CALL_LINK_TTL_MS })
    .catch((err: unknown) => ctx.log.warn('kv call link not cached', { error: describeError(err) }));
  await recordAliases(ctx, call, callId, linked);
  return linked;
}

/** Link the call's aliases to its session; an alias already linked keeps its link (the first to name it decided). */
async function recordAliases(ctx: SessionCtx, call: CallInfo, callId: string, linked: { sessionId: string; studentId: string | null }): Promise<void> {
  const aliases = (call.aliases ?? []).filter((a) => a !== callId);
  if (!aliases.length) return;
  await ctx.sql.query(
    `INSERT INTO calls (call_id, platform, session_id, student_id, started_at)
     SELECT a, $2, $3, $4, $5 FROM unnest($1::text[]) AS a ON CONFLICT (call_id) DO NOTHING`,
    [aliases, call.platform, linked.sessionId, linked.studentId, call.startedAt.toISOString()],
  );
}

async function findLink(ctx: SessionCtx, platform: string, callId: string): Promise<{ sessionId: string; studentId: string | null } | null> {
  const cached = await ctx.kv.get(callLinkKey(platform, callId)).catch(() => null);
  if (cached) {
    try {
      const [sessionId, studentId] = JSON.parse(cached) as [string, string | null];
      if (typeof sessionId === 'string') return { sessionId, studentId };
    } catch {
      // a damaged cache entry: fall through to Postgres
    }
  }
  const rows = await ctx.sql.query<{ session_id: string; student_id: string | null }>(
    'SELECT c.session_id, s.student_id FROM calls c LEFT JOIN sessions s ON s.id = c.session_id WHERE c.call_id = $1',
    [callId],
  );
  return rows[0] ? { sessionId: rows[0].session_id, studentId: rows[0].student_id } : null;
}

/**
 * The student's session active within ±window of the call's start, else a new one. A workshop
 * page's session is not a sitting (lib/sessions/interactions.ts): a call joins it only through the
 * page's token (an explicit session id), so a call and the tool server's interactions during it
 * stay in one session. Nor is a session another call (or chat) is linked to: a second call while
 * the first is still live, or a phone call beside an open chat, took it over, and the first
 * call's report then ended a session the other was still writing to.
 */
async function matchStudent(ctx: SessionCtx, studentId: string, call: CallInfo, via: Linked['via']): Promise<Linked> {
  const rows = await ctx.sql.query<{ id: string }>(
    `SELECT id FROM sessions s
     WHERE student_id = $1 AND NOT workshop AND status <> 'abandoned' AND (ended_at IS NULL OR end_reason = 'timeout')
       AND last_activity_at >= $2::timestamptz - $3::int * interval '1 millisecond'
       AND started_at <= $2::timestamptz + $3::int * interval '1 millisecond'
       AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.session_id = s.id AND c.call_id IS DISTINCT FROM $4::text)
     ORDER BY last_activity_at DESC LIMIT 1`,
    [studentId, call.startedAt.toISOString(), call.matchWindowMs, call.callId],
  );
  if (rows[0]) return { sessionId: rows[0].id, studentId, created: false, via };
  for (const id of idCandidates(autoSessionId(studentId, call.startedAt))) {
    const created = await ensureSession(ctx, id, studentId, call);
    const owner = await ctx.sql.query<{ student_id: string | null; call_id: string | null }>(
      "SELECT student_id, platform_metadata->>'call_id' AS call_id FROM sessions WHERE id = $1",
      [id],
    );
    // Ours if we made it, or if a concurrent delivery of THIS call made it (a redial in the same
    // minute is another call: it takes the next id).
    if (created || (call.callId !== null && owner[0]?.student_id === studentId && owner[0]?.call_id === call.callId)) {
      return { sessionId: id, studentId, created, via };
    }
  }
  throw new Error('no free session id for the call');
}

/** Create the session if it does not exist (with its session_started event). True when created. */
async function ensureSession(ctx: SessionCtx, id: string, studentId: string | null, call: CallInfo): Promise<boolean> {
  const rows = await ctx.sql.query<{ id: string }>(
    `WITH student AS (INSERT INTO students (id) SELECT $2::text WHERE $2::text IS NOT NULL ON CONFLICT DO NOTHING),
     ins AS (
       INSERT INTO sessions (id, student_id, platform, kind, status, started_at, last_activity_at, platform_metadata, participants)
       VALUES ($1, $2, $3, 'auto', 'active', $4, $4, $5::jsonb,
               CASE WHEN $2::text IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(jsonb_build_object('id', $2::text, 'role', 'student', 'joined_at', $6::text)) END)
       ON CONFLICT (id) DO NOTHING RETURNING id, student_id, started_at
     ),
     ev AS (
       INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, created_at)
       SELECT $7::uuid, id, student_id, 'session_started', $8::jsonb, started_at FROM ins
       ON CONFLICT (event_uuid) DO NOTHING
     )
     SELECT id FROM ins`,
    [
      id,
      studentId,
      call.platform,
      call.startedAt.toISOString(),
      JSON.stringify(call.callId ? { call_id: call.callId } : {}),
      call.startedAt.toISOString(),
      await stableUuid(id, 'session_started'),
      JSON.stringify({ platform: call.platform, student_id: studentId, call_id: call.callId }),
    ],
  );
  return rows.length > 0;
}

/**
 * The keys of platform_metadata this server writes (below and lib/sessions/students.ts): a
 * platform's own metadata never sets them, or a webhook could plant "assign to" suggestions or claim
 * how a caller was identified.
 */
export const SERVER_METADATA_KEYS: readonly string[] = ['suggested_student_ids', 'identified_by'];

/**
 * A call still linked to the `unknown` student, once what the caller said (or the analysis) names
 * someone: exactly one student takes the session over (`identified_by` in platform_metadata, a
 * `session_assigned` event, the call links follow); several are recorded as
 * `suggested_student_ids` for an instructor, and the session stays unknown. Returns the student
 * assigned, or null.
 */
export async function settleUnknownCall(ctx: SessionCtx, sessionId: string, found: Identification, by: 'transcript' | 'analysis' | 'metadata'): Promise<string | null> {
  if (found.kind === 'many') {
    await ctx.sql.query(
      `UPDATE sessions SET platform_metadata = platform_metadata || jsonb_build_object('suggested_student_ids', $2::jsonb)
       WHERE id = $1 AND student_id = 'unknown'`,
      [sessionId, JSON.stringify(found.studentIds)],
    );
    return null;
  }
  if (found.kind !== 'one') return null;
  const row = await assignUnknownSession(ctx, sessionId, found.studentId, { identified_by: by });
  if (!row) return null;
  const calls = await ctx.sql.query<{ platform: string; call_id: string }>(
    'UPDATE calls SET student_id = $2 WHERE session_id = $1 RETURNING platform, call_id',
    [sessionId, found.studentId],
  );
  // The cached links still say `unknown`: drop them so the next delivery reads Postgres.
  for (const c of calls) {
    await ctx.kv.del(callLinkKey(c.platform, c.call_id)).catch((err: unknown) => ctx.log.warn('kv call link not dropped', { error: describeError(err) }));
  }
  return found.studentId;
}
