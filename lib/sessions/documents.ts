import { isJsonObject } from '../schemas/common.js';
import { SessionDocument, SessionSummaryRow } from '../schemas/session.js';
import { countWords, type EventLite, effective, type SessionRow, type SummarySource, sessionDurationMs } from './rows.js';

/*
 * Rows into the session answers, checked against their schemas. Apart from rows.ts, whose
 * helpers (status, duration, word counts) the progress and call code also use: importing those
 * does not build the session schemas at a function's start-up (ADR 0020).
 */

export function toSummaryRow(row: SummarySource, now: Date, timeoutMs: number): SessionSummaryRow {
  const eff = effective(row, now, timeoutMs);
  const start = new Date(row.started_at);
  const last = new Date(row.last_activity_at);
  return SessionSummaryRow.parse({
    session_id: row.id,
    student_id: row.student_id,
    participants: row.participants ?? [],
    platform: row.platform,
    kind: row.kind,
    status: eff.status,
    start_time: start.toISOString(),
    end_time: eff.endedAt ? eff.endedAt.toISOString() : null,
    last_activity: last.toISOString(),
    end_reason: eff.endReason,
    duration_seconds: Math.round(sessionDurationMs(row, now, timeoutMs) / 1000),
    paused_at: row.paused_at && eff.status === 'paused' ? new Date(row.paused_at).toISOString() : null,
    paused_ms: Number(row.paused_ms ?? 0),
    phase: row.phase,
    subject: row.subject,
    topic: row.topic,
    subtopic: row.subtopic,
    interaction_count: row.interaction_count,
    transcript_count: row.transcript_count,
    ...(row.n_events !== undefined ? { event_count: Number(row.n_events) } : {}),
    ...(row.n_errors !== undefined ? { error_count: Number(row.n_errors) } : {}),
    current_step: row.current_step ?? null,
    step_name: row.step_name ?? null,
    student_name: row.student_name ?? null,
    student_email: row.student_email ?? null,
  });
}

/** The whole document: the row, plus its interaction and transcript events. */
export function toDocument(
  row: SessionRow,
  interactions: EventLite[],
  transcript: EventLite[],
  now: Date,
  timeoutMs: number,
  analysis: unknown = null,
): SessionDocument {
  const base = toSummaryRow(row, now, timeoutMs);
  const entries = transcript.map((e) => ({
    speaker: String(e.event_data.speaker ?? ''),
    text: String(e.event_data.text ?? ''),
    timestamp: new Date(e.created_at).toISOString(),
  }));
  const conv = row.conversation ?? {};
  const text = typeof conv.transcript === 'string' ? conv.transcript : entries.map((e) => `${e.speaker}: ${e.text}`).join('\n');
  return SessionDocument.parse({
    ...base,
    summary: row.summary,
    max_participants: row.max_participants,
    agent: row.agent,
    // Read defensively: events are data, and a malformed one must not break the document.
    mcp_interactions: interactions.map((e) => ({
      timestamp: new Date(e.created_at).toISOString(),
      function: String(e.event_data.function ?? ''),
      parameters: isJsonObject(e.event_data.parameters) ? e.event_data.parameters : {},
      data_provided: strings(e.event_data.data_provided),
      subjects_accessed: strings(e.event_data.subjects_accessed),
    })),
    conversation: {
      transcript: text,
      entries,
      source: typeof conv.source === 'string' ? conv.source : entries.length ? 'live' : null,
      word_count: typeof conv.word_count === 'number' ? conv.word_count : countWords(entries.map((e) => e.text).join(' ')),
      duration_seconds: typeof conv.duration_seconds === 'number' ? conv.duration_seconds : base.duration_seconds,
    },
    platform_metadata: row.platform_metadata ?? {},
    analysis,
    metadata: row.metadata ?? {},
  });
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
