import type { Sql } from '../storage/sql.js';
import { redactSecrets } from '../util/redact.js';

/**
 * The audit trail (table audit_log, migration 005): who read or changed what, and every refused
 * attempt on a protected route. Written by the authorization middleware (lib/http/auth.ts) after a
 * person's request, any change (whoever made it: service and cron tokens too) and every 401/403,
 * read by GET /api/audit,
 * redacted by erasure (lib/lifecycle/erase.ts, inside its one statement). The SQL lives here so the
 * middleware and the route only say what to record and what to list.
 */

export interface AuditEntry {
  at: Date;
  /** The token's id (`admin`, `instructor:<name>`, `service`, `cron`), or `anonymous` for an unknown token; never the token. */
  actor: string;
  action: string;
  method: string;
  path: string;
  status: number;
  detail: Record<string, unknown>;
}

/** An entry as GET /api/audit lists it: its id, and the time as ISO text. */
export type AuditRow = Omit<AuditEntry, 'at'> & { id: string; at: string };

/**
 * Query parameters whose names say they carry a credential (`access_token`, `apiKey`, `secret`,
 * `sig`, ...). Their values are never stored: a link with `?access_token=` would otherwise put a
 * live credential in the trail for anyone who reads it. `sessionToken` is not one: it names a
 * workshop session (public pages send it) and is what the trail is searched by.
 */
const SECRET_PARAM = /^(token|key|sig|auth|code|pass|pwd)$|(access|refresh|id|bearer|auth|api|csrf|xsrf|reset)token|apikey|secret|passw|signature|authorization|credential|privatekey|hmac/;

export function isSecretParam(name: string): boolean {
  return SECRET_PARAM.test(name.toLowerCase().replace(/[^a-z]/g, ''));
}

/**
 * The query as stored in the trail: values of secret-looking parameters replaced by "[redacted]",
 * and any configured secret (`secrets`) wherever it appears in another value.
 */
export function redactQuery(params: URLSearchParams, secrets: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of params) out[k] = isSecretParam(k) ? '[redacted]' : redactSecrets(v, secrets);
  return out;
}

export async function writeAudit(sql: Sql, e: AuditEntry): Promise<void> {
  await sql.query(`INSERT INTO audit_log (at, actor, action, method, path, status, detail) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)`, [
    e.at.toISOString(),
    e.actor,
    e.action,
    e.method,
    e.path,
    e.status,
    JSON.stringify(e.detail),
  ]);
}

/**
 * Newest first, `limit` entries with ids below `before` (the previous page's last id). Ordered by
 * the column, not the text alias `id` (which would sort "9" after "10").
 */
export async function listAudit(sql: Sql, page: { limit: number; before?: string | undefined }): Promise<AuditRow[]> {
  const rows = await sql.query<Omit<AuditRow, 'at'> & { at: Date | string }>(
    `SELECT id::text AS id, at, actor, action, method, path, status, detail FROM audit_log
     ${page.before ? 'WHERE id < $2::bigint' : ''} ORDER BY audit_log.id DESC LIMIT $1`,
    page.before ? [page.limit, page.before] : [page.limit],
  );
  return rows.map((r) => ({ ...r, at: new Date(r.at).toISOString() }));
}
