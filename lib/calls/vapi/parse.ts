import { issuesToErrors } from '../../schemas/common.js';
import { sha256Hex } from '../../util/stable-uuid.js';
import type { CallDelivery, CallReport, CallUpdate, ParseResult } from '../types.js';
import { baseType, identify, reportEntries, reportToolCalls, toolCalls, VapiEnvelope, type VapiMessage, vapiTime } from './message.js';

/** Types we store; everything else is acknowledged with `{}` and nothing more. */
const STORED = new Set(['end-of-call-report', 'status-update', 'transcript', 'tool-calls', 'function-call', 'hang']);

const SPEAKER: Record<string, string> = { assistant: 'assistant', bot: 'assistant', user: 'user', customer: 'user' };

/** A Vapi webhook body (`{"message": {...}}`) in the neutral shape. */
export async function parseVapi(body: unknown, now: Date): Promise<ParseResult> {
  const parsed = VapiEnvelope.safeParse(body);
  if (!parsed.success) {
    const errors = issuesToErrors(parsed.error.issues);
    return { ok: false, detail: `not a Vapi server message: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors };
  }
  return { ok: true, delivery: await toDelivery(parsed.data.message, now) };
}

async function toDelivery(m: VapiMessage, now: Date): Promise<CallDelivery> {
  const clamp = (d: Date | null) => (d && d.getTime() <= now.getTime() ? d : now);
  const at = clamp(vapiTime(m.timestamp));
  // A call id is a key (and an index entry): an absurdly long one is replaced by its hash.
  const rawCallId = m.call?.id?.trim() || null;
  const callId = rawCallId && rawCallId.length > 200 ? `h_${(await sha256Hex(rawCallId)).slice(0, 40)}` : rawCallId;
  const startedAt = clamp(vapiTime(m.startedAt) ?? vapiTime(m.call?.startedAt) ?? vapiTime(m.call?.createdAt) ?? at);
  // Every message of a call carries the same call.createdAt, so linking (and the readable session
  // id made from it) agrees across messages even when they race; the report's startedAt differs.
  const linkStart = clamp(vapiTime(m.call?.createdAt) ?? vapiTime(m.call?.startedAt) ?? startedAt);
  return {
    platform: 'vapi',
    callId,
    identity: identify(m),
    linkStart,
    at,
    stamp: String(m.timestamp ?? ''),
    update: toUpdate(m, { callId, startedAt, at, now }),
  };
}

function toUpdate(m: VapiMessage, t: { callId: string | null; startedAt: Date; at: Date; now: Date }): CallUpdate {
  const type = baseType(m.type);
  if (!STORED.has(type)) return { kind: 'ignored' };
  const common = {
    call_id: t.callId ?? undefined,
    call_type: m.call?.type,
    phone_number: m.customer?.number ?? m.call?.customer?.number,
    assistant_id: m.assistant?.id ?? undefined,
    assistant_name: m.assistant?.name ?? undefined,
  };
  switch (type) {
    case 'status-update': {
      const status = m.status ?? m.call?.status ?? 'unknown';
      return { kind: 'status', status, endedReason: m.endedReason, metadata: { ...common, status, ...(m.endedReason ? { ended_reason: m.endedReason } : {}) } };
    }
    case 'transcript': {
      const final = m.transcriptType === 'final' || m.type.includes('transcriptType="final"');
      // Partials are not stored: the final line repeats them.
      if (!final || !m.transcript?.trim()) return { kind: 'ignored' };
      return { kind: 'transcript', speaker: SPEAKER[m.role ?? ''] ?? m.role ?? 'unknown', text: m.transcript };
    }
    case 'hang':
      return { kind: 'hang' };
    case 'tool-calls':
      return { kind: 'tool-calls', calls: toolCalls(m), metadata: common };
    case 'function-call': {
      const fc = m.functionCall;
      const parameters = typeof fc?.parameters === 'string' ? { raw: fc.parameters } : (fc?.parameters ?? {});
      return { kind: 'function-call', name: fc?.name ?? 'unknown', parameters };
    }
    default:
      return { kind: 'report', report: toReport(m, common, t) };
  }
}

/** The end-of-call report, read from the message's top level: the embedded `call` is a creation-time snapshot. */
function toReport(m: VapiMessage, common: Record<string, unknown>, t: { startedAt: Date; at: Date; now: Date }): CallReport {
  const { startedAt, at } = t;
  const reported = vapiTime(m.endedAt);
  // Never before the start, never in the future.
  const endedAt = reported && reported >= startedAt && reported.getTime() <= Math.max(at.getTime(), t.now.getTime()) ? reported : at;
  // A line or tool call dated in the future is junk: it would sort after everything that happens next.
  const notAfterNow = (d: Date) => (d.getTime() <= t.now.getTime() ? d : t.now);
  const lines = reportEntries(m, startedAt).map((l) => ({ ...l, at: notAfterNow(l.at) }));
  const text = m.artifact?.transcript ?? m.transcript ?? lines.map((e) => `${e.speaker === 'user' ? 'User' : 'AI'}: ${e.text}`).join('\n');
  const duration =
    m.durationSeconds ?? (m.durationMs !== undefined ? m.durationMs / 1000 : m.durationMinutes !== undefined ? m.durationMinutes * 60 : (endedAt.getTime() - startedAt.getTime()) / 1000);
  const evaluation = m.analysis?.successEvaluation;
  return {
    startedAt,
    at: endedAt,
    transcript: { text, lines },
    toolCalls: reportToolCalls(m).map((c) => ({ ...c, at: notAfterNow(c.at ?? startedAt) })),
    durationSeconds: duration,
    metadata: {
      ...common,
      status: 'ended',
      cost: m.cost,
      cost_breakdown: m.costBreakdown ?? m.costs,
      ended_reason: m.endedReason,
      recording_url: m.artifact?.recordingUrl ?? m.artifact?.recording?.url ?? m.recordingUrl,
      stereo_recording_url: m.artifact?.stereoRecordingUrl ?? m.artifact?.recording?.stereoUrl ?? m.stereoRecordingUrl,
      vapi_summary: m.analysis?.summary ?? m.summary,
      success_evaluation: evaluation === undefined ? undefined : typeof evaluation === 'string' ? evaluation : JSON.stringify(evaluation),
      structured_data: m.analysis?.structuredData,
      started_at: startedAt.toISOString(),
      ended_at: endedAt.toISOString(),
      duration_seconds: Math.max(0, Math.round(duration)),
    },
    end: { at: endedAt, reason: 'call-ended', detail: { ended_reason: m.endedReason ?? null, cost: m.cost ?? null } },
    replacesLive: true,
  };
}
