import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from './env.js';
import type { Config } from '../config.js';
import { describeError } from '../deps.js';
import { ApiError } from '../errors.js';
import type { LimitResult } from '../ratelimit/interface.js';

// The HTTP side of rate limiting: which key a request counts against, and a 429 with Retry-After
// when it is over. The port and its adapters (Upstash, memory) are in lib/ratelimit/.

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

/**
 * Throw 429 (with Retry-After) when `key` is over its limit; a failing limiter lets requests through.
 * `cost` is how many units this request uses (events in a batch; 1 for a request).
 */
export async function enforce(c: Context<AppEnv>, bucket: string, key: string, limit: number, windowMs = 60_000, cost = 1): Promise<void> {
  const deps = c.get('deps');
  if (!deps.config.rateLimits.enabled) return;
  let r: LimitResult;
  try {
    r = await deps.rateLimiter.check(bucket, key, limit, windowMs, cost);
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
