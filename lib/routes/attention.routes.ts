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

export const getAttentionStreamRoute = defineRoute({
  method: 'get', path: '/api/attention/stream', summary: 'Who needs help, pushed as Server-Sent Events (the Now view)', tag,
  auth: 'reader', query: AttentionQuery, ok: { 200: AttentionResponse }, media: ['text/event-stream'],
  description:
    '`event: attention` with the GET /api/attention document whenever the workshop\'s events move (at most every 2 s) or the document changes (re-read every 15 s); ' +
    '`id:` is the newest event id seen; `: ping` every 15 s. Every message is the whole state, so a reconnect needs no Last-Event-ID.',
});

export const attentionRoutes = [getAttentionRoute, getAlertsRoute, getAttentionStreamRoute];
