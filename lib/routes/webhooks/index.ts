import type { Family } from '../../http/env.js';
import { allow } from '../../http/auth.js';
import { limitByIp } from '../../http/ratelimit.js';
import { sessionDataWebhook } from './session-data.js';
import { type OnSessionComplete, vapiWebhook } from './vapi.js';

/**
 * Voice platforms: Vapi's server messages and a generic session-data webhook. `onComplete` runs
 * after the response when a delivery completes a session (analysis hooks in there).
 */
export function webhooksFamily(onComplete?: OnSessionComplete): Family {
  return (app) => {
    const vapi = vapiWebhook(onComplete);
    const limit = limitByIp('webhook-ip', (c) => c.rateLimits.webhookPerIp);
    app.post('/api/webhooks/vapi', limit, vapi);
    app.post('/webhook/vapi/session-complete', limit, vapi);
    app.post('/webhook/vapi', limit, vapi);
    const data = sessionDataWebhook(onComplete);
    const token = allow(['webhook'], 'post session data');
    app.post('/api/webhooks/session-data', limit, token, data);
    app.post('/webhook/session-data', limit, token, data);
  };
}
