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

/** `limit` requests per `windowMs` for `key` in `bucket`. */
export interface RateLimiter {
  check(bucket: string, key: string, limit: number, windowMs: number): Promise<LimitResult>;
}
