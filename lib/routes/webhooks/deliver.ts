import type { Context } from 'hono';
import { receiveCall, type CallOutcome } from '../../calls/receive.js';
import type { CallAdapter, CallDelivery } from '../../calls/types.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { runInBackground } from '../../http/background.js';
import type { AppEnv } from '../../http/env.js';
import { auditRefusal } from '../../http/auth.js';
import { chargeAuthFailure, refuseAfterAuthFailures } from '../../http/ratelimit.js';
import { sessionCtx } from '../sessions/shared.js';

/** Hook for end-of-session work (the analysis issue plugs in here); runs after the response. */
export type OnSessionComplete = (deps: Deps, sessionId: string) => Promise<unknown>;

/**
 * HTTP translation shared by the voice-platform webhooks: a refused credential is a 401, a body
 * that is not JSON or not the platform's shape a 400; the rest is lib/calls. Refused credentials
 * count against the client address like unknown bearer tokens do (lib/http/ratelimit.ts).
 */
export async function authenticate(c: Context<AppEnv>, adapter: CallAdapter, raw: string) {
  const deps = c.get('deps');
  await refuseAfterAuthFailures(c);
  const auth = await adapter.authenticate({ headers: c.req.raw.headers, rawBody: raw, method: c.req.method, url: c.req.url }, deps.config, deps.now());
  if (!auth.ok) return refuseCredentials(c, adapter, auth.reason);
  return auth;
}

/**
 * A refused credential, wherever it was judged (headers before the body, or with it): charged to
 * the address's failure budget and audited like a bearer route, then a 401.
 */
export async function refuseCredentials(c: Context<AppEnv>, adapter: Pick<CallAdapter, 'name'>, reason: string): Promise<never> {
  await auditRefusal(c, `deliver a ${adapter.name} webhook`, () => chargeAuthFailure(c, reason));
  throw new ApiError('UNAUTHORIZED', reason, { headers: { 'www-authenticate': 'Bearer' } });
}

export { refuseAfterAuthFailures };

export function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new ApiError('BAD_REQUEST', `body is not valid JSON: ${err instanceof Error ? err.message : 'parse error'}`);
  }
}

export async function parseDelivery(adapter: CallAdapter, json: unknown, now: Date): Promise<CallDelivery> {
  const parsed = await adapter.parse(json, now);
  if (!parsed.ok) throw new ApiError('BAD_REQUEST', parsed.detail, { errors: parsed.errors });
  return parsed.delivery;
}

/** Fold the delivery into its session; a delivery that completed one defers end-of-session work. */
export async function deliver(c: Context<AppEnv>, adapter: CallAdapter, delivery: CallDelivery, raw: string, onComplete?: OnSessionComplete): Promise<CallOutcome> {
  const deps = c.get('deps');
  const outcome = await receiveCall(sessionCtx(deps), adapter, delivery, {
    rawBody: raw,
    config: deps.config,
    log: deps.log,
    matchWindowMs: deps.config.vapi.matchWindowMs,
  });
  const completed = outcome.completedSessionId;
  if (completed && onComplete) runInBackground(c, 'end-of-session work', () => onComplete(deps, completed), { sessionId: completed });
  return outcome;
}
