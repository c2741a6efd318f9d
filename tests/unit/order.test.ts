/** Sorts on request paths that never call localeCompare (lib/util/order.ts), and the progress lists that use them. */
import { describe, expect, it, vi } from 'vitest';
import { coverage, outstandingSteps } from '../../lib/progress/coverage.js';
import type { ProgressSession } from '../../lib/schemas/progress.js';
import { byName, nameKey, ordinal } from '../../lib/util/order.js';

const session = (id: string, start: string, own: Partial<ProgressSession>): ProgressSession => ({
  session_id: id, platform: 'vapi', kind: 'auto', status: 'ended', start_time: start, end_time: null, duration_seconds: 60,
  subject: null, topic: null, subjects: [], topics: [], interactions: 0, transcript_turns: 0, events: 0, errors: 0, attempts: 0,
  correct: 0, accuracy: null, avg_time_per_attempt_ms: null, engagement_score: null, next_steps: [], concepts_covered: [], analysis_id: null, ...own,
});

describe('orders without a locale', () => {
  it('ordinal is code-point order; names sort by their letters, accents and case aside', () => {
    expect(['ws_b', 'ws_a', 'ws_B'].sort(ordinal)).toEqual(['ws_B', 'ws_a', 'ws_b']);
    expect(nameKey('Équations ')).toBe('equations ');
    expect(['zeta', 'Équations', 'algebra', 'equations', 'Algebra'].sort(byName)).toEqual(['Algebra', 'algebra', 'equations', 'Équations', 'zeta']);
  });

  it("a student's topics: newest first, then by name; next steps newest first; localeCompare never called", () => {
    const compare = vi.spyOn(String.prototype, 'localeCompare');
    try {
      const sessions = [
        session('s1', '2026-11-01T10:00:00.000Z', { topics: ['zeta'], next_steps: ['Practise zeta'] }),
        session('s2', '2026-11-02T10:00:00.000Z', { topics: ['Équations', 'algebra', 'Zebra'], next_steps: ['Review limits'] }),
      ];
      expect(coverage(sessions).map((c) => c.name)).toEqual(['algebra', 'Équations', 'Zebra', 'zeta']);
      expect(outstandingSteps(sessions).map((s) => s.step)).toEqual(['Review limits', 'Practise zeta']);
      expect(compare).not.toHaveBeenCalled();
    } finally {
      vi.restoreAllMocks();
    }
  });
});
