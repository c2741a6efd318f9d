import { defineRoute } from '../http/route.js';
import { AlertList, AlertsQuery } from '../schemas/alerts.js';
import { AttentionQuery, AttentionResponse, HelpedAnswer, HelpedInput } from '../schemas/attention.js';
import { SessionPath } from '../schemas/params.js';

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

// Instructors mark students they went to: it adds a line to the session's timeline and changes
// nothing else (as "run analysis" adds an analysis), so the reader tokens may. The action is named:
// the default, 'read', would refuse a service token's mark as "may not read" and audit a mark as a read.
export const postHelpedRoute = defineRoute({
  method: 'post', path: '/api/attention/{id}/helped', summary: 'Mark a student helped: the Now view lists them again only for what happens after', tag,
  auth: 'reader', action: 'mark students helped', params: SessionPath, body: { schema: HelpedInput, required: false }, ok: { 200: HelpedAnswer }, errors: [404, 409],
  description:
    'Writes `attention_helped` ({by, note}) into the workshop session\'s timeline. GET /api/attention then leaves out reasons whose evidence is all from before the mark: ' +
    'a new error or failed call lists the student again, and being stuck on the same step needs another full threshold counted from the mark. ' +
    'Students marked in the last 30 minutes and not listed since are in the answer\'s `helped`. 404: no such session; 409: not a workshop page\'s session.',
});
export const deleteHelpedRoute = defineRoute({
  method: 'delete', path: '/api/attention/{id}/helped', summary: 'Undo a helped mark (a mark made by mistake)', tag,
  auth: 'reader', action: 'mark students helped', params: SessionPath, ok: { 200: HelpedAnswer }, errors: [404, 409],
  description: 'Writes `attention_help_undone`: the earlier evidence counts again.',
});

export const attentionRoutes = [getAttentionRoute, getAlertsRoute, getAttentionStreamRoute, postHelpedRoute, deleteHelpedRoute];
