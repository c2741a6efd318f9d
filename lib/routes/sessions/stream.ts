import type { Context } from 'hono';
import type { AppEnv } from '../../http/env.js';
import { describeError } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { lastSeq, tailEvents } from '../../events/query.js';
import { SSE_HEADERS, type SseWriter, sseStream } from '../../http/sse.js';
import { signStreamToken } from '../../http/stream-token.js';
import { parseQuery } from '../../http/validate.js';
import { SessionStreamQuery, StreamSeq, type StreamStatus, StreamTokenResponse } from '../../schemas/stream.js';
import type { SessionCtx } from '../../sessions/context.js';
import { streamable, streamStatus } from '../../sessions/stream.js';
import { ctxOf, sessionIdParam } from './shared.js';

/** Tuning of session streams (ADR 0017). */
export const STREAM = {
  /** One indexed read of events by (session_token, id) per poll: cheap, and under a second of lag. */
  pollMs: 750,
  heartbeatMs: 15_000,
  retryMs: 2_000,
  /** Entries per read; a client far behind gets pages back to back until it has caught up. */
  pageSize: 200,
};

/**
 * GET /api/sessions/{id}/stream — the session's timeline as Server-Sent Events: `entry` per
 * stored event in arrival order (`id:` = its seq, the same cursor as `?after_seq=`), `status`
 * when the effective status changes, `end` (then close) when the session is over.
 */
export async function getStream(c: Context<AppEnv>) {
  const id = sessionIdParam(c);
  const q = parseQuery(c, SessionStreamQuery);
  const header = c.req.header('last-event-id');
  let after = q.after;
  if (header !== undefined) {
    const parsed = StreamSeq.safeParse(header.trim());
    if (!parsed.success) {
      const message = parsed.error.issues[0]?.message ?? 'invalid';
      throw new ApiError('BAD_REQUEST', `invalid Last-Event-ID header: ${message}`, { errors: [{ path: 'Last-Event-ID', message }] });
    }
    after = parsed.data;
  }
  const ctx = ctxOf(c);
  if (!(await streamable(ctx, id))) throw new ApiError('NOT_FOUND', `session ${id} does not exist`);
  // No cursor: what arrives from now on, as EventSource's first connection expects (the history is
  // GET …/events, or this stream with ?after=0).
  after ??= await lastSeq(ctx.sql, id);
  const deps = c.get('deps');
  const body = sseStream({
    signal: c.req.raw.signal,
    pollMs: STREAM.pollMs,
    heartbeatMs: STREAM.heartbeatMs,
    retryMs: STREAM.retryMs,
    limitMs: deps.streamLimitMs,
    step: sessionStep(ctx, id, after),
    onError: (err) => deps.log.warn('session stream stopped', { requestId: c.get('requestId'), error: describeError(err) }),
  });
  return new Response(body, { status: 200, headers: SSE_HEADERS });
}

/**
 * One poll: the status first, then every entry stored so far. Reading the status BEFORE the
 * entries means that when it says "ended", every entry written before the end is in this read,
 * so `end` never overtakes an entry.
 */
export function sessionStep(ctx: SessionCtx, id: string, from: string): (out: SseWriter) => Promise<boolean> {
  let seq = from;
  let sent: string | null = null;
  return async (out) => {
    const status = await streamStatus(ctx, id);
    for (;;) {
      const page = await tailEvents(ctx.sql, id, seq, STREAM.pageSize);
      page.events.forEach((e, i) => {
        out.send({ id: page.seqs[i] ?? page.lastSeq, event: 'entry', data: e });
      });
      seq = page.lastSeq;
      if (page.events.length < STREAM.pageSize) break;
    }
    if (!status) return false;
    const key = statusKey(status);
    if (key !== sent) {
      out.send({ event: 'status', data: status });
      sent = key;
    }
    if (status.end_time === null) return false;
    out.send({ event: 'end', data: status });
    return true;
  };
}

const statusKey = (s: StreamStatus) => `${s.status}|${s.end_time}|${s.end_reason}`;

/** POST /api/sessions/{id}/stream-token — a 60 s token for `?token=` (EventSource cannot send headers). */
export async function postStreamToken(c: Context<AppEnv>) {
  const id = sessionIdParam(c);
  const deps = c.get('deps');
  if (!deps.config.adminToken) throw new ApiError('UNAVAILABLE', 'stream tokens need ADMIN_TOKEN to be set');
  if (!(await streamable(ctxOf(c), id))) throw new ApiError('NOT_FOUND', `session ${id} does not exist`);
  const { token, expiresAt } = await signStreamToken(deps.config.adminToken, id, deps.now());
  c.header('cache-control', 'no-store');
  return c.json(
    StreamTokenResponse.parse({
      session_id: id,
      token,
      expires_at: expiresAt.toISOString(),
      stream_url: `/api/sessions/${encodeURIComponent(id)}/stream?token=${encodeURIComponent(token)}`,
    }),
    201,
  );
}
