import type { Logger } from '../deps.js';
import type { Kv } from '../storage/kv.js';
import type { Sql } from '../storage/sql.js';

/** What session domain code needs; routes build it from Deps. */
export interface SessionCtx {
  sql: Sql;
  kv: Kv;
  timeoutMs: number;
  now: () => Date;
  log: Logger;
}

/** KV keys. The pointer is per student; the set scores open sessions by last activity. */
export const activeKey = (studentId: string) => `active:${studentId}`;
export const ACTIVE_SET = 'active-sessions';

/** `emma_smith_20250117_1430`: readable, stable, from the UTC minute of the first activity. */
export function autoSessionId(owner: string, at: Date): string {
  const iso = at.toISOString(); // 2025-01-17T14:30:05.000Z
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}_${iso.slice(11, 13)}${iso.slice(14, 16)}`;
  // Session ids are event-log session tokens: keep their alphabet (an email's @ and + become _).
  return `${owner.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 150)}_${stamp}`;
}

/** The ids to try, in order, when the readable id is taken by another sitting. */
export function idCandidates(base: string): string[] {
  return [base, ...Array.from({ length: 8 }, (_, i) => `${base}_${i + 2}`), `${base}_${crypto.randomUUID().slice(0, 8)}`];
}
