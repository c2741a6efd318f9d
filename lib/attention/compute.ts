import { AttentionResponse, type ReasonCode } from '../schemas/attention.js';
import type { Sql } from '../storage/sql.js';
import { type AttentionFacts, readAttentionFacts } from './query.js';
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
  });
  return attentionOf(facts, { ...o, now: input.now });
}

/** The answer from the facts: each student scored, the cohort's steps, the top errors. */
function attentionOf(facts: AttentionFacts, o: ScoreOptions): Attention {
  const students = scoreStudents(facts, o);
  return {
    generated_at: o.now.toISOString(),
    active_students: facts.activeCount,
    students,
    steps: cohortSteps(facts, students),
    top_errors: facts.topErrors.map((e) => ({ ...e, last_at: new Date(e.last_at).toISOString() })),
  };
}

/**
 * Score a made-up room in which each reason applies to one student, and validate the answer as the
 * route does, storing and reading nothing: V8 compiles the scoring on its first call and zod
 * prepares the response schema on its first use, and an edge isolate's start-up has its own CPU
 * allowance while an instructor's first poll has 10 ms (worker.ts). No I/O, timers or random
 * values. Returns the reasons found (all of them, or a sample has drifted from the rules:
 * tests/unit/attention-warm.test.ts).
 */
export function warmUpAttention(): Set<ReasonCode> {
  const now = new Date(1_700_000_000_000);
  const ago = (minutes: number) => new Date(now.getTime() - minutes * 60_000).toISOString();
  const student = (token: string, own: Partial<AttentionFacts['active'][number]>): AttentionFacts['active'][number] => ({
    token, student_id: null, student_name: 'Warm Up', student_email: 'warm-up@example.com', last_at: ago(1), last_type: 'action', last_error: null,
    recent_errors: 0, recent_first: null, recent_last: null, failed_calls: 0, failed_first: null, failed_last: null,
    step: '2', step_name: 'Step 2', step_since: ago(3), ...own,
  });
  const facts: AttentionFacts = {
    active: [
      student('ws_warm_repeated', { last_type: 'error', last_error: 'TypeError: x', recent_errors: 3, recent_first: ago(3), recent_last: ago(1) }),
      student('ws_warm_failed', { failed_calls: 2, failed_first: ago(4), failed_last: ago(2) }),
      student('ws_warm_stuck', { step_since: ago(30) }),
      student('ws_warm_silent', { last_at: ago(6), last_type: 'error', last_error: 'NetworkError: fetch failed' }),
    ],
    activeCount: 5,
    onStep: new Map([['2', 5]]),
    repeats: [{ token: 'ws_warm_repeated', error_type: 'TypeError', message: 'x', n: 3, first_at: ago(3), last_at: ago(1) }],
    steps: [{ step: '1', step_name: 'Step 1', first_seen: ago(40), median_s: 120, passed: 5 }, { step: '2', step_name: 'Step 2', first_seen: ago(35), median_s: 180, passed: 4 }],
    topErrors: [{ error_type: 'TypeError', message: 'x', students: 1, count: 3, last_at: ago(1) }],
  };
  const doc = AttentionResponse.parse(attentionOf(facts, { ...ATTENTION_DEFAULTS, now }));
  return new Set(doc.students.flatMap((st) => st.reasons.map((r) => r.code)));
}
