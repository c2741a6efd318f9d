import type { Family } from '../../http/env.js';
import { register } from '../../http/register.js';
import { sessionDataLegacyRoute, sessionDataRoute, vapiLegacyRoute, vapiRoute, vapiSessionCompleteRoute } from './routes.js';
import { sessionDataWebhook } from './session-data.js';
import { type OnSessionComplete, vapiWebhook } from './vapi.js';

/**
 * Voice platforms: Vapi's server messages and a generic session-data webhook. `onComplete` runs
 * after the response when a delivery completes a session (analysis hooks in there).
 */
export function webhooksFamily(onComplete?: OnSessionComplete): Family {
  return (app) => {
    const vapi = vapiWebhook(onComplete);
    register(app, vapiRoute, vapi);
    register(app, vapiSessionCompleteRoute, vapi);
    register(app, vapiLegacyRoute, vapi);
    const data = sessionDataWebhook(onComplete);
    register(app, sessionDataRoute, data);
    register(app, sessionDataLegacyRoute, data);
  };
}
