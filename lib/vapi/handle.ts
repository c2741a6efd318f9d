import { describeError } from '../deps.js';
import type { SessionCtx } from '../sessions/context.js';
import { countWords } from '../sessions/rows.js';
import { sha256Hex, stableUuid } from '../util/stable-uuid.js';
import { applyToSession, type SessionEvent } from './apply.js';
import { linkCall } from './link.js';
import { baseType, identify, reportEntries, reportToolCalls, toolCalls, type VapiMessage, vapiTime } from './message.js';
import { forwardFunctionCall, forwardToolCalls, type ToolServer } from './tools.js';

export interface VapiOptions {
  matchWindowMs: number;
  toolServer: ToolServer | undefined;
}

export interface VapiOutcome {
  /** What Vapi gets back. */
  body: unknown;
  /** The session this message belongs to, when it was stored. */
  sessionId?: string;
  /** Set when this delivery completed the session (first end-of-call report): run end-of-session work. */
  completedSessionId?: string;
}

/** Types we store; everything else is acknowledged with `{}` and nothing more. */
const STORED = new Set(['end-of-call-report', 'status-update', 'transcript', 'tool-calls', 'function-call', 'hang']);

const SPEAKER: Record<string, string> = { assistant: 'assistant', bot: 'assistant', user: 'user', customer: 'user' };

/**
 * Fold one Vapi server message into its session. Every stored event has a deterministic id, so a
 * redelivered message changes nothing, whatever KV remembers.
 */
export async function handleVapiMessage(ctx: SessionCtx, opts: VapiOptions, m: VapiMessage, rawBody: string): Promise<VapiOutcome> {
  const type = baseType(m.type);
  if (!STORED.has(type)) return { body: {} };
  const final = m.transcriptType === 'final' || m.type.includes('transcriptType="final"');
  if (type === 'transcript' && (!final || !m.transcript?.trim())) return { body: {} }; // partials are not stored

  const now = ctx.now();
  const clamp = (d: Date | null) => (d && d.getTime() <= now.getTime() ? d : now);
  const at = clamp(vapiTime(m.timestamp));
  // A call id is a key (and an index entry): an absurdly long one is replaced by its hash.
  const rawCallId = m.call?.id?.trim() || null;
  const callId = rawCallId && rawCallId.length > 200 ? `h_${(await sha256Hex(rawCallId)).slice(0, 40)}` : rawCallId;
  const startedAt = clamp(vapiTime(m.startedAt) ?? vapiTime(m.call?.startedAt) ?? vapiTime(m.call?.createdAt) ?? at);
  // Every message of a call carries the same call.createdAt, so linking (and the readable session
  // id made from it) agrees across messages even when they race; the report's startedAt differs.
  const linkStart = clamp(vapiTime(m.call?.createdAt) ?? vapiTime(m.call?.startedAt) ?? startedAt);
  const linked = await linkCall(ctx, { platform: 'vapi', callId, identity: identify(m), startedAt: linkStart, matchWindowMs: opts.matchWindowMs });
  const key = callId ?? linked.sessionId;
  const base = { call_id: callId, source: 'vapi' };
  const common = {
    call_id: callId ?? undefined,
    call_type: m.call?.type,
    phone_number: m.customer?.number ?? m.call?.customer?.number,
    assistant_id: m.assistant?.id ?? undefined,
    assistant_name: m.assistant?.name ?? undefined,
  };

  switch (type) {
    case 'status-update': {
      const status = m.status ?? m.call?.status ?? 'unknown';
      await applyToSession(ctx.sql, {
        sessionId: linked.sessionId,
        at,
        events: [{ uuid: await stableUuid(key, 'status', status), type: 'call_status', data: { ...base, status, ended_reason: m.endedReason }, at }],
        platformMetadata: { ...common, status, ...(m.endedReason ? { ended_reason: m.endedReason } : {}) },
      });
      return { body: {}, sessionId: linked.sessionId };
    }
    case 'transcript': {
      const speaker = SPEAKER[m.role ?? ''] ?? m.role ?? 'unknown';
      const text = m.transcript ?? '';
      const uuid = await stableUuid(key, 'live', speaker, String(m.timestamp ?? ''), text);
      await applyToSession(ctx.sql, {
        sessionId: linked.sessionId,
        at,
        events: [{ uuid, type: 'transcript', data: { speaker, text, source: 'vapi-live', call_id: callId }, at }],
        // The report's entries are authoritative: a live line arriving after it would duplicate one.
        ...(callId ? { unlessReported: callId } : {}),
      });
      return { body: {}, sessionId: linked.sessionId };
    }
    case 'hang': {
      await applyToSession(ctx.sql, {
        sessionId: linked.sessionId,
        at,
        events: [{ uuid: await stableUuid(key, 'hang', String(m.timestamp ?? '')), type: 'call_hang', data: base, at }],
      });
      return { body: {}, sessionId: linked.sessionId };
    }
    case 'tool-calls': {
      const calls = toolCalls(m);
      const interactions: SessionEvent[] = await Promise.all(
        calls.map(async (c) => ({
          uuid: await stableUuid(key, 'tool', c.id),
          type: 'interaction',
          data: { function: c.name, parameters: c.args, data_provided: [], subjects_accessed: [], tool_call_id: c.id, ...base },
          at,
        })),
      );
      // Stored before forwarding: the call happened whatever the tool server does next.
      await applyToSession(ctx.sql, { sessionId: linked.sessionId, at, events: interactions, platformMetadata: common });
      const results = await forwardToolCalls(opts.toolServer, rawBody, calls, ctx.log);
      const done = at; // results belong to the moment of the call, not to when the tool server answered
      await applyToSession(ctx.sql, {
        sessionId: linked.sessionId,
        at: done,
        events: await Promise.all(
          results.map(async (r) => ({ uuid: await stableUuid(key, 'tool-result', r.toolCallId), type: 'tool_result', data: { ...r, ...base }, at: done })),
        ),
      }).catch((err: unknown) => ctx.log.warn('tool results not logged', { error: describeError(err) }));
      return { body: { results }, sessionId: linked.sessionId };
    }
    case 'function-call': {
      const fc = m.functionCall;
      const name = fc?.name ?? 'unknown';
      const params = typeof fc?.parameters === 'string' ? { raw: fc.parameters } : (fc?.parameters ?? {});
      await applyToSession(ctx.sql, {
        sessionId: linked.sessionId,
        at,
        events: [
          {
            uuid: await stableUuid(key, 'function', name, String(m.timestamp ?? '')),
            type: 'interaction',
            data: { function: name, parameters: params, data_provided: [], subjects_accessed: [], ...base },
            at,
          },
        ],
      });
      return { body: await forwardFunctionCall(opts.toolServer, rawBody, ctx.log), sessionId: linked.sessionId };
    }
    default:
      return endOfCall(ctx, m, linked.sessionId, key, callId, startedAt, at, common);
  }
}

async function endOfCall(
  ctx: SessionCtx,
  m: VapiMessage,
  sessionId: string,
  key: string,
  callId: string | null,
  startedAt: Date,
  at: Date,
  common: Record<string, unknown>,
): Promise<VapiOutcome> {
  // Read the report from the message's top level: the embedded `call` is a creation-time snapshot.
  const reported = vapiTime(m.endedAt);
  // Never before the start, never in the future.
  const endedAt = reported && reported >= startedAt && reported.getTime() <= Math.max(at.getTime(), ctx.now().getTime()) ? reported : at;
  const entries = reportEntries(m, startedAt);
  const text = m.artifact?.transcript ?? m.transcript ?? entries.map((e) => `${e.speaker === 'user' ? 'User' : 'AI'}: ${e.text}`).join('\n');
  const duration =
    m.durationSeconds ?? (m.durationMs !== undefined ? m.durationMs / 1000 : m.durationMinutes !== undefined ? m.durationMinutes * 60 : (endedAt.getTime() - startedAt.getTime()) / 1000);
  const recording = m.artifact?.recordingUrl ?? m.artifact?.recording?.url ?? m.recordingUrl;
  const evaluation = m.analysis?.successEvaluation;
  const events: SessionEvent[] = await Promise.all(
    entries.map(async (e, i) => ({
      uuid: await stableUuid(key, 'entry', i),
      type: 'transcript',
      data: { speaker: e.speaker, text: e.text, source: 'vapi', call_id: callId },
      at: e.at,
    })),
  );
  // Tool calls recorded in the report (same ids as live tool-calls messages: no double counting).
  for (const t of reportToolCalls(m)) {
    events.push({
      uuid: await stableUuid(key, 'tool', t.id),
      type: 'interaction',
      data: { function: t.name, parameters: t.args, data_provided: [], subjects_accessed: [], tool_call_id: t.id, call_id: callId, source: 'vapi' },
      at: t.at ?? startedAt,
    });
  }
  events.push({
    uuid: await stableUuid(key, 'session_ended'),
    type: 'session_ended',
    data: { reason: 'call-ended', ended_reason: m.endedReason ?? null, call_id: callId, cost: m.cost ?? null },
    at: endedAt,
  });
  const applied = await applyToSession(ctx.sql, {
    sessionId,
    at: endedAt,
    startedAt,
    events,
    replaceLiveTranscriptOf: callId ?? undefined,
    conversation: { source: 'vapi', transcript: text, word_count: countWords(text), duration_seconds: Math.max(0, Math.round(duration)), call_id: callId },
    platformMetadata: {
      ...common,
      status: 'ended',
      cost: m.cost,
      cost_breakdown: m.costBreakdown ?? m.costs,
      ended_reason: m.endedReason,
      recording_url: recording,
      stereo_recording_url: m.artifact?.stereoRecordingUrl ?? m.artifact?.recording?.stereoUrl ?? m.stereoRecordingUrl,
      vapi_summary: m.analysis?.summary ?? m.summary,
      success_evaluation: evaluation === undefined ? undefined : typeof evaluation === 'string' ? evaluation : JSON.stringify(evaluation),
      structured_data: m.analysis?.structuredData,
      started_at: startedAt.toISOString(),
      ended_at: endedAt.toISOString(),
      duration_seconds: Math.max(0, Math.round(duration)),
    },
    end: { endedAt, reason: 'call-ended' },
    ...(callId ? { reportCallId: callId } : {}),
  });
  const first = applied ? applied.firstReport || !callId : false;
  return { body: {}, sessionId, ...(first ? { completedSessionId: sessionId } : {}) };
}
