import { computeAttention } from '../attention/compute.js';
import { ApiError } from '../errors.js';
import type { Family } from '../http/env.js';
import { register } from '../http/register.js';
import { parseQuery } from '../http/validate.js';
import { AttentionQuery, AttentionResponse } from '../schemas/attention.js';
import { getAttentionRoute } from './attention.routes.js';

/** The longest history one request may read: bounds the query's cost. */
const MAX_LOOKBACK_MS = 7 * 86_400_000;

/** `since` as a date, refused when it reaches back further than MAX_LOOKBACK_MS. */
export function checkedSince(raw: string | undefined, now: Date): Date | undefined {
  const since = raw ? new Date(raw) : undefined;
  if (since && now.getTime() - since.getTime() > MAX_LOOKBACK_MS) {
    throw new ApiError('BAD_REQUEST', 'since must be within the last 7 days', { errors: [{ path: 'since', message: 'must be within the last 7 days' }] });
  }
  return since;
}

/** Who needs help right now (instructors): GET /api/attention?since=&workshop=. */
export const attentionFamily: Family = (app) => {
  register(app, getAttentionRoute, async (c) => {
    const q = parseQuery(c, AttentionQuery);
    const deps = c.get('deps');
    const now = deps.now();
    const since = checkedSince(q.since, now);
    const result = await computeAttention({ sql: deps.sql, now, timeoutMs: deps.config.sessionTimeoutMs, since, workshop: q.workshop });
    return c.json(AttentionResponse.parse(result));
  });
};
