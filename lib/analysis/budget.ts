import type { SessionCtx } from '../sessions/context.js';

/**
 * The daily token budget (ANALYSIS_DAILY_TOKEN_BUDGET): usage per UTC day in `analysis_usage`, and
 * the reservation each run takes before calling the model.
 *
 * A run reserves its estimate (prompt tokens by estimateTokens + OUTPUT_ALLOWANCE) with one
 * conditional upsert: it succeeds only while used + reserved + estimate <= budget, checked under
 * the day row's lock, so concurrent runs (any number of instances, edge included) are serialised
 * on that check and cannot all pass it on the same stale total. After the call the reservation is
 * replaced by the usage the provider reported. The day can therefore end over budget only by what
 * runs in flight used beyond their estimates: at most Σ(actual − estimate) over the runs in flight
 * when the budget was reached; with the output allowance above the usual reply size, that is
 * the error of the ~4 characters per token estimate on their prompts.
 */

/** Output tokens reserved per run: an analysis reply is a few hundred tokens; this leaves margin. */
export const OUTPUT_ALLOWANCE = 1500;

export const DEFERRED_REASON = 'daily token budget reached';

/** `2026-06-01` for any time that UTC day. */
export const utcDay = (d: Date): string => d.toISOString().slice(0, 10);

/** The first instant of the next UTC day, when a deferred analysis may run. */
export const nextUtcDay = (d: Date): Date => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1));

/**
 * Reserve `estimate` tokens of `day` for analysis `id` (recorded on its row, so settling releases
 * exactly this). False when it does not fit the budget; `budget` null reserves unconditionally
 * (usage is recorded with or without a cap).
 */
export async function reserve(ctx: SessionCtx, id: string, day: string, estimate: number, budget: number | null): Promise<boolean> {
  const rows = await ctx.sql.query<{ day: string }>(
    `WITH r AS (
       INSERT INTO analysis_usage AS u (day, reserved_tokens, updated_at)
       SELECT $1::date, $2::bigint, $5::timestamptz WHERE $3::bigint IS NULL OR $2::bigint <= $3::bigint
       ON CONFLICT (day) DO UPDATE SET reserved_tokens = u.reserved_tokens + EXCLUDED.reserved_tokens, updated_at = EXCLUDED.updated_at
       WHERE $3::bigint IS NULL OR u.input_tokens + u.output_tokens + u.reserved_tokens + EXCLUDED.reserved_tokens <= $3::bigint
       RETURNING day
     ),
     a AS (UPDATE analyses SET reserved_tokens = $2::int, reserved_day = $1::date FROM r WHERE analyses.id = $4::bigint)
     SELECT day::text AS day FROM r`,
    [day, estimate, budget, id, ctx.now().toISOString()],
  );
  return rows.length === 1;
}

/**
 * Replace run `id`'s reservation by what it used (`used` null: a failed call, which releases the
 * reservation and counts nothing). The usage lands on the day the reservation was taken.
 */
export async function settle(ctx: SessionCtx, id: string, used: { inputTokens: number; outputTokens: number } | null): Promise<void> {
  await ctx.sql.query(
    `WITH old AS (SELECT id, reserved_tokens, reserved_day FROM analyses WHERE id = $1::bigint AND reserved_day IS NOT NULL FOR UPDATE),
     cleared AS (
       UPDATE analyses x SET reserved_tokens = NULL, reserved_day = NULL FROM old WHERE x.id = old.id
       RETURNING old.reserved_tokens AS r, old.reserved_day AS d
     )
     UPDATE analysis_usage u SET reserved_tokens = GREATEST(0, u.reserved_tokens - cleared.r),
       input_tokens = u.input_tokens + $2::bigint, output_tokens = u.output_tokens + $3::bigint,
       analyses = u.analyses + $4::int, updated_at = $5::timestamptz
     FROM cleared WHERE u.day = cleared.d`,
    [id, used?.inputTokens ?? 0, used?.outputTokens ?? 0, used ? 1 : 0, ctx.now().toISOString()],
  );
}

/** The day's totals: what the budget check compares against. */
export async function dayTotals(ctx: SessionCtx, day: string): Promise<{ used: number; reserved: number }> {
  const [r] = await ctx.sql.query<{ used: string | number; reserved: string | number }>(
    'SELECT input_tokens + output_tokens AS used, reserved_tokens AS reserved FROM analysis_usage WHERE day = $1::date',
    [day],
  );
  return { used: Number(r?.used ?? 0), reserved: Number(r?.reserved ?? 0) };
}

export interface UsageDay {
  day: string;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  reserved_tokens: number;
  analyses: number;
  deferred: number;
}

/** The last `days` UTC days up to `today`, newest first, days without analyses included as zeros. */
export async function usageByDay(ctx: SessionCtx, today: string, days: number): Promise<UsageDay[]> {
  const rows = await ctx.sql.query<Record<keyof UsageDay, string | number>>(
    `SELECT d.day::date::text AS day, COALESCE(u.input_tokens, 0) AS input_tokens, COALESCE(u.output_tokens, 0) AS output_tokens,
       COALESCE(u.reserved_tokens, 0) AS reserved_tokens, COALESCE(u.analyses, 0) AS analyses, COALESCE(u.deferred, 0) AS deferred
     FROM generate_series($1::date - ($2::int - 1), $1::date, interval '1 day') AS d(day)
     LEFT JOIN analysis_usage u ON u.day = d.day::date
     ORDER BY d.day DESC`,
    [today, days],
  );
  return rows.map((r) => {
    const input = Number(r.input_tokens);
    const output = Number(r.output_tokens);
    return {
      day: String(r.day),
      input_tokens: input,
      output_tokens: output,
      total_tokens: input + output,
      reserved_tokens: Number(r.reserved_tokens),
      analyses: Number(r.analyses),
      deferred: Number(r.deferred),
    };
  });
}
