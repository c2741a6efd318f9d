import type { Config } from '../config.js';
import type { Logger } from '../deps.js';

/**
 * The platform-neutral shape of a voice call delivery. A platform adapter (lib/calls/<platform>/)
 * authenticates a request and parses its body into a CallDelivery; lib/calls/receive.ts links it to
 * a session and applies it. Nothing below this line knows which platform sent what.
 */

/** Who a call is about, from wherever the platform lets a caller say it. */
export interface Identity {
  sessionId?: string;
  studentId?: string;
  phone?: string;
}

export interface ToolCall {
  id: string;
  name: string;
  args: Record<string, unknown>;
}

/**
 * A tool's answer as stored on the timeline (and, for Vapi, as returned to the platform): `result`
 * on success, `error` on failure, never both (Vapi reads any `result` as success). `message` (what
 * the assistant says) and `metadata` (for the client) are kept as the tool server sent them: a
 * replay answered from storage must say the same.
 */
export type ToolResult = { toolCallId: string; name: string; message?: Record<string, unknown>; metadata?: Record<string, unknown> } & (
  | { result: string; error?: never }
  | { error: string; result?: never }
);

export interface TranscriptLine {
  speaker: string;
  text: string;
  at: Date;
}

/**
 * The platform's account of a call: the authoritative transcript, facts for platform_metadata,
 * and (when the call is over) its end. Applying the same report twice changes nothing.
 */
export interface CallReport {
  startedAt: Date;
  /** startedAt is a stand-in (the call's creation, or the message's time), not the call's own start: it never moves the session's. */
  startIsFallback?: boolean;
  /** Activity time of the report (its end, when it has one). */
  at: Date;
  /** Absent when the platform sent no transcript: the session's conversation is left as it is. */
  transcript?: { text: string; lines: TranscriptLine[] };
  toolCalls: Array<ToolCall & { at: Date }>;
  durationSeconds: number;
  metadata: Record<string, unknown>;
  /** `detail` is merged into the session_ended event's data. */
  end?: { at: Date; reason: string; detail: Record<string, unknown> };
  /** The call's live transcript lines are replaced by the report's (they would duplicate them). */
  replacesLive: boolean;
  /**
   * `final` (default): the platform's end-of-call report, applied once and authoritative: it
   * replaces live and interim lines, and nothing but metadata is applied after it.
   * `interim`: a whole-history message sent during or at the end of the call (Vapi's
   * conversation-update, a status-update `ended` with the artifact): it keeps the transcript
   * current (replacing live lines) and may end the call, until the final report arrives.
   */
  authority?: 'final' | 'interim';
  /** Tool results the report recorded (tools with their own server URL only show up here). */
  toolResults?: Array<ToolResult & { at: Date }>;
  /** Also log this status change (a status-update that carried the history). */
  status?: { status: string; endedReason?: string | undefined };
}

export type CallUpdate =
  /** Nothing we store (partial transcripts, speech updates...): acknowledged, not linked. */
  | { kind: 'ignored' }
  /**
   * Nothing to store, but who the conversation is for (a Vapi chat or session being created): linked
   * when it names someone or continues another conversation, so later messages find that session.
   */
  | { kind: 'link' }
  | { kind: 'status'; status: string; endedReason?: string | undefined; metadata: Record<string, unknown>; startedAt?: Date | undefined }
  /** One final line of the live transcript. */
  | { kind: 'transcript'; speaker: string; text: string }
  /** Something that happened on the call worth a timeline entry (a transfer), not a transcript line. */
  | { kind: 'event'; type: string; key: string; data: Record<string, unknown>; metadata?: Record<string, unknown> }
  | { kind: 'hang' }
  /** The platform asks for tool results: stored, answered by the adapter, results stored. */
  | { kind: 'tool-calls'; calls: ToolCall[]; metadata: Record<string, unknown> }
  /** The legacy single function call (no tool call id). */
  | { kind: 'function-call'; name: string; parameters: Record<string, unknown> }
  | { kind: 'report'; report: CallReport };

/** Updates whose reply the platform reads (the rest are acknowledged without waiting for anything). */
export type AskingUpdate = Extract<CallUpdate, { kind: 'tool-calls' | 'function-call' }>;

export interface CallDelivery {
  platform: string;
  /** The platform's call id (at most 200 characters), or null when the payload has none. */
  callId: string | null;
  /**
   * The conversation this one continues (a Vapi chat's previousChatId, as a call id): a call id
   * not linked yet joins that one's session, whoever the delivery names.
   */
  follows?: string;
  /** Other ids this conversation is known by (a chat of a Vapi session: the chat's own), linked with it. */
  aliases?: string[];
  identity: Identity;
  /** The time linking matches sessions by: the same for every message of one call. */
  linkStart: Date;
  /** When this message happened (never in the future). */
  at: Date;
  /** The message's own timestamp as sent ('' when none): part of event ids, so a redelivery keys the same. */
  stamp: string;
  /**
   * Event ids are stableUuid(...prefix, key, ...what) with key = the call id, else the session id +
   * noCallSuffix. Per adapter so the ids stored before the calls seam existed stay the same: a
   * redelivery across the upgrade still inserts nothing.
   */
  idScope?: { prefix?: string[]; noCallSuffix?: string };
  update: CallUpdate;
}

export type AuthResult = { ok: true; via: string } | { ok: false; reason: string };

export type ParseResult =
  | { ok: true; delivery: CallDelivery }
  | { ok: false; detail: string; errors: Array<{ path: string; message: string }> };

/** A tool server without TOOL_SERVER_URL's own timeout (the Vapi upstream) gets this long: Vapi gives a tool call about 20 s. */
export const TOOLS_DEADLINE_MS = 15_000;

export interface AnswerEnv {
  /** The body exactly as received (a tool server is sent the platform's own message). */
  rawBody: string;
  config: Config;
  log: Logger;
}

/**
 * One voice platform: authenticate a request, parse its body. Register it in lib/calls/adapters.ts;
 * tests/unit/call-adapters.test.ts then runs the shared adapter suite against it.
 */
export interface CallAdapter {
  /** Its name in the registry (deliveries carry their own `platform`: the generic webhook's name theirs). */
  readonly name: string;
  /**
   * What the headers alone decide, before the body is read: accepted, refused, or `needs-body`
   * (a signature over the body). Absent: every request needs the body.
   */
  checkHeaders?(headers: Headers, config: Config, now: Date): Promise<AuthResult | { ok: 'needs-body' }>;
  /** Check credentials against the raw bytes (signatures cover the body as sent). */
  authenticate(req: { headers: Headers; rawBody: string; method?: string; url?: string }, config: Config, now: Date): Promise<AuthResult>;
  /** The body (parsed JSON) in the neutral shape, or what is wrong with it. `now` clamps times. */
  parse(body: unknown, now: Date): Promise<ParseResult>;
  /**
   * Byte-identical redeliveries may be skipped through a KV mark: only for platforms whose reply
   * does not depend on the work (Vapi reads `{}`); correctness never does (event ids are stable).
   */
  readonly skipsRedeliveries: boolean;
  /**
   * Answer a delivery that asks for something; `results` are logged on the session's timeline.
   * `answered` holds results already stored for these tool call ids (a replayed delivery): a tool
   * call is never run twice.
   */
  answer?(update: AskingUpdate, env: AnswerEnv, answered?: ReadonlyMap<string, ToolResult>): Promise<{ body: unknown; results?: ToolResult[] }>;
}
