import type { StreamStatus } from '../schemas/stream.js';
import type { SessionCtx } from './context.js';
import { effective, type SessionRow } from './rows.js';

/**
 * A session's status as its stream reports it: the effective status (a session idle past the
 * timeout is over even before the sweep marks it), or null for a token that has events but no
 * sessions row (it never ends by itself).
 */
export async function streamStatus(ctx: SessionCtx, id: string): Promise<StreamStatus | null> {
  const rows = await ctx.sql.query<Pick<SessionRow, 'status' | 'ended_at' | 'end_reason' | 'last_activity_at'>>(
    'SELECT status, ended_at, end_reason, last_activity_at FROM sessions WHERE id = $1',
    [id],
  );
  const row = rows[0];
  if (!row) return null;
  const eff = effective(row as SessionRow, ctx.now(), ctx.timeoutMs);
  return { session_id: id, status: eff.status, end_time: eff.endedAt ? eff.endedAt.toISOString() : null, end_reason: eff.endReason };
}

/** True when the session has a record or at least one event (what the timeline answers 404 for). */
export async function streamable(ctx: SessionCtx, id: string): Promise<boolean> {
  const rows = await ctx.sql.query('SELECT 1 FROM sessions WHERE id = $1 UNION ALL SELECT 1 FROM events WHERE session_token = $1 LIMIT 1', [id]);
  return rows.length > 0;
}
