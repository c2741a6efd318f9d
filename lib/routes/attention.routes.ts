import { defineRoute } from '../http/route.js';
import { AlertList, AlertsQuery } from '../schemas/alerts.js';
import { AttentionQuery, AttentionResponse } from '../schemas/attention.js';

const tag = 'attention';

export const getAttentionRoute = defineRoute({
  method: 'get', path: '/api/attention', summary: 'Who needs help right now: students in active workshop sessions ranked by need, cohort steps, top errors', tag,
  auth: 'reader', query: AttentionQuery, ok: { 200: AttentionResponse },
  description: 'The score is documented in the README ("Who needs help"). `since` defaults to 12 hours back and may reach 7 days.',
});
export const getAlertsRoute = defineRoute({
  method: 'get', path: '/api/alerts', summary: 'Alerts the rules raised, newest first, with their delivery state', tag,
  auth: 'reader', query: AlertsQuery, ok: { 200: AlertList },
});

export const attentionRoutes = [getAttentionRoute, getAlertsRoute];
