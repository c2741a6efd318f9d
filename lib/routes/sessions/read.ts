import type { Context } from 'hono';
import type { AppEnv } from '../../http/env.js';
import { ApiError } from '../../errors.js';
import { encodeEventCursor, lastSeq, listEvents, tailEvents } from '../../events/query.js';
import { cursorParam, eventCursorParam, parseQuery } from '../../http/validate.js';
import { ActiveSessionsQuery, SessionListQuery, TimelineQuery } from '../../schemas/session.js';
import { oldestWaiting } from '../../sessions/explicit.js';
import { activeSessions, decodeSessionCursor, encodeSessionCursor, getDocument, globalStats, listSessions, sessionStats } from '../../sessions/read.js';
import { toDocument } from '../../sessions/documents.js';
import { ctxOf, sessionIdParam } from './shared.js';

export async function getActive(c: Context<AppEnv>) {
  const q = parseQuery(c, ActiveSessionsQuery);
  const sessions = await activeSessions(ctxOf(c), 500, q.workshop);
  return c.json({ count: sessions.length, sessions });
}

/** GET /api/sessions/waiting — the oldest session waiting for a participant (matchmaking). */
export async function getWaiting(c: Context<AppEnv>) {
  const ctx = ctxOf(c);
  const row = await oldestWaiting(ctx);
  if (!row) throw new ApiError('NOT_FOUND', 'no session is waiting for a participant');
  return c.json(toDocument(row, [], [], ctx.now(), ctx.timeoutMs));
}

/** GET /api/sessions — history, newest first. */
export async function getList(c: Context<AppEnv>) {
  const q = parseQuery(c, SessionListQuery);
  const { sessions, next } = await listSessions(
    ctxOf(c),
    {
      studentId: q.student_id,
      q: q.q,
      status: q.status,
      platform: q.platform,
      workshop: q.workshop,
      since: q.since ? new Date(q.since) : undefined,
      until: q.until ? new Date(q.until) : undefined,
    },
    Math.min(q.limit ?? 50, 500),
    cursorParam(q.cursor, decodeSessionCursor),
  );
  return c.json({ count: sessions.length, sessions, next_cursor: next ? encodeSessionCursor(next) : null });
}

export async function getOne(c: Context<AppEnv>) {
  return c.json(await getDocument(ctxOf(c), sessionIdParam(c)));
}

export async function getTranscript(c: Context<AppEnv>) {
  const doc = await getDocument(ctxOf(c), sessionIdParam(c));
  return c.json({ session_id: doc.session_id, status: doc.status, ...doc.conversation });
}

/** GET /api/sessions/{id}/events — the timeline: every event of the session, oldest first. */
export async function getTimeline(c: Context<AppEnv>) {
  const id = sessionIdParam(c);
  const q = parseQuery(c, TimelineQuery);
  const ctx = ctxOf(c);
  const after = eventCursorParam(q.cursor, 'asc');
  const [exists] = await ctx.sql.query('SELECT 1 FROM sessions WHERE id = $1 UNION ALL SELECT 1 FROM events WHERE session_token = $1 LIMIT 1', [id]);
  if (!exists) throw new ApiError('NOT_FOUND', `session ${id} does not exist`);
  const limit = Math.min(q.limit ?? 1000, 1000);
  if (q.after_seq !== undefined) {
    const tail = await tailEvents(ctx.sql, id, q.after_seq, limit);
    return c.json({ session_id: id, count: tail.events.length, events: tail.events, next_cursor: null, last_seq: tail.lastSeq });
  }
  const [{ events, next }, seq] = await Promise.all([listEvents(ctx.sql, { sessionToken: id, order: 'asc' }, limit, after), lastSeq(ctx.sql, id)]);
  return c.json({ session_id: id, count: events.length, events, next_cursor: next ? encodeEventCursor(next) : null, last_seq: seq });
}

export async function getSummary(c: Context<AppEnv>) {
  return c.json(await sessionStats(ctxOf(c), sessionIdParam(c)));
}

export async function getStats(c: Context<AppEnv>) {
  return c.json(await globalStats(ctxOf(c)));
}
