import type { Context } from 'hono';
import { callAdapters } from '../../calls/adapters.js';
import { ApiError } from '../../errors.js';
import { ByteBudget, readText, readTextWithin } from '../../http/body.js';
import type { AppEnv } from '../../http/env.js';
import { authenticate, deliver, type OnSessionComplete, parseDelivery, parseJson } from './deliver.js';

export type { OnSessionComplete };

let warnedUnauthenticated = false;

/**
 * Per process (isolate): bytes of HMAC-signed bodies read before their signature is checked. A
 * flood of large posts with forged signatures waits on nothing and buffers at most this.
 */
const unverified = new Map<number, ByteBudget>();
const budgetOf = (limit: number) => {
  const known = unverified.get(limit);
  if (known) return known;
  const b = new ByteBudget(limit);
  unverified.set(limit, b);
  return b;
};

/**
 * POST /api/webhooks/vapi (also /webhook/vapi/session-complete): every Vapi server message.
 * Authenticated (secret, bearer or HMAC over the raw body), parsed leniently, folded into the
 * session, acknowledged fast; end-of-session work is deferred past the response.
 */
export function vapiWebhook(onComplete?: OnSessionComplete) {
  return async (c: Context<AppEnv>): Promise<Response> => {
    const deps = c.get('deps');
    if (!deps.config.vapiEnabled) throw new ApiError('NOT_FOUND', 'the Vapi webhook is disabled on this server (webhooks.vapi.enabled / VAPI_WEBHOOK_ENABLED)');
    const vapi = callAdapters.vapi;
    // Header credentials first: a request without a usable one is refused before its body is read.
    const first = await vapi.checkHeaders?.(c.req.raw.headers, deps.config, deps.now());
    if (first && first.ok === false) throw new ApiError('UNAUTHORIZED', first.reason, { headers: { 'www-authenticate': 'Bearer' } });
    let raw: string;
    let auth: Awaited<ReturnType<typeof authenticate>>;
    if (first && first.ok !== 'needs-body') {
      raw = await readText(c.req.raw, deps.config.webhookMaxBytes);
      auth = first;
    } else {
      // A signature needs the body: read it within the budget of unverified bytes, verify, release.
      const budget = budgetOf(deps.config.vapi.unverifiedBudgetBytes);
      const read = await readTextWithin(c.req.raw, deps.config.webhookMaxBytes, budget);
      try {
        raw = read.text;
        auth = await authenticate(c, vapi, raw);
      } finally {
        budget.give(read.taken);
      }
    }
    if (auth.via === 'unconfigured' && !warnedUnauthenticated) {
      warnedUnauthenticated = true;
      deps.log.warn('accepting unauthenticated Vapi webhooks (local mode, no VAPI_WEBHOOK_SECRET / VAPI_HMAC_SECRET)');
    }
    const delivery = await parseDelivery(vapi, parseJson(raw), deps.now());
    const outcome = await deliver(c, vapi, delivery, raw, onComplete);
    // Vapi reads the answer of tool calls; everything else is acknowledged with `{}`.
    return c.json((outcome.answer ?? {}) as Record<string, unknown>);
  };
}
