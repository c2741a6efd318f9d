import type { Context } from 'hono';
import type { AppEnv } from '../../http/env.js';
import { ApiError } from '../../errors.js';
import { logStats } from '../../events/query.js';
import { parseQuery } from '../../http/validate.js';
import { StatsQuery } from '../../schemas/event.js';

/**
 * GET /api/session-log/stats?since=&until= (admin) — for troubleshooting: counts by event type,
 * the most frequent error types and the students who hit errors. Default window: the last hour.
 */
export async function getLogStats(c: Context<AppEnv>): Promise<Response> {
  const q = parseQuery(c, StatsQuery);
  const deps = c.get('deps');
  const until = q.until ? new Date(q.until) : new Date(deps.now().getTime() + 1000);
  const since = q.since ? new Date(q.since) : new Date(until.getTime() - 3_600_000);
  if (since >= until) throw new ApiError('BAD_REQUEST', 'since must be earlier than until', { errors: [{ path: 'since', message: 'must be earlier than until' }] });
  return c.json({ success: true, ...(await logStats(deps.sql, since, until)) });
}
