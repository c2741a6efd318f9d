import type { Context } from 'hono';
import { computeAttention } from '../attention/compute.js';
import { writeHelpedMark } from '../attention/helped.js';
import { ApiError } from '../errors.js';
import type { AppEnv, Family } from '../http/env.js';
import { register } from '../http/register.js';
import { parseOptionalBody, parseQuery } from '../http/validate.js';
import { AttentionQuery, AttentionResponse, HelpedAnswer, HelpedInput } from '../schemas/attention.js';
import { deleteHelpedRoute, getAttentionRoute, postHelpedRoute } from './attention.routes.js';
import { sessionIdParam } from './sessions/shared.js';

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

  register(app, postHelpedRoute, async (c) => {
    const input = await parseOptionalBody(c, HelpedInput);
    return markHelped(c, input.note ?? null, false);
  });
  register(app, deleteHelpedRoute, (c) => markHelped(c, null, true));
};

/** Write the mark (or its undo) as the calling instructor: 404 unknown session, 409 not a workshop page's. */
async function markHelped(c: Context<AppEnv>, note: string | null, undo: boolean): Promise<Response> {
  const id = sessionIdParam(c);
  const deps = c.get('deps');
  const out = await writeHelpedMark(deps.sql, { sessionId: id, by: c.get('principal').id, note, now: deps.now(), undo });
  if (!out.ok && out.why === 'not_found') throw new ApiError('NOT_FOUND', `no session ${id}`);
  if (!out.ok) throw new ApiError('CONFLICT', `session ${id} is not a workshop page's session: only those are on the Now view`);
  return c.json(HelpedAnswer.parse({ session_id: id, helped: out.helped }));
}
