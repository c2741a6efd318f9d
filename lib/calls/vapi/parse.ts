import { issuesToErrors, sanitizeJson } from '../../schemas/common.js';
import { sha256Hex } from '../../util/stable-uuid.js';
import type { CallDelivery, CallReport, CallUpdate, ParseResult } from '../types.js';
import { baseType, identify, parseArgs, reportEntries, reportToolCalls, reportToolResults, toolCalls, VapiEnvelope, type VapiMessage, vapiTime, withInferredType } from './message.js';

/** Types we store; everything else is acknowledged with `{}` and nothing more. */
const STORED = new Set([
  'end-of-call-report',
  'status-update',
  'conversation-update',
  'transfer-update',
  'transcript',
  'tool-calls',
  'function-call',
  'hang',
]);

/**
 * Types that store nothing but say whom a chat (or a Vapi session of chats) is for: its session
 * is made or found under them, so the chat's later messages are the student's even when the chat
 * itself names nobody (a session's overrides are not repeated on its chats).
 */
const LINK_ONLY = new Set(['chat.created', 'session.created', 'session.updated']);

const SPEAKER: Record<string, string> = { assistant: 'assistant', bot: 'assistant', user: 'user', customer: 'user' };

/** A Vapi webhook body (`{"message": {...}}`) in the neutral shape. */
export async function parseVapi(body: unknown, now: Date): Promise<ParseResult> {
  // Made storable first (NULs dropped, lone surrogates replaced): a NUL in an id Vapi relays from
  // the caller's metadata must not fail the whole delivery (the report would be lost).
  const parsed = VapiEnvelope.safeParse(sanitizeJson(withInferredType(body)));
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
  const key = async (raw: string) => (raw.length > 200 ? `h_${(await sha256Hex(raw)).slice(0, 40)}` : raw);
  // A chat has no call: its messages are one conversation under the chat's Vapi session (or the
  // chat); a session.* message names that session itself.
  const chatId = m.chat?.id?.trim();
  const vapiSession = m.chat?.sessionId?.trim() || m.session?.id?.trim();
  const chatKey = vapiSession || chatId;
  const callId = m.call?.id?.trim() ? await key(m.call.id.trim()) : chatKey ? await key(`chat_${chatKey}`) : null;
  const isChat = callId !== null && !m.call?.id?.trim();
  // A chat of a Vapi session is also found by its own id, so a chat that continues it by
  // previousChatId (which carries no sessionId: the two are exclusive) joins the same sitting.
  const previous = isChat ? m.chat?.previousChatId?.trim() : undefined;
  const follows = previous ? await key(`chat_${previous}`) : undefined;
  const aliases = isChat && vapiSession && chatId ? [await key(`chat_${chatId}`)] : [];
  const startedAt = clamp(vapiTime(m.startedAt) ?? vapiTime(m.call?.startedAt) ?? vapiTime(m.call?.createdAt) ?? vapiTime(m.chat?.createdAt) ?? vapiTime(m.session?.createdAt) ?? at);
  // Every message of a call carries the same call.createdAt, so linking (and the readable session
  // id made from it) agrees across messages even when they race; the report's startedAt differs.
  const linkStart = clamp(vapiTime(m.call?.createdAt) ?? vapiTime(m.call?.startedAt) ?? vapiTime(m.chat?.createdAt) ?? vapiTime(m.session?.createdAt) ?? startedAt);
  return {
    platform: 'vapi',
    callId,
    ...(follows && follows !== callId ? { follows } : {}),
    ...(aliases.length && aliases[0] !== callId ? { aliases } : {}),
    identity: identify(m),
    linkStart,
    at,
    stamp: String(m.timestamp ?? ''),
    update: toUpdate(m, { callId, startedAt, at, now }),
  };
}

const notAfter = (d: Date, limit: Date) => (d.getTime() > limit.getTime() ? limit : d);

function toUpdate(m: VapiMessage, t: { callId: string | null; startedAt: Date; at: Date; now: Date }): CallUpdate {
  const type = baseType(m.type);
  if (LINK_ONLY.has(type)) return { kind: 'link' };
  if (!STORED.has(type)) return { kind: 'ignored' };
  const common = {
    call_id: t.callId ?? undefined,
    call_type: m.call?.type,
    phone_number: m.customer?.number ?? m.call?.customer?.number,
    // The message's `assistant` is a CreateAssistantDto (no id in the SDK); the call names the saved one.
    assistant_id: m.call?.assistantId ?? m.assistant?.id ?? undefined,
    assistant_name: m.assistant?.name ?? undefined,
  };
  switch (type) {
    case 'status-update': {
      const status = m.status ?? m.call?.status ?? 'unknown';
      // `ended` ends the session at this message's time (the report may never come: Vapi sends
      // it once, without retry), keeping the transcript its artifact carries.
      if (status === 'ended') return { kind: 'report', report: toInterim(m, common, t, { status, endedReason: m.endedReason }) };
      return {
        kind: 'status',
        status,
        endedReason: m.endedReason,
        metadata: { ...common, status, ...(m.endedReason ? { ended_reason: m.endedReason } : {}) },
        // Talking starts when the call is in progress; before that it was ringing. Never later than
        // now: a clock ahead would start the session after its own first events.
        ...(status === 'in-progress' ? { startedAt: notAfter(vapiTime(m.startedAt) ?? vapiTime(m.call?.startedAt) ?? t.at, t.now) } : {}),
      };
    }
    case 'conversation-update':
      return { kind: 'report', report: toInterim(m, common, t) };
    case 'transfer-update': {
      const dest = m.destination ?? {};
      const pickStr = (k: string) => (typeof dest[k] === 'string' ? (dest[k] as string).slice(0, 500) : undefined);
      const destination = {
        type: pickStr('type'),
        number: pickStr('number'),
        sip_uri: pickStr('sipUri'),
        assistant_name: pickStr('assistantName'),
        description: pickStr('description'),
      };
      const to = destination.number ?? destination.sip_uri ?? destination.assistant_name ?? m.toAssistant?.name ?? 'unknown';
      return {
        kind: 'event',
        type: 'call_transfer',
        key: to,
        data: { destination, to_assistant: m.toAssistant?.name ?? m.toAssistant?.id, from_assistant: m.fromAssistant?.name ?? m.fromAssistant?.id },
        metadata: { ...common, transferred_to: to },
      };
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
      // As a tool call's arguments: an object, or JSON text of one (else kept as `raw`).
      const parameters = parseArgs(fc?.parameters);
      return { kind: 'function-call', name: fc?.name ?? 'unknown', parameters };
    }
    default:
      return { kind: 'report', report: toReport(m, common, t) };
  }
}

type Times = { startedAt: Date; at: Date; now: Date };

/** Transcript lines and text of a message carrying the history (report, conversation-update, status ended). */
function history(m: VapiMessage, t: Times) {
  // A line or tool call dated in the future is junk: it would sort after everything that happens next.
  const notAfterNow = (d: Date) => (d.getTime() <= t.now.getTime() ? d : t.now);
  const lines = reportEntries(m, t.startedAt).map((l) => ({ ...l, at: notAfterNow(l.at) }));
  const text = m.artifact?.transcript ?? m.transcript ?? lines.map((e) => `${e.speaker === 'user' ? 'User' : 'AI'}: ${e.text}`).join('\n');
  return {
    lines,
    text,
    toolCalls: reportToolCalls(m).map((c) => ({ ...c, at: notAfterNow(c.at ?? t.startedAt) })),
    toolResults: reportToolResults(m).map((r) => ({ ...r, at: notAfterNow(r.at ?? t.startedAt) })),
  };
}

/** Facts the report and a status-update `ended` both may carry (artifact recording, cost). */
function callFacts(m: VapiMessage) {
  const rec = m.artifact?.recording;
  const stereo = rec?.stereoUrl ?? m.artifact?.stereoRecordingUrl ?? m.stereoRecordingUrl;
  // A phone call may have only the stereo file: the dashboard plays recording_url, so it falls back to it.
  const mono = rec?.mono?.combinedUrl ?? m.artifact?.recordingUrl ?? rec?.url ?? m.recordingUrl;
  return {
    cost: m.cost,
    ...costBreakdown(m),
    ended_reason: m.endedReason,
    recording_url: mono ?? stereo,
    stereo_recording_url: stereo,
    recording_assistant_url: rec?.mono?.assistantUrl,
    recording_customer_url: rec?.mono?.customerUrl,
  };
}

/** What Vapi's `costBreakdown` counts rather than prices (its SDK's CostBreakdown): kept apart as `usage`. */
const USAGE_KEYS = new Set(['llmPromptTokens', 'llmCompletionTokens', 'llmCachedPromptTokens', 'ttsCharacters']);

/**
 * One shape whatever Vapi sent: `cost_breakdown` holds money only (`costBreakdown`'s prices, else
 * `costs[]` summed by kind, with `total`), and `usage` the counts (prompt and completion tokens,
 * TTS characters) that `costBreakdown` mixes in among them, or that `costs[]` gives per item.
 */
function costBreakdown(m: VapiMessage): { cost_breakdown?: Record<string, number>; usage?: Record<string, number> } {
  const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  const out: Record<string, number> = {};
  const usage: Record<string, number> = {};
  const count = (key: string, v: unknown) => {
    if (finite(v)) usage[key] = (usage[key] ?? 0) + v;
  };
  if (m.costBreakdown) {
    for (const [k, v] of Object.entries(m.costBreakdown)) {
      if (!finite(v)) continue;
      if (USAGE_KEYS.has(k)) usage[k] = v;
      else out[k] = v;
    }
    return { cost_breakdown: out, ...(Object.keys(usage).length ? { usage } : {}) };
  }
  if (!m.costs?.length) return {};
  const KIND: Record<string, string> = { transcriber: 'stt', model: 'llm', voice: 'tts', vapi: 'vapi', transport: 'transport', analysis: 'analysis' };
  let total = 0;
  for (const c of m.costs) {
    if (!c || typeof c !== 'object') continue;
    const { type, cost, promptTokens, completionTokens, characters } = c as { type?: unknown; cost?: unknown; promptTokens?: unknown; completionTokens?: unknown; characters?: unknown };
    if (type === 'model') {
      count('llmPromptTokens', promptTokens);
      count('llmCompletionTokens', completionTokens);
    } else if (type === 'voice') count('ttsCharacters', characters);
    if (!finite(cost)) continue;
    const key = typeof type === 'string' ? (KIND[type] ?? type.slice(0, 40)) : 'other';
    out[key] = (out[key] ?? 0) + cost;
    total += cost;
  }
  return { cost_breakdown: { ...out, total }, ...(Object.keys(usage).length ? { usage } : {}) };
}

/** A whole-history message before the report: keeps the transcript current; `ended` ends the call. */
function toInterim(m: VapiMessage, common: Record<string, unknown>, t: Times, status?: { status: string; endedReason: string | undefined }): CallReport {
  const h = history(m, t);
  const endAt = new Date(Math.max(t.at.getTime(), t.startedAt.getTime()));
  const hasHistory = h.lines.length > 0 || Boolean(m.artifact?.transcript ?? m.transcript);
  return {
    startedAt: t.startedAt,
    // The embedded `call` is a snapshot from its creation: without a startedAt (the SDK's is
    // optional) the start above is `call.createdAt`, ringing included, which must not move back a
    // start an `in-progress` status set to the moment talking began.
    ...(vapiTime(m.startedAt) ?? vapiTime(m.call?.startedAt) ? {} : { startIsFallback: true }),
    at: t.at,
    ...(hasHistory ? { transcript: { text: h.text, lines: h.lines } } : {}),
    toolCalls: h.toolCalls,
    toolResults: h.toolResults,
    durationSeconds: (endAt.getTime() - t.startedAt.getTime()) / 1000,
    metadata: status
      ? { ...common, ...stripUndefined(callFacts(m)), status: 'ended', ended_at: endAt.toISOString() }
      : common,
    ...(status
      ? {
          status,
          end: { at: endAt, reason: 'call-ended', detail: { ended_reason: m.endedReason ?? null, cost: m.cost ?? null } },
        }
      : {}),
    replacesLive: true,
    authority: 'interim',
  };
}

const stripUndefined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** The end-of-call report, read from the message's top level: the embedded `call` is a creation-time snapshot. */
function toReport(m: VapiMessage, common: Record<string, unknown>, t: Times): CallReport {
  const { startedAt, at } = t;
  const reported = vapiTime(m.endedAt);
  // Never before the start, never in the future.
  const endedAt = reported && reported >= startedAt && reported.getTime() <= Math.max(at.getTime(), t.now.getTime()) ? reported : at;
  const h = history(m, t);
  const duration =
    m.durationSeconds ?? (m.durationMs !== undefined ? m.durationMs / 1000 : m.durationMinutes !== undefined ? m.durationMinutes * 60 : (endedAt.getTime() - startedAt.getTime()) / 1000);
  const evaluation = m.analysis?.successEvaluation;
  return {
    startedAt,
    at: endedAt,
    transcript: { text: h.text, lines: h.lines },
    toolCalls: h.toolCalls,
    toolResults: h.toolResults,
    durationSeconds: duration,
    metadata: {
      ...common,
      status: 'ended',
      ...callFacts(m),
      vapi_summary: m.analysis?.summary !== undefined ? m.analysis.summary : m.summary,
      // null means "not evaluated": it stays null (a string "null" would read as a verdict).
      success_evaluation: evaluation === undefined || evaluation === null || typeof evaluation === 'string' ? evaluation : JSON.stringify(evaluation),
      structured_data: m.analysis?.structuredData,
      started_at: startedAt.toISOString(),
      ended_at: endedAt.toISOString(),
      duration_seconds: Math.max(0, Math.round(duration)),
    },
    end: { at: endedAt, reason: 'call-ended', detail: { ended_reason: m.endedReason ?? null, cost: m.cost ?? null } },
    replacesLive: true,
    authority: 'final',
  };
}
