import { Ratelimit } from '@upstash/ratelimit';
import type { Redis } from '@upstash/redis/cloudflare';
import type { Breaker } from '../storage/breaker.js';
import type { RateLimiter } from './interface.js';
import { memoryRateLimiter } from './memory.js';

/**
 * Redis-backed limits through @upstash/ratelimit (sliding window): shared by every instance of a
 * deployment. Limiters are made once per (bucket, limit, window) and cached, so their ephemeral
 * cache of blocked keys works while the function is warm.
 *
 * A sick Redis must behave like a down one and neither hang requests nor open the gates: when the
 * KV's breaker is open, the call times out (@upstash/ratelimit then answers `reason: "timeout"`)
 * or fails, this instance's `fallback` (in memory) decides instead. Limits then hold per instance
 * rather than per deployment, which is the best that can be had without a shared store.
 */
export function upstashRateLimiter(
  redis: Redis,
  prefix: string,
  opts: { timeoutMs?: number; breaker?: Breaker; fallback?: RateLimiter } = {},
): RateLimiter {
  const limiters = new Map<string, Ratelimit>();
  const fallback = opts.fallback ?? memoryRateLimiter();
  const timeoutMs = opts.timeoutMs ?? 1000;
  const limiterFor = (bucket: string, limit: number, windowMs: number): Ratelimit => {
    const id = `${bucket}:${limit}:${windowMs}`;
    let rl = limiters.get(id);
    if (!rl) {
      rl = new Ratelimit({
        redis,
        limiter: Ratelimit.slidingWindow(limit, `${Math.max(1, Math.round(windowMs / 1000))} s`),
        prefix: `${prefix}rl:${bucket}`,
        analytics: false,
        timeout: timeoutMs,
      });
      limiters.set(id, rl);
    }
    return rl;
  };
  // Through the KV's breaker: a Redis that keeps timing out is skipped, not waited on.
  const guarded = <T>(run: () => Promise<T>): Promise<T> => (opts.breaker ? opts.breaker.run(run, () => true) : run());
  return {
    async check(bucket, key, limit, windowMs, cost = 1) {
      const limiter = limiterFor(bucket, limit, windowMs);
      const run = async () => {
        const r = await limiter.limit(key, { rate: cost });
        if (r.reason === 'timeout') throw new Error('rate limit store timed out');
        return r;
      };
      try {
        const r = await guarded(run);
        return { ok: r.success, retryAfter: Math.max(1, Math.ceil((r.reset - Date.now()) / 1000)) };
      } catch {
        return fallback.check(bucket, key, limit, windowMs, cost);
      }
    },
    async peek(bucket, key, limit, windowMs) {
      const limiter = limiterFor(bucket, limit, windowMs);
      // getRemaining has no timeout of its own (limit's `timeout` option does not cover it).
      const run = async () => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('rate limit store timed out')), timeoutMs);
        });
        try {
          return await Promise.race([limiter.getRemaining(key), late]);
        } finally {
          clearTimeout(timer);
        }
      };
      try {
        const r = await guarded(run);
        return r.remaining > 0 ? { ok: true, retryAfter: 0 } : { ok: false, retryAfter: Math.max(1, Math.ceil((r.reset - Date.now()) / 1000)) };
      } catch {
        return fallback.peek(bucket, key, limit, windowMs);
      }
    },
  };
}
