import { type ProgressSession, StudentProgress } from '../schemas/progress.js';
import type { SessionCtx } from '../sessions/context.js';
import { DomainError } from '../sessions/errors.js';
import { accuracyOf, averageMs, jsonArray } from '../sessions/attempts.js';
import { effective, sessionDurationMs } from '../sessions/rows.js';
import { coverage, notRevisited, outstandingSteps, topicKey } from './coverage.js';
import { loadProgressRows, MAX_PROGRESS_SESSIONS, type ProgressRow, studentIdByEmail } from './query.js';
import { trendOf } from './trends.js';
import { isJsonObject } from '../schemas/common.js';

export const DEFAULT_TREND_SESSIONS = 10;
export const DEFAULT_RECENT_SESSIONS = 3;

export interface ProgressOptions {
  last?: number | undefined;
  recent?: number | undefined;
  /** Only sessions that started before this time (the analysis of a session looks back from its start). */
  before?: Date | undefined;
  /** Leave this session out (the one being analysed). */
  exclude?: string | undefined;
}

/**
 * A student's progress across all their sessions — voice calls, tool-call sittings, workshop pages and
 * explicit sessions alike, since each is a sessions row with its events. Two SQL statements sent together
 * (query.ts); the trends, topics and outstanding next steps are computed here from those rows.
 * Not found: a student with neither a students row nor a session.
 */
export async function studentProgress(ctx: SessionCtx, studentId: string, opts: ProgressOptions = {}): Promise<StudentProgress> {
  let { head, rows } = await loadProgressRows(ctx, studentId, { before: opts.before, exclude: opts.exclude });
  if (!head.student && head.total === 0 && !opts.before && !opts.exclude) {
    // Nobody has this id: it may be the email of a student whose id is another.
    const id = studentId.includes('@') ? await studentIdByEmail(ctx, studentId) : undefined;
    if (id === undefined) throw new DomainError('not_found', `student ${studentId} does not exist`);
    ({ head, rows } = await loadProgressRows(ctx, id));
    studentId = id;
  }
  const now = ctx.now();
  const sessions = rows.map((r) => toProgressSession(r, now, ctx.timeoutMs));
  const last = opts.last ?? DEFAULT_TREND_SESSIONS;
  const recent = opts.recent ?? DEFAULT_RECENT_SESSIONS;
  const window = sessions.slice(-last);
  const covered = coverage(sessions);
  const strip = ({ lastIndex: _, ...c }: (typeof covered)[number]) => c;
  return StudentProgress.parse({
    student: head.student ?? { id: studentId, name: null, email: null },
    session_count: head.total,
    truncated: head.total > MAX_PROGRESS_SESSIONS,
    sessions,
    trends: {
      last,
      accuracy: trendOf(window, (i) => window[i]?.accuracy ?? null, 'up'),
      time_per_attempt_ms: trendOf(window, (i) => window[i]?.avg_time_per_attempt_ms ?? null, 'down'),
      duration_seconds: trendOf(window, (i) => window[i]?.duration_seconds ?? null, null),
      engagement: trendOf(window, (i) => window[i]?.engagement_score ?? null, 'up'),
    },
    topics: { recent, covered: covered.map(strip), not_revisited: notRevisited(covered, sessions.length, recent).map(strip) },
    outstanding_next_steps: outstandingSteps(sessions),
  });
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** Distinct by topicKey, first spelling kept. */
function distinct(names: Array<string | null | undefined>): string[] {
  const out = new Map<string, string>();
  for (const n of names) if (n?.trim() && !out.has(topicKey(n))) out.set(topicKey(n), n.trim());
  return [...out.values()];
}

function toProgressSession(r: ProgressRow, now: Date, timeoutMs: number): ProgressSession {
  const eff = effective(r, now, timeoutMs);
  // Stored results were validated when written, but read defensively: a bad row must not break the page.
  const raw = typeof r.analysis_result === 'string' ? (JSON.parse(r.analysis_result) as unknown) : r.analysis_result;
  const result = isJsonObject(raw) ? raw : {};
  const engagement = typeof result.engagement_score === 'number' && result.engagement_score >= 0 && result.engagement_score <= 1 ? result.engagement_score : null;
  const totalMs = Number(r.total_ms);
  return {
    session_id: r.id,
    platform: r.platform,
    kind: r.kind,
    status: eff.status,
    start_time: new Date(r.started_at).toISOString(),
    end_time: eff.endedAt ? eff.endedAt.toISOString() : null,
    duration_seconds: Math.round(sessionDurationMs(r, now, timeoutMs) / 1000),
    subject: r.subject,
    topic: r.topic,
    subjects: distinct([r.subject, ...jsonArray(r.accessed), ...jsonArray(r.subjects)]),
    topics: distinct([r.topic, r.subtopic, ...jsonArray(r.topics)]),
    interactions: r.interaction_count,
    transcript_turns: r.transcript_count,
    events: Number(r.n_events),
    errors: Number(r.n_errors),
    attempts: r.attempts,
    correct: r.correct,
    accuracy: accuracyOf(r.attempts, r.correct),
    avg_time_per_attempt_ms: averageMs(totalMs, r.timed),
    engagement_score: engagement,
    next_steps: strings(result.next_steps),
    concepts_covered: strings(result.concepts_covered),
    analysis_id: r.analysis_id,
  };
}
