/**
 * Active duration: the time a session ran, without the time it spent paused. One rule, in SQL
 * for queries that aggregate (summaries, progress, stats) and in TypeScript for documents, so a
 * list, a summary and a trend never disagree about how long a session lasted.
 *
 * end = ended_at, else the start of the current pause (an open paused session stops counting),
 * else the last activity (an open session, or one past its timeout the sweep has not ended yet:
 * it ended at its last activity). paused_ms holds every finished pause; a pause still running
 * lies after `end` by construction, so it is never counted.
 */

/**
 * SQL for a session's active duration in milliseconds (float8, never negative), for the sessions
 * row under `alias`. Use it wherever a session's length is computed:
 * `SELECT ${activeDurationMsSql('s')} AS active_ms FROM sessions s`.
 */
export function activeDurationMsSql(alias = 's'): string {
  const c = (col: string) => `${alias}.${col}`;
  return `GREATEST(0::float8, extract(epoch FROM (COALESCE(${c('ended_at')}, LEAST(${c('paused_at')}, ${c('last_activity_at')}), ${c('last_activity_at')}) - ${c('started_at')})) * 1000 - ${c('paused_ms')})`;
}

export interface DurationParts {
  started_at: Date | string;
  ended_at: Date | string | null;
  last_activity_at: Date | string;
  paused_at?: Date | string | null;
  paused_ms?: number | string | null;
}

/** The same rule as activeDurationMsSql, for a row already read (`endedAt` = the effective end). */
export function activeDurationMs(row: DurationParts, endedAt: Date | null): number {
  const last = new Date(row.last_activity_at).getTime();
  const pausedAt = row.paused_at ? new Date(row.paused_at).getTime() : null;
  const end = endedAt ? endedAt.getTime() : pausedAt !== null ? Math.min(pausedAt, last) : last;
  return Math.max(0, end - new Date(row.started_at).getTime() - Number(row.paused_ms ?? 0));
}
