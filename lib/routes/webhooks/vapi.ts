import type { Context } from 'hono';
import { callAdapters } from '../../calls/adapters.js';
import { ApiError } from '../../errors.js';
import { readText } from '../../http/body.js';
import type { AppEnv } from '../../http/env.js';
import { authenticate, deliver, type OnSessionComplete, parseDelivery, parseJson } from './deliver.js';

export type { OnSessionComplete };

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
    const vapi = callAdapters.vapi;
    const raw = await readText(c.req.raw, deps.config.webhookMaxBytes);
    const auth = await authenticate(c, vapi, raw);
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
