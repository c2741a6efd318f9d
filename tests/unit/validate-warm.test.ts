import { describe, expect, it, vi } from 'vitest';
import { WARM_SAMPLE_COUNT, warmUpValidation } from '../../lib/events/validate.js';

describe('warmUpValidation (the edge worker runs it while its isolate starts)', () => {
  it('validates a sample of every known event type, single and batched, and every one is valid', () => {
    // Were a sample invalid (a schema tightened), the warm-up would prepare only the error path.
    expect(warmUpValidation()).toBe(WARM_SAMPLE_COUNT);
    expect(WARM_SAMPLE_COUNT).toBeGreaterThanOrEqual(14);
  });

  it('generates no random values (workerd refuses them while an isolate starts)', () => {
    const uuid = vi.spyOn(crypto, 'randomUUID');
    const values = vi.spyOn(crypto, 'getRandomValues');
    try {
      warmUpValidation();
      expect(uuid).not.toHaveBeenCalled();
      expect(values).not.toHaveBeenCalled();
    } finally {
      vi.restoreAllMocks();
    }
  });
});
