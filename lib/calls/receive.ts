import { describeError } from '../deps.js';
import type { SessionCtx } from '../sessions/context.js';
import { countWords } from '../sessions/rows.js';
import { toolCallAttempt } from '../sessions/tool-attempts.js';
import { stableUuid } from '../util/stable-uuid.js';
import { applyToSession, conversationSource, liveSource, type SessionEvent } from './apply.js';
import { firstUserTurns, identifyFromTurns, userTurnsOf } from './identify.js';
import { type Linked, linkCall, settleUnknownCall } from './link.js';
import { type AnswerEnv, type CallAdapter, type CallDelivery, type CallReport, TOOLS_DEADLINE_MS, type ToolResult } from './types.js';

export interface CallOutcome {
  /** The link the delivery was stored under; absent when nothing was stored (ignored, redelivered). */
  linked?: Linked;
  /** The adapter's answer to a delivery that asked for something (tool calls). */
  answer?: unknown;
  /** Set when this delivery ended the session for the first time: run end-of-session work once. */
  completedSessionId?: string;
}

export interface ReceiveEnv extends AnswerEnv {
  /** Window around the call's start in which a student's active session joins the call. */
  matchWindowMs: number;
}

const SEEN_TTL_MS = 24 * 60 * 60_000;

/**
 * Fold one parsed delivery into its session: skip a byte-identical redelivery when the adapter
 * allows it, link the call to a session, and apply the update. Every stored event has a
 * deterministic id, so a redelivery changes nothing whatever KV remembers.
 */
export async function receiveCall(ctx: SessionCtx, adapter: CallAdapter, d: CallDelivery, env: ReceiveEnv): Promise<CallOutcome> {
  const asks = d.update.kind === 'tool-calls' || d.update.kind === 'function-call';
  // A cheap skip only: losing KV costs the repeated work, nothing else. Deliveries that ask for
  // something always run, the platform needs the answer again.
  let seenKey: string | undefined;
  if (adapter.skipsRedeliveries && d.callId && !asks) {
    seenKey = `${d.platform}:seen:${d.callId}:${await stableUuid(env.rawBody)}`;
    const fresh = await ctx.kv.set(seenKey, '1', { nx: true, ttlMs: SEEN_TTL_MS }).catch(() => true);
    if (!fresh) return {};
  }
  try {
    return await apply(ctx, adapter, d, env);
  } catch (err) {
    // Not stored: forget the mark so a retry is processed.
    if (seenKey) await ctx.kv.del(seenKey).catch(() => 0);
    throw err;
  }
}

async function apply(ctx: SessionCtx, adapter: CallAdapter, d: CallDelivery, env: ReceiveEnv): Promise<CallOutcome> {
  if (d.update.kind === 'ignored') return {};
  // A message that only says who a conversation is for: a session made for nobody and nothing
  // would be an empty `unknown` sitting (a Vapi session opened and never chatted in).
  if (d.update.kind === 'link' && (!d.callId || (!d.identity.studentId && !d.identity.sessionId && !d.identity.phone && !d.follows))) return {};
  const turns = userTurnsOf(d.update);
  const linked = await linkCall(ctx, {
    platform: d.platform, callId: d.callId, identity: d.identity, startedAt: d.linkStart, matchWindowMs: env.matchWindowMs, userTurns: turns,
    follows: d.follows, aliases: d.aliases,
  });
  if (linked.via === 'call' && linked.studentId === 'unknown' && d.identity.studentId) {
    // Linked as `unknown` by an earlier message, named now: a Vapi session's chats before its
    // session.created, a call's assistant-request before the assistant it chose (whose metadata
    // names the student). Taken as any identification is: only while nobody else is known.
    const studentId = await settleUnknownCall(ctx, linked.sessionId, { kind: 'one', studentId: d.identity.studentId }, 'metadata');
    const settled = { ...linked, ...(studentId ? { studentId, via: 'student' as const } : {}) };
    return applyUpdate(ctx, adapter, d, env, settled);
  }
  const outcome = await applyUpdate(ctx, adapter, d, env, linked);
  if (linked.studentId === 'unknown' && turns.length) {
    // Still nobody: what the caller said so far may name them. A report holds the whole call; a
    // live line is read with the lines stored before it, the caller's first turns being what counts.
    const said = d.update.kind === 'report' ? turns : await storedUserTurns(ctx, linked.sessionId);
    // A live line past the caller's first turns names nobody new: no need to read the students.
    if (d.update.kind === 'transcript' && !said.includes(d.update.text)) return outcome;
    // A report's turns were already read by linkCall when it made the unknown session (`heard`).
    const found = d.update.kind === 'report' && linked.heard ? linked.heard : await identifyFromTurns(ctx.sql, said);
    const studentId = await settleUnknownCall(ctx, linked.sessionId, found, 'transcript');
    if (studentId) return { ...outcome, linked: { ...linked, studentId, via: 'transcript' } };
  }
  return outcome;
}

/** The caller's first turns among a session's stored transcript lines. */
async function storedUserTurns(ctx: SessionCtx, sessionId: string): Promise<string[]> {
  const rows = await ctx.sql.query<{ speaker: string; text: string }>(
    `SELECT event_data->>'speaker' AS speaker, event_data->>'text' AS text FROM events
     WHERE session_token = $1 AND event_type = 'transcript' ORDER BY created_at, id LIMIT 50`,
    [sessionId],
  );
  return firstUserTurns(rows.filter((r) => typeof r.speaker === 'string' && typeof r.text === 'string'));
}

async function applyUpdate(ctx: SessionCtx, adapter: CallAdapter, d: CallDelivery, env: ReceiveEnv, linked: Linked): Promise<CallOutcome> {
  const u = d.update;
  const sessionId = linked.sessionId;
  const key = d.callId ?? `${sessionId}${d.idScope?.noCallSuffix ?? ''}`;
  const id = (...what: Array<string | number>) => stableUuid(...(d.idScope?.prefix ?? []), key, ...what);
  const base = { call_id: d.callId, source: d.platform };
  const at = d.at;
  // A message without its own time is dated on arrival: that must not stretch an ended call.
  const arrival = d.stamp === '' ? { atIsArrival: true } : {};

  switch (u.kind) {
    case 'status':
      await applyToSession(ctx.sql, {
        sessionId,
        at,
        events: [{ uuid: await id('status', u.status), type: 'call_status', data: { ...base, status: u.status, ended_reason: u.endedReason }, at }],
        platformMetadata: u.metadata,
        callId: d.callId,
        ...(u.startedAt ? { startedAt: u.startedAt, callCreatedAt: d.linkStart } : {}),
        ...arrival,
      });
      return { linked };
    case 'transcript':
      await applyToSession(ctx.sql, {
        sessionId,
        at,
        events: [{ uuid: await id('live', u.speaker, d.stamp, u.text), type: 'transcript', data: { speaker: u.speaker, text: u.text, source: liveSource(d.platform), call_id: d.callId }, at }],
        // The report's lines (and a whole-history message's) are authoritative: a live line after
        // them would duplicate one; the next whole-history message carries it anyway.
        ...(d.callId ? { unlessReported: d.callId, unlessTranscriptFrom: [conversationSource(d.platform)] } : {}),
        ...arrival,
      });
      return { linked };
    case 'hang':
      await applyToSession(ctx.sql, { sessionId, at, events: [{ uuid: await id('hang', d.stamp), type: 'call_hang', data: base, at }], ...arrival });
      return { linked };
    case 'event':
      await applyToSession(ctx.sql, {
        sessionId,
        at,
        events: [{ uuid: await id(u.type, u.key, d.stamp), type: u.type, data: { ...u.data, ...base }, at }],
        ...(u.metadata ? { platformMetadata: u.metadata, callId: d.callId } : {}),
        ...arrival,
      });
      return { linked };
    case 'tool-calls': {
      const interactions: SessionEvent[] = await Promise.all(
        u.calls.map(async (c) => ({ uuid: await id('tool', c.id), type: 'interaction', data: interaction(c.name, c.args, { tool_call_id: c.id, ...base }), at })),
      );
      const attempts = await attemptEvents(env, u.calls.map((c) => ({ ...c, at })), base, id);
      // Stored before answering: the call happened whatever the tool server does next.
      const logged = await notLoggedByToolServer(ctx, linked.studentId, d.callId, [...interactions, ...attempts]);
      await applyToSession(ctx.sql, { sessionId, at, events: logged, platformMetadata: u.metadata, callId: d.callId });
      const results = await Promise.all(u.calls.map(async (c) => ({ callId: c.id, result: await id('tool-result', c.id) })));
      const prior = await storedResults(ctx, results);
      if (adapter.answer) {
        // Concurrent deliveries of one message: one runs each call, the others answer its result.
        const open = u.calls.flatMap((c, i) => (prior.has(c.id) ? [] : [{ name: c.name, callId: c.id, interaction: interactions[i]!.uuid, result: results[i]!.result }]));
        const theirs = await claimRuns(ctx, open, runWindowMs(env));
        if (theirs.length) {
          const got = await untilStored(ctx, theirs, runWindowMs(env));
          for (const t of theirs) prior.set(t.callId, got.get(t.callId) ?? { toolCallId: t.callId, name: t.name, error: RUNNING_ELSEWHERE });
        }
      }
      const answered = adapter.answer ? await adapter.answer(u, env, prior) : { body: {} };
      // Results belong to the moment of the call, not to when the tool server answered.
      await applyToSession(ctx.sql, {
        sessionId,
        at,
        events: await Promise.all(
          (answered.results ?? []).map(async (r) => ({ uuid: await id('tool-result', r.toolCallId), type: 'tool_result', data: { ...r, ...base }, at })),
        ),
      }).catch((err: unknown) => ctx.log.warn('tool results not logged', { error: describeError(err) }));
      return { linked, answer: answered.body };
    }
    case 'function-call': {
      // The legacy message has no call id: the function's name and the message's time stand for it.
      const call = { name: u.name, callId: `function:${u.name}:${d.stamp}`, interaction: await id('function', u.name, d.stamp), result: await id('function-result', u.name, d.stamp) };
      const graded = toolCallAttempt(env.config.attemptTools, u.name, u.parameters, base);
      const attempt: SessionEvent[] = graded ? [{ uuid: await id('function-attempt', u.name, d.stamp), type: 'attempt', data: graded, at }] : [];
      await applyToSession(ctx.sql, { sessionId, at, events: [{ uuid: call.interaction, type: 'interaction', data: interaction(u.name, u.parameters, base), at }, ...attempt] });
      if (!adapter.answer) return { linked, answer: {} };
      // As for tool calls: a redelivery is answered from the stored result, and never runs twice.
      const stored = (await storedResults(ctx, [call])).get(call.callId) ?? (d.stamp ? await otherRunsResult(ctx, call, env) : undefined);
      if (stored) return { linked, answer: { result: stored.result ?? stored.error ?? RUNNING_ELSEWHERE } };
      const answered = await adapter.answer(u, env);
      const result = (answered.body as { result?: unknown } | null)?.result;
      if (d.stamp && typeof result === 'string') {
        await applyToSession(ctx.sql, {
          sessionId,
          at,
          events: [{ uuid: call.result, type: 'tool_result', data: { toolCallId: call.callId, name: u.name, result, ...base }, at }],
        }).catch((err: unknown) => ctx.log.warn('function result not logged', { error: describeError(err) }));
      }
      return { linked, answer: answered.body };
    }
    case 'report':
      return applyReport(ctx, d, u.report, linked, id, env);
    case 'link':
      return { linked };
    case 'ignored':
      return {};
  }
}

/** What a delivery answers for a call another delivery of the same message is running and has not answered in time. */
const RUNNING_ELSEWHERE = 'This tool call is still being answered for an earlier delivery of the same message; it is not run twice.';

/** How long a run may take before another delivery takes it over: the tool server's deadline and a margin to store its results. */
const runWindowMs = (env: ReceiveEnv) => (env.config.toolServer?.timeoutMs ?? TOOLS_DEADLINE_MS) + 2_000;

interface OpenCall {
  name: string;
  callId: string;
  /** Event ids of the call's interaction (stored before the run) and of its result. */
  interaction: string;
  result: string;
}

/**
 * Claim the runs of calls that have no stored result: a run is this delivery's when it marks the
 * call's interaction event (`run_started_at`) first, or after an earlier run's window passed
 * without a result (that delivery died). Returns the calls another delivery is running now. A call
 * whose interaction was not stored is run here, as before there were claims.
 */
async function claimRuns(ctx: SessionCtx, calls: readonly OpenCall[], windowMs: number): Promise<OpenCall[]> {
  if (!calls.length) return [];
  const rows = await ctx.sql.query<{ uuid: string; theirs: boolean }>(
    `WITH c AS (SELECT * FROM unnest($1::uuid[], $2::uuid[]) AS c(interaction, result)),
     claimed AS (
       UPDATE events e SET event_data = e.event_data || jsonb_build_object('run_started_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
       FROM c
       WHERE e.event_uuid = c.interaction
         -- One format of ISO text compares as its times do, and never fails on a bad value.
         AND COALESCE(e.event_data->>'run_started_at' < to_char((now() - $3::int * interval '1 millisecond') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), true)
         AND NOT EXISTS (SELECT 1 FROM events r WHERE r.event_uuid = c.result)
       RETURNING e.event_uuid)
     SELECT c.interaction::text AS uuid,
            c.interaction NOT IN (SELECT event_uuid FROM claimed) AND EXISTS (SELECT 1 FROM events x WHERE x.event_uuid = c.interaction) AS theirs
     FROM c`,
    [calls.map((c) => c.interaction), calls.map((c) => c.result), windowMs],
  );
  const theirs = new Set(rows.filter((r) => r.theirs).map((r) => r.uuid));
  return calls.filter((c) => theirs.has(c.interaction));
}

/** The stored results of these calls, waiting up to `windowMs` for the delivery running them. */
async function untilStored(ctx: SessionCtx, calls: readonly OpenCall[], windowMs: number): Promise<Map<string, ToolResult>> {
  const deadline = Date.now() + windowMs;
  let got = new Map<string, ToolResult>();
  for (let pause = 50; ; pause = Math.min(pause * 2, 500)) {
    got = await storedResults(ctx, calls);
    if (got.size >= new Set(calls.map((c) => c.callId)).size || Date.now() + pause > deadline) return got;
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

/** A legacy function call's result when another delivery is running it (claimRuns); undefined when this one is to run it. */
async function otherRunsResult(ctx: SessionCtx, call: OpenCall, env: ReceiveEnv): Promise<ToolResult | undefined> {
  const [theirs] = await claimRuns(ctx, [call], runWindowMs(env));
  if (!theirs) return undefined;
  return (await untilStored(ctx, [theirs], runWindowMs(env))).get(call.callId) ?? { toolCallId: call.callId, name: call.name, error: RUNNING_ELSEWHERE };
}

/** Tool results already stored for these calls (`result`: the result event's deterministic id). */
async function storedResults(ctx: SessionCtx, calls: ReadonlyArray<{ callId: string; result: string }>): Promise<Map<string, ToolResult>> {
  const out = new Map<string, ToolResult>();
  if (!calls.length) return out;
  const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const rows = await ctx.sql.query<{ event_data: Record<string, unknown> }>('SELECT event_data FROM events WHERE event_uuid = ANY($1::uuid[])', [calls.map((c) => c.result)]);
  for (const { event_data: d } of rows) {
    const { toolCallId, name, result, error, message, metadata } = d as { toolCallId?: unknown; name?: unknown; result?: unknown; error?: unknown; message?: unknown; metadata?: unknown };
    if (typeof toolCallId !== 'string' || typeof name !== 'string') continue;
    // What the assistant said and the client got the first time, said again.
    const extra = { ...(isRecord(message) ? { message } : {}), ...(isRecord(metadata) ? { metadata } : {}) };
    if (typeof error === 'string') out.set(toolCallId, { toolCallId, name, error, ...extra });
    else if (typeof result === 'string') out.set(toolCallId, { toolCallId, name, result, ...extra });
  }
  return out;
}

/**
 * The attempts among these tool calls (ADR 0030): a call of an ATTEMPT_TOOLS tool with a boolean
 * `correct`. Each id is derived from the call's id as its interaction's is, so the call's live
 * message, the histories and the report that repeat it, and any redelivery, write one attempt.
 */
async function attemptEvents(
  env: ReceiveEnv,
  calls: ReadonlyArray<{ id: string; name: string; args: Record<string, unknown>; at: Date }>,
  base: Record<string, unknown>,
  id: (...what: Array<string | number>) => Promise<string>,
): Promise<SessionEvent[]> {
  const out: SessionEvent[] = [];
  for (const c of calls) {
    const data = toolCallAttempt(env.config.attemptTools, c.name, c.args, { tool_call_id: c.id, ...base });
    if (data) out.push({ uuid: await id('attempt', c.id), type: 'attempt', data, at: c.at });
  }
  return out;
}

/** How far apart a tool server's post and a webhook's record of one tool call may be dated (the report dates calls it cannot time at the call's start). */
const SAME_CALL_WINDOW = 'interval \'1 day\'';

/**
 * Without the interactions (and attempts) of tool calls the tool server logged already, for this
 * student, with their tool call id but not the call's id (POST /api/sessions/interactions, ADR
 * 0031): its row has another id than ours, so ON CONFLICT cannot see it. A tool server's row has no
 * `source` and every webhook's has, so another call's tool call that reuses an id (a platform
 * numbering its calls' tool calls `tc_1`, `tc_2`...) is never taken for it; nor is a tool server's
 * post that names another call. Nothing to look up for a call nobody is known for yet.
 */
async function notLoggedByToolServer(ctx: SessionCtx, studentId: string | null, callId: string | null, events: SessionEvent[]): Promise<SessionEvent[]> {
  const idOf = (e: SessionEvent) => (e.type === 'interaction' || e.type === 'attempt') && typeof e.data.tool_call_id === 'string' ? e.data.tool_call_id : undefined;
  const calls = events.filter((e) => e.type === 'interaction' && idOf(e) !== undefined);
  if (!studentId || studentId === 'unknown' || !calls.length) return events;
  const times = calls.map((e) => e.at.getTime());
  const rows = await ctx.sql.query<{ id: string }>(
    `SELECT DISTINCT event_data->>'tool_call_id' AS id FROM events
     WHERE student_id = $1 AND event_type = 'interaction' AND event_data->>'tool_call_id' = ANY($2::text[]) AND NOT (event_data ? 'source')
       AND (event_data->>'call_id' IS NULL OR event_data->>'call_id' = $5::text)
       AND created_at BETWEEN $3::timestamptz - ${SAME_CALL_WINDOW} AND $4::timestamptz + ${SAME_CALL_WINDOW}`,
    [studentId, calls.map(idOf), new Date(Math.min(...times)).toISOString(), new Date(Math.max(...times)).toISOString(), callId],
  );
  if (!rows.length) return events;
  const logged = new Set(rows.map((r) => r.id));
  return events.filter((e) => !logged.has(idOf(e) ?? ''));
}

const interaction = (fn: string, parameters: Record<string, unknown>, extra: Record<string, unknown>) => ({
  function: fn,
  parameters,
  data_provided: [],
  subjects_accessed: [],
  ...extra,
});

/** The report: its transcript replaces the live one, its end (if any) completes the session once. */
async function applyReport(
  ctx: SessionCtx,
  d: CallDelivery,
  r: CallReport,
  linked: Linked,
  id: (...what: Array<string | number>) => Promise<string>,
  env: ReceiveEnv,
): Promise<CallOutcome> {
  const callId = d.callId;
  const final = r.authority !== 'interim';
  // Interim lines key by position and content: each whole-history message repeats the earlier
  // lines, which keep their ids, while a line whose text the platform revised gets a new one and
  // replaces the old. The report's own lines replace them all, so their ids never meet.
  const source = final ? d.platform : conversationSource(d.platform);
  const events: SessionEvent[] = await Promise.all(
    (r.transcript?.lines ?? []).map(async (e, i) => ({
      uuid: final ? await id('entry', i) : await id('conv', i, e.speaker, e.text),
      type: 'transcript',
      data: { speaker: e.speaker, text: e.text, source, call_id: callId },
      at: e.at,
    })),
  );
  // Tool calls and results recorded in the report: the same ids as live ones, so nothing counts twice.
  for (const t of r.toolCalls) {
    events.push({ uuid: await id('tool', t.id), type: 'interaction', data: interaction(t.name, t.args, { tool_call_id: t.id, call_id: callId, source: d.platform }), at: t.at });
  }
  events.push(...(await attemptEvents(env, r.toolCalls, { call_id: callId, source: d.platform }, id)));
  for (const { at, ...t } of r.toolResults ?? []) {
    events.push({ uuid: await id('tool-result', t.toolCallId), type: 'tool_result', data: { ...t, call_id: callId, source: d.platform }, at });
  }
  if (r.status) {
    events.push({ uuid: await id('status', r.status.status), type: 'call_status', data: { call_id: callId, source: d.platform, status: r.status.status, ended_reason: r.status.endedReason }, at: d.at });
  }
  if (r.end) {
    events.push({ uuid: await id('session_ended'), type: 'session_ended', data: { reason: r.end.reason, ...r.end.detail, call_id: callId }, at: r.end.at });
  }
  const stored = r.toolCalls.length ? await notLoggedByToolServer(ctx, linked.studentId, callId, events) : events;
  const text = r.transcript?.text;
  const lines = r.transcript?.lines.length ?? 0;
  // Replace lower-authority lines only with something: an interim message with an empty history
  // must not wipe the live lines, nor a report whose artifact holds no transcript at all (every
  // field of Vapi's Artifact is optional).
  const empty = lines === 0 && !text?.trim();
  // A whole-history message's own time (not its arrival): orders histories that race.
  const historyAt = !final && lines > 0 && callId && d.stamp !== '' ? r.at.toISOString() : undefined;
  const replaces = !callId || !r.replacesLive || (!final && lines === 0) || empty ? [] : [liveSource(d.platform), conversationSource(d.platform)];
  const applied = await applyToSession(ctx.sql, {
    sessionId: linked.sessionId,
    at: r.at,
    ...(r.startIsFallback ? {} : { startedAt: r.startedAt, callCreatedAt: d.linkStart }),
    events: stored,
    ...(replaces.length && callId ? { replaceLiveTranscriptOf: { callId, sources: replaces } } : {}),
    // Histories only grow: one with fewer lines than are stored left the platform earlier, as did
    // one whose own time is older than the last applied (kept as platform_metadata.conversation_at).
    ...(!final && lines > 0 && callId ? { history: { source: conversationSource(d.platform), lines, ...(historyAt ? { at: historyAt } : {}) } } : {}),
    callId,
    ...(text !== undefined && (final || lines > 0) && !empty
      ? { conversation: { source: d.platform, transcript: text, word_count: countWords(text), duration_seconds: Math.max(0, Math.round(r.durationSeconds)), call_id: callId } }
      : {}),
    platformMetadata: r.metadata,
    ...(r.end ? { end: { endedAt: r.end.at, reason: r.end.reason } } : {}),
    ...(final && callId ? { reportCallId: callId } : {}),
    ...(!final && callId ? { unlessReported: callId } : {}),
  });
  // End-of-session work runs once per call, after whichever delivery ended it first (the
  // session_ended event has one id per call). Without a call id every ending delivery counts.
  const completed = r.end !== undefined && applied !== null && (applied.firstEnd || !callId);
  return { linked, ...(completed ? { completedSessionId: linked.sessionId } : {}) };
}
