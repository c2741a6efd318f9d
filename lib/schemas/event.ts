import * as z from '../util/zod.js';
import { RESERVED_EVENT_TYPES } from '../events/reserved.js';
import { Email, EventType, InputTime, IsoDateTime, SafeText, SessionToken, WorkshopPrefix } from './common.js';
import { WRITE_TOKEN_PATTERN } from '../sessions/write-token.js';

export { RESERVED_EVENT_TYPES };

/** Largest serialised eventData (UTF-8 bytes). */
export const MAX_EVENT_DATA_BYTES = 32 * 1024;
/** Largest request body on the ingestion endpoint. */
export const MAX_INGEST_BODY_BYTES = 1024 * 1024;
export const MAX_BATCH_EVENTS = 500;

const JsonObject = z.record(z.string(), z.unknown(), { message: 'must be a JSON object' });
const OptText = (max: number) => z.optional(SafeText(max));

/*
 * Known event types: their documented fields are typed, any other field is kept as sent
 * (currentStep, stepName, demoMode, userAgent, timestamp...). Documented fields are optional:
 * a page may send only some of them, but what it sends must have the documented type.
 */
export const NavigationData = z.looseObject({
  from: z.optional(z.number()),
  to: z.optional(z.number()),
  fromStepName: OptText(500),
  toStepName: OptText(500),
});
export const ErrorData = z.looseObject({
  errorType: OptText(200),
  errorMessage: OptText(10_000),
  statusCode: z.optional(z.int().check(z.minimum(0), z.maximum(999))),
});
export const ActionData = z.looseObject({ actionName: OptText(200) });
export const ApiCallData = z.looseObject({
  endpoint: OptText(2_000),
  method: OptText(16),
  status: z.optional(z.int().check(z.minimum(0), z.maximum(999))),
  success: z.optional(z.boolean()),
});
export const StateChangeData = z.looseObject({
  stateName: OptText(200),
  oldValue: z.optional(z.unknown()),
  newValue: z.optional(z.unknown()),
});
/** A practice page's answer to one question; `timeMs` is how long the student took on it. */
export const AttemptData = z.looseObject({
  correct: z.optional(z.boolean()),
  timeMs: z.optional(z.number().check(z.minimum(0), z.maximum(86_400_000, 'must be at most a day (86400000 ms)'))),
  subject: OptText(200),
  topic: OptText(200),
});

export const KNOWN_EVENT_DATA: Record<string, z.ZodMiniType<Record<string, unknown>>> = {
  navigation: NavigationData,
  error: ErrorData,
  action: ActionData,
  api_call: ApiCallData,
  state_change: StateChangeData,
  attempt: AttemptData,
};

/**
 * Client time: ISO 8601, or epoch milliseconds, between 2000 and 2100 (a clock that says 1970 is
 * wrong). Milliseconds may have a fraction — `performance.timeOrigin + performance.now()` has one —
 * and are kept to the millisecond, as a Date keeps them: refused as an integer, such a time was a
 * 400 saying only "Invalid input".
 */
const MIN_CLIENT_TIME = Date.UTC(2000, 0, 1);
const MAX_CLIENT_TIME = Date.UTC(2100, 0, 1);
export const ClientTime = z.union([IsoDateTime, z.number()]).check(
  z.refine((v) => {
    const t = new Date(v).getTime();
    return t >= MIN_CLIENT_TIME && t <= MAX_CLIENT_TIME;
  }, 'must be a time between 2000 and 2100'),
);

/**
 * The capability to add events to a session the page did not open (a tutoring sitting, an explicit
 * session, a voice call): the `write_token` the API handed out with that session.
 */
export const WriteToken = z.string().check(z.regex(WRITE_TOKEN_PATTERN, 'must be the write_token issued with the session (wt1. and 43 characters)'));

/** Fields a batch may set once for all its events. */
const SharedFields = {
  sessionToken: SessionToken,
  studentEmail: Email,
  studentName: SafeText(200),
  sentAt: ClientTime,
  writeToken: WriteToken,
};

/** One event as pages post it. Unknown top-level fields are refused so typos are caught. */
export const EventInput = z.strictObject({
  sessionToken: SharedFields.sessionToken,
  studentEmail: z.optional(SharedFields.studentEmail),
  studentName: z.optional(SharedFields.studentName),
  eventType: EventType.check(z.refine((t) => !RESERVED_EVENT_TYPES.has(t), 'is reserved for session records (interaction, transcript, session_started, …)')),
  eventData: z.optional(JsonObject),
  // Version-8 UUIDs are the ids the server derives for webhook and session records
  // (lib/util/stable-uuid.ts). A page may not send one: it could plant a derived id first and make
  // the genuine record look like a duplicate. Pages use random (v4) or time-ordered (v7) ids.
  eventId: z.optional(
    z.uuid({ message: 'must be a UUID' }).check(
      z.refine((id) => id[14] !== '8', 'must not be a version-8 UUID (reserved for ids the server derives); use crypto.randomUUID()'),
      // Every event sent with the nil (or max) UUID after the first would be answered as a duplicate and lost.
      z.refine((id) => !/^(0{8}-0{4}-0{4}-0{4}-0{12}|f{8}-f{4}-f{4}-f{4}-f{12})$/i.test(id), 'must not be the nil or max UUID; use crypto.randomUUID()'),
    ),
  ),
  timestamp: z.optional(ClientTime),
  sentAt: z.optional(SharedFields.sentAt),
  writeToken: z.optional(SharedFields.writeToken),
});
export type EventInput = z.infer<typeof EventInput>;

/** A batch: the events, plus defaults the events may omit (sessionToken, studentEmail...). */
export const BatchEnvelope = z.strictObject({
  events: z
    .array(z.unknown(), { message: 'must be an array of events' })
    .check(z.minLength(1, 'must contain at least one event'), z.maxLength(MAX_BATCH_EVENTS, `must contain at most ${MAX_BATCH_EVENTS} events`)),
  sentAt: z.optional(SharedFields.sentAt),
  sessionToken: z.optional(SharedFields.sessionToken),
  studentEmail: z.optional(SharedFields.studentEmail),
  studentName: z.optional(SharedFields.studentName),
  writeToken: z.optional(SharedFields.writeToken),
});
export type BatchEnvelope = z.infer<typeof BatchEnvelope>;

// ---- responses ----

export const SingleIngestResponse = z.object({
  success: z.literal(true),
  message: z.string(),
  eventId: z.uuid(),
  duplicate: z.optional(z.boolean()),
});
export type SingleIngestResponse = z.infer<typeof SingleIngestResponse>;

export const BatchIngestResponse = z.object({
  success: z.literal(true),
  accepted: z.int().check(z.minimum(0)),
  duplicates: z.int().check(z.minimum(0)),
  rejected: z.optional(z.array(z.object({ index: z.int().check(z.minimum(0)), error: z.string() }))),
});

export const StoredEvent = z.object({
  event_id: z.uuid(),
  session_token: z.string(),
  event_type: z.string(),
  event_data: z.record(z.string(), z.unknown()),
  created_at: z.iso.datetime(),
  student_id: z.nullable(z.string()),
  student_email: z.nullable(z.string()),
  student_name: z.nullable(z.string()),
  /** What the posting page said (studentEmail / studentName), which never edits the student row. */
  claimed: z.nullable(z.object({ email: z.nullable(z.string()), name: z.nullable(z.string()) })),
});
export type StoredEvent = z.infer<typeof StoredEvent>;

export const EventListResponse = z.object({
  success: z.literal(true),
  count: z.int().check(z.minimum(0)),
  events: z.array(StoredEvent),
  next_cursor: z.nullable(z.string()),
});

export const MAX_PAGE = 1000;
export const MAX_EXPORT = 100_000;

export const EventQuery = z.object({
  sessionToken: z.optional(SessionToken),
  studentEmail: z.optional(Email),
  eventType: z.optional(EventType),
  /**
   * Only error events of this errorType, as GET /api/attention's and /stats' top errors name it
   * ('(unspecified)': an error that gave none).
   */
  errorType: z.optional(SafeText(200).check(z.minLength(1, 'must not be empty'))),
  /** Only sessions whose token starts with this (a workshop's prefix, as for GET /api/attention). */
  workshop: z.optional(WorkshopPrefix),
  limit: z.optional(z.coerce.number({ message: 'must be a number' }).check(z.int('must be an integer'), z.minimum(1, 'must be at least 1'))),
  since: z.optional(InputTime),
  until: z.optional(InputTime),
  order: z._default(z.enum(['asc', 'desc'], { message: 'must be asc or desc' }), 'desc'),
  cursor: z.optional(z.string().check(z.maxLength(500))),
  format: z._default(z.enum(['json', 'csv', 'ndjson'], { message: 'must be json, csv or ndjson' }), 'json'),
});
export type EventQuery = z.infer<typeof EventQuery>;

/** GET /api/session-log/stats: the window (default: the last hour). */
export const StatsQuery = z.object({ since: z.optional(InputTime), until: z.optional(InputTime) });

export const LogStatsResponse = z.object({
  success: z.literal(true),
  since: z.string(),
  until: z.string(),
  total: z.int(),
  by_type: z.record(z.string(), z.int()),
  top_errors: z.array(z.object({ error_type: z.string(), count: z.int(), students: z.int(), last_seen: z.string() })),
  students_with_errors: z.array(
    z.object({
      student_id: z.nullable(z.string()),
      student_email: z.nullable(z.string()),
      student_name: z.nullable(z.string()),
      session_token: z.string(),
      errors: z.int(),
      last_error_at: z.string(),
      last_error: z.nullable(z.string()),
    }),
  ),
});
