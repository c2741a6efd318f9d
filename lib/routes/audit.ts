import type { Context } from 'hono';
import { listAudit } from '../audit/trail.js';
import type { AppEnv, Family } from '../http/env.js';
import { register } from '../http/register.js';
import { parseQuery } from '../http/validate.js';
import { AuditQuery } from '../schemas/audit.js';
import { getAuditRoute } from './audit.routes.js';

/** GET /api/audit (admin) — who read or deleted what, newest first; page with `before`. */
export async function getAudit(c: Context<AppEnv>) {
  const q = parseQuery(c, AuditQuery);
  const limit = Math.min(q.limit ?? 100, 500);
  const entries = await listAudit(c.get('deps').sql, { limit, before: q.before });
  return c.json({ count: entries.length, entries, next_before: entries.length === limit ? (entries.at(-1)?.id ?? null) : null });
}

/** The audit trail (its own Vercel function, api/audit.ts). */
export const auditFamily: Family = (app) => {
  register(app, getAuditRoute, getAudit);
};
