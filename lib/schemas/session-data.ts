import { z } from 'zod';
import { IsoDateTime, SafeText, StorableObject } from './common.js';
import { Platform, SessionId, StudentId } from './session.js';

/** POST /api/webhooks/session-data: a finished (or ongoing) session from any voice platform. */
export const SessionDataInput = z.strictObject({
  platform: Platform,
  session_id: SessionId.optional(),
  student_id: StudentId.optional(),
  call_id: SafeText(200).min(1).optional(),
  started_at: IsoDateTime,
  ended_at: IsoDateTime.optional(),
  transcript: z
    .union([SafeText(20_000_000), z.array(z.strictObject({ speaker: SafeText(100), text: SafeText(100_000), timestamp: IsoDateTime.optional() })).max(20_000)])
    .optional(),
  metadata: StorableObject.optional(),
});
export type SessionDataInput = z.infer<typeof SessionDataInput>;

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
