import type { Context } from 'hono';
import type { AppEnv } from '../../http/env.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { readText } from '../../http/body.js';
import { runInBackground } from '../../http/background.js';
import { issuesToErrors } from '../../schemas/common.js';
import { stableUuid } from '../../util/stable-uuid.js';
import { verifyVapi } from '../../vapi/auth.js';
import { handleVapiMessage, type VapiOutcome } from '../../vapi/handle.js';
import { baseType, VapiEnvelope } from '../../vapi/message.js';
import { sessionCtx } from '../sessions/shared.js';

/** Hook for end-of-session work (the analysis issue plugs in here); runs after the response. */
export type OnSessionComplete = (deps: Deps, sessionId: string) => Promise<unknown>;

const DEDUPE_TTL_MS = 24 * 60 * 60_000;
let warnedUnauthenticated = false;

/**
 * POST /api/webhooks/vapi (also /webhook/vapi/session-complete): every Vapi server message.
 * Authenticated (secret, bearer or HMAC over the raw body), parsed leniently, folded into the
 * session, acknowledged fast; end-of-session work is deferred past the response.
 */
export function vapiWebhook(onComplete?: OnSessionComplete) {
  return async (c: Context<AppEnv>): Promise<Response> => {
    const deps = c.get('deps');
    if (!deps.config.vapiEnabled) throw new ApiError('NOT_FOUND', 'the Vapi webhook is disabled on this server (webhooks.vapi.enabled / VAPI_WEBHOOK_ENABLED)');
    const raw = await readText(c.req.raw, deps.config.webhookMaxBytes);
    const auth = await verifyVapi(c.req.raw.headers, raw, deps.config, deps.now());
    if (!auth.ok) throw new ApiError('UNAUTHORIZED', auth.reason, { headers: { 'www-authenticate': 'Bearer' } });
    if (auth.via === 'unconfigured' && !warnedUnauthenticated) {
      warnedUnauthenticated = true;
      deps.log.warn('accepting unauthenticated Vapi webhooks (local mode, no VAPI_WEBHOOK_SECRET / VAPI_HMAC_SECRET)');
    }
    const outcome = await processVapiBody(deps, raw);
    const completed = outcome.completedSessionId;
    if (completed && onComplete) runInBackground(c, 'end-of-session work', () => onComplete(deps, completed), { sessionId: completed });
    return c.json(outcome.body as Record<string, unknown>);
  };
}

/** Parse and handle a Vapi body (shared with the generic session-data webhook). */
export async function processVapiBody(deps: Deps, raw: string): Promise<VapiOutcome> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new ApiError('BAD_REQUEST', `body is not valid JSON: ${err instanceof Error ? err.message : 'parse error'}`);
  }
  const parsed = VapiEnvelope.safeParse(json);
  if (!parsed.success) {
    const errors = issuesToErrors(parsed.error.issues);
    throw new ApiError('BAD_REQUEST', `not a Vapi server message: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, { errors });
  }
  const m = parsed.data.message;
  const ctx = sessionCtx(deps);
  const callId = m.call?.id;
  // A byte-identical redelivery is skipped cheaply; correctness does not depend on it (events
  // have deterministic ids), so losing KV only costs the repeated work. Tool calls always run:
  // Vapi needs their results in the answer.
  const type = baseType(m.type);
  let dedupeKey: string | undefined;
  if (callId && type !== 'tool-calls' && type !== 'function-call') {
    dedupeKey = `vapi:seen:${callId}:${await stableUuid(raw)}`;
    const fresh = await ctx.kv.set(dedupeKey, '1', { nx: true, ttlMs: DEDUPE_TTL_MS }).catch(() => true);
    if (!fresh) return { body: {} };
  }
  try {
    return await handleVapiMessage(ctx, { matchWindowMs: deps.config.vapi.matchWindowMs, toolServer: deps.config.toolServer }, m, raw);
  } catch (err) {
    // Not stored: forget the dedupe mark so a retry is processed.
    if (dedupeKey) await ctx.kv.del(dedupeKey).catch(() => 0);
    throw err;
  }
}
