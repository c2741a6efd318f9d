import { describeError } from '../deps.js';
import type { SessionCtx } from '../sessions/context.js';
import { countWords } from '../sessions/rows.js';
import { stableUuid } from '../util/stable-uuid.js';
import { applyToSession, conversationSource, liveSource, type SessionEvent } from './apply.js';
import { firstUserTurns, identifyFromTurns, userTurnsOf } from './identify.js';
import { type Linked, linkCall, settleUnknownCall } from './link.js';
import type { AnswerEnv, CallAdapter, CallDelivery, CallReport, ToolResult } from './types.js';

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
  const turns = userTurnsOf(d.update);
  const linked = await linkCall(ctx, {
    platform: d.platform, callId: d.callId, identity: d.identity, startedAt: d.linkStart, matchWindowMs: env.matchWindowMs, userTurns: turns,
  });
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
      // Stored before answering: the call happened whatever the tool server does next.
      await applyToSession(ctx.sql, { sessionId, at, events: interactions, platformMetadata: u.metadata, callId: d.callId });
      const prior = await storedResults(ctx, await Promise.all(u.calls.map(async (c) => ({ callId: c.id, uuid: await id('tool-result', c.id) }))));
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
      await applyToSession(ctx.sql, {
        sessionId,
        at,
        events: [{ uuid: await id('function', u.name, d.stamp), type: 'interaction', data: interaction(u.name, u.parameters, base), at }],
      });
      const answered = adapter.answer ? await adapter.answer(u, env) : { body: {} };
      return { linked, answer: answered.body };
    }
    case 'report':
      return applyReport(ctx, d, u.report, linked, id);
    case 'ignored':
      return {};
  }
}

/** Tool results already stored for these calls (by their deterministic event ids). */
async function storedResults(ctx: SessionCtx, calls: Array<{ callId: string; uuid: string }>): Promise<Map<string, ToolResult>> {
  const out = new Map<string, ToolResult>();
  if (!calls.length) return out;
  const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const rows = await ctx.sql.query<{ event_data: Record<string, unknown> }>('SELECT event_data FROM events WHERE event_uuid = ANY($1::uuid[])', [calls.map((c) => c.uuid)]);
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
  for (const { at, ...t } of r.toolResults ?? []) {
    events.push({ uuid: await id('tool-result', t.toolCallId), type: 'tool_result', data: { ...t, call_id: callId, source: d.platform }, at });
  }
  if (r.status) {
    events.push({ uuid: await id('status', r.status.status), type: 'call_status', data: { call_id: callId, source: d.platform, status: r.status.status, ended_reason: r.status.endedReason }, at: d.at });
  }
  if (r.end) {
    events.push({ uuid: await id('session_ended'), type: 'session_ended', data: { reason: r.end.reason, ...r.end.detail, call_id: callId }, at: r.end.at });
  }
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
    events,
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
