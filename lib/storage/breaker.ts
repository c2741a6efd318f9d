/**
 * A circuit breaker for an optional store (KV). After `failures` consecutive failures it opens:
 * calls fail at once, without waiting on a store that keeps timing out, for `cooldownMs`. Then one
 * call is let through as a probe; its success closes the breaker, its failure opens it again.
 * Only "unavailable" failures count (the caller decides which); a store that answers with an error
 * is working. Per process (per isolate on edge): each instance learns on its own, which is enough
 * to keep one sick KV from costing every request a full deadline.
 */
export interface BreakerOptions {
  /** Consecutive failures that open the breaker. @default 3 */
  failures?: number;
  /** How long it stays open before the next probe: short, so a recovered store is back within about a second. @default 1000 */
  cooldownMs?: number;
  now?: () => number;
}

export class BreakerOpenError extends Error {
  override readonly name = 'BreakerOpenError';
  constructor() {
    super('circuit open: the store failed repeatedly; not waiting on it until the next probe');
  }
}

export interface Breaker {
  /** Run `work` unless the breaker is open; `isFailure` says which errors count against the store. */
  run<T>(work: () => Promise<T>, isFailure: (err: unknown) => boolean): Promise<T>;
  readonly state: 'closed' | 'open' | 'half-open';
}

export function createBreaker(opts: BreakerOptions = {}): Breaker {
  const threshold = opts.failures ?? 3;
  const cooldownMs = opts.cooldownMs ?? 1000;
  const now = opts.now ?? Date.now;
  let consecutive = 0;
  let openUntil = 0;
  let probing = false;

  const state = (): Breaker['state'] => (consecutive < threshold ? 'closed' : now() < openUntil || probing ? 'open' : 'half-open');

  return {
    get state() {
      return state();
    },
    async run(work, isFailure) {
      const s = state();
      if (s === 'open') throw new BreakerOpenError();
      const probe = s === 'half-open';
      if (probe) probing = true;
      try {
        const out = await work();
        consecutive = 0;
        return out;
      } catch (err) {
        if (isFailure(err)) {
          consecutive++;
          if (consecutive >= threshold) openUntil = now() + cooldownMs;
        } else consecutive = 0;
        throw err;
      } finally {
        if (probe) probing = false;
      }
    },
  };
}
