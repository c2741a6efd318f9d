import * as z from '../util/zod.js';
import { InputTime, SafeText, StorableObject } from './common.js';
import { Platform, SessionId, StudentId } from './ids.js';

/** POST /api/webhooks/session-data: a finished (or ongoing) session from any voice platform. */
export const SessionDataInput = z.strictObject({
  platform: Platform,
  session_id: z.optional(SessionId),
  student_id: z.optional(StudentId),
  call_id: z.optional(SafeText(200).check(z.minLength(1))),
  started_at: InputTime,
  ended_at: z.optional(InputTime),
  transcript: z.optional(z.union([SafeText(20_000_000), z.array(z.strictObject({ speaker: SafeText(100), text: SafeText(100_000), timestamp: z.optional(InputTime) })).check(z.maxLength(20_000))])),
  metadata: z.optional(StorableObject),
  /**
   * The tool calls the call made (stored as its interactions; a graded one is also an attempt,
   * ADR 0030). `id` is the call's own tool call id: a redelivery stores each once.
   */
  tool_calls: z.optional(
    z
      .array(
        z.strictObject({
          id: SafeText(200).check(z.minLength(1)),
          name: SafeText(200).check(z.minLength(1)),
          arguments: z.optional(StorableObject),
          timestamp: z.optional(InputTime),
        }),
      )
      .check(z.maxLength(1000)),
  ),
});
export type SessionDataInput = z.infer<typeof SessionDataInput>;

export const SessionDataResponse = z.looseObject({
  success: z.literal(true),
  session_id: z.nullable(z.string()),
  is_new_session: z.optional(z.boolean()),
  matched_by: z.optional(z.string()),
});

/** What Vapi gets back: `{}`, `{"results":[...]}` for tool calls, `{"result": "..."}` for function calls. */
export const VapiAnswer = z.looseObject({
  // Each result is `result` (success) or `error` (failure), never both: Vapi reads `result` as success.
  results: z.optional(z.array(z.object({ toolCallId: z.string(), name: z.string(), result: z.optional(z.string()), error: z.optional(z.string()) }))),
  result: z.optional(z.string()),
});
