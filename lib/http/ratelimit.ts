import { Ratelimit } from '@upstash/ratelimit';
import type { Redis } from '@upstash/redis/cloudflare';
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from './env.js';
import type { Config } from '../config.js';
import type { Breaker } from '../storage/breaker.js';
import { describeError } from '../deps.js';
import { ApiError } from '../errors.js';

export interface LimitResult {
  ok: boolean;
  /** Seconds until a request would be allowed again (for Retry-After). */
  retryAfter: number;
}

/** `limit` requests per `windowMs` for `key` in `bucket`. */
export interface RateLimiter {
  check(bucket: string, key: string, limit: number, windowMs: number): Promise<LimitResult>;
}

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
  return {
    async check(bucket, key, limit, windowMs) {
      const id = `${bucket}:${limit}:${windowMs}`;
      let rl = limiters.get(id);
      if (!rl) {
        rl = new Ratelimit({
          redis,
          limiter: Ratelimit.slidingWindow(limit, `${Math.max(1, Math.round(windowMs / 1000))} s`),
          prefix: `${prefix}rl:${bucket}`,
          analytics: false,
          timeout: opts.timeoutMs ?? 1000,
        });
        limiters.set(id, rl);
      }
      const limiter = rl;
      const run = async () => {
        const r = await limiter.limit(key);
        if (r.reason === 'timeout') throw new Error('rate limit store timed out');
        return r;
      };
      try {
        // Through the KV's breaker: a Redis that keeps timing out is skipped, not waited on.
        const r = opts.breaker ? await opts.breaker.run(run, () => true) : await run();
        return { ok: r.success, retryAfter: Math.max(1, Math.ceil((r.reset - Date.now()) / 1000)) };
      } catch {
        return fallback.check(bucket, key, limit, windowMs);
      }
    },
  };
}

/**
 * The same sliding-window rule in memory, for one local process: the previous window's count,
 * weighted by how much of it still overlaps the sliding window, plus the current window's count.
 */
export function memoryRateLimiter(now: () => number = Date.now): RateLimiter {
  const windows = new Map<string, { start: number; count: number; previous: number }>();
  return {
    async check(bucket, key, limit, windowMs) {
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
      const used = w.previous * weight + w.count;
      if (used >= limit) return { ok: false, retryAfter: Math.max(1, Math.ceil((start + windowMs - t) / 1000)) };
      w.count++;
      return { ok: true, retryAfter: 0 };
    },
  };
}

/**
 * The client's address: X-Forwarded-For only when a trusted proxy sets it (Vercel, or
 * TRUST_PROXY=true), else the socket's address (@hono/node-server), else "unknown".
 */
export function clientIp(c: Context<AppEnv>, config: Config): string {
  if (config.rateLimits.trustProxy) {
    const fwd = c.req.header('x-forwarded-for')?.split(',')[0]?.trim() || c.req.header('x-real-ip') || c.req.header('cf-connecting-ip');
    if (fwd) return fwd;
  }
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? c.req.header('cf-connecting-ip') ?? 'unknown';
}

/** Throw 429 (with Retry-After) when `key` is over its limit; a failing limiter lets requests through. */
export async function enforce(c: Context<AppEnv>, bucket: string, key: string, limit: number, windowMs = 60_000): Promise<void> {
  const deps = c.get('deps');
  if (!deps.config.rateLimits.enabled) return;
  let r: LimitResult;
  try {
    r = await deps.rateLimiter.check(bucket, key, limit, windowMs);
  } catch (err) {
    deps.log.warn('rate limiter unavailable: allowing the request', { bucket, error: describeError(err) });
    return;
  }
  if (!r.ok) {
    throw new ApiError('RATE_LIMITED', `too many requests (${bucket}); retry after ${r.retryAfter} s`, { retryAfter: r.retryAfter });
  }
}

/** Middleware form, keyed by client IP. */
export function limitByIp(bucket: string, limit: (config: Config) => number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const config = c.get('deps').config;
    await enforce(c, bucket, clientIp(c, config), limit(config));
    await next();
  };
}
