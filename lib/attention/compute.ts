import type { AttentionResponse } from '../schemas/attention.js';
import type { Sql } from '../storage/sql.js';
import { HELPED_LIST_MS } from './helped.js';
import { type AttentionFacts, readAttentionFacts } from './query.js';
import { ordinal } from '../util/order.js';
import { cohortSteps, type ScoredStudent, type ScoreOptions, scoreStudents } from './score.js';

/** Thresholds of the reasons; the stuck ones can be tightened by the alert rule's config. */
export const ATTENTION_DEFAULTS = {
  repeatCount: 3,
  repeatWindowMs: 10 * 60_000,
  recentWindowMs: 5 * 60_000,
  topErrorsWindowMs: 15 * 60_000,
  stuckMultiplier: 3,
  stuckMinMs: 5 * 60_000,
  stuckMinPassed: 3,
  silentAfterMs: 2 * 60_000,
  /** A student whose last event is an error stays on the list this long, past the session timeout. */
  quietAfterErrorMs: 20 * 60_000,
  /** History read when the caller gives no `since`: a long workshop day. */
  lookbackMs: 12 * 3_600_000,
} as const;

export interface AttentionInput {
  sql: Sql;
  now: Date;
  /** Inactivity that ends a session. */
  timeoutMs: number;
  since?: Date | undefined;
  /** Session-token prefix of one workshop. */
  workshop?: string | undefined;
  options?: Partial<Omit<ScoreOptions, 'now'> & { topErrorsWindowMs: number; lookbackMs: number }>;
}

export interface Attention extends AttentionResponse {
  students: ScoredStudent[];
}

/**
 * Who needs help right now, among the students in active web sessions: scored reasons, the
 * cohort's progress per step and the most frequent recent errors. One SQL round trip.
 */
export async function computeAttention(input: AttentionInput): Promise<Attention> {
  const o = { ...ATTENTION_DEFAULTS, ...input.options };
  const since = input.since ?? new Date(input.now.getTime() - o.lookbackMs);
  const facts = await readAttentionFacts(input.sql, {
    since,
    now: input.now,
    prefix: input.workshop ?? null,
    // One workshop: its whole window is its cohort. Every workshop: the room as it is now.
    scope: input.workshop ? 'window' : 'now',
    timeoutMs: input.timeoutMs,
    repeatWindowMs: o.repeatWindowMs,
    repeatCount: o.repeatCount,
    recentWindowMs: o.recentWindowMs,
    topErrorsWindowMs: o.topErrorsWindowMs,
    stuckMinMs: o.stuckMinMs,
    stuckMultiplier: o.stuckMultiplier,
    stuckMinPassed: o.stuckMinPassed,
    quietAfterErrorMs: o.quietAfterErrorMs,
  });
  return attentionOf(facts, { ...o, now: input.now });
}

/** The answer from the facts: each student scored, the cohort's steps, the top errors. */
export function attentionOf(facts: AttentionFacts, o: ScoreOptions): Attention {
  const students = scoreStudents(facts, o);
  const listed = new Set(students.map((s) => s.session_id));
  const recent = o.now.getTime() - HELPED_LIST_MS;
  const helped = [...facts.helped.values()]
    .filter((h) => !listed.has(h.token) && Date.parse(h.at) >= recent)
    .sort((x, y) => Date.parse(y.at) - Date.parse(x.at) || ordinal(x.token, y.token))
    .map((h) => ({
      session_id: h.token,
      student_id: h.student_id,
      student_name: h.student_name,
      student_email: h.student_email,
      at: new Date(h.at).toISOString(),
      by: h.by,
      note: h.note,
    }));
  return {
    generated_at: o.now.toISOString(),
    active_students: facts.activeCount,
    students,
    steps: cohortSteps(facts, students),
    top_errors: facts.topErrors.map((e) => ({ ...e, last_at: new Date(e.last_at).toISOString() })),
    helped,
  };
}
