import * as z from '../util/zod.js';

export { Health, OpenApiDocument } from './health.js';
/**
 * Every response body schema, in one place for the tests and the OpenAPI builder. Each family's
 * route definitions import their own module instead (event.ts, session-responses.ts, …): this one
 * reaches every family's schemas, and a Vercel function builds what it imports (ADR 0020).
 */
export { AnalysisList, AnalysisRun } from '../analysis/schema.js';
export { AuditPage } from './audit.js';
export { LogStatsResponse } from './event.js';
export { RetentionResponse, SweepResponse } from './maintenance.js';
export { SessionDataResponse, VapiAnswer } from './session-data.js';
export {
  ActiveSessions,
  AssignResponse,
  EndResponse,
  InteractionResponse,
  JoinResponse,
  PauseResponse,
  PhaseResponse,
  ResumeResponse,
  SessionPage,
  SummaryResponse,
  Timeline,
  TranscriptAppended,
  TranscriptResponse,
} from './session-responses.js';
export { Erased, Student, StudentResponse } from './student.js';

/** Response bodies that have no schema elsewhere; the OpenAPI document is generated from these. */
/** Response bodies that have no schema elsewhere; the OpenAPI document is generated from these. */
export const Problem = z.looseObject({
  type: z.string(),
  title: z.string(),
  status: z.int(),
  detail: z.string(),
  code: z.string(),
  requestId: z.optional(z.string()),
  errors: z.optional(z.array(z.object({ path: z.string(), message: z.string() }))),
});
