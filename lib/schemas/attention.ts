import * as z from '../util/zod.js';
import { InputTime, SafeText, WorkshopPrefix } from './common.js';

/** GET /api/attention?since=&workshop= — the query string. */
export const AttentionQuery = z.object({
  since: z.optional(InputTime),
  /** A session-token prefix: one workshop's pages share one (e.g. `ws_spring_`). */
  workshop: z.optional(WorkshopPrefix),
});
export type AttentionQuery = z.infer<typeof AttentionQuery>;

export const ReasonCode = z.enum(['repeated_error', 'recent_errors', 'failed_api_calls', 'stuck', 'silent_after_error']);
export type ReasonCode = z.infer<typeof ReasonCode>;

export const AttentionReason = z.object({
  code: ReasonCode,
  message: z.string(),
  since: z.iso.datetime(),
  count: z.nullable(z.int()),
});
export type AttentionReason = z.infer<typeof AttentionReason>;

/** An instructor's mark that a student was helped: evidence from before it no longer lists them. */
export const HelpedMark = z.object({
  at: z.iso.datetime(),
  /** Who marked it: `admin`, or `instructor:<name>` (INSTRUCTOR_TOKENS). */
  by: z.string(),
  note: z.nullable(z.string()),
});
export type HelpedMark = z.infer<typeof HelpedMark>;

export const AttentionStudent = z.object({
  session_id: z.string(),
  student_id: z.nullable(z.string()),
  student_name: z.nullable(z.string()),
  student_email: z.nullable(z.string()),
  current_step: z.nullable(z.string()),
  step_name: z.nullable(z.string()),
  score: z.number(),
  since: z.iso.datetime(),
  last_activity_at: z.iso.datetime(),
  reasons: z.array(AttentionReason).check(z.minLength(1)),
  /** The last "helped" mark, when the student is listed again for what happened after it. */
  helped: z.optional(z.nullable(HelpedMark)),
});
export type AttentionStudent = z.infer<typeof AttentionStudent>;

export const AttentionStep = z.object({
  step: z.string(),
  step_name: z.nullable(z.string()),
  students: z.int().check(z.minimum(0)),
  stuck: z.int().check(z.minimum(0)),
  median_seconds: z.nullable(z.number()),
});
export type AttentionStep = z.infer<typeof AttentionStep>;

export const TopError = z.object({
  error_type: z.string(),
  message: z.nullable(z.string()),
  students: z.int().check(z.minimum(0)),
  count: z.int().check(z.minimum(0)),
  last_at: z.iso.datetime(),
});
export type TopError = z.infer<typeof TopError>;

export const AttentionResponse = z.object({
  generated_at: z.iso.datetime(),
  active_students: z.int().check(z.minimum(0)),
  students: z.array(AttentionStudent),
  steps: z.array(AttentionStep),
  top_errors: z.array(TopError),
  /**
   * Active students marked helped in the last 30 minutes and not listed since (nothing new after
   * the mark), newest mark first: who an instructor or a teaching assistant is already with.
   */
  helped: z.optional(z.array(z.object({
    session_id: z.string(),
    student_id: z.nullable(z.string()),
    student_name: z.nullable(z.string()),
    student_email: z.nullable(z.string()),
    ...HelpedMark.shape,
  }))),
});
export type AttentionResponse = z.infer<typeof AttentionResponse>;

/** POST /api/attention/{id}/helped — the body (optional). */
export const HelpedInput = z.strictObject({
  /** What was done, for the timeline and the other instructors ("missing API key"). */
  note: z.optional(SafeText(500)),
});
export type HelpedInput = z.infer<typeof HelpedInput>;

/** The answer to marking (or unmarking) a student helped. */
export const HelpedAnswer = z.object({
  session_id: z.string(),
  /** The mark now in force; null after an undo. */
  helped: z.nullable(HelpedMark),
});
export type HelpedAnswer = z.infer<typeof HelpedAnswer>;
