import * as z from '../util/zod.js';

/**
 * What the model must return (strict JSON schema through the openai package's zod helper).
 * Every field is required, as strict structured outputs require; progress_change is null except
 * for the progress_update template.
 */
export const AnalysisOutput = z.object({
  session_summary: z.string().check(z.describe('What happened in the session, for the instructor, in a few sentences.')),
  learning_outcomes: z.array(z.string()).check(z.describe('What the student learned or demonstrated.')),
  engagement_score: z.number().check(z.minimum(0), z.maximum(1), z.describe('0 = disengaged, 1 = fully engaged.')),
  next_steps: z.array(z.string()).check(z.describe('Concrete next steps for the student and instructor.')),
  concepts_covered: z.array(z.string()),
  struggles: z.array(z.string()).check(z.describe('Where the student struggled or held misconceptions.')),
  progress_change: z.nullable(z.string()).check(z.describe('For progress updates: the change against earlier sessions; otherwise null.')),
  // Required-nullable in the JSON schema sent to the model (strict outputs), optional when parsed:
  // results stored before the field existed, and models that omit it, still parse.
  student_name: z
    .optional(z.nullable(z.string()))
    .check(z.describe('The name the student says is theirs in the session (e.g. "this is Emma Smith"), exactly as said; null if they never say it.')),
});
export type AnalysisOutput = z.infer<typeof AnalysisOutput>;

/** `deferred`: the daily token budget was spent; `error` says so and `next_attempt_at` is the next UTC day. */
export const AnalysisStatus = z.enum(['pending', 'completed', 'failed', 'deferred']);

export const Analysis = z.object({
  id: z.string(),
  session_id: z.string(),
  template: z.string(),
  template_hash: z.string(),
  model: z.string(),
  trigger: z.string(),
  status: AnalysisStatus,
  result: z.nullable(AnalysisOutput),
  error: z.nullable(z.string()),
  input_tokens: z.nullable(z.int()),
  output_tokens: z.nullable(z.int()),
  latency_ms: z.nullable(z.int()),
  attempts: z.int(),
  /** When the sweep runs it again (failed with retries left, or deferred); null otherwise. */
  next_attempt_at: z.nullable(z.iso.datetime()),
  created_at: z.iso.datetime(),
  completed_at: z.nullable(z.iso.datetime()),
});
export type Analysis = z.infer<typeof Analysis>;

export const AnalysisRequest = z.strictObject({
  template: z._default(z.enum(['session_summary', 'progress_update', 'learning_insights']), 'session_summary'),
  force: z._default(z.boolean(), false),
});

export const AnalysisRun = z.object({ session_id: z.string(), reused: z.boolean(), analysis: Analysis });

export const AnalysisList = z.object({
  session_id: z.string(),
  /** Whether POST /api/sessions/{id}/analysis can run now (analysis on, a key, on_request trigger). */
  enabled: z.boolean(),
  /** Why not, when `enabled` is false (names the setting to change; never a secret). */
  reason: z.nullable(z.string()),
  count: z.int(),
  analyses: z.array(Analysis),
});
