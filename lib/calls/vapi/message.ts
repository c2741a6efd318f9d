import * as z from '../../util/zod.js';
import { normalizePhone } from '../../util/phone.js';
import type { Identity, ToolCall, ToolResult, TranscriptLine } from '../types.js';

/**
 * Vapi "server messages", read leniently: Vapi adds fields freely and changed layouts over time
 * (2024: transcript/messages/recordingUrl at the top of the message, ISO timestamps; today:
 * `artifact`, epoch-ms timestamps). We validate only what we use and keep the rest.
 */
const Obj = z.record(z.string(), z.unknown());
const Str = z.string().check(z.maxLength(100_000));
const Num = z.number();
const Time = z.union([Num, Str]);
/** Optional and forgiving: a field of an unexpected type reads as absent instead of failing the message. */
const opt = <T extends z.ZodMiniType>(schema: T) => z.catch(z.optional(schema), undefined);

export const VapiCall = z.looseObject({
  id: opt(Str),
  type: opt(Str),
  status: opt(Str),
  startedAt: opt(Str),
  createdAt: opt(Str),
  assistantId: opt(Str),
  metadata: opt(Obj),
  assistantOverrides: opt(z.looseObject({ metadata: opt(Obj), variableValues: opt(Obj) })),
  customer: opt(z.looseObject({ number: opt(Str), externalId: opt(Str) })),
});

export const VapiArtifactMessage = z.looseObject({
  role: opt(Str),
  message: opt(z.string()),
  content: opt(z.string()),
  time: opt(Num),
  endTime: opt(Num),
  secondsFromStart: opt(Num),
});

const Args = z.union([Obj, z.string()]);

/**
 * A tool call as the server SDK types it (ToolCall: `function: {name, arguments}`) or as Vapi's
 * docs show it (`name` and `parameters` beside the id). Only the id is required: a call we cannot
 * name is still answered, or Vapi waits for it.
 */
export const VapiToolCall = z.looseObject({
  id: Str,
  type: opt(Str),
  name: opt(Str),
  parameters: opt(Args),
  arguments: opt(Args),
  function: opt(z.looseObject({ name: opt(Str), arguments: opt(Args) })),
});

/** toolWithToolCallList items: the tool (named at the top in the docs, by its `function` in the SDK) and its `toolCall`. */
const VapiToolWithToolCall = z.looseObject({ name: opt(Str), function: opt(z.looseObject({ name: opt(Str) })), toolCall: z.unknown() });

export const VapiMessage = z.looseObject({
  type: z.string().check(z.minLength(1), z.maxLength(200)),
  timestamp: opt(Time),
  call: opt(VapiCall),
  // A Vapi chat (text, no call): every message of it names the chat, and its session when the
  // chat belongs to one (Chat.sessionId in the SDK), or the chat it continues (Chat.previousChatId;
  // the two are mutually exclusive).
  chat: opt(
    z.looseObject({
      id: opt(Str),
      sessionId: opt(Str),
      previousChatId: opt(Str),
      createdAt: opt(Str),
      assistantOverrides: opt(z.looseObject({ metadata: opt(Obj), variableValues: opt(Obj) })),
    }),
  ),
  // session.created / .updated / .deleted: the Vapi session chats are grouped in, and who it is for.
  session: opt(
    z.looseObject({
      id: opt(Str),
      createdAt: opt(Str),
      assistantOverrides: opt(z.looseObject({ metadata: opt(Obj), variableValues: opt(Obj) })),
      customer: opt(z.looseObject({ number: opt(Str), externalId: opt(Str) })),
    }),
  ),
  assistant: opt(z.looseObject({ id: opt(Str), name: opt(Str), metadata: opt(Obj) })),
  customer: opt(z.looseObject({ number: opt(Str), externalId: opt(Str) })),
  phoneNumber: opt(z.looseObject({ number: opt(Str) })),
  // status-update
  status: opt(Str),
  // transcript
  role: opt(Str),
  transcriptType: opt(Str),
  transcript: opt(z.string()),
  // end-of-call-report (top level; `call` is a snapshot from call creation)
  endedReason: opt(Str),
  startedAt: opt(Str),
  endedAt: opt(Str),
  cost: opt(Num),
  costs: opt(z.array(z.unknown())),
  costBreakdown: opt(Obj),
  durationSeconds: opt(Num),
  durationMs: opt(Num),
  durationMinutes: opt(Num),
  summary: opt(z.string()),
  recordingUrl: opt(Str),
  stereoRecordingUrl: opt(Str),
  messages: opt(z.array(z.unknown())),
  // conversation-update: required in the SDK, where `messages` is optional
  messagesOpenAIFormatted: opt(z.array(z.unknown())),
  // null is a value here ("no evaluation"): kept as null, not turned into a string.
  analysis: opt(z.looseObject({ summary: opt(z.nullable(z.string())), structuredData: z.optional(z.unknown()), successEvaluation: z.optional(z.unknown()) })),
  // transfer-update: where the call went (number, sip or assistant destination)
  destination: opt(Obj),
  toAssistant: opt(z.looseObject({ id: opt(Str), name: opt(Str) })),
  fromAssistant: opt(z.looseObject({ id: opt(Str), name: opt(Str) })),
  artifact: opt(
    z.looseObject({
      messages: opt(z.array(z.unknown())),
      messagesOpenAIFormatted: opt(z.array(z.unknown())),
      transcript: opt(z.string()),
      recordingUrl: opt(Str),
      stereoRecordingUrl: opt(Str),
      // Since 2025-04 the recording lives here; recordingUrl/stereoRecordingUrl are deprecated.
      recording: opt(
        z.looseObject({
          url: opt(Str),
          stereoUrl: opt(Str),
          videoUrl: opt(Str),
          mono: opt(z.looseObject({ combinedUrl: opt(Str), assistantUrl: opt(Str), customerUrl: opt(Str) })),
        }),
      ),
    }),
  ),
  // tool-calls / legacy function-call
  toolCallList: opt(z.array(z.unknown())),
  toolCalls: opt(z.array(z.unknown())),
  toolWithToolCallList: opt(z.array(z.unknown())),
  functionCall: opt(z.looseObject({ name: Str, parameters: z.optional(z.union([Obj, z.string()])) })),
});
export type VapiMessage = z.infer<typeof VapiMessage>;

export const VapiEnvelope = z.looseObject({ message: VapiMessage });

const TOOL_CALL_LISTS = ['toolCallList', 'toolWithToolCallList', 'toolCalls'] as const;

/**
 * The message's type; a message without one that carries a tool call list is `tool-calls` (the
 * SDK's ServerMessageToolCalls has `type` optional). '' when there is none to read.
 */
export function messageType(body: unknown): string {
  const m = (body as { message?: unknown } | null)?.message;
  if (!m || typeof m !== 'object') return '';
  const { type } = m as Record<string, unknown>;
  if (type === undefined && TOOL_CALL_LISTS.some((k) => Array.isArray((m as Record<string, unknown>)[k]))) return 'tool-calls';
  return typeof type === 'string' ? type : '';
}

/** The body with the type `messageType` infers filled in; other bodies as they are. */
export function withInferredType(body: unknown): unknown {
  const m = (body as { message?: unknown } | null)?.message;
  if (!m || typeof m !== 'object' || (m as { type?: unknown }).type !== undefined) return body;
  const type = messageType(body);
  return type ? { ...(body as object), message: { ...m, type } } : body;
}

/** `transcript[transcriptType="final"]` is a transcript message; the suffix only filters. */
export function baseType(type: string): string {
  const i = type.indexOf('[');
  return i === -1 ? type : type.slice(0, i);
}

/** Times we accept from a platform: a real date between 2000 and 2200 (anything else is junk). */
const MIN_TIME = Date.UTC(2000, 0, 1);
const MAX_TIME = Date.UTC(2200, 0, 1);
const sane = (t: number): Date | null => (Number.isFinite(t) && t >= MIN_TIME && t <= MAX_TIME ? new Date(t) : null);

/** Vapi timestamps: epoch ms today, ISO strings in 2024. Null for anything not a sane date. */
export function vapiTime(v: unknown): Date | null {
  if (typeof v === 'number' && Number.isFinite(v)) return sane(v > 1e11 ? v : v * 1000);
  if (typeof v === 'string') {
    const t = Date.parse(v);
    if (Number.isFinite(t)) return sane(t);
    const n = Number(v);
    if (v.trim() !== '' && Number.isFinite(n)) return vapiTime(n);
  }
  return null;
}

/** `start + seconds`, or null when that is not a sane date. */
export function offsetTime(start: Date, seconds: unknown): Date | null {
  return typeof seconds === 'number' && Number.isFinite(seconds) ? sane(start.getTime() + seconds * 1000) : null;
}

const pick = (o: Record<string, unknown> | undefined, ...keys: string[]): string | undefined => {
  for (const k of keys) {
    const v = o?.[k];
    // Ids longer than 100 characters are not ids we can key on (and would not fit an index row).
    if (typeof v === 'string' && v.trim() && v.trim().length <= 100) return v.trim();
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  }
  return undefined;
};

/**
 * Who and what a call is about, from the places Vapi lets a caller put it, in precedence order:
 * overrides' metadata, the call's metadata, the assistant's metadata, the overrides' variable
 * values (a chat's, and its Vapi session's, in the same order); then customer.externalId for the
 * student and customer.number for the phone (the message's, the call's, the session's).
 */
export function identify(m: VapiMessage): Identity {
  const sources = [
    m.call?.assistantOverrides?.metadata,
    m.call?.metadata,
    m.chat?.assistantOverrides?.metadata,
    m.session?.assistantOverrides?.metadata,
    m.assistant?.metadata,
    m.call?.assistantOverrides?.variableValues,
    m.chat?.assistantOverrides?.variableValues,
    m.session?.assistantOverrides?.variableValues,
  ];
  const out: Identity = {};
  for (const s of sources) {
    out.sessionId ??= pick(s, 'sessionId', 'session_id', 'sessionToken', 'session_token');
    out.studentId ??= pick(s, 'studentId', 'student_id');
  }
  out.studentId ??= pick(m.customer, 'externalId') ?? pick(m.call?.customer, 'externalId') ?? pick(m.session?.customer, 'externalId');
  const phone = pick(m.customer, 'number') ?? pick(m.call?.customer, 'number') ?? pick(m.session?.customer, 'number');
  if (phone && phone.length <= 40) out.phone = normalizePhone(phone);
  return out;
}

const SPEAKERS: Record<string, string> = { bot: 'assistant', assistant: 'assistant', user: 'user', customer: 'user' };

/**
 * Transcript entries of an end-of-call report (or conversation-update): artifact.messages first,
 * else the 2024 top-level messages, else the OpenAI-format messagesOpenAIFormatted, else the
 * transcript text split into "AI:" / "User:" lines. System prompts and tool plumbing (system,
 * tool, tool_calls, tool_call_result) are not part of the conversation.
 *
 * A line without a time of its own is dated at the call's start plus its position in the history,
 * in milliseconds (untimed). Stored lines sort by time, then by when they were stored: all at the
 * start, a line the platform revised (stored anew) sorted after the replies that followed it.
 */
export function reportEntries(m: VapiMessage, callStart: Date): TranscriptLine[] {
  const out = conversationLines(vapiMessages(m), callStart);
  if (out.length) return out;
  // `{role, content}` has no times: untimed, like lines split from the text.
  const openAi = conversationLines(openAiMessages(m), callStart);
  if (openAi.length) return openAi;
  const text = m.artifact?.transcript ?? m.transcript ?? '';
  return text
    .split(/\r?\n/)
    .map((line) => /^\s*(AI|Assistant|Bot|User|Customer)\s*:\s*(.*)$/i.exec(line))
    .filter((x): x is RegExpExecArray => x !== null && (x[2] ?? '').trim() !== '')
    .map((x, i) => ({ speaker: /^(user|customer)$/i.test(x[1] ?? '') ? 'user' : 'assistant', text: x[2] ?? '', at: untimed(callStart, i) }));
}

/** The history in Vapi's format: `artifact.messages`, else the 2024 top-level `messages`. */
const vapiMessages = (m: VapiMessage): readonly unknown[] => (m.artifact?.messages?.length ? m.artifact.messages : (m.messages ?? []));

/**
 * The history in OpenAI's format: the message's own `messagesOpenAIFormatted` (conversation-update,
 * knowledge-base and endpointing requests), else the artifact's (every Artifact field is optional:
 * a report may hold only this form).
 */
const openAiMessages = (m: VapiMessage): readonly unknown[] =>
  m.messagesOpenAIFormatted?.length ? m.messagesOpenAIFormatted : (m.artifact?.messagesOpenAIFormatted ?? []);

/** The time of the `position`-th line of a history that gives it none (reportEntries). */
const untimed = (callStart: Date, position: number): Date => new Date(callStart.getTime() + position);

/** The spoken lines of a message list: Vapi's `{role, message, time}` or OpenAI's `{role, content}`. */
function conversationLines(list: readonly unknown[], callStart: Date): TranscriptLine[] {
  const out: TranscriptLine[] = [];
  for (const raw of list) {
    const parsed = VapiArtifactMessage.safeParse(raw);
    if (!parsed.success) continue;
    const msg = parsed.data;
    const speaker = SPEAKERS[msg.role ?? ''];
    const text = msg.message ?? msg.content;
    if (!speaker || typeof text !== 'string' || !text.trim()) continue;
    const at = (msg.time !== undefined ? vapiTime(msg.time) : null) ?? offsetTime(callStart, msg.secondsFromStart);
    out.push({ speaker, text, at: at ?? untimed(callStart, out.length) });
  }
  return out;
}

/**
 * Tool calls recorded in an end-of-call report's messages (role `tool_calls`); without Vapi's
 * format, the OpenAI one's (an `assistant` message's `tool_calls`, untimed).
 */
export function reportToolCalls(m: VapiMessage): Array<ToolCall & { at: Date | null }> {
  const list = vapiMessages(m);
  const out: Array<ToolCall & { at: Date | null }> = [];
  if (!list.length) {
    for (const raw of openAiMessages(m)) {
      if (!raw || typeof raw !== 'object' || (raw as { role?: unknown }).role !== 'assistant') continue;
      const calls = (raw as { tool_calls?: unknown }).tool_calls;
      if (Array.isArray(calls)) for (const c of toolCalls({ type: 'tool-calls', toolCalls: calls } as VapiMessage)) out.push({ ...c, at: null });
    }
    return out;
  }
  for (const raw of list) {
    if (!raw || typeof raw !== 'object' || (raw as { role?: unknown }).role !== 'tool_calls') continue;
    const at = vapiTime((raw as { time?: unknown }).time);
    const list = (raw as { toolCalls?: unknown }).toolCalls;
    if (!Array.isArray(list)) continue;
    for (const c of toolCalls({ type: 'tool-calls', toolCalls: list } as VapiMessage)) out.push({ ...c, at });
  }
  return out;
}

/** Tool results recorded in a report's messages (role `tool_call_result`): `result` or `error`, never both. */
export function reportToolResults(m: VapiMessage): Array<ToolResult & { at: Date | null }> {
  const list = vapiMessages(m);
  const out: Array<ToolResult & { at: Date | null }> = [];
  if (!list.length) {
    // OpenAI's `tool` messages: `content` is the result, named by the call they answer.
    const names = new Map(reportToolCalls(m).map((c) => [c.id, c.name]));
    for (const raw of openAiMessages(m)) {
      if (!raw || typeof raw !== 'object') continue;
      const r = raw as { role?: unknown; tool_call_id?: unknown; content?: unknown; name?: unknown };
      if (r.role !== 'tool' || typeof r.tool_call_id !== 'string' || !r.tool_call_id.trim() || r.tool_call_id.length > 200) continue;
      const name = names.get(r.tool_call_id) ?? (typeof r.name === 'string' ? r.name.slice(0, 200) : 'unknown');
      out.push({ toolCallId: r.tool_call_id, name, result: asText(r.content), at: null });
    }
    return out;
  }
  for (const raw of list) {
    if (!raw || typeof raw !== 'object') continue;
    const r = raw as { role?: unknown; toolCallId?: unknown; name?: unknown; result?: unknown; error?: unknown; time?: unknown };
    if (r.role !== 'tool_call_result' || typeof r.toolCallId !== 'string' || !r.toolCallId.trim() || r.toolCallId.length > 200) continue;
    const name = typeof r.name === 'string' ? r.name.slice(0, 200) : 'unknown';
    const at = vapiTime(r.time);
    if (r.error !== undefined && r.error !== null && r.result === undefined) out.push({ toolCallId: r.toolCallId, name, error: asText(r.error), at });
    else out.push({ toolCallId: r.toolCallId, name, result: asText(r.result), at });
  }
  return out;
}

const asText = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));

function readCall(raw: unknown, toolName?: string): Array<{ id: string; name: string | undefined; args: Record<string, unknown> }> {
  const parsed = VapiToolCall.safeParse(raw);
  if (!parsed.success) return [];
  const c = parsed.data;
  return [{ id: c.id, name: c.function?.name ?? c.name ?? toolName, args: parseArgs(c.function?.arguments ?? c.parameters ?? c.arguments) }];
}

/**
 * Tool calls of a `tool-calls` message, arguments parsed whether they came as object or JSON text:
 * the first of toolCallList, toolCalls, toolWithToolCallList that has any. A call named nowhere
 * in its own list takes the name toolWithToolCallList gives its id, else `unknown`.
 */
export function toolCalls(m: VapiMessage): ToolCall[] {
  const nested = (m.toolWithToolCallList ?? []).flatMap((raw) => {
    const t = VapiToolWithToolCall.safeParse(raw);
    return t.success ? readCall(t.data.toolCall, t.data.name ?? t.data.function?.name) : [];
  });
  const named = new Map(nested.flatMap((c) => (c.name === undefined ? [] : [[c.id, c.name] as const])));
  const flat = [m.toolCallList, m.toolCalls].map((list) => (list ?? []).flatMap((raw) => readCall(raw))).find((calls) => calls.length > 0);
  return (flat ?? nested).map((c) => ({ ...c, name: c.name ?? named.get(c.id) ?? 'unknown' }));
}

export function parseArgs(a: unknown): Record<string, unknown> {
  if (a && typeof a === 'object' && !Array.isArray(a)) return a as Record<string, unknown>;
  if (typeof a === 'string' && a.trim()) {
    try {
      const v = JSON.parse(a) as unknown;
      return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v };
    } catch {
      return { raw: a };
    }
  }
  return {};
}
