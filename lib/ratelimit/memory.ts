import type { RateLimiter } from './interface.js';

/**
 * The same sliding-window rule as the Upstash adapter, in memory, for one local process: the
 * previous window's count, weighted by how much of it still overlaps the sliding window, plus the
 * current window's count. A call charges `cost` units (see the port for overdrawing).
 */
export function memoryRateLimiter(now: () => number = Date.now): RateLimiter {
  const windows = new Map<string, { start: number; count: number; previous: number }>();
  const usage = (bucket: string, key: string, windowMs: number) => {
    const t = now();
    const id = `${bucket}:${key}`;
    const start = t - (t % windowMs);
    let w = windows.get(id);
    if (!w || w.start !== start) {
      const previous = w && w.start === start - windowMs ? w.count : 0;
      w = { start, count: 0, previous };
      windows.set(id, w);
      if (windows.size > 100_000) windows.clear(); // bound memory under a flood of keys
    }
    const weight = 1 - (t - start) / windowMs;
    // Floored like Upstash's script, so both adapters answer the same for the same history.
    const used = Math.floor(w.previous * weight) + w.count;
    return { w, used, refused: { ok: false, retryAfter: Math.max(1, Math.ceil((start + windowMs - t) / 1000)) } };
  };
  return {
    async check(bucket, key, limit, windowMs, cost = 1) {
      const { w, used, refused } = usage(bucket, key, windowMs);
      if (used >= limit) return refused;
      w.count += cost;
      return used + cost <= limit ? { ok: true, retryAfter: 0 } : refused;
    },
    async peek(bucket, key, limit, windowMs) {
      const { used, refused } = usage(bucket, key, windowMs);
      return used >= limit ? refused : { ok: true, retryAfter: 0 };
    },
  };
}
