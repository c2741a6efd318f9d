import { evaluateCohort, evaluateSessionEnd } from '../alerts/evaluate.js';
import { describeError, type Deps } from '../deps.js';
import type { SessionCtx } from '../sessions/context.js';
import { type SweepResult, sweep } from '../sessions/sweep.js';

/**
 * The analysis runner (prompts, the model client's wiring, the progress report and its schemas) is
 * loaded when a session ends or a sweep follows up, not by every function that could end one: the
 * sessions and webhooks functions answer most requests without it (ADR 0020).
 */
const analysis = () => import('../analysis/run.js');

/**
 * What follows a session's end, whoever ended it (a Vapi report, the API, any sweep): its
 * analysis and the call-error alert.
 */
export function sessionComplete(deps: Deps, ctx: SessionCtx, sessionId: string): Promise<unknown> {
  return Promise.all([analysis().then((a) => a.analyseOnComplete(deps, ctx, sessionId)), evaluateSessionEnd(deps, sessionId)]);
}

/**
 * One sweep, for every trigger (the cron route, a Workers cron trigger, ordinary traffic): end idle
 * sessions, then in `followUp` complete each one this run ended, retry failed analyses and run the
 * cohort's alert pass (stuck students, alert webhooks that failed before). Callers answer with
 * `result` and either await `followUp` or hand it to the platform's background work; it never
 * rejects (failures are logged).
 */
export async function sweepWithFollowUp(deps: Deps, ctx: SessionCtx): Promise<{ result: SweepResult; followUp: Promise<void> }> {
  const result = await sweep(ctx);
  const followUp = Promise.allSettled([
    ...result.ended_ids.map((id) => sessionComplete(deps, ctx, id)),
    analysis().then((a) => a.retryFailed(ctx, deps.config.analysis)),
    evaluateCohort(deps),
  ]).then((outcomes) => {
    for (const o of outcomes) if (o.status === 'rejected') deps.log.error('sweep follow-up failed', { error: describeError(o.reason) });
  });
  return { result, followUp };
}
