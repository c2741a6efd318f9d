import * as z from '../util/zod.js';
import { StoredEvent } from './event.js';
import { Conversation, SessionDocument, SessionSummaryRow } from './session.js';

/** The sessions family's answers (lib/routes/sessions/routes.ts). */

/**
 * `write_token`: what a page needs to post events into this session through the public
 * `/api/session-log` (e.g. a practice page's `attempt`s; lib/sessions/write-token.ts). Absent only when
 * the server has no ADMIN_TOKEN, which production never lacks.
 */
const WriteTokenField = z.optional(z.string());

/**
 * `duplicate`: this tool call was stored before (a redelivery, or Vapi's record of the same call;
 * ADR 0031) and nothing was added; `session_id` is the session that holds it.
 */
export const InteractionResponse = z.object({
  session_id: z.string(),
  is_new_session: z.boolean(),
  duplicate: z.optional(z.boolean()),
  write_token: WriteTokenField,
  session: SessionSummaryRow,
});

/** POST /api/sessions answers the new session's document and its write token. */
export const CreatedSession = z.extend(SessionDocument, { write_token: WriteTokenField });

export const WriteTokenResponse = z.object({ session_id: z.string(), write_token: z.string() });

export const JoinResponse = z.object({ session_id: z.string(), participant: z.string(), role: z.string(), session: SessionSummaryRow });

export const TranscriptAppended = z.object({ success: z.literal(true), session_id: z.string(), appended: z.int() });

export const PhaseResponse = z.object({ session_id: z.string(), phase: z.nullable(z.string()), session: SessionSummaryRow });

export const SummaryResponse = z.object({ session_id: z.string(), summary: z.nullable(z.string()), session: SessionSummaryRow });

export const EndResponse = z.object({ session_id: z.string(), ended_now: z.boolean(), session: SessionSummaryRow });

/** POST /api/sessions/{id}/pause: paused_now is false when it was already paused. */
export const PauseResponse = z.object({ session_id: z.string(), paused_now: z.boolean(), session: SessionSummaryRow });

/** POST /api/sessions/{id}/resume: resumed_now is false when it was not paused. */
export const ResumeResponse = z.object({ session_id: z.string(), resumed_now: z.boolean(), session: SessionSummaryRow });

export const AssignResponse = z.object({ session_id: z.string(), student_id: z.string(), session: SessionSummaryRow });

export const ActiveSessions = z.object({ count: z.int(), sessions: z.array(SessionSummaryRow) });

export const SessionPage = z.object({ count: z.int(), sessions: z.array(SessionSummaryRow), next_cursor: z.nullable(z.string()) });

export const TranscriptResponse = z.extend(Conversation, { session_id: z.string(), status: z.string() });

export const Timeline = z.object({
  session_id: z.string(),
  count: z.int(),
  events: z.array(StoredEvent),
  next_cursor: z.nullable(z.string()),
  last_seq: z.string(),
});
