import { activeDurationMs } from './duration.js';
import type { SessionStatus } from '../schemas/ids.js';

/** A sessions row as the drivers return it. */
export interface SessionRow {
  id: string;
  student_id: string | null;
  participants: Array<{ id: string; role: string; joined_at: string }>;
  max_participants: number;
  platform: string;
  kind: 'auto' | 'explicit';
  status: SessionStatus;
  started_at: Date | string;
  ended_at: Date | string | null;
  end_reason: string | null;
  last_activity_at: Date | string;
  subject: string | null;
  topic: string | null;
  subtopic: string | null;
  phase: string | null;
  summary: string | null;
  agent: Record<string, unknown> | null;
  metadata: Record<string, unknown>;
  conversation: Record<string, unknown>;
  platform_metadata: Record<string, unknown>;
  interaction_count: number;
  transcript_count: number;
  /** Set while paused (and not ended); the pause's length moves into paused_ms on resume or end. */
  paused_at?: Date | string | null;
  /** Finished pauses, in ms (bigint: some drivers return it as text). */
  paused_ms?: number | string;
  /** Workshop sessions only (kept by ingest); other sessions are counted on read (n_events). */
  workshop?: boolean;
  event_count?: number;
  error_count?: number;
  current_step?: string | null;
  step_name?: string | null;
  /** Counts computed by the read queries (COUNTS in read.ts), preferred over the stored ones. */
  n_events?: number;
  n_errors?: number;
  /** Joined from students by the read queries. */
  student_name?: string | null;
  student_email?: string | null;
}

/** The large free-form columns: a call's whole transcript (conversation), the summary, metadata. */
type LargeColumn = 'summary' | 'agent' | 'metadata' | 'conversation' | 'platform_metadata';

/**
 * What a summary row is built from (toSummaryRow, effective, durations): a sessions row without
 * its large columns. `conversation` holds a call's whole transcript (megabytes for a long call), so
 * lists, the open sessions and a student's progress — hundreds of rows — read only these columns.
 */
export type SummarySource = Omit<SessionRow, LargeColumn>;

/** The stored columns of SummarySource, as SQL: `SELECT ${summaryColumns('s')} FROM sessions s`. */
export const SUMMARY_COLUMNS = [
  'id', 'student_id', 'participants', 'max_participants', 'platform', 'kind', 'status', 'started_at', 'ended_at', 'end_reason',
  'last_activity_at', 'subject', 'topic', 'subtopic', 'phase', 'interaction_count', 'transcript_count', 'paused_at', 'paused_ms',
  'workshop', 'event_count', 'error_count', 'current_step', 'step_name',
] as const satisfies readonly Exclude<keyof SummarySource, ComputedColumn>[];
/** Columns the read queries compute or join rather than store on sessions. */
type ComputedColumn = 'n_events' | 'n_errors' | 'student_name' | 'student_email';
// Every stored column of SummarySource is listed (a column added to SessionRow must be added above).
const _allListed: Exclude<keyof SummarySource, ComputedColumn> extends (typeof SUMMARY_COLUMNS)[number] ? true : never = true;
void _allListed;

export const summaryColumns = (alias: string): string => SUMMARY_COLUMNS.map((c) => `${alias}.${c}`).join(', ');

/** SQL for the effective status, the same rule as `effective()` below ($now, $timeout ms). */
export function effectiveStatusSql(now: string, timeoutMs: string): string {
  return `(CASE WHEN s.status IN ('active', 'waiting') AND s.ended_at IS NULL AND s.paused_at IS NOT NULL THEN 'paused'
           WHEN s.status IN ('active', 'waiting') AND s.last_activity_at < ${now}::timestamptz - ${timeoutMs}::int * interval '1 millisecond'
           THEN (CASE s.status WHEN 'waiting' THEN 'abandoned' ELSE 'completed' END) ELSE s.status END)`;
}

/**
 * A session idle for longer than the timeout is over, whether or not the sweep has marked it yet:
 * completed (abandoned when still waiting for a participant), ended at its last activity. A paused
 * session is never idle: it shows `paused` however long the pause lasts.
 */
export function effective(row: SummarySource, now: Date, timeoutMs: number): { status: SessionStatus; endedAt: Date | null; endReason: string | null } {
  const last = new Date(row.last_activity_at);
  const open = row.status === 'active' || row.status === 'waiting';
  if (open && !row.ended_at && row.paused_at) return { status: 'paused', endedAt: null, endReason: null };
  if (open && now.getTime() - last.getTime() > timeoutMs) {
    return { status: row.status === 'waiting' ? 'abandoned' : 'completed', endedAt: last, endReason: 'timeout' };
  }
  return { status: row.status, endedAt: row.ended_at ? new Date(row.ended_at) : null, endReason: row.end_reason };
}

/**
 * How long a session lasted, in milliseconds: from its start to its end (its last activity while
 * open). The one place a session's duration is computed — summaries, lists and student progress
 * all read it — so time that must not count (a paused stretch, say) is subtracted here once.
 */
export function sessionDurationMs(row: SummarySource, now: Date, timeoutMs: number): number {
  return activeDurationMs(row, effective(row, now, timeoutMs).endedAt);
}

export interface EventLite {
  event_type: string;
  event_data: Record<string, unknown>;
  created_at: Date | string;
}

export function countWords(text: string): number {
  const m = text.match(/\S+/g);
  return m ? m.length : 0;
}
