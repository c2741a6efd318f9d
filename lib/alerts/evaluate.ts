import type { AlertsConfig, Config } from '../config.js';
import { describeError, type Logger } from '../deps.js';
import type { NewEvent } from '../events/ingest.js';
import type { Kv } from '../storage/kv.js';
import type { Sql } from '../storage/sql.js';
import { callError, errorSpikes, repeatedErrors, stuckStudents } from './rules.js';
import { claimDue, raiseAlerts, recordAttempt } from './store.js';
import { type AlertDraft, type AlertRecord, type AlertSink, DeliveryError } from './types.js';
import { webhookSink } from './webhook.js';

/** What alert evaluation needs (a subset of Deps, so domain code takes no Hono or app types). */
export interface AlertCtx {
  sql: Sql;
  kv: Kv;
  now: () => Date;
  log: Logger;
  config: Pick<Config, 'alerts' | 'sessionTimeoutMs'>;
  /** Override the delivery adapter (tests); default: the webhook of the config, if any. */
  sink?: AlertSink;
}

/** The cohort-wide pass (stuck students, due retries) runs at most once per this period. */
const COHORT_PASS_MS = 60_000;
/** Bounds on what one request can make us look at. */
const MAX_TOKENS = 50;
const MAX_ERROR_TYPES = 20;

/**
 * Alert work runs after responses, so it must be told apart from the request's own statements:
 * each of its statements starts with this comment (visible in pg_stat_statements, slow-query logs
 * and the bench's round-trip count).
 */
export const ALERT_SQL_TAG = '/* alerts */ ';

function tagged(sql: Sql): Sql {
  return {
    driver: sql.driver,
    query: (text, params) => sql.query(ALERT_SQL_TAG + text, params),
    batch: (statements) => sql.batch(statements.map((s) => ({ ...s, text: ALERT_SQL_TAG + s.text }))),
    close: () => sql.close(),
  };
}

/** The context with its SQL tagged; every entry point below starts with it. */
const own = (ctx: AlertCtx): AlertCtx => ({ ...ctx, sql: tagged(ctx.sql) });

function sinkOf(ctx: AlertCtx): AlertSink | undefined {
  if (ctx.sink) return ctx.sink;
  const w = ctx.config.alerts.webhook;
  return w ? webhookSink(w) : undefined;
}

/**
 * Whether evaluateOnIngest has anything to do for these stored events: it has for an error event,
 * and for the first ingest of each minute on this instance (the cohort pass, unless the cron alone
 * runs it: ALERT_PASS_ON_INGEST); for any other
 * ingest it would only find nothing. Lets the ingest route skip scheduling that empty pass.
 */
export function alertsDue(ctx: Pick<AlertCtx, 'kv' | 'now' | 'config'>, events: readonly NewEvent[]): boolean {
  if (!ctx.config.alerts.enabled || events.length === 0) return false;
  return events.some((e) => e.eventType === 'error') || (ctx.config.alerts.passOnIngest && triedSlot.get(ctx.kv) !== cohortSlot(ctx.now()));
}

/**
 * After an ingest response: evaluate the rules the new events can have triggered. Cheap by
 * construction — the repeated-error rule only for the tokens that posted an error, the spike rule
 * only for the error types posted, and the cohort pass (stuck, retries) once a minute per
 * deployment (a KV marker per minute; losing KV only means an extra pass, and the Postgres
 * cooldown still prevents duplicate alerts). Never throws: failures are logged.
 */
export async function evaluateOnIngest(outer: AlertCtx, events: readonly NewEvent[]): Promise<AlertRecord[]> {
  const ctx = own(outer);
  const cfg = ctx.config.alerts;
  if (!cfg.enabled || events.length === 0) return [];
  const now = ctx.now();
  const errors = events.filter((e) => e.eventType === 'error');
  const tokens = await notQuiet(ctx, now, 'repeated_error', [...new Set(errors.map((e) => e.sessionToken))].slice(0, MAX_TOKENS));
  const types = await notQuiet(ctx, now, 'error_spike', [...new Set(errors.map(errorTypeOf))].slice(0, MAX_ERROR_TYPES));
  const drafts: AlertDraft[] = [];
  const tasks: Array<Promise<AlertDraft[]>> = [repeatedErrors(ctx.sql, tokens, now, cfg.repeatedError), errorSpikes(ctx.sql, types, now, cfg.errorSpike)];
  const cohortPass = cfg.passOnIngest && (await claimCohortPass(ctx, now));
  if (cohortPass) tasks.push(stuckStudents(ctx.sql, now, ctx.config.sessionTimeoutMs, cfg.stuck));
  for (const r of await Promise.allSettled(tasks)) {
    if (r.status === 'fulfilled') drafts.push(...r.value);
    else ctx.log.warn('alert rule failed', { error: describeError(r.reason) });
  }
  await quieten(ctx, now, drafts);
  const raised = await raiseAndDeliver(ctx, drafts, now);
  if (cohortPass) await retryDue(ctx);
  return raised;
}

/*
 * The per-token (and per-error-type) throttle. Once a rule has found something for a token, any
 * further find within the same minute could only be held back by the cooldown (at least a minute
 * long in any sane config), so the rule skips that token until the next minute: a page that keeps
 * failing costs one indexed query a minute, not one per request. The marker names its minute, so
 * it works the same whatever clock the KV keeps.
 */
const quietKey = (now: Date, rule: string, id: string) => `alerts:quiet:${rule}:${Math.floor(now.getTime() / COHORT_PASS_MS)}:${id}`;

/** The quiet markers that may name these sessions now (this minute's and the last): erasure drops them. */
export function quietKeys(now: Date, sessionIds: readonly string[]): string[] {
  const before = new Date(now.getTime() - COHORT_PASS_MS);
  return sessionIds.flatMap((id) => [quietKey(now, 'repeated_error', id), quietKey(before, 'repeated_error', id)]);
}

async function notQuiet(ctx: AlertCtx, now: Date, rule: string, ids: readonly string[]): Promise<string[]> {
  const quiet = await Promise.all(ids.map((id) => ctx.kv.get(quietKey(now, rule, id)).catch(() => null)));
  return ids.filter((_, i) => quiet[i] === null);
}

async function quieten(ctx: AlertCtx, now: Date, drafts: readonly AlertDraft[]): Promise<void> {
  const keys = drafts.flatMap((d) =>
    d.rule === 'repeated_error' && d.sessionId ? [quietKey(now, d.rule, d.sessionId)] : d.rule === 'error_spike' ? [quietKey(now, d.rule, d.key)] : [],
  );
  await Promise.all(keys.map((k) => ctx.kv.set(k, '1', { ttlMs: 2 * COHORT_PASS_MS }).catch(() => false)));
}

/** End of a session (Vapi report, manual end, sweep): the call-error rule. Never throws. */
export async function evaluateSessionEnd(outer: AlertCtx, sessionId: string): Promise<AlertRecord[]> {
  const ctx = own(outer);
  const cfg = ctx.config.alerts;
  if (!cfg.enabled) return [];
  try {
    return await raiseAndDeliver(ctx, await callError(ctx.sql, sessionId, cfg.callError), ctx.now());
  } catch (err) {
    ctx.log.warn('call-error alert failed', { error: describeError(err) });
    return [];
  }
}

/** Record what is not cooling down and send it at once. Never throws. */
async function raiseAndDeliver(ctx: AlertCtx, drafts: readonly AlertDraft[], now: Date): Promise<AlertRecord[]> {
  if (drafts.length === 0) return [];
  const sink = sinkOf(ctx);
  try {
    const raised = await raiseAlerts(ctx.sql, drafts, now, ctx.config.alerts.cooldownMs, sink !== undefined);
    if (sink) await Promise.all(raised.map((a) => attempt(ctx, sink, a)));
    return raised;
  } catch (err) {
    ctx.log.warn('alerts not recorded', { error: describeError(err) });
    return [];
  }
}

/**
 * The cohort-wide pass on its own (the cron sweep): stuck students — unless a pass already ran this
 * minute — then the retries that are due (always: the sweep is rare). Never throws.
 */
export async function evaluateCohort(outer: AlertCtx): Promise<AlertRecord[]> {
  const ctx = own(outer);
  const cfg = ctx.config.alerts;
  if (!cfg.enabled) return [];
  const now = ctx.now();
  let raised: AlertRecord[] = [];
  if (await claimCohortPass(ctx, now)) {
    try {
      raised = await raiseAndDeliver(ctx, await stuckStudents(ctx.sql, now, ctx.config.sessionTimeoutMs, cfg.stuck), now);
    } catch (err) {
      ctx.log.warn('alert rule failed', { error: describeError(err) });
    }
  }
  await retryDue(ctx);
  return raised;
}

/** Retry the deliveries that are due (they ride on evaluations and the sweep: there is no frequent cron). */
export function deliverDue(ctx: AlertCtx): Promise<number> {
  return retryDue(own(ctx));
}

async function retryDue(ctx: AlertCtx): Promise<number> {
  const sink = sinkOf(ctx);
  if (!sink) return 0;
  try {
    const due = await claimDue(ctx.sql, ctx.now());
    await Promise.all(due.map((a) => attempt(ctx, sink, a)));
    return due.length;
  } catch (err) {
    ctx.log.warn('alert retries failed', { error: describeError(err) });
    return 0;
  }
}

async function attempt(ctx: AlertCtx, sink: AlertSink, alert: AlertRecord): Promise<void> {
  let outcome: { ok: true } | { ok: false; reason: string };
  try {
    await sink.send(alert);
    outcome = { ok: true };
  } catch (err) {
    // Only the safe reason is kept: an arbitrary error message could carry the webhook URL.
    outcome = { ok: false, reason: err instanceof DeliveryError ? err.reason : 'delivery error' };
    ctx.log.warn('alert delivery failed', { alertId: alert.id, rule: alert.rule, reason: outcome.reason, attempt: alert.delivery.attempts + 1 });
  }
  await recordAttempt(ctx.sql, alert, ctx.now(), outcome, ctx.config.alerts.maxAttempts).catch((err: unknown) =>
    ctx.log.warn('alert delivery not recorded', { alertId: alert.id, error: describeError(err) }),
  );
}

/** The last minute slot this instance asked KV about, per KV: one KV request a minute, not one per ingest. */
const triedSlot = new WeakMap<Kv, number>();

const cohortSlot = (now: Date) => Math.floor(now.getTime() / COHORT_PASS_MS);

async function claimCohortPass(ctx: AlertCtx, now: Date): Promise<boolean> {
  const slot = cohortSlot(now);
  if (triedSlot.get(ctx.kv) === slot) return false;
  triedSlot.set(ctx.kv, slot);
  // KV down: run the pass anyway; the cooldown keeps alerts single.
  return ctx.kv.set(`alerts:pass:${slot}`, '1', { nx: true, ttlMs: 2 * COHORT_PASS_MS }).catch(() => true);
}

function errorTypeOf(e: NewEvent): string {
  try {
    const t = (JSON.parse(e.eventData) as { errorType?: unknown }).errorType;
    return typeof t === 'string' && t !== '' ? t.slice(0, 200) : '(unspecified)';
  } catch {
    return '(unspecified)';
  }
}

export type { AlertsConfig };
