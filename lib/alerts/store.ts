import type { Sql } from '../storage/sql.js';
import type { AlertDraft, AlertRecord, DeliveryStatus } from './types.js';

/** How long a claimed delivery is reserved for the instance that claimed it. */
export const DELIVERY_LEASE_MS = 60_000;

/** Backoff after the n-th failed attempt: 30 s, 2 min, 8 min, 32 min, then hourly. */
export function backoffMs(attempts: number): number {
  return Math.min(3_600_000, 30_000 * 4 ** Math.max(0, attempts - 1));
}

interface AlertRow {
  id: string;
  rule: AlertRecord['rule'];
  key: string;
  student_id: string | null;
  session_id: string | null;
  title: string;
  detail: string;
  data: unknown;
  created_at: string | Date;
  delivery_status: DeliveryStatus;
  attempts: number;
}

const COLUMNS = 'id::text AS id, rule, key, student_id, session_id, title, detail, data, created_at, delivery_status, attempts';

function toRecord(r: AlertRow): AlertRecord {
  return {
    id: r.id,
    rule: r.rule,
    key: r.key,
    student_id: r.student_id,
    session_id: r.session_id,
    title: r.title,
    detail: r.detail,
    data: (typeof r.data === 'string' ? JSON.parse(r.data) : r.data) as Record<string, unknown>,
    created_at: new Date(r.created_at).toISOString(),
    delivery: { status: r.delivery_status, attempts: r.attempts },
  };
}

/**
 * Record the drafts whose (rule, key) is not cooling down, in one statement: the cooldown row is
 * claimed first (a unique key: of concurrent claims exactly one wins), and only claimed drafts
 * become alerts. With delivery configured they start `pending`, leased to the caller, who sends
 * them at once; a caller that dies leaves them to the retries when the lease ends.
 */
export async function raiseAlerts(sql: Sql, drafts: readonly AlertDraft[], now: Date, cooldownMs: number, deliverable: boolean): Promise<AlertRecord[]> {
  if (drafts.length === 0) return [];
  const rows = await sql.query<AlertRow>(
    `WITH input AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) WITH ORDINALITY
         AS t(rule, key, student_id, session_id, title, detail, data, ord)
     ),
     claim AS (
       INSERT INTO alert_cooldowns (rule, key, until)
       SELECT DISTINCT ON (rule, key) rule, key, $8::timestamptz + $9::int * interval '1 millisecond' FROM input ORDER BY rule, key, ord
       ON CONFLICT (rule, key) DO UPDATE SET until = EXCLUDED.until WHERE alert_cooldowns.until <= $8::timestamptz
       RETURNING rule, key
     )
     INSERT INTO alerts (rule, key, student_id, session_id, title, detail, data, created_at, delivery_status, attempts, next_attempt_at)
     SELECT DISTINCT ON (i.rule, i.key) i.rule, i.key, i.student_id, i.session_id, i.title, i.detail, i.data::jsonb, $8::timestamptz,
            $10::text, 0, CASE WHEN $10::text = 'pending' THEN $8::timestamptz + $11::int * interval '1 millisecond' END
     FROM input i JOIN claim c ON c.rule = i.rule AND c.key = i.key
     ORDER BY i.rule, i.key, i.ord
     RETURNING ${COLUMNS}`,
    [
      drafts.map((d) => d.rule),
      drafts.map((d) => d.key),
      drafts.map((d) => d.studentId),
      drafts.map((d) => d.sessionId),
      drafts.map((d) => d.title),
      drafts.map((d) => d.detail),
      drafts.map((d) => JSON.stringify(d.data)),
      now.toISOString(),
      Math.round(cooldownMs),
      deliverable ? 'pending' : 'not_configured',
      DELIVERY_LEASE_MS,
    ],
  );
  return rows.map(toRecord).sort((a, b) => Number(a.id) - Number(b.id));
}

/** Claim pending deliveries that are due (SKIP LOCKED: overlapping evaluations share them). */
export async function claimDue(sql: Sql, now: Date, limit = 20): Promise<AlertRecord[]> {
  const rows = await sql.query<AlertRow>(
    `UPDATE alerts SET next_attempt_at = $1::timestamptz + $2::int * interval '1 millisecond'
     WHERE id IN (
       SELECT id FROM alerts WHERE delivery_status = 'pending' AND next_attempt_at <= $1::timestamptz
       ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED
     )
     RETURNING ${COLUMNS}`,
    [now.toISOString(), DELIVERY_LEASE_MS, limit],
  );
  return rows.map(toRecord);
}

/**
 * Record one attempt of `alert` (as claimed: `delivery.attempts` made before this one): delivered,
 * or failed with the next attempt after a backoff, or given up after `maxAttempts`.
 */
export async function recordAttempt(sql: Sql, alert: AlertRecord, now: Date, outcome: { ok: true } | { ok: false; reason: string }, maxAttempts: number): Promise<void> {
  if (outcome.ok) {
    await sql.query(
      `UPDATE alerts SET delivery_status = 'delivered', attempts = attempts + 1, delivered_at = $2::timestamptz, next_attempt_at = NULL, last_error = NULL WHERE id = $1::bigint`,
      [alert.id, now.toISOString()],
    );
    return;
  }
  const attempts = alert.delivery.attempts + 1;
  const giveUp = attempts >= maxAttempts;
  await sql.query(
    `UPDATE alerts SET attempts = attempts + 1, last_error = $2, delivery_status = $3, next_attempt_at = $4::timestamptz WHERE id = $1::bigint`,
    [alert.id, outcome.reason.slice(0, 200), giveUp ? 'failed' : 'pending', giveUp ? null : new Date(now.getTime() + backoffMs(attempts)).toISOString()],
  );
}

/** Alerts, newest first. */
export async function listAlerts(sql: Sql, since: Date | undefined, limit: number, workshop?: string): Promise<AlertRecord[]> {
  const rows = await sql.query<AlertRow>(
    `SELECT ${COLUMNS} FROM alerts WHERE ($1::timestamptz IS NULL OR created_at >= $1::timestamptz)
       AND ($3::text IS NULL OR starts_with(session_id, $3::text))
     ORDER BY created_at DESC, id DESC LIMIT $2`,
    [since ? since.toISOString() : null, limit, workshop ?? null],
  );
  return rows.map(toRecord);
}
