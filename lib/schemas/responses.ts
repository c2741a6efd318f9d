import { z } from 'zod';
import { Analysis } from '../analysis/schema.js';
import { Conversation, SessionSummaryRow } from './session.js';
import { StoredEvent } from './event.js';

export { Health, OpenApiDocument } from './health.js';

/** Response bodies that have no schema elsewhere; the OpenAPI document is generated from these. */
export const Problem = z.looseObject({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string(),
  requestId: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

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

export const InteractionResponse = z.object({ session_id: z.string(), is_new_session: z.boolean(), session: SessionSummaryRow });
export const JoinResponse = z.object({ session_id: z.string(), participant: z.string(), role: z.string(), session: SessionSummaryRow });
export const TranscriptAppended = z.object({ success: z.literal(true), session_id: z.string(), appended: z.number().int() });
export const PhaseResponse = z.object({ session_id: z.string(), phase: z.string().nullable(), session: SessionSummaryRow });
export const SummaryResponse = z.object({ session_id: z.string(), summary: z.string().nullable(), session: SessionSummaryRow });
export const EndResponse = z.object({ session_id: z.string(), ended_now: z.boolean(), session: SessionSummaryRow });
/** POST /api/sessions/{id}/pause: paused_now is false when it was already paused. */
export const PauseResponse = z.object({ session_id: z.string(), paused_now: z.boolean(), session: SessionSummaryRow });
/** POST /api/sessions/{id}/resume: resumed_now is false when it was not paused. */
export const ResumeResponse = z.object({ session_id: z.string(), resumed_now: z.boolean(), session: SessionSummaryRow });
export const AssignResponse = z.object({ session_id: z.string(), student_id: z.string(), session: SessionSummaryRow });
export const ActiveSessions = z.object({ count: z.number().int(), sessions: z.array(SessionSummaryRow) });
export const SessionPage = z.object({ count: z.number().int(), sessions: z.array(SessionSummaryRow), next_cursor: z.string().nullable() });
export const TranscriptResponse = Conversation.extend({ session_id: z.string(), status: z.string() });
export const Timeline = z.object({
  session_id: z.string(),
  count: z.number().int(),
  events: z.array(StoredEvent),
  next_cursor: z.string().nullable(),
  last_seq: z.string(),
});
export const SweepResponse = z.object({ ended: z.number().int(), abandoned: z.number().int(), more: z.boolean(), ended_ids: z.array(z.string()) });
export const RetentionResponse = z.object({
  cutoff: z.string(),
  events_deleted: z.number().int(),
  sessions_deleted: z.number().int(),
  analyses_deleted: z.number().int(),
  calls_deleted: z.number().int(),
  more: z.boolean(),
});
export const AuditPage = z.object({
  count: z.number().int(),
  entries: z.array(
    z.object({
      id: z.string(),
      at: z.string(),
      actor: z.string(),
      action: z.string(),
      method: z.string(),
      path: z.string(),
      status: z.number().int(),
      detail: z.record(z.string(), z.unknown()),
    }),
  ),
  next_before: z.string().nullable(),
});
export const AnalysisRun = z.object({ session_id: z.string(), reused: z.boolean(), analysis: Analysis });
export const AnalysisList = z.object({
  session_id: z.string(),
  /** Whether POST /api/sessions/{id}/analysis can run now (analysis on, a key, on_request trigger). */
  enabled: z.boolean(),
  /** Why not, when `enabled` is false (names the setting to change; never a secret). */
  reason: z.string().nullable(),
  count: z.number().int(),
  analyses: z.array(Analysis),
});
export const Student = z.object({
  id: z.string(), email: z.string().nullable(), name: z.string().nullable(), aliases: z.array(z.string()), phone_numbers: z.array(z.string()),
});
export const StudentResponse = z.object({ student: Student });
export const Erased = z.object({
  success: z.literal(true),
  student_id: z.string(),
  events_deleted: z.number().int(),
  sessions_deleted: z.number().int(),
  /** Sessions shared with someone else: kept, with everything naming the student blanked (ADR 0014). */
  sessions_redacted: z.number().int(),
  analyses_deleted: z.number().int(),
  calls_deleted: z.number().int(),
  audit_entries_redacted: z.number().int(),
});
export const SessionDataResponse = z.looseObject({
  success: z.literal(true),
  session_id: z.string().nullable(),
  is_new_session: z.boolean().optional(),
  matched_by: z.string().optional(),
});
/** What Vapi gets back: `{}`, `{"results":[...]}` for tool calls, `{"result": "..."}` for function calls. */
export const VapiAnswer = z.looseObject({
  // Each result is `result` (success) or `error` (failure), never both: Vapi reads `result` as success.
  results: z.array(z.object({ toolCallId: z.string(), name: z.string(), result: z.string().optional(), error: z.string().optional() })).optional(),
  result: z.string().optional(),
});

