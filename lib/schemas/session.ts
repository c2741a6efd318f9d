import { z } from 'zod';
import { IsoDateTime, SafeText, StorableObject } from './common.js';

/** `paused` is derived (an open session with paused_at set), never stored: see migration 014. */
export const SESSION_STATUSES = ['waiting', 'active', 'paused', 'completed', 'abandoned'] as const;
export const SessionStatus = z.enum(SESSION_STATUSES);
export type SessionStatus = z.infer<typeof SessionStatus>;

/** Student and participant ids: readable ids such as `emma_smith` (emails allowed). */
export const StudentId = z
  .string()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .regex(/^[A-Za-z0-9_.:@+-]+$/, 'may contain only letters, digits and _ . : @ + -');

/** Session ids double as the event log's session token, so they share its alphabet. */
export const SessionId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'may contain only letters, digits and _ . : -');

export const Platform = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,39}$/, 'must be a lowercase platform name such as vapi, web, mcp, superinterface, generic');

const Label = SafeText(200);
const JsonObject = z.record(z.string(), z.unknown());

export const InteractionInput = z.strictObject({
  student_id: StudentId,
  function: SafeText(200).min(1, 'must not be empty'),
  parameters: StorableObject.optional(),
  data_provided: z.array(SafeText(200)).max(100).optional(),
  subjects_accessed: z.array(SafeText(200)).max(100).optional(),
  platform: Platform.optional(),
  subject: Label.optional(),
  topic: Label.optional(),
  subtopic: Label.optional(),
  timestamp: IsoDateTime.optional(),
});
export type InteractionInput = z.infer<typeof InteractionInput>;

export const CreateSessionInput = z.strictObject({
  participant: StudentId,
  session_id: SessionId.optional(),
  student_id: StudentId.optional(),
  platform: Platform.optional(),
  subject: Label.optional(),
  topic: Label.optional(),
  subtopic: Label.optional(),
  agent: StorableObject.optional(),
  metadata: StorableObject.optional(),
  max_participants: z.number().int().min(1).max(26).optional(),
});
export type CreateSessionInput = z.infer<typeof CreateSessionInput>;

export const JoinInput = z.strictObject({ participant: StudentId });

export const TranscriptEntryInput = z.strictObject({
  speaker: SafeText(100).min(1, 'must not be empty'),
  text: SafeText(32_000),
  timestamp: IsoDateTime.optional(),
});
export type TranscriptEntryInput = z.infer<typeof TranscriptEntryInput>;

export const TranscriptBatchInput = z.strictObject({ entries: z.array(TranscriptEntryInput).min(1).max(500) });

export const PhaseInput = z.strictObject({ phase: SafeText(100).min(1, 'must not be empty') });
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
  source: z.string().nullable(),
  word_count: z.number().int().min(0),
  duration_seconds: z.number().min(0),
});

/** A session as list endpoints show it (no interactions or transcript). */
export const SessionSummaryRow = z.object({
  session_id: z.string(),
  student_id: z.string().nullable(),
  participants: z.array(Participant),
  platform: z.string(),
  kind: z.enum(['auto', 'explicit']),
  status: SessionStatus,
  start_time: IsoDateTime,
  end_time: IsoDateTime.nullable(),
  last_activity: IsoDateTime,
  end_reason: z.string().nullable(),
  /** Active time: end (or the start of the current pause) - start - paused time. */
  duration_seconds: z.number().min(0),
  /** When the current pause began; null unless status is `paused`. */
  paused_at: IsoDateTime.nullable(),
  /** Time spent in finished pauses (not counted in duration_seconds). */
  paused_ms: z.number().int().min(0),
  phase: z.string().nullable(),
  subject: z.string().nullable(),
  topic: z.string().nullable(),
  subtopic: z.string().nullable(),
  interaction_count: z.number().int(),
  transcript_count: z.number().int(),
  event_count: z.number().int().optional(),
  error_count: z.number().int().optional(),
  /** Workshop sessions: eventData.currentStep of the latest event carrying it (numbers as text). */
  current_step: z.string().nullable(),
  /** Workshop sessions: eventData.stepName of the latest event carrying it. */
  step_name: z.string().nullable(),
  /** The student's name and email (null when unknown, or where the row is not read with them). */
  student_name: z.string().nullable(),
  student_email: z.string().nullable(),
});
export type SessionSummaryRow = z.infer<typeof SessionSummaryRow>;

/** The whole session document: the shape instructors know. */
export const SessionDocument = SessionSummaryRow.extend({
  summary: z.string().nullable(),
  max_participants: z.number().int(),
  agent: JsonObject.nullable(),
  mcp_interactions: z.array(Interaction),
  conversation: Conversation,
  platform_metadata: JsonObject,
  analysis: z.unknown().nullable(),
  metadata: JsonObject,
});
export type SessionDocument = z.infer<typeof SessionDocument>;

export const SessionStats = z.object({
  duration_seconds: z.number().min(0),
  interactions: z.number().int(),
  data_requests: z.number().int(),
  subjects_accessed: z.array(z.string()),
  word_count: z.number().int(),
  events_by_type: z.record(z.string(), z.number().int()),
  errors: z.number().int(),
  attempts: z.number().int(),
  correct: z.number().int(),
  accuracy: z.number().min(0).max(1).nullable(),
  /** Time spent on the attempts: each one's `timeMs`, else the time since the previous attempt. */
  total_time_ms: z.number().int().min(0),
  /** total_time_ms over the attempts that have a time; null when none has. */
  avg_time_per_question_ms: z.number().int().min(0).nullable(),
  /** Subjects the attempts named (`eventData.subject`), else the session's subject when it has attempts. */
  subjects_practiced: z.array(z.string()),
});

export const GlobalStats = z.object({
  active_sessions: z.number().int(),
  sessions_today: z.number().int(),
  events_today: z.number().int(),
  sessions_by_platform: z.record(z.string(), z.number().int()),
  average_duration_seconds: z.number().min(0).nullable(),
});

export const SessionListQuery = z.object({
  /** Any part of the student's email, name or id, or of the session id/token; case-insensitive. Blank: no filter. */
  q: SafeText(200).optional(),
  student_id: StudentId.optional(),
  status: SessionStatus.optional(),
  platform: Platform.optional(),
  since: IsoDateTime.optional(),
  until: IsoDateTime.optional(),
  limit: z.coerce.number({ message: 'must be a number' }).int().min(1, 'must be at least 1').optional(),
  cursor: z.string().max(500).optional(),
});

/** GET /api/sessions/{id}/events: cursor paging, or a live tail with `after_seq`. */
export const TimelineQuery = z.object({
  limit: z.coerce.number().int().min(1).optional(),
  cursor: z.string().max(500).optional(),
  /** Live tail: only events that arrived after this sequence (from `last_seq`). */
  after_seq: z.string().regex(/^\d{1,19}$/, 'must be a sequence number from last_seq').optional(),
});

export type SessionStats = z.infer<typeof SessionStats>;
export type GlobalStats = z.infer<typeof GlobalStats>;
export type Interaction = z.infer<typeof Interaction>;
export type TranscriptEntry = z.infer<typeof TranscriptEntry>;
