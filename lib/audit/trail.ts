import type { Sql } from '../storage/sql.js';

/**
 * The audit trail (table audit_log, migration 005): who read or deleted what. Written by the
 * authorization middleware after a person's request (lib/http/auth.ts), read by GET /api/audit,
 * redacted by erasure (lib/lifecycle/erase.ts, inside its one statement). The SQL lives here so the
 * middleware and the route only say what to record and what to list.
 */

export interface AuditEntry {
  at: Date;
  /** The token's id (`admin`, `instructor:<name>`), never the token. */
  actor: string;
  action: string;
  method: string;
  path: string;
  status: number;
  detail: Record<string, unknown>;
}

export interface AuditRow {
  id: string;
  at: string;
  actor: string;
  action: string;
  method: string;
  path: string;
  status: number;
  detail: Record<string, unknown>;
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
