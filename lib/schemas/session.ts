import * as z from '../util/zod.js';
import { InputTime, IsoDateTime, JsonRecord, SafeText, StorableObject, WorkshopPrefix } from './common.js';
import { Platform, SessionId, SessionStatus, StudentId } from './ids.js';

export { Platform, SESSION_STATUSES, SessionId, SessionStatus, StudentId } from './ids.js';

const Label = SafeText(200);
const JsonObject = JsonRecord;

export const InteractionInput = z.strictObject({
  student_id: StudentId,
  function: SafeText(200).check(z.minLength(1, 'must not be empty')),
  parameters: z.optional(StorableObject),
  data_provided: z.optional(z.array(SafeText(200)).check(z.maxLength(100))),
  subjects_accessed: z.optional(z.array(SafeText(200)).check(z.maxLength(100))),
  platform: z.optional(Platform),
  subject: z.optional(Label),
  topic: z.optional(Label),
  subtopic: z.optional(Label),
  timestamp: z.optional(InputTime),
  /**
   * The platform's id of this tool call (Vapi's `toolCallList[].id`, the `id` of an OpenAI-style
   * tool call): the call is stored once however often it is posted, and once with the record Vapi
   * sends of it (ADR 0031). It must be unique per student — an MCP JSON-RPC request id, which
   * restarts at 1 on each connection, is not one.
   */
  tool_call_id: z.optional(SafeText(200).check(z.minLength(1, 'must not be empty'))),
  /** The voice platform's call id (Vapi's `call.id`; the `X-Call-Id` header Vapi sends an MCP server). */
  call_id: z.optional(SafeText(200).check(z.minLength(1, 'must not be empty'))),
});
export type InteractionInput = z.infer<typeof InteractionInput>;

export const CreateSessionInput = z.strictObject({
  participant: StudentId,
  session_id: z.optional(SessionId),
  student_id: z.optional(StudentId),
  platform: z.optional(Platform),
  subject: z.optional(Label),
  topic: z.optional(Label),
  subtopic: z.optional(Label),
  agent: z.optional(StorableObject),
  metadata: z.optional(StorableObject),
  max_participants: z.optional(z.int().check(z.minimum(1), z.maximum(26))),
});
export type CreateSessionInput = z.infer<typeof CreateSessionInput>;

export const JoinInput = z.strictObject({ participant: StudentId });

export const TranscriptEntryInput = z.strictObject({
  speaker: SafeText(100).check(z.minLength(1, 'must not be empty')),
  text: SafeText(32_000),
  timestamp: z.optional(InputTime),
});
export type TranscriptEntryInput = z.infer<typeof TranscriptEntryInput>;

export const TranscriptBatchInput = z.strictObject({ entries: z.array(TranscriptEntryInput).check(z.minLength(1), z.maxLength(500)) });

export const PhaseInput = z.strictObject({ phase: SafeText(100).check(z.minLength(1, 'must not be empty')) });
export const SummaryInput = z.strictObject({ summary: SafeText(100_000) });
/** POST /api/sessions/{id}/assign */
export const AssignInput = z.strictObject({ student_id: StudentId });

export const CloseInput = z.union([z.strictObject({ session_id: SessionId }), z.strictObject({ student_id: StudentId })], {
  message: 'send {"session_id": ...} or {"student_id": ...}',
});

// ---- outputs ----

export const Participant = z.object({ id: z.string(), role: z.string(), joined_at: IsoDateTime });

export const Interaction = z.object({
  timestamp: IsoDateTime,
  function: z.string(),
  parameters: JsonObject,
  data_provided: z.array(z.string()),
  subjects_accessed: z.array(z.string()),
});

export const TranscriptEntry = z.object({ speaker: z.string(), text: z.string(), timestamp: IsoDateTime });

export const Conversation = z.object({
  transcript: z.string(),
  entries: z.array(TranscriptEntry),
  source: z.nullable(z.string()),
  word_count: z.int().check(z.minimum(0)),
  duration_seconds: z.number().check(z.minimum(0)),
});

/** A session as list endpoints show it (no interactions or transcript). */
export const SessionSummaryRow = z.object({
  session_id: z.string(),
  student_id: z.nullable(z.string()),
  participants: z.array(Participant),
  platform: z.string(),
  kind: z.enum(['auto', 'explicit']),
  status: SessionStatus,
  start_time: IsoDateTime,
  end_time: z.nullable(IsoDateTime),
  last_activity: IsoDateTime,
  end_reason: z.nullable(z.string()),
  /** Active time: end (or the start of the current pause) - start - paused time. */
  duration_seconds: z.number().check(z.minimum(0)),
  /** When the current pause began; null unless status is `paused`. */
  paused_at: z.nullable(IsoDateTime),
  /** Time spent in finished pauses (not counted in duration_seconds). */
  paused_ms: z.int().check(z.minimum(0)),
  phase: z.nullable(z.string()),
  subject: z.nullable(z.string()),
  topic: z.nullable(z.string()),
  subtopic: z.nullable(z.string()),
  interaction_count: z.int(),
  transcript_count: z.int(),
  event_count: z.optional(z.int()),
  error_count: z.optional(z.int()),
  /** Workshop sessions: eventData.currentStep of the latest event carrying it, a navigation's `to` (numbers as text). */
  current_step: z.nullable(z.string()),
  /** Workshop sessions: eventData.stepName of the latest event carrying it (a navigation's toStepName, README). */
  step_name: z.nullable(z.string()),
  /** The student's name and email (null when unknown, or where the row is not read with them). */
  student_name: z.nullable(z.string()),
  student_email: z.nullable(z.string()),
});
export type SessionSummaryRow = z.infer<typeof SessionSummaryRow>;

/** The whole session document: the shape instructors know. */
export const SessionDocument = z.extend(SessionSummaryRow, {
  summary: z.nullable(z.string()),
  max_participants: z.int(),
  agent: z.nullable(JsonObject),
  mcp_interactions: z.array(Interaction),
  conversation: Conversation,
  platform_metadata: JsonObject,
  analysis: z.nullable(z.unknown()),
  metadata: JsonObject,
});
export type SessionDocument = z.infer<typeof SessionDocument>;

export const SessionStats = z.object({
  duration_seconds: z.number().check(z.minimum(0)),
  interactions: z.int(),
  data_requests: z.int(),
  subjects_accessed: z.array(z.string()),
  word_count: z.int(),
  events_by_type: z.record(z.string(), z.int()),
  errors: z.int(),
  attempts: z.int(),
  correct: z.int(),
  accuracy: z.nullable(z.number().check(z.minimum(0), z.maximum(1))),
  /** Time spent on the attempts: each one's `timeMs`, else the time since the previous attempt. */
  total_time_ms: z.int().check(z.minimum(0)),
  /** total_time_ms over the attempts that have a time; null when none has. */
  avg_time_per_question_ms: z.nullable(z.int().check(z.minimum(0))),
  /** Subjects the attempts named (`eventData.subject`), else the session's subject when it has attempts. */
  subjects_practiced: z.array(z.string()),
});

export const GlobalStats = z.object({
  active_sessions: z.int(),
  sessions_today: z.int(),
  events_today: z.int(),
  sessions_by_platform: z.record(z.string(), z.int()),
  average_duration_seconds: z.nullable(z.number().check(z.minimum(0))),
});

export const SessionListQuery = z.object({
  /** Any part of the student's email, name or id, or of the session id/token; case-insensitive. Blank: no filter. */
  q: z.optional(SafeText(200)),
  student_id: z.optional(StudentId),
  status: z.optional(SessionStatus),
  platform: z.optional(Platform),
  /** Only sessions whose id starts with this: one workshop's page tokens (as for GET /api/attention). */
  workshop: z.optional(WorkshopPrefix),
  since: z.optional(InputTime),
  until: z.optional(InputTime),
  limit: z.optional(z.coerce.number({ message: 'must be a number' }).check(z.int(), z.minimum(1, 'must be at least 1'))),
  cursor: z.optional(z.string().check(z.maxLength(500))),
});

/** GET /api/sessions/active?workshop= */
export const ActiveSessionsQuery = z.object({
  /**
   * Only sessions whose id starts with this. Filtered in the statement, not by the client: the
   * list stops at 500 open sessions, and a room is where that many are open at once.
   */
  workshop: z.optional(WorkshopPrefix),
});

/** GET /api/sessions/{id}/events: cursor paging, or a live tail with `after_seq`. */
export const TimelineQuery = z.object({
  limit: z.optional(z.coerce.number().check(z.int(), z.minimum(1))),
  cursor: z.optional(z.string().check(z.maxLength(500))),
  /** Live tail: only events that arrived after this sequence (from `last_seq`). */
  after_seq: z.optional(z.string().check(z.regex(/^\d{1,19}$/, 'must be a sequence number from last_seq'))),
});

export type SessionStats = z.infer<typeof SessionStats>;
export type GlobalStats = z.infer<typeof GlobalStats>;
export type Interaction = z.infer<typeof Interaction>;
export type TranscriptEntry = z.infer<typeof TranscriptEntry>;
