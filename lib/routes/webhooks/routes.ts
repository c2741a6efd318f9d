import { defineRoute } from '../../http/route.js';
import { SessionDataInput, SessionDataResponse, VapiAnswer } from '../../schemas/session-data.js';
import { VapiEnvelope } from '../../calls/vapi/message.js';

const tag = 'webhooks';

const vapi = {
  method: 'post', summary: 'Vapi server messages', tag, auth: 'vapi', rateLimit: 'webhook-ip',
  body: { schema: VapiEnvelope }, ok: { 200: VapiAnswer }, errors: [401, 404, 503],
  description:
    'Authenticated with VAPI_WEBHOOK_SECRET (X-Vapi-Secret or a Bearer credential) or an HMAC over `{timestamp}.{body}`, checked before the body is read; ' +
    'answers what Vapi reads (tool results, assistant and destination requests, relayed from VAPI_UPSTREAM_URL when set); 404 when the webhook is disabled; ' +
    '503 when too many signed bodies await verification, and to a voice-request no upstream answered (Vapi wants audio, not JSON).',
} as const;
export const vapiRoute = defineRoute({ ...vapi, path: '/api/webhooks/vapi' });
/** Where older Vapi assistants were pointed: kept so their deliveries still land. */
export const vapiLegacyRoute = defineRoute({ ...vapi, path: '/webhook/vapi', deprecated: true, summary: 'Vapi server messages (alias of /api/webhooks/vapi)' });
export const vapiSessionCompleteRoute = defineRoute({
  ...vapi, path: '/webhook/vapi/session-complete', deprecated: true, summary: 'Vapi server messages (alias of /api/webhooks/vapi)',
});

const sessionData = {
  method: 'post', summary: 'A session from another voice platform', tag, auth: 'webhook', rateLimit: 'webhook-ip',
  body: { schema: SessionDataInput }, ok: { 200: SessionDataResponse }, errors: [503],
  description: 'A body carrying a Vapi `message` is handled exactly as the Vapi webhook would.',
} as const;
export const sessionDataRoute = defineRoute({ ...sessionData, path: '/api/webhooks/session-data' });
export const sessionDataLegacyRoute = defineRoute({
  ...sessionData, path: '/webhook/session-data', deprecated: true, summary: 'A session from another voice platform (alias of /api/webhooks/session-data)',
});

export const webhooksRoutes = [vapiRoute, vapiSessionCompleteRoute, vapiLegacyRoute, sessionDataRoute, sessionDataLegacyRoute];
