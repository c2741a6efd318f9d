import * as z from '../../util/zod.js';
import { defineRoute } from '../../http/route.js';
import { BatchEnvelope, BatchIngestResponse, EventInput, EventListResponse, EventQuery, LogStatsResponse, SingleIngestResponse, StatsQuery } from '../../schemas/event.js';

const tag = 'events';

export const postSessionLogRoute = defineRoute({
  method: 'post', path: '/api/session-log', summary: 'Log one workshop event or a batch of up to 500', tag, auth: 'public', rateLimit: 'ingest-ip',
  description:
    'Public: workshop pages post from browsers, also as text/plain beacons. Also limited per session token (bucket ingest-token). ' +
    'Events into a session the page did not open (a tool-call sitting, an explicit session, a voice call) need that session\'s `writeToken` ' +
    '(POST /api/sessions/{id}/write-token): 403 without it.',
  body: { schema: z.union([EventInput, BatchEnvelope]), media: ['application/json', 'text/plain'] },
  ok: { 200: z.union([SingleIngestResponse, BatchIngestResponse]), 207: BatchIngestResponse }, errors: [503],
});
export const getSessionLogRoute = defineRoute({
  method: 'get', path: '/api/session-log', summary: 'Query or export events (json, csv, ndjson)', tag, auth: 'reader',
  query: EventQuery, ok: { 200: EventListResponse }, media: ['text/csv', 'application/x-ndjson'], errors: [503],
});
export const getLogStatsRoute = defineRoute({
  method: 'get', path: '/api/session-log/stats', summary: 'Counts by type, top error types, students with errors', tag, auth: 'reader',
  query: StatsQuery, ok: { 200: LogStatsResponse },
});

export const sessionLogRoutes = [postSessionLogRoute, getSessionLogRoute, getLogStatsRoute];
