import * as z from '../../util/zod.js';
import { defineRoute } from '../../http/route.js';
import { StoredEvent } from '../../schemas/event.js';
import { SessionPath } from '../../schemas/params.js';
import { SessionStreamQuery, StreamTokenResponse } from '../../schemas/stream.js';
import * as R from '../../schemas/session-responses.js';
import {
  ActiveSessionsQuery,
  AssignInput,
  CloseInput,
  CreateSessionInput,
  GlobalStats,
  InteractionInput,
  JoinInput,
  PhaseInput,
  SessionDocument,
  SessionListQuery,
  SessionStats,
  SummaryInput,
  TimelineQuery,
  TranscriptBatchInput,
  TranscriptEntryInput,
} from '../../schemas/session.js';

const tag = 'sessions';

export const postInteractionRoute = defineRoute({
  method: 'post', path: '/api/sessions/interactions', summary: "Record a tool-call interaction in the student's current sitting", tag,
  auth: 'writer', body: { schema: InteractionInput }, ok: { 200: R.InteractionResponse },
});
export const postCloseRoute = defineRoute({
  method: 'post', path: '/api/sessions/close', summary: "End a session by id or the student's open session", tag,
  auth: 'writer', body: { schema: CloseInput }, ok: { 200: R.EndResponse }, errors: [404],
});
export const getActiveRoute = defineRoute({
  method: 'get', path: '/api/sessions/active', summary: 'Open sessions', tag, auth: 'reader', query: ActiveSessionsQuery, ok: { 200: R.ActiveSessions },
});
export const getWaitingRoute = defineRoute({
  method: 'get', path: '/api/sessions/waiting', summary: 'The oldest session waiting for a participant', tag, auth: 'writer', ok: { 200: SessionDocument }, errors: [404],
});
export const postSessionRoute = defineRoute({
  method: 'post', path: '/api/sessions', summary: 'Create an explicit session', tag, auth: 'writer', body: { schema: CreateSessionInput }, ok: { 201: R.CreatedSession }, errors: [409],
});
export const getSessionsRoute = defineRoute({
  method: 'get', path: '/api/sessions', summary: 'Session history, newest first', tag, auth: 'reader', query: SessionListQuery, ok: { 200: R.SessionPage },
});
export const getStatsRoute = defineRoute({ method: 'get', path: '/api/stats', summary: 'Overall counts', tag, auth: 'reader', ok: { 200: GlobalStats } });

const one = { tag, params: SessionPath, errors: [404] } as const;
export const getSessionRoute = defineRoute({ method: 'get', path: '/api/sessions/{id}', summary: 'The whole session document', auth: 'reader', ok: { 200: SessionDocument }, ...one });
export const getTranscriptRoute = defineRoute({ method: 'get', path: '/api/sessions/{id}/transcript', summary: 'The conversation', auth: 'reader', ok: { 200: R.TranscriptResponse }, ...one });
export const getTimelineRoute = defineRoute({
  method: 'get', path: '/api/sessions/{id}/events', summary: 'The timeline (cursor paging, or live tail with after_seq)', auth: 'reader', query: TimelineQuery, ok: { 200: R.Timeline }, ...one,
});
export const getSummaryRoute = defineRoute({ method: 'get', path: '/api/sessions/{id}/summary', summary: 'Counts for the session', auth: 'reader', ok: { 200: SessionStats }, ...one });
export const postJoinRoute = defineRoute({
  method: 'post', path: '/api/sessions/{id}/join', summary: 'Join as the next participant', auth: 'writer', body: { schema: JoinInput }, ok: { 200: R.JoinResponse }, ...one, errors: [404, 409],
});
export const postTranscriptRoute = defineRoute({
  method: 'post', path: '/api/sessions/{id}/transcript', summary: 'Append transcript entries (one, or `{"entries":[...]}`)', auth: 'writer',
  body: { schema: z.union([TranscriptEntryInput, TranscriptBatchInput]) }, ok: { 201: R.TranscriptAppended }, ...one, errors: [404, 409],
});
export const postPhaseRoute = defineRoute({
  method: 'post', path: '/api/sessions/{id}/phase', summary: 'Change phase', auth: 'writer', body: { schema: PhaseInput }, ok: { 200: R.PhaseResponse }, ...one, errors: [404, 409],
});
export const putSummaryRoute = defineRoute({
  method: 'put', path: '/api/sessions/{id}/summary', summary: 'Set the summary', auth: 'writer', body: { schema: SummaryInput }, ok: { 200: R.SummaryResponse }, ...one, errors: [404, 409],
});
export const postEndRoute = defineRoute({ method: 'post', path: '/api/sessions/{id}/end', summary: 'End a session (idempotent)', auth: 'writer', ok: { 200: R.EndResponse }, ...one });
export const postPauseRoute = defineRoute({
  method: 'post', path: '/api/sessions/{id}/pause', summary: 'Pause (idempotent): the inactivity timeout stops and paused time is not counted', auth: 'writer',
  ok: { 200: R.PauseResponse }, ...one, errors: [404, 409],
});
export const postResumeRoute = defineRoute({
  method: 'post', path: '/api/sessions/{id}/resume', summary: 'Resume (idempotent): the inactivity timeout counts again from now', auth: 'writer',
  ok: { 200: R.ResumeResponse }, ...one, errors: [404, 409],
});
export const getStreamRoute = defineRoute({
  method: 'get', path: '/api/sessions/{id}/stream', summary: 'The timeline live, as Server-Sent Events', auth: 'listen', streamToken: true,
  query: SessionStreamQuery, ok: { 200: StoredEvent }, media: ['text/event-stream'], ...one,
  description:
    '`event: entry` per stored timeline entry in arrival order (`id:` = its sequence number, `data:` = the entry as GET /api/sessions/{id}/events returns it); ' +
    '`event: status` when the session status changes; `event: end` (then the stream closes) when the session is over; `: ping` every 15 s. ' +
    'Resume with the `Last-Event-ID` header (or `?after=`): exactly the entries after it; `?after=0` sends the whole timeline first. Without either, entries stored from now on. ' +
    'A browser EventSource authenticates with `?token=` from POST /api/sessions/{id}/stream-token. On Vercel the stream closes after 25 s with a `retry:` hint.',
});
export const postStreamTokenRoute = defineRoute({
  method: 'post', path: '/api/sessions/{id}/stream-token', summary: 'A 60-second token for following this session with EventSource', auth: 'listen',
  ok: { 201: StreamTokenResponse }, ...one, errors: [404, 503],
});
export const postWriteTokenRoute = defineRoute({
  method: 'post', path: '/api/sessions/{id}/write-token', summary: "The token a page sends to post events into this session through /api/session-log", auth: 'writer',
  ok: { 200: R.WriteTokenResponse }, ...one, errors: [404, 503],
  description:
    'A tutoring sitting, an explicit session or a voice call takes events from the public `/api/session-log` only with its `writeToken` ' +
    '(workshop pages need none: their token is their own session). The same token every time for one session; it stops working when ADMIN_TOKEN is rotated.',
});
export const postAssignRoute = defineRoute({
  method: 'post', path: '/api/sessions/{id}/assign', summary: 'Attach a session to a student', auth: 'admin', action: 'assign sessions',
  body: { schema: AssignInput }, ok: { 200: R.AssignResponse }, ...one,
});

/** Fixed paths come before `{id}`: hono tries routes in registration order. */
export const sessionsRoutes = [
  postInteractionRoute,
  postCloseRoute,
  getActiveRoute,
  getWaitingRoute,
  postSessionRoute,
  getSessionsRoute,
  getStatsRoute,
  getSessionRoute,
  getTranscriptRoute,
  getTimelineRoute,
  getSummaryRoute,
  postJoinRoute,
  postTranscriptRoute,
  postPhaseRoute,
  putSummaryRoute,
  postEndRoute,
  postPauseRoute,
  postResumeRoute,
  postAssignRoute,
  getStreamRoute,
  postStreamTokenRoute,
  postWriteTokenRoute,
];
