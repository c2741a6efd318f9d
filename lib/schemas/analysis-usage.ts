import * as z from '../util/zod.js';

/** GET /api/analysis/usage?days=N */
export const AnalysisUsageQuery = z.object({
  days: z._default(z.coerce.number({ message: 'must be a number' }).check(z.int(), z.minimum(1, 'must be at least 1'), z.maximum(90, 'must be at most 90')), 7),
});
export type AnalysisUsageQuery = z.infer<typeof AnalysisUsageQuery>;

const Tokens = z.int().check(z.minimum(0));

export const AnalysisUsageDay = z.object({
  /** The UTC day, `YYYY-MM-DD`. */
  day: z.iso.date(),
  input_tokens: Tokens,
  output_tokens: Tokens,
  total_tokens: Tokens,
  /** Held by analyses running now (their estimate), replaced by their usage when they finish. */
  reserved_tokens: Tokens,
  /** Analyses that called the model and got an answer. */
  analyses: z.int().check(z.minimum(0)),
  /** Analyses deferred to the next day because the budget was spent. */
  deferred: z.int().check(z.minimum(0)),
});

export const AnalysisUsage = z.object({
  /** ANALYSIS_DAILY_TOKEN_BUDGET, tokens per UTC day; null = no cap. */
  daily_token_budget: z.nullable(Tokens),
  today: z.iso.date(),
  /** budget - used - reserved today (never below 0); null without a budget. */
  remaining_today: z.nullable(Tokens),
  /** When today's budget renews (the next UTC midnight). */
  resets_at: z.iso.datetime(),
  /** Newest first; days without analyses are listed with zeros. */
  days: z.array(AnalysisUsageDay),
});
export type AnalysisUsage = z.infer<typeof AnalysisUsage>;
