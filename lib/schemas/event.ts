import { z } from 'zod';
import { RESERVED_EVENT_TYPES } from '../events/reserved.js';
import { Email, EventType, IsoDateTime, SafeText, SessionToken } from './common.js';

export { RESERVED_EVENT_TYPES };

/** Largest serialised eventData (UTF-8 bytes). */
export const MAX_EVENT_DATA_BYTES = 32 * 1024;
/** Largest request body on the ingestion endpoint. */
export const MAX_INGEST_BODY_BYTES = 1024 * 1024;
export const MAX_BATCH_EVENTS = 500;

const JsonObject = z.record(z.string(), z.unknown(), { message: 'must be a JSON object' });
const OptText = (max: number) => SafeText(max).optional();

/*
 * Known event types: their documented fields are typed, any other field is kept as sent
 * (currentStep, stepName, demoMode, userAgent, timestamp...). Documented fields are optional:
 * a page may send only some of them, but what it sends must have the documented type.
 */
export const NavigationData = z.looseObject({
  from: z.number().optional(),
  to: z.number().optional(),
  fromStepName: OptText(500),
  toStepName: OptText(500),
});
export const ErrorData = z.looseObject({
  errorType: OptText(200),
  errorMessage: OptText(10_000),
  statusCode: z.number().int().min(0).max(999).optional(),
});
export const ActionData = z.looseObject({ actionName: OptText(200) });
export const ApiCallData = z.looseObject({
  endpoint: OptText(2_000),
  method: OptText(16),
  status: z.number().int().min(0).max(999).optional(),
  success: z.boolean().optional(),
});
export const StateChangeData = z.looseObject({
  stateName: OptText(200),
  oldValue: z.unknown().optional(),
  newValue: z.unknown().optional(),
});
/** A practice page's answer to one question; `timeMs` is how long the student took on it. */
export const AttemptData = z.looseObject({
  correct: z.boolean().optional(),
  timeMs: z.number().min(0).max(86_400_000, 'must be at most a day (86400000 ms)').optional(),
  subject: OptText(200),
  topic: OptText(200),
});

export const KNOWN_EVENT_DATA: Record<string, z.ZodType<Record<string, unknown>>> = {
  navigation: NavigationData,
  error: ErrorData,
  action: ActionData,
  api_call: ApiCallData,
  state_change: StateChangeData,
  attempt: AttemptData,
};

/** Client time: ISO 8601, or epoch milliseconds, between 2000 and 2100 (a clock that says 1970 is wrong). */
const MIN_CLIENT_TIME = Date.UTC(2000, 0, 1);
const MAX_CLIENT_TIME = Date.UTC(2100, 0, 1);
export const ClientTime = z
  .union([IsoDateTime, z.number().int()])
  .refine((v) => {
    const t = new Date(v).getTime();
    return t >= MIN_CLIENT_TIME && t <= MAX_CLIENT_TIME;
  }, 'must be a time between 2000 and 2100');

/** Fields a batch may set once for all its events. */
const SharedFields = {
  sessionToken: SessionToken,
  studentEmail: Email,
  studentName: SafeText(200),
  sentAt: ClientTime,
};

/** One event as pages post it. Unknown top-level fields are refused so typos are caught. */
export const EventInput = z.strictObject({
  sessionToken: SharedFields.sessionToken,
  studentEmail: SharedFields.studentEmail.optional(),
  studentName: SharedFields.studentName.optional(),
  eventType: EventType.refine((t) => !RESERVED_EVENT_TYPES.has(t), 'is reserved for session records (interaction, transcript, session_started, …)'),
  eventData: JsonObject.optional(),
  // Version-8 UUIDs are the ids the server derives for webhook and session records
  // (lib/util/stable-uuid.ts). A page may not send one: it could plant a derived id first and make
  // the genuine record look like a duplicate. Pages use random (v4) or time-ordered (v7) ids.
  eventId: z
    .uuid({ message: 'must be a UUID' })
    .refine((id) => id[14] !== '8', 'must not be a version-8 UUID (reserved for ids the server derives); use crypto.randomUUID()')
    .optional(),
  timestamp: ClientTime.optional(),
  sentAt: SharedFields.sentAt.optional(),
});
export type EventInput = z.infer<typeof EventInput>;

/** A batch: the events, plus defaults the events may omit (sessionToken, studentEmail...). */
export const BatchEnvelope = z.strictObject({
  events: z
    .array(z.unknown(), { message: 'must be an array of events' })
    .min(1, 'must contain at least one event')
    .max(MAX_BATCH_EVENTS, `must contain at most ${MAX_BATCH_EVENTS} events`),
  sentAt: SharedFields.sentAt.optional(),
  sessionToken: SharedFields.sessionToken.optional(),
  studentEmail: SharedFields.studentEmail.optional(),
  studentName: SharedFields.studentName.optional(),
});
export type BatchEnvelope = z.infer<typeof BatchEnvelope>;

// ---- responses ----

export const SingleIngestResponse = z.object({
  success: z.literal(true),
  message: z.string(),
  eventId: z.uuid(),
  duplicate: z.boolean().optional(),
});
export type SingleIngestResponse = z.infer<typeof SingleIngestResponse>;

export const BatchIngestResponse = z.object({
  success: z.literal(true),
  accepted: z.number().int().min(0),
  duplicates: z.number().int().min(0),
  rejected: z.array(z.object({ index: z.number().int().min(0), error: z.string() })).optional(),
});

export const StoredEvent = z.object({
  event_id: z.uuid(),
  session_token: z.string(),
  event_type: z.string(),
  event_data: z.record(z.string(), z.unknown()),
  created_at: z.iso.datetime(),
  student_id: z.string().nullable(),
  student_email: z.string().nullable(),
  student_name: z.string().nullable(),
  /** What the posting page said (studentEmail / studentName), which never edits the student row. */
  claimed: z.object({ email: z.string().nullable(), name: z.string().nullable() }).nullable(),
});
export type StoredEvent = z.infer<typeof StoredEvent>;

export const EventListResponse = z.object({
  success: z.literal(true),
  count: z.number().int().min(0),
  events: z.array(StoredEvent),
  next_cursor: z.string().nullable(),
});

export const MAX_PAGE = 1000;
export const MAX_EXPORT = 100_000;

export const EventQuery = z.object({
  sessionToken: SessionToken.optional(),
  studentEmail: Email.optional(),
  eventType: EventType.optional(),
  limit: z.coerce.number({ message: 'must be a number' }).int('must be an integer').min(1, 'must be at least 1').optional(),
  since: IsoDateTime.optional(),
  until: IsoDateTime.optional(),
  order: z.enum(['asc', 'desc'], { message: 'must be asc or desc' }).default('desc'),
  cursor: z.string().max(500).optional(),
  format: z.enum(['json', 'csv', 'ndjson'], { message: 'must be json, csv or ndjson' }).default('json'),
});
export type EventQuery = z.infer<typeof EventQuery>;

/** GET /api/session-log/stats: the window (default: the last hour). */
export const StatsQuery = z.object({ since: IsoDateTime.optional(), until: IsoDateTime.optional() });

export const LogStatsResponse = z.object({
  success: z.literal(true),
  since: z.string(),
  until: z.string(),
  total: z.number().int(),
  by_type: z.record(z.string(), z.number().int()),
  top_errors: z.array(z.object({ error_type: z.string(), count: z.number().int(), students: z.number().int(), last_seen: z.string() })),
  students_with_errors: z.array(
    z.object({
      student_id: z.string().nullable(),
      student_email: z.string().nullable(),
      student_name: z.string().nullable(),
      session_token: z.string(),
      errors: z.number().int(),
      last_error_at: z.string(),
      last_error: z.string().nullable(),
    }),
  ),
});
