/** scoreStudents and cohortSteps on facts made by hand: how ties and times are ordered. */
import { describe, expect, it, vi } from 'vitest';
import { ATTENTION_DEFAULTS } from '../../lib/attention/compute.js';
import type { ActiveRow, AttentionFacts } from '../../lib/attention/query.js';
import { cohortSteps, scoreStudents } from '../../lib/attention/score.js';

const now = new Date('2026-10-25T02:00:00Z');
const ago = (minutes: number) => new Date(now.getTime() - minutes * 60_000).toISOString();
const active = (token: string, own: Partial<ActiveRow> = {}): ActiveRow => ({
  token, student_id: null, student_name: null, student_email: null, last_at: ago(1), last_type: 'action', last_error: null,
  recent_errors: 2, recent_first: ago(3), recent_last: ago(2), failed_calls: 0, failed_first: null, failed_last: null,
  step: null, step_name: null, step_since: null, ...own,
});
const facts = (own: Partial<AttentionFacts>): AttentionFacts => ({ active: [], activeCount: 0, onStep: new Map(), repeats: [], steps: [], topErrors: [], helped: new Map(), ...own });
const score = (f: AttentionFacts) => scoreStudents(f, { ...ATTENTION_DEFAULTS, now });

describe('attention scoring order', () => {
  it('equal scores: the longest-standing problem first, then tokens in code-point order, never by a locale', () => {
    const compare = vi.spyOn(String.prototype, 'localeCompare');
    try {
      const out = score(facts({ active: [active('ws_b'), active('ws_a'), active('ws_B'), active('ws_c', { recent_first: ago(4) })] }));
      expect(out.map((s) => s.session_id)).toEqual(['ws_c', 'ws_B', 'ws_a', 'ws_b']);
      expect(new Set(out.slice(1).map((s) => s.score)).size).toBe(1);
      // localeCompare's first call sets up ICU's collator: ~13 ms, more than a free-plan poll's CPU.
      expect(compare).not.toHaveBeenCalled();
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('reads times as times when the database writes them with a changing UTC offset (the night clocks go back)', () => {
    // 02:30+02:00 is 00:30 UTC, 02:10+01:00 is 01:10 UTC: as text the second sorts first.
    const early = '2026-10-25T02:30:00+02:00';
    const late = '2026-10-25T02:10:00+01:00';
    const steps = cohortSteps(facts({
      steps: [
        { step: 'setup', step_name: null, first_seen: late, median_s: null, passed: 0 },
        { step: 'intro', step_name: null, first_seen: early, median_s: null, passed: 0 },
      ],
    }), []);
    expect(steps.map((s) => s.step)).toEqual(['intro', 'setup']);

    // Two errors repeated as often: the one repeated last is the one reported.
    const [rita] = score(facts({
      active: [active('ws_rita', { recent_errors: 0, recent_first: null, recent_last: null })],
      repeats: [
        { token: 'ws_rita', error_type: 'TypeError', message: 'late', n: 3, first_at: early, last_at: late },
        { token: 'ws_rita', error_type: 'TypeError', message: 'early', n: 3, first_at: early, last_at: early },
      ],
    }));
    expect(rita?.reasons[0]?.message).toContain('TypeError: late');
  });
});
