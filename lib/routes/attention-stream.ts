import { computeAttention } from '../attention/compute.js';
import { describeError } from '../deps.js';
import type { Family } from '../http/env.js';
import { register } from '../http/register.js';
import { SSE_HEADERS, type SseWriter, sseStream } from '../http/sse.js';
import { parseQuery } from '../http/validate.js';
import { AttentionQuery, AttentionResponse } from '../schemas/attention.js';
import type { Sql } from '../storage/sql.js';
import { getAttentionStreamRoute } from './attention.routes.js';
import { checkedSince } from './attention.js';

/** Tuning of the workshop stream (ADR 0017). */
export const ATTENTION_STREAM = {
  /** One index probe (events past the last seen id) per poll. */
  pollMs: 1_000,
  /** Attention is one heavier query: at most this often, however busy the room. */
  minComputeMs: 2_000,
  /** Recomputed at least this often without new events: "stuck" grows with time alone. */
  refreshMs: 15_000,
  heartbeatMs: 15_000,
  retryMs: 2_000,
};

/** The newest event id, of the workshop's tokens when a prefix is given, past `after`. */
async function newestSeq(sql: Sql, after: string, prefix: string | null): Promise<string> {
  const rows = await sql.query<{ seq: string | null }>(
    'SELECT max(id)::text AS seq FROM events WHERE id > $1::bigint AND ($2::text IS NULL OR starts_with(session_token, $2::text))',
    [after, prefix],
  );
  return rows[0]?.seq ?? after;
}

/**
 * GET /api/attention/stream — the Now view, pushed: `event: attention` with the same document as
 * GET /api/attention when the workshop's events move (at most every 2 s) or its content changes
 * (re-read every 15 s: a student becomes "stuck" without any new event). `id:` is the newest
 * event seen. Each message is the whole state, so a reconnecting client needs nothing replayed.
 */
export const attentionStreamFamily: Family = (app) => {
  register(app, getAttentionStreamRoute, async (c) => {
    const q = parseQuery(c, AttentionQuery);
    const deps = c.get('deps');
    const since = checkedSince(q.since, deps.now());
    const prefix = q.workshop ?? null;
    let seq = await newestSeq(deps.sql, '0', null);
    let lastAt = Number.NEGATIVE_INFINITY;
    let lastKey = '';
    let moved = true;
    const step = async (out: SseWriter) => {
      const newest = await newestSeq(deps.sql, seq, prefix);
      if (newest !== seq) moved = true;
      seq = newest;
      const now = deps.now();
      const age = now.getTime() - lastAt;
      if (age < ATTENTION_STREAM.minComputeMs || (!moved && age < ATTENTION_STREAM.refreshMs)) return false;
      const doc = AttentionResponse.parse(await computeAttention({ sql: deps.sql, now, timeoutMs: deps.config.sessionTimeoutMs, since, workshop: q.workshop }));
      lastAt = now.getTime();
      const key = JSON.stringify({ ...doc, generated_at: null });
      if (moved || key !== lastKey) out.send({ id: seq, event: 'attention', data: doc });
      lastKey = key;
      moved = false;
      return false;
    };
    const body = sseStream({
      signal: c.req.raw.signal,
      pollMs: ATTENTION_STREAM.pollMs,
      heartbeatMs: ATTENTION_STREAM.heartbeatMs,
      retryMs: ATTENTION_STREAM.retryMs,
      limitMs: deps.streamLimitMs,
      step,
      onError: (err) => deps.log.warn('attention stream stopped', { requestId: c.get('requestId'), error: describeError(err) }),
    });
    return new Response(body, { status: 200, headers: SSE_HEADERS });
  });
};
