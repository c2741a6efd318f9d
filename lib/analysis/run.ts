import OpenAI from 'openai';
import type { Config } from '../config.js';
import type { Deps } from '../deps.js';
import { describeError } from '../deps.js';
import type { SessionCtx } from '../sessions/context.js';
import { DomainError, notFound } from '../sessions/errors.js';
import { getDocument } from '../sessions/read.js';
import { buildPrompt, SYSTEM_PROMPT } from './prompt.js';
import { jsonSchemaResponseFormat } from './response-format.js';
import { Analysis, AnalysisOutput } from './schema.js';
import type { TemplateName } from './templates.js';
import { sha256Hex } from '../util/stable-uuid.js';

/** One first attempt plus three retries by the sweep. */
export const MAX_ATTEMPTS = 4;
/** Retry delays after the 1st, 2nd, 3rd failure. */
const BACKOFF_MS = [60_000, 5 * 60_000, 30 * 60_000];

export class AnalysisUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AnalysisUnavailable';
  }
}

/** Why analysis cannot run now, or null when it can. */
export function unavailableReason(a: Config['analysis'], trigger: 'session_complete' | 'on_request'): string | null {
  if (!a.enabled) return 'session analysis is disabled (set ANALYSIS_ENABLED=true)';
  if (!a.apiKey) return 'session analysis has no API key (set ANALYSIS_API_KEY or OPENAI_API_KEY)';
  if (!a.triggers.has(trigger)) return `analysis on ${trigger === 'on_request' ? 'request' : 'session completion'} is turned off (ANALYSIS_TRIGGERS)`;
  return null;
}

interface AnalysisRow {
  id: string;
  session_id: string;
  template: string;
  template_hash: string;
  model: string;
  trigger: string;
  status: 'pending' | 'completed' | 'failed';
  result: unknown;
  error: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  latency_ms: number | null;
  attempts: number;
  created_at: Date | string;
  completed_at: Date | string | null;
}

const COLUMNS = `id::text AS id, session_id, template, template_hash, model, trigger, status, result, error,
  input_tokens, output_tokens, latency_ms, attempts, created_at, completed_at`;

export function toAnalysis(r: AnalysisRow): Analysis {
  return Analysis.parse({
    ...r,
    result: r.result ?? null,
    created_at: new Date(r.created_at).toISOString(),
    completed_at: r.completed_at ? new Date(r.completed_at).toISOString() : null,
  });
}


export async function listAnalyses(ctx: SessionCtx, sessionId: string): Promise<Analysis[]> {
  const rows = await ctx.sql.query<AnalysisRow>(`SELECT ${COLUMNS} FROM analyses WHERE session_id = $1 ORDER BY created_at DESC, id DESC`, [sessionId]);
  return rows.map(toAnalysis);
}

async function latestCompleted(ctx: SessionCtx, sessionId: string, template: string): Promise<Analysis | null> {
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
async function claim(ctx: SessionCtx, config: Config['analysis'], sessionId: string, template: TemplateName, trigger: string): Promise<string | null> {
  const rows = await ctx.sql.query<{ id: string }>(
    `INSERT INTO analyses (session_id, template, template_hash, model, trigger, status, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6)
     ON CONFLICT (session_id, template) WHERE status = 'pending' DO NOTHING
     RETURNING id::text AS id`,
    [sessionId, template, await sha256Hex(config.prompts[template]), config.model, trigger, ctx.now().toISOString()],
  );
  return rows[0]?.id ?? null;
}

/** Call the model for a claimed row and record the outcome. Never touches the session's own data. */
export async function execute(ctx: SessionCtx, config: Config['analysis'], id: string): Promise<Analysis> {
  const [row] = await ctx.sql.query<AnalysisRow>(`SELECT ${COLUMNS} FROM analyses WHERE id = $1::bigint`, [id]);
  if (!row) throw new Error(`analysis ${id} vanished`);
  const template = row.template as TemplateName;
  const started = performance.now();
  try {
    if (!config.apiKey) throw new AnalysisUnavailable('no API key');
    const session = await getDocument(ctx, row.session_id);
    const [errors, previous] = await Promise.all([sessionErrors(ctx, row.session_id), previousAnalyses(ctx, session.student_id, row.session_id)]);
    const { prompt } = buildPrompt(config.prompts[template], { session, errors, previous }, config.maxInputTokens);
    const client = new OpenAI({ apiKey: config.apiKey, baseURL: config.baseURL, timeout: config.timeoutMs, maxRetries: 2 });
    const completion = await client.chat.completions.parse({
      model: config.model,
      messages: [
        { role: 'system', content: SYSTEM_PROMPT },
        { role: 'user', content: prompt },
      ],
      response_format: jsonSchemaResponseFormat(AnalysisOutput, 'session_analysis'),
    });
    const message = completion.choices[0]?.message;
    if (message?.refusal) throw new Error(`the model refused: ${message.refusal}`);
    const result = AnalysisOutput.parse(message?.parsed);
    const latency = Math.round(performance.now() - started);
    const [done] = await ctx.sql.query<AnalysisRow>(
      `WITH upd AS (
         UPDATE analyses SET status = 'completed', result = $2::jsonb, error = NULL, input_tokens = $3, output_tokens = $4,
           latency_ms = $5, attempts = attempts + 1, next_attempt_at = NULL, completed_at = $6, updated_at = $6
         WHERE id = $1::bigint RETURNING *
       ),
       stop_retries AS (
         UPDATE analyses a SET next_attempt_at = NULL FROM upd
         WHERE a.session_id = upd.session_id AND a.template = upd.template AND a.status = 'failed'
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
      [id, JSON.stringify(result), completion.usage?.prompt_tokens ?? null, completion.usage?.completion_tokens ?? null, latency, ctx.now().toISOString(), crypto.randomUUID()],
    );
    return toAnalysis(done as AnalysisRow);
  } catch (err) {
    const attempts = row.attempts + 1;
    const retryIn = attempts < MAX_ATTEMPTS ? BACKOFF_MS[Math.min(attempts - 1, BACKOFF_MS.length - 1)] : undefined;
    const message = redact(describeError(err).message, config.apiKey);
    ctx.log.warn('analysis failed', { analysisId: id, sessionId: row.session_id, attempts, error: message });
    const [failed] = await ctx.sql.query<AnalysisRow>(
      `UPDATE analyses SET status = 'failed', error = $2, attempts = $3, latency_ms = $4,
         next_attempt_at = $5::timestamptz, updated_at = $6
       WHERE id = $1::bigint RETURNING ${COLUMNS}`,
      [
        id,
        message.slice(0, 2000),
        attempts,
        Math.round(performance.now() - started),
        retryIn === undefined ? null : new Date(ctx.now().getTime() + retryIn).toISOString(),
        ctx.now().toISOString(),
      ],
    );
    return toAnalysis(failed as AnalysisRow);
  }
}

/** Keys never reach logs, errors or responses, even when a provider echoes them. */
function redact(message: string, key: string | null): string {
  let out = message.replace(/\b(sk|rk|pk)-[A-Za-z0-9_-]{6,}/g, '[redacted]');
  if (key) out = out.split(key).join('[redacted]');
  return out;
}

async function sessionErrors(ctx: SessionCtx, sessionId: string): Promise<Array<{ at: string; type: string; message: string }>> {
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

async function previousAnalyses(ctx: SessionCtx, studentId: string | null, sessionId: string) {
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
 * POST /api/sessions/{id}/analysis: run now and return the result. Reuses the stored result for
 * the template unless forced; a session still active is refused unless forced.
 */
export async function analyseOnRequest(
  ctx: SessionCtx,
  config: Config['analysis'],
  sessionId: string,
  template: TemplateName,
  force: boolean,
): Promise<{ analysis: Analysis; reused: boolean }> {
  const reason = unavailableReason(config, 'on_request');
  if (reason) throw new AnalysisUnavailable(reason);
  const session = await getDocument(ctx, sessionId).catch((err: unknown) => {
    if (err instanceof DomainError) throw notFound(sessionId);
    throw err;
  });
  if (!force && (session.status === 'active' || session.status === 'waiting')) {
    throw new DomainError('conflict', `session ${sessionId} is still ${session.status}; send {"force": true} to analyse it anyway`);
  }
  if (!force) {
    const stored = await latestCompleted(ctx, sessionId, template);
    if (stored) return { analysis: stored, reused: true };
  }
  const id = await claim(ctx, config, sessionId, template, 'on_request');
  if (!id) throw new DomainError('conflict', `an analysis of session ${sessionId} with template ${template} is already running`);
  return { analysis: await execute(ctx, config, id), reused: false };
}

/** After a session ends (Vapi report, manual end, sweep): analyse once, if configured to. */
export async function analyseOnComplete(deps: Pick<Deps, 'config'>, ctx: SessionCtx, sessionId: string): Promise<Analysis | null> {
  const config = deps.config.analysis;
  if (unavailableReason(config, 'session_complete')) return null;
  if (await latestCompleted(ctx, sessionId, 'session_summary')) return null; // repeated trigger: reuse
  const id = await claim(ctx, config, sessionId, 'session_summary', 'session_complete');
  return id ? execute(ctx, config, id) : null;
}

/**
 * The sweep's share: mark runs that died mid-flight (pending too long) as failed, then retry
 * failed analyses whose backoff has passed, a few per run. Returns how many were retried.
 */
export async function retryFailed(ctx: SessionCtx, config: Config['analysis'], limit = 5): Promise<Analysis[]> {
  if (!config.enabled || !config.apiKey) return [];
  const now = ctx.now().toISOString();
  await ctx.sql.query(
    `UPDATE analyses SET status = 'failed', error = 'interrupted before completion', attempts = attempts + 1,
       next_attempt_at = CASE WHEN attempts + 1 < $2 THEN $1::timestamptz ELSE NULL END, updated_at = $1::timestamptz
     WHERE status = 'pending' AND updated_at < $1::timestamptz - interval '15 minutes'`,
    [now, MAX_ATTEMPTS],
  );
  const due = await ctx.sql.query<{ id: string }>(
    `UPDATE analyses a SET status = 'pending', updated_at = $1::timestamptz
     WHERE a.id IN (
       SELECT f.id FROM analyses f
       WHERE f.status = 'failed' AND f.next_attempt_at IS NOT NULL AND f.next_attempt_at <= $1::timestamptz AND f.attempts < $2
         AND NOT EXISTS (SELECT 1 FROM analyses p WHERE p.session_id = f.session_id AND p.template = f.template AND p.status = 'pending')
       ORDER BY f.next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
     RETURNING a.id::text AS id`,
    [now, MAX_ATTEMPTS, limit],
  ).catch((err: unknown) => {
    if ((err as { code?: string }).code === '23505') return []; // raced with a new run; next sweep
    throw err;
  });
  const out: Analysis[] = [];
  for (const { id } of due) out.push(await execute(ctx, config, id));
  return out;
}
