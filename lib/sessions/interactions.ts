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
  /** The tool call was stored before (ADR 0031): nothing was added, `row` is the session holding it. */
  duplicate: boolean;
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

  const keys = await interactionKeys(input, at);
  const attempt = attemptOf(input, keys.attempt, opts.attemptTools);
  const ids = claim && claim.id !== base ? [claim.id, ...idCandidates(base)] : idCandidates(base);
  let result: InteractionResult | null = null;
  for (const id of ids) {
    result = await upsert(ctx, input, id, at, claim === undefined, keys.interaction, attempt);
    if (result) break; // null: `id` belongs to another sitting; try the next readable id
  }
  if (!result) throw new Error(`no free session id for ${base}`);

  // A duplicate says nothing about the student's current sitting (it may be a call's session).
  if (claim && claim.id !== result.row.id && !result.duplicate) {
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

/** JSON with every object's keys sorted: the same body in another key order is the same text. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Event ids in the scheme the call webhook of `platform` uses (lib/calls/receive.ts): Vapi's have no prefix, the session-data webhook's name their platform. */
const callScope = (platform: string | undefined): string[] => (!platform || platform === 'vapi' || platform === 'mcp' ? [] : [platform]);

/**
 * The ids of the interaction's event and of the attempt it may be (ADR 0031), from what tells
 * this tool call from any other:
 * - `tool_call_id` with `call_id`: the ids the call webhook gives the same call (`stableUuid(call,
 *   'tool', tool call)`), so the tool server's post and Vapi's record of the call are one row,
 *   whichever comes first.
 * - `tool_call_id` alone: keyed by the student and that id (unique per student: Vapi's are).
 * - `timestamp` alone: keyed by the whole body (keys in any order) at that time. Two posts that
 *   agree on every field and on the time as sent are one call — a tool server that can make two
 *   identical calls within one tick of its clock must send `tool_call_id`. The attempt keeps ADR
 *   0030's id (student, time, function, parameters as sent), so a retry across the upgrade counts once.
 * - neither: random ids. Nothing tells a retry from a second identical call, so each is stored.
 */
async function interactionKeys(input: InteractionInput, at: Date): Promise<{ interaction: string; attempt: string }> {
  const tc = input.tool_call_id;
  if (tc !== undefined && input.call_id !== undefined) {
    const scope = [...callScope(input.platform), input.call_id];
    return { interaction: await stableUuid(...scope, 'tool', tc), attempt: await stableUuid(...scope, 'attempt', tc) };
  }
  if (tc !== undefined) {
    return { interaction: await stableUuid('interaction', input.student_id, 'tool', tc), attempt: await stableUuid('attempt', 'interaction', input.student_id, 'tool', tc) };
  }
  if (input.timestamp) {
    return {
      interaction: await stableUuid('interaction', input.student_id, at.toISOString(), canonical({ ...input, timestamp: undefined })),
      attempt: await stableUuid('attempt', 'interaction', input.student_id, at.toISOString(), input.function, JSON.stringify(input.parameters ?? {})),
    };
  }
  return { interaction: crypto.randomUUID(), attempt: crypto.randomUUID() };
}

/** Where a tool server's call came from, on its interaction and its attempt. */
const originOf = (input: InteractionInput) => ({
  ...(input.tool_call_id !== undefined ? { tool_call_id: input.tool_call_id } : {}),
  ...(input.call_id !== undefined ? { call_id: input.call_id } : {}),
});

/** The attempt a graded tool call also is (ADR 0030), under the id interactionKeys derived. */
function attemptOf(input: InteractionInput, uuid: string, tools: ReadonlySet<string> | undefined): { uuid: string; data: Record<string, unknown> } | null {
  const data = tools?.size
    ? toolCallAttempt(tools, input.function, input.parameters ?? {}, { ...originOf(input), source: input.platform ?? 'mcp' }, { subject: input.subject, topic: input.topic })
    : undefined;
  return data ? { uuid, data } : null;
}

async function upsert(
  ctx: SessionCtx,
  input: InteractionInput,
  id: string,
  at: Date,
  lock: boolean,
  uuid: string,
  attempt: { uuid: string; data: Record<string, unknown> } | null,
): Promise<InteractionResult | null> {
  // No `source` key: that is how the call webhooks tell a tool server's row from their own (receive.ts).
  const data = {
    function: input.function,
    parameters: input.parameters ?? {},
    data_provided: input.data_provided ?? [],
    subjects_accessed: input.subjects_accessed ?? [],
    ...(input.platform ? { platform: input.platform } : {}),
    ...originOf(input),
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
      uuid,
      JSON.stringify(data),
      crypto.randomUUID(),
      JSON.stringify(started),
      attempt?.uuid ?? null,
      attempt ? JSON.stringify(attempt.data) : null,
      input.tool_call_id ?? null,
      input.call_id ?? null,
    ],
  };
  type Row = SessionRow & { inserted: boolean; duplicate: boolean; counted: boolean };
  let rows: Row[];
  if (lock) {
    // No KV: serialise this student's boundary decisions in Postgres for the transaction.
    const [, r] = await ctx.sql.batch([{ text: 'SELECT pg_advisory_xact_lock(hashtext($1))', params: [`session:${input.student_id}`] }, statement]);
    rows = (r ?? []) as unknown as Row[];
  } else {
    rows = await ctx.sql.query<Row>(statement.text, statement.params);
  }
  const found = rows[0];
  if (!found) return null;
  const { duplicate, counted, ...row } = found;
  if (duplicate && counted) {
    // Two deliveries of one call ran at once: both counted it before the other's event was there,
    // and only one event went in (ON CONFLICT). Take this one's count back.
    await ctx.sql.query('UPDATE sessions SET interaction_count = GREATEST(interaction_count - 1, 0) WHERE id = $1', [row.id]);
    row.interaction_count = Math.max(0, row.interaction_count - 1);
  }
  return { row, isNew: row.inserted === true && !duplicate, duplicate: duplicate === true };
}

/*
 * $1 student, $2 proposed id, $3 event time, $4 timeout ms, $5 platform, $6-$8 subject/topic/
 * subtopic, $9 interaction event uuid, $10 its data, $11 session_started uuid, $12 its data,
 * $13 the attempt's uuid (null: the call is no attempt), $14 its data, $15 the tool call id and
 * $16 the call id (or null). The interaction's and the attempt's ids are derived (interactionKeys): a repeat inserts
 * nothing (ON CONFLICT), the other ids are random.
 * `dup` finds the call stored already (ADR 0031): its event id, or its tool call id among the
 * student's interactions of the day around it (a call webhook's row, keyed by the platform's call
 * id), not one of another call when $16 names the call. Then nothing is written and the statement answers the session holding it, `duplicate`.
 * Two deliveries running at once both miss `dup`; ON CONFLICT stores one event, and the one whose
 * event did not go in answers `duplicate` and `counted` (its count is taken back, upsert()).
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
WITH dup AS (
  SELECT session_token FROM events WHERE event_uuid = $9::uuid
  UNION ALL
  (SELECT session_token FROM events
   WHERE $15::text IS NOT NULL AND student_id = $1 AND event_type = 'interaction' AND event_data->>'tool_call_id' = $15::text
     AND ($16::text IS NULL OR event_data->>'call_id' IS NULL OR event_data->>'call_id' = $16::text)
     AND created_at BETWEEN $3::timestamptz - interval '1 day' AND $3::timestamptz + interval '1 day'
   LIMIT 1)
  LIMIT 1
),
covering AS (
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
  FROM target WHERE NOT EXISTS (SELECT 1 FROM dup)
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
  RETURNING event_uuid
)
SELECT up.*, NOT EXISTS (SELECT 1 FROM ev WHERE event_uuid = $9::uuid) AS duplicate, true AS counted FROM up
UNION ALL
SELECT s.*, false AS inserted, true AS duplicate, false AS counted FROM sessions s WHERE s.id = (SELECT session_token FROM dup)
`;
