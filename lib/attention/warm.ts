import { AttentionResponse, type ReasonCode } from '../schemas/attention.js';
import { ATTENTION_DEFAULTS, attentionOf } from './compute.js';
import type { AttentionFacts } from './query.js';

/*
 * Apart from compute.ts, which the alert rules import into every function that stores events: the
 * warm-up validates with the response schema, and only the edge worker runs it (worker.ts). A value
 * import of the schema in compute.ts built its ~60 zod objects at every such function's start.
 */

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
    // Marked helped before its last failed call: listed again, with the mark.
    helped: new Map([['ws_warm_failed', { token: 'ws_warm_failed', at: ago(3), by: 'admin', note: null, student_id: null, student_name: 'Warm Up', student_email: 'warm-up@example.com' }]]),
  };
  const doc = AttentionResponse.parse(attentionOf(facts, { ...ATTENTION_DEFAULTS, now }));
  return new Set(doc.students.flatMap((st) => st.reasons.map((r) => r.code)));
}
