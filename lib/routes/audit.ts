import type { Context } from 'hono';
import type { AppEnv, Family } from '../http/env.js';
import { register } from '../http/register.js';
import { parseQuery } from '../http/validate.js';
import { AuditQuery } from '../schemas/audit.js';
import { getAuditRoute } from './audit.routes.js';

/** GET /api/audit (admin) — who read or deleted what, newest first; page with `before`. */
export async function getAudit(c: Context<AppEnv>) {
  const q = parseQuery(c, AuditQuery);
  const limit = Math.min(q.limit ?? 100, 500);
  // ORDER BY audit_log.id: a bare `id` would be the text alias below and sort 9 before 36.
  const rows = await c.get('deps').sql.query<{ id: string; at: Date | string; actor: string; action: string; method: string; path: string; status: number; detail: Record<string, unknown> }>(
    `SELECT id::text AS id, at, actor, action, method, path, status, detail FROM audit_log
     ${q.before ? 'WHERE id < $2::bigint' : ''} ORDER BY audit_log.id DESC LIMIT $1`,
    q.before ? [limit, q.before] : [limit],
  );
  const entries = rows.map((r) => ({ ...r, at: new Date(r.at).toISOString() }));
  return c.json({ count: entries.length, entries, next_before: entries.length === limit ? (entries.at(-1)?.id ?? null) : null });
}

/** The audit trail (its own Vercel function, api/audit.ts). */
export const auditFamily: Family = (app) => {
  register(app, getAuditRoute, getAudit);
};
