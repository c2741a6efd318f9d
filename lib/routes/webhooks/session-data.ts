import type { Context } from 'hono';
import { callAdapters } from '../../calls/adapters.js';
import { readText } from '../../http/body.js';
import type { AppEnv } from '../../http/env.js';
import { authenticate, deliver, type OnSessionComplete, parseDelivery, parseJson } from './deliver.js';

export { SessionDataInput } from '../../schemas/session-data.js';

/**
 * POST /api/webhooks/session-data (also /webhook/session-data): a finished (or ongoing) session
 * from any voice platform, matched like a Vapi call. A body carrying a Vapi `message` is handled
 * exactly as the Vapi webhook would (behind this webhook's token, not Vapi's credentials).
 */
export function sessionDataWebhook(onComplete?: OnSessionComplete) {
  return async (c: Context<AppEnv>): Promise<Response> => {
    const deps = c.get('deps');
    const raw = await readText(c.req.raw, deps.config.webhookMaxBytes);
    await authenticate(c, callAdapters['session-data'], raw);
    const json = parseJson(raw);
    const vapiBody = json !== null && typeof json === 'object' && 'message' in json;
    const format = vapiBody ? callAdapters.vapi : callAdapters['session-data'];
    const outcome = await deliver(c, format, await parseDelivery(format, json, deps.now()), raw, onComplete);
    const sessionId = outcome.linked?.sessionId ?? null;
    if (vapiBody) return c.json({ success: true, session_id: sessionId, ...((outcome.answer ?? {}) as Record<string, unknown>) });
    return c.json({ success: true, session_id: sessionId, is_new_session: outcome.linked?.created, matched_by: outcome.linked?.via });
  };
}
