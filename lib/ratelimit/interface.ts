/**
 * The rate-limit port (unkey's `pkg/ratelimit/interface.ts`): the one operation the HTTP
 * middleware needs. Adapters sit beside it: `upstash.ts` (shared by every instance, on Redis) and
 * `memory.ts` (one local process). The middleware that turns a refusal into a 429 stays in
 * lib/http/ratelimit.ts, so nothing here knows about HTTP.
 */

export interface LimitResult {
  ok: boolean;
  /** Seconds until a request would be allowed again (for Retry-After). */
  retryAfter: number;
}

/**
 * `limit` units per `windowMs` for `key` in `bucket`; one call charges `cost` units (default 1), so
 * a batch of 49 events costs 49, not one request. As in @upstash/ratelimit's sliding window, a key
 * with budget left is charged even when this call overdraws it (and refused): an overdrawn key stays
 * refused until the window slides, which is what a limit on abuse should do.
 */
export interface RateLimiter {
  check(bucket: string, key: string, limit: number, windowMs: number, cost?: number): Promise<LimitResult>;
  /**
   * Whether `key` has budget left, charging nothing: for limits that only count failures (failed
   * authentication), which must refuse before the attempt is judged, or an attacker over the limit
   * would still learn which guess was right.
   */
  peek(bucket: string, key: string, limit: number, windowMs: number): Promise<LimitResult>;
}
