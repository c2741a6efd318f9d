import type { Config } from '../config.js';
import type { SessionCtx } from '../sessions/context.js';
import { sha256Hex } from '../util/stable-uuid.js';
import { Analysis, type AnalysisOutput } from './schema.js';
import type { TemplateName } from './templates.js';

/**
 * The analyses table and what a run reads around it: every SQL statement of session analysis.
 * The run (run.ts) decides when to call the model and what to record; this module only reads and
 * writes rows.
 */

export interface AnalysisRow {
  id: string;
  session_id: string;
  template: string;
  template_hash: string;
  model: string;
  trigger: string;
  status: 'pending' | 'completed' | 'failed' | 'deferred';
  result: unknown;
  error: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  latency_ms: number | null;
  attempts: number;
  next_attempt_at: Date | string | null;
  created_at: Date | string;
  completed_at: Date | string | null;
}

const COLUMNS = `id::text AS id, session_id, template, template_hash, model, trigger, status, result, error,
  input_tokens, output_tokens, latency_ms, attempts, next_attempt_at, created_at, completed_at`;

export function toAnalysis(r: AnalysisRow): Analysis {
  return Analysis.parse({
    ...r,
    result: r.result ?? null,
    next_attempt_at: r.next_attempt_at ? new Date(r.next_attempt_at).toISOString() : null,
    created_at: new Date(r.created_at).toISOString(),
    completed_at: r.completed_at ? new Date(r.completed_at).toISOString() : null,
  });
}

export async function listAnalyses(ctx: SessionCtx, sessionId: string): Promise<Analysis[]> {
  const rows = await ctx.sql.query<AnalysisRow>(`SELECT ${COLUMNS} FROM analyses WHERE session_id = $1 ORDER BY created_at DESC, id DESC`, [sessionId]);
  return rows.map(toAnalysis);
}

export async function latestCompleted(ctx: SessionCtx, sessionId: string, template: string): Promise<Analysis | null> {
  const rows = await ctx.sql.query<AnalysisRow>(
    `SELECT ${COLUMNS} FROM analyses WHERE session_id = $1 AND template = $2 AND status = 'completed' ORDER BY completed_at DESC LIMIT 1`,
    [sessionId, template],
  );
  return rows[0] ? toAnalysis(rows[0]) : null;
}

/**
 * Reserve the (session, template) slot: a pending row, unique while pending — the cost guard that
 * keeps concurrent triggers from paying twice. Null when another run holds it.
 */
export async function claim(ctx: SessionCtx, config: Config['analysis'], sessionId: string, template: TemplateName, trigger: string): Promise<string | null> {
  const rows = await ctx.sql.query<{ id: string }>(
    `INSERT INTO analyses (session_id, template, template_hash, model, trigger, status, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6)
     ON CONFLICT (session_id, template) WHERE status = 'pending' DO NOTHING
     RETURNING id::text AS id`,
    [sessionId, template, await sha256Hex(config.prompts[template]), config.model, trigger, ctx.now().toISOString()],
  );
  return rows[0]?.id ?? null;
}

export async function loadRun(ctx: SessionCtx, id: string): Promise<AnalysisRow | undefined> {
  const [row] = await ctx.sql.query<AnalysisRow>(`SELECT ${COLUMNS} FROM analyses WHERE id = $1::bigint`, [id]);
  return row;
}

/**
 * Record a completed run in one statement: the row, no more retries for earlier failures of the
 * same (session, template), and an `analysis_completed` event on the session's timeline.
 */
export async function completeRun(
  ctx: SessionCtx,
  id: string,
  outcome: { result: AnalysisOutput; inputTokens: number | null; outputTokens: number | null; latencyMs: number },
): Promise<Analysis> {
  const [done] = await ctx.sql.query<AnalysisRow>(
    `WITH upd AS (
       UPDATE analyses SET status = 'completed', result = $2::jsonb, error = NULL, input_tokens = $3, output_tokens = $4,
         latency_ms = $5, attempts = attempts + 1, next_attempt_at = NULL, completed_at = $6, updated_at = $6
       WHERE id = $1::bigint RETURNING *
     ),
     stop_retries AS (
       UPDATE analyses a SET next_attempt_at = NULL FROM upd
       WHERE a.session_id = upd.session_id AND a.template = upd.template AND a.status IN ('failed', 'deferred')
     ),
     ev AS (
       INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, created_at)
       SELECT $7::uuid, upd.session_id, s.student_id, 'analysis_completed',
              jsonb_build_object('analysis_id', upd.id::text, 'template', upd.template, 'model', upd.model,
                                 'engagement_score', upd.result->'engagement_score', 'summary', upd.result->>'session_summary'),
              $6::timestamptz
       FROM upd JOIN sessions s ON s.id = upd.session_id
     )
     SELECT ${COLUMNS} FROM upd`,
    [id, JSON.stringify(outcome.result), outcome.inputTokens, outcome.outputTokens, outcome.latencyMs, ctx.now().toISOString(), crypto.randomUUID()],
  );
  return toAnalysis(done as AnalysisRow);
}

/**
 * Park a run until `retryAt` (the next UTC day) because the day's token budget is spent: not a
 * failure, so attempts stay as they are. Earlier failed or deferred runs of the same (session,
 * template) stop retrying — this one carries the analysis — and the day counts one deferral.
 */
export async function deferRun(ctx: SessionCtx, id: string, reason: string, retryAt: Date, day: string): Promise<Analysis> {
  const [row] = await ctx.sql.query<AnalysisRow>(
    `WITH upd AS (
       UPDATE analyses SET status = 'deferred', error = $2, next_attempt_at = $3::timestamptz, updated_at = $4::timestamptz
       WHERE id = $1::bigint RETURNING *
     ),
     others AS (
       UPDATE analyses a SET next_attempt_at = NULL FROM upd
       WHERE a.session_id = upd.session_id AND a.template = upd.template AND a.status IN ('failed', 'deferred') AND a.id <> upd.id
     ),
     counted AS (
       INSERT INTO analysis_usage AS u (day, deferred, updated_at) VALUES ($5::date, 1, $4::timestamptz)
       ON CONFLICT (day) DO UPDATE SET deferred = u.deferred + 1, updated_at = EXCLUDED.updated_at
     )
     SELECT ${COLUMNS} FROM upd`,
    [id, reason, retryAt.toISOString(), ctx.now().toISOString(), day],
  );
  return toAnalysis(row as AnalysisRow);
}

/** Record a failed attempt; `retryAt` null means no further retry. */
export async function failRun(
  ctx: SessionCtx,
  id: string,
  failure: { error: string; attempts: number; latencyMs: number; retryAt: Date | null },
): Promise<Analysis> {
  const [failed] = await ctx.sql.query<AnalysisRow>(
    `UPDATE analyses SET status = 'failed', error = $2, attempts = $3, latency_ms = $4,
       next_attempt_at = $5::timestamptz, updated_at = $6
     WHERE id = $1::bigint RETURNING ${COLUMNS}`,
    [id, failure.error.slice(0, 2000), failure.attempts, failure.latencyMs, failure.retryAt?.toISOString() ?? null, ctx.now().toISOString()],
  );
  return toAnalysis(failed as AnalysisRow);
}

export async function sessionErrors(ctx: SessionCtx, sessionId: string): Promise<Array<{ at: string; type: string; message: string }>> {
  const rows = await ctx.sql.query<{ created_at: Date | string; event_data: Record<string, unknown> }>(
    `SELECT created_at, event_data FROM events WHERE session_token = $1 AND event_type = 'error' ORDER BY created_at, id LIMIT 50`,
    [sessionId],
  );
  return rows.map((r) => ({
    at: new Date(r.created_at).toISOString(),
    type: String(r.event_data.errorType ?? 'error'),
    message: String(r.event_data.errorMessage ?? JSON.stringify(r.event_data)),
  }));
}

export async function previousAnalyses(ctx: SessionCtx, studentId: string | null, sessionId: string) {
  if (!studentId || studentId === 'unknown') return [];
  const rows = await ctx.sql.query<{ session_id: string; completed_at: Date | string; result: { session_summary?: string; engagement_score?: number } }>(
    `SELECT a.session_id, a.completed_at, a.result FROM analyses a JOIN sessions s ON s.id = a.session_id
     WHERE s.student_id = $1 AND a.session_id <> $2 AND a.status = 'completed' AND a.template = 'session_summary'
     ORDER BY a.completed_at DESC LIMIT 5`,
    [studentId, sessionId],
  );
  return rows.map((r) => ({
    session_id: r.session_id,
    at: new Date(r.completed_at).toISOString(),
    summary: r.result?.session_summary ?? '',
    engagement: typeof r.result?.engagement_score === 'number' ? r.result.engagement_score : null,
  }));
}

/**
 * The sweep's SQL: mark runs that died mid-flight (pending too long) as failed, then claim failed
 * runs whose backoff has passed and deferred runs whose day has come (at most `limit`, none whose slot another run holds).
 */
export async function claimDueRetries(ctx: SessionCtx, maxAttempts: number, limit: number): Promise<string[]> {
  const now = ctx.now().toISOString();
  // A run that died mid-flight also held a token reservation: release it (its usage is unknown).
  await ctx.sql.query(
    `WITH dead AS (
       SELECT id, reserved_tokens, reserved_day FROM analyses
       WHERE status = 'pending' AND updated_at < $1::timestamptz - interval '15 minutes' FOR UPDATE
     ),
     upd AS (
       UPDATE analyses a SET status = 'failed', error = 'interrupted before completion', attempts = a.attempts + 1,
         next_attempt_at = CASE WHEN a.attempts + 1 < $2 THEN $1::timestamptz ELSE NULL END, updated_at = $1::timestamptz,
         reserved_tokens = NULL, reserved_day = NULL
       FROM dead WHERE a.id = dead.id
       RETURNING dead.reserved_tokens AS r, dead.reserved_day AS d
     )
     UPDATE analysis_usage u SET reserved_tokens = GREATEST(0, u.reserved_tokens - x.r)
     FROM (SELECT d, sum(r)::bigint AS r FROM upd WHERE d IS NOT NULL GROUP BY d) x WHERE u.day = x.d`,
    [now, maxAttempts],
  );
  // One run per (session, template) at a time: two due runs of the same analysis (an on-request run
  // and the on-end run that both failed) would both turn pending and break analyses_one_pending,
  // which failed the whole batch on every sweep, the other sessions' retries with it. The run picked
  // carries the analysis; completeRun stops the others' retries when it succeeds.
  const due = await ctx.sql
    .query<{ id: string }>(
      `WITH candidates AS (
         SELECT f.id, f.session_id, f.template, f.next_attempt_at FROM analyses f
         WHERE f.status IN ('failed', 'deferred') AND f.next_attempt_at IS NOT NULL AND f.next_attempt_at <= $1::timestamptz AND f.attempts < $2
           AND NOT EXISTS (SELECT 1 FROM analyses p WHERE p.session_id = f.session_id AND p.template = f.template AND p.status = 'pending')
         ORDER BY f.next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED
       ),
       one_each AS (SELECT DISTINCT ON (session_id, template) id FROM candidates ORDER BY session_id, template, next_attempt_at, id)
       UPDATE analyses a SET status = 'pending', updated_at = $1::timestamptz
       WHERE a.id IN (SELECT id FROM one_each)
       RETURNING a.id::text AS id`,
      [now, maxAttempts, limit],
    )
    .catch((err: unknown) => {
      if ((err as { code?: string }).code === '23505') return []; // raced with a new run; next sweep
      throw err;
    });
  return due.map((r) => r.id);
}
