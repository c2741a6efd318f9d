import { StorageUnavailableError } from '../errors.js';
import { describeError } from '../deps.js';
import type { InteractionInput } from '../schemas/session.js';
import type { Statement } from '../storage/sql.js';
import { ACTIVE_SET, activeKey, autoSessionId, idCandidates, type SessionCtx } from './context.js';
import { DomainError } from './errors.js';
import { implicitResumeEvent, resumeOnActivitySet } from './pause.js';
import type { SessionRow } from './rows.js';
import { toolCallAttempt } from './tool-attempts.js';
import { stableUuid } from '../util/stable-uuid.js';

/** Client event times further ahead than this are refused (a clock that is simply wrong). */
export const MAX_FUTURE_MS = 5 * 60_000;

export interface InteractionResult {
  row: SessionRow;
  isNew: boolean;
}

export interface InteractionOptions {
  /** Tools whose calls with a boolean `correct` are also attempts (Config.attemptTools, ADR 0030). @default none */
  attemptTools?: ReadonlySet<string>;
}

/**
 * Record one tool-call interaction for a student, in the sitting that covers its time.
 *
 * The boundary decision is one atomic KV step (claimActive: continue the pointed sitting, or
 * start `candidate`), then ONE SQL statement that trusts Postgres over KV: if Postgres knows a
 * sitting covering this time (KV was wiped, or the interaction arrived out of order) it is used;
 * otherwise the KV's choice is inserted. Concurrent first interactions all receive the same id from
 * KV and meet in Postgres' ON CONFLICT, so they create exactly one session. When KV is down the
 * statement runs under a per-student advisory lock instead (same guarantee, Postgres only).
 */
export async function recordInteraction(ctx: SessionCtx, input: InteractionInput, opts: InteractionOptions = {}): Promise<InteractionResult> {
  const now = ctx.now();
  const at = input.timestamp ? new Date(input.timestamp) : now;
  if (at.getTime() > now.getTime() + MAX_FUTURE_MS) {
    throw new DomainError('invalid', 'timestamp is more than 5 minutes in the future', 'timestamp');
  }
  const base = autoSessionId(input.student_id, at);
  const key = activeKey(input.student_id);

  let claim: { id: string; created: boolean } | null | undefined;
  try {
    claim = await ctx.kv.claimActive({ key, setKey: ACTIVE_SET, candidate: base, at: at.getTime(), timeoutMs: ctx.timeoutMs, now: now.getTime() });
  } catch (err) {
    if (!(err instanceof StorageUnavailableError)) throw err;
    ctx.log.warn('kv unavailable: session boundary decided in Postgres only', { error: describeError(err.cause) });
    claim = undefined;
  }

  const attempt = await attemptOf(input, at, opts.attemptTools);
  const ids = claim && claim.id !== base ? [claim.id, ...idCandidates(base)] : idCandidates(base);
  let result: InteractionResult | null = null;
  for (const id of ids) {
    result = await upsert(ctx, input, id, at, claim === undefined, attempt);
    if (result) break; // null: `id` belongs to another sitting; try the next readable id
  }
  if (!result) throw new Error(`no free session id for ${base}`);

  if (claim && claim.id !== result.row.id) {
    // Postgres chose differently (KV had lost the pointer, or the id was taken): repoint KV.
    await ctx.kv
      .setActive({
        key,
        setKey: ACTIVE_SET,
        id: result.row.id,
        start: new Date(result.row.started_at).getTime(),
        last: new Date(result.row.last_activity_at).getTime(),
        timeoutMs: ctx.timeoutMs,
        now: now.getTime(),
      })
      .catch((err: unknown) => ctx.log.warn('kv repoint failed', { error: describeError(err) }));
  }
  return result;
}

/**
 * The attempt a graded tool call also is (ADR 0030), with its event id. The interaction itself
 * has no id to de-duplicate on (each delivery is stored); its attempt counts once per call when
 * the tool server sends the call's `timestamp`: the id is derived from the student, that time, the
 * function and its parameters, so a retried delivery of the same body inserts nothing. Without a
 * timestamp the time is the arrival's, and each delivery is an attempt.
 */
async function attemptOf(input: InteractionInput, at: Date, tools: ReadonlySet<string> | undefined): Promise<{ uuid: string; data: Record<string, unknown> } | null> {
  const data = tools?.size
    ? toolCallAttempt(tools, input.function, input.parameters ?? {}, { source: input.platform ?? 'mcp' }, { subject: input.subject, topic: input.topic })
    : undefined;
  if (!data) return null;
  const uuid = input.timestamp
    ? await stableUuid('attempt', 'interaction', input.student_id, at.toISOString(), input.function, JSON.stringify(input.parameters ?? {}))
    : crypto.randomUUID();
  return { uuid, data };
}

async function upsert(
  ctx: SessionCtx,
  input: InteractionInput,
  id: string,
  at: Date,
  lock: boolean,
  attempt: { uuid: string; data: Record<string, unknown> } | null,
): Promise<InteractionResult | null> {
  const data = {
    function: input.function,
    parameters: input.parameters ?? {},
    data_provided: input.data_provided ?? [],
    subjects_accessed: input.subjects_accessed ?? [],
    ...(input.platform ? { platform: input.platform } : {}),
  };
  const started = { student_id: input.student_id, platform: input.platform ?? 'mcp', subject: input.subject ?? null, topic: input.topic ?? null };
  const statement: Statement = {
    text: UPSERT_INTERACTION,
    params: [
      input.student_id,
      id,
      at.toISOString(),
      ctx.timeoutMs,
      input.platform ?? 'mcp',
      input.subject ?? null,
      input.topic ?? null,
      input.subtopic ?? null,
      crypto.randomUUID(),
      JSON.stringify(data),
      crypto.randomUUID(),
      JSON.stringify(started),
      attempt?.uuid ?? null,
      attempt ? JSON.stringify(attempt.data) : null,
    ],
  };
  let rows: Array<SessionRow & { inserted: boolean }>;
  if (lock) {
    // No KV: serialise this student's boundary decisions in Postgres for the transaction.
    const [, r] = await ctx.sql.batch([{ text: 'SELECT pg_advisory_xact_lock(hashtext($1))', params: [`session:${input.student_id}`] }, statement]);
    rows = (r ?? []) as unknown as Array<SessionRow & { inserted: boolean }>;
  } else {
    rows = await ctx.sql.query<SessionRow & { inserted: boolean }>(statement.text, statement.params);
  }
  const row = rows[0];
  return row ? { row, isNew: row.inserted === true } : null;
}

/*
 * $1 student, $2 proposed id, $3 event time, $4 timeout ms, $5 platform, $6-$8 subject/topic/
 * subtopic, $9 interaction event uuid, $10 its data, $11 session_started uuid, $12 its data,
 * $13 the attempt's uuid (null: the call is no attempt), $14 its data. The attempt's id is derived
 * (attemptOf): a repeat of it inserts nothing (ON CONFLICT), the other ids are random.
 * A sitting "covers" time t when its activity span widened by the timeout contains t and it was
 * not ended on purpose (a timed-out sitting still takes late, out-of-order interactions).
 * A paused sitting covers any time from its pause on, however long ago its last activity was: the
 * interaction resumes it (pause.ts), so a student back from a break continues the same session.
 * The ON CONFLICT guard makes an id held by another student, an ended sitting or a sitting that
 * does not cover this time (same minute, shorter timeout) return no row: the caller tries the next id.
 * A workshop page's session is never a sitting, in `covering` or in the guard: a page that names
 * its student by email files it under the email as its id, and a tutoring student whose id is that
 * email would otherwise continue the page's session (its events and counts mixed with the page's).
 */
/** A paused, open sitting that an interaction at $3 resumes (columns under prefix `q`). */
const RESUMES = (q: string) => `(${q}paused_at IS NOT NULL AND ${q}ended_at IS NULL AND $3::timestamptz >= ${q}paused_at)`;

const UPSERT_INTERACTION = `
WITH covering AS (
  SELECT id FROM sessions
  WHERE student_id = $1 AND NOT workshop AND status <> 'abandoned' AND (ended_at IS NULL OR end_reason = 'timeout')
    AND (last_activity_at >= $3::timestamptz - $4::int * interval '1 millisecond' OR ${RESUMES('')})
    AND started_at <= $3::timestamptz + $4::int * interval '1 millisecond'
  ORDER BY (id = $2) DESC, last_activity_at DESC
  LIMIT 1
),
target AS (SELECT COALESCE((SELECT id FROM covering), $2) AS id),
was AS (SELECT id, paused_at FROM sessions WHERE id = (SELECT id FROM target) AND paused_at IS NOT NULL AND ended_at IS NULL),
student AS (INSERT INTO students (id) VALUES ($1) ON CONFLICT DO NOTHING),
up AS (
  INSERT INTO sessions (id, student_id, platform, kind, status, started_at, last_activity_at, subject, topic, subtopic,
                        participants, interaction_count)
  SELECT target.id, $1, $5, 'auto', 'active', $3, $3, $6, $7, $8,
         jsonb_build_array(jsonb_build_object('id', $1::text, 'role', 'student', 'joined_at', to_char($3::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))), 1
  FROM target
  ON CONFLICT (id) DO UPDATE SET
    last_activity_at = GREATEST(sessions.last_activity_at, EXCLUDED.last_activity_at),
    started_at = LEAST(sessions.started_at, EXCLUDED.started_at),
    ended_at = CASE WHEN sessions.end_reason = 'timeout' THEN GREATEST(sessions.ended_at, EXCLUDED.last_activity_at) ELSE sessions.ended_at END,
    subject = COALESCE(sessions.subject, EXCLUDED.subject),
    topic = COALESCE(sessions.topic, EXCLUDED.topic),
    subtopic = COALESCE(sessions.subtopic, EXCLUDED.subtopic),
    interaction_count = sessions.interaction_count + 1,
    ${resumeOnActivitySet('$3::timestamptz', 'sessions.')},
    updated_at = now()
  WHERE sessions.student_id = EXCLUDED.student_id AND NOT sessions.workshop AND sessions.status <> 'abandoned'
    AND (sessions.ended_at IS NULL OR sessions.end_reason = 'timeout')
    AND (sessions.last_activity_at >= $3::timestamptz - $4::int * interval '1 millisecond' OR ${RESUMES('sessions.')})
    AND sessions.started_at <= $3::timestamptz + $4::int * interval '1 millisecond'
  RETURNING sessions.*, (xmax = 0) AS inserted
),
ev AS (
  INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, created_at)
  SELECT $11::uuid, up.id, $1, 'session_started', $12::jsonb, up.started_at FROM up WHERE up.inserted
  UNION ALL
  ${implicitResumeEvent('up', 'was', '$3::timestamptz', 'interaction')}
  UNION ALL
  SELECT $9::uuid, up.id, $1, 'interaction', $10::jsonb, $3::timestamptz FROM up
  UNION ALL
  SELECT $13::uuid, up.id, $1, 'attempt', $14::jsonb, $3::timestamptz FROM up WHERE $13::uuid IS NOT NULL
  ON CONFLICT (event_uuid) DO NOTHING
)
SELECT * FROM up
`;
