import { describe, expect, it, vi } from 'vitest';
import { warmUpAttention } from '../../lib/attention/warm.js';
import { ReasonCode } from '../../lib/schemas/attention.js';

describe('warmUpAttention (the edge worker runs it while its isolate starts)', () => {
  it('scores a room in which every reason applies, and the answer passes the response schema', () => {
    // Were a sample to drift from the rules, the warm-up would compile only part of the scoring.
    expect([...warmUpAttention()].sort()).toEqual([...ReasonCode.options].sort());
  });

  it('generates no random values and reads no clock (workerd refuses random values while an isolate starts)', () => {
    const uuid = vi.spyOn(crypto, 'randomUUID');
    const values = vi.spyOn(crypto, 'getRandomValues');
    const clock = vi.spyOn(Date, 'now');
    try {
      warmUpAttention();
      expect(uuid).not.toHaveBeenCalled();
      expect(values).not.toHaveBeenCalled();
      expect(clock).not.toHaveBeenCalled();
    } finally {
      vi.restoreAllMocks();
    }
  });
});
