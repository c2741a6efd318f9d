import type { Config } from '../config.js';
import type { Deps } from '../deps.js';
import { describeError } from '../deps.js';
import type { SessionCtx } from '../sessions/context.js';
import { DomainError, notFound } from '../sessions/errors.js';
import { getDocument } from '../sessions/read.js';
import { askModel } from './model.js';
import { DEFERRED_REASON, dayTotals, nextUtcDay, OUTPUT_ALLOWANCE, reserve, settle, utcDay } from './budget.js';
import { buildPrompt, estimateTokens, SYSTEM_PROMPT } from './prompt.js';
import { studentProgress } from '../progress/build.js';
import type { Analysis } from './schema.js';
import { claim, claimDueRetries, completeRun, deferRun, failRun, latestCompleted, loadRun, previousAnalyses, sessionErrors } from './store.js';
import { identifyFromName } from '../calls/identify.js';
import { settleUnknownCall } from '../calls/link.js';
import type { TemplateName } from './templates.js';

/**
 * When session analysis runs and what happens when it fails: the triggers, the retry policy and
 * the redaction of error messages. The SQL is in store.ts, the model call in model.ts.
 */

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

/** Call the model for a claimed row and record the outcome. Never touches the session's own data. */
export async function execute(ctx: SessionCtx, config: Config['analysis'], id: string): Promise<Analysis> {
  const row = await loadRun(ctx, id);
  if (!row) throw new Error(`analysis ${id} vanished`);
  const template = row.template as TemplateName;
  const started = performance.now();
  let reserved = false;
  try {
    const apiKey = config.apiKey;
    if (!apiKey) throw new AnalysisUnavailable('no API key');
    const session = await getDocument(ctx, row.session_id);
    const known = session.student_id && session.student_id !== 'unknown' ? session.student_id : null;
    const [errors, previous, progress] = await Promise.all([
      sessionErrors(ctx, row.session_id),
      previousAnalyses(ctx, session.student_id, row.session_id),
      // What came before this session only: its own numbers are in the prompt already.
      known ? studentProgress(ctx, known, { before: new Date(session.start_time), exclude: row.session_id }) : null,
    ]);
    const { prompt } = buildPrompt(config.prompts[template], { session, errors, previous, progress }, config.maxInputTokens);
    const parked = await reserveTokens(ctx, config, id, prompt);
    if (parked) return parked;
    reserved = true;
    const answer = await askModel({ ...config, apiKey }, prompt);
    reserved = false;
    await settle(ctx, id, {
      // A provider that reports no usage is charged the estimate: the budget is a ceiling.
      inputTokens: answer.inputTokens ?? estimateTokens(SYSTEM_PROMPT + prompt),
      outputTokens: answer.outputTokens ?? (answer.inputTokens === null ? OUTPUT_ALLOWANCE : 0),
    });
    const done = await completeRun(ctx, id, { ...answer, latencyMs: Math.round(performance.now() - started) });
    if (answer.result.student_name && session.student_id === 'unknown') {
      // A call nobody identified: the name the model heard counts under the transcript rule
      // (exactly one student assigns it, several are suggested). Never overrides a known student.
      const found = await identifyFromName(ctx.sql, answer.result.student_name);
      await settleUnknownCall(ctx, row.session_id, found, 'analysis').catch((e: unknown) =>
        ctx.log.warn('analysis identification failed', { sessionId: row.session_id, error: describeError(e).message }),
      );
    }
    return done;
  } catch (err) {
    if (reserved) await settle(ctx, id, null).catch((e: unknown) => ctx.log.warn('token reservation not released', { analysisId: id, error: describeError(e).message }));
    const attempts = row.attempts + 1;
    const retryIn = attempts < MAX_ATTEMPTS ? BACKOFF_MS[Math.min(attempts - 1, BACKOFF_MS.length - 1)] : undefined;
    const message = redact(describeError(err).message, config.apiKey);
    ctx.log.warn('analysis failed', { analysisId: id, sessionId: row.session_id, attempts, error: message });
    return failRun(ctx, id, {
      error: message,
      attempts,
      latencyMs: Math.round(performance.now() - started),
      retryAt: retryIn === undefined ? null : new Date(ctx.now().getTime() + retryIn),
    });
  }
}

/**
 * Take this run's token reservation (budget.ts). Null when it may call the model; otherwise the
 * run as parked: deferred to the next UTC day when the day's budget is spent, or failed for good
 * when its estimate alone exceeds a whole day's budget (it could never run).
 */
async function reserveTokens(ctx: SessionCtx, config: Config['analysis'], id: string, prompt: string): Promise<Analysis | null> {
  const now = ctx.now();
  const day = utcDay(now);
  const estimate = estimateTokens(SYSTEM_PROMPT + prompt) + OUTPUT_ALLOWANCE;
  const budget = config.dailyTokenBudget;
  if (budget !== null && estimate > budget) {
    return failRun(ctx, id, {
      error: `this analysis needs about ${estimate} tokens, more than the whole daily token budget (ANALYSIS_DAILY_TOKEN_BUDGET=${budget}); raise the budget or lower ANALYSIS_MAX_INPUT_TOKENS`,
      attempts: MAX_ATTEMPTS,
      latencyMs: 0,
      retryAt: null,
    });
  }
  if (await reserve(ctx, id, day, estimate, budget)) return null;
  const { used, reserved } = await dayTotals(ctx, day);
  const retryAt = nextUtcDay(now);
  ctx.log.info('analysis deferred: daily token budget reached', { analysisId: id, day, used, reserved, budget });
  return deferRun(
    ctx,
    id,
    `${DEFERRED_REASON}: ${used} of ${budget} tokens used on ${day}${reserved ? ` (${reserved} reserved by running analyses)` : ''}; it runs after ${retryAt.toISOString()}`,
    retryAt,
    day,
  );
}

/** Keys never reach logs, errors or responses, even when a provider echoes them. */
function redact(message: string, key: string | null): string {
  let out = message.replace(/\b(sk|rk|pk)-[A-Za-z0-9_-]{6,}/g, '[redacted]');
  if (key) out = out.split(key).join('[redacted]');
  return out;
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
  if (!force && (session.status === 'active' || session.status === 'waiting' || session.status === 'paused')) {
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
  // A repeated trigger reuses the analysis, unless the session went on after it: a page that came
  // back after the idle sweep ended it, a call the sweep ended while it went on.
  const stored = await latestCompleted(ctx, sessionId, 'session_summary');
  if (stored && !(await changedSince(ctx, sessionId, stored.created_at))) return null;
  const id = await claim(ctx, config, sessionId, 'session_summary', 'session_complete');
  return id ? execute(ctx, config, id) : null;
}

/** Whether the session had activity after `since` (both on the app's clock). */
async function changedSince(ctx: SessionCtx, sessionId: string, since: string): Promise<boolean> {
  const rows = await ctx.sql.query<{ changed: boolean }>(
    'SELECT last_activity_at > $2::timestamptz AS changed FROM sessions WHERE id = $1',
    [sessionId, since],
  );
  return rows[0]?.changed === true;
}

/**
 * The sweep's share: mark runs that died mid-flight (pending too long) as failed, then retry
 * failed analyses whose backoff has passed, a few per run. Returns the retried runs.
 */
export async function retryFailed(ctx: SessionCtx, config: Config['analysis'], limit = 5): Promise<Analysis[]> {
  if (!config.enabled || !config.apiKey) return [];
  const out: Analysis[] = [];
  for (const id of await claimDueRetries(ctx, MAX_ATTEMPTS, limit)) out.push(await execute(ctx, config, id));
  return out;
}
