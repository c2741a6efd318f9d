import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from './env.js';
import type { Config } from '../config.js';
import { describeError } from '../deps.js';
import { ApiError } from '../errors.js';
import type { LimitResult } from '../ratelimit/interface.js';
import { redactSecrets } from '../util/redact.js';

// The HTTP side of rate limiting: which key a request counts against, and a 429 with Retry-After
// when it is over. The port and its adapters (Upstash, memory) are in lib/ratelimit/.

/**
 * The client's address, which every per-IP limit is keyed on.
 *
 * Behind a trusted proxy (Vercel, or TRUST_PROXY=true): the platform's own client-IP header when
 * there is one (Vercel's `x-vercel-forwarded-for`), else the X-Forwarded-For entry the trusted proxy
 * appended, the TRUST_PROXY_HOPS-th from the right. Never the leftmost entry nor X-Real-IP: a
 * client writes those itself, and trusting them gave every request of an attacker a fresh address
 * (and a fresh limit). A header with fewer entries than hops did not come through the proxies, so
 * it is ignored like an untrusted one.
 *
 * Otherwise the socket's address (@hono/node-server), else Cloudflare's `cf-connecting-ip` (set by
 * the platform on workerd, where there is no socket), else "unknown".
 */
export function clientIp(c: Context<AppEnv>, config: Config): string {
  const { trustProxy, proxyHops, platformIpHeader } = config.rateLimits;
  if (trustProxy) {
    const platform = platformIpHeader ? c.req.header(platformIpHeader)?.split(',')[0]?.trim() : undefined;
    if (platform) return platform;
    const hops = (c.req.header('x-forwarded-for') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const appended = hops.length >= proxyHops ? hops[hops.length - proxyHops] : undefined;
    if (appended) return appended;
  }
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? c.req.header('cf-connecting-ip') ?? 'unknown';
}

/**
 * The key a per-address limit counts an address under: an IPv6 address by its /64, the block one
 * subscriber or host is given (counting each address let one client rotate through 2^64 of them,
 * each with a fresh limit); an IPv4-mapped IPv6 address as its IPv4 address; anything else as is.
 */
export function addressKey(ip: string): string {
  const bare = ip.split('%')[0] ?? ip;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped?.[1]) return mapped[1];
  if (!bare.includes(':')) return bare;
  const [head = '', tail] = bare.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // An embedded IPv4 tail (::1.2.3.4) is two groups; only the first four matter here.
  const groups = tail === undefined ? left : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  if (groups.length < 4) return bare;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
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

const AUTH_FAIL = 'auth-fail';
const AUTH_FAIL_WINDOW_MS = 60_000;

/**
 * Before a credential is judged: 429 when this address has failed authentication too often. It
 * must come first: refusing only the failures would still tell a guesser which guess was right.
 * A failing limiter lets the request through (as `enforce` does).
 */
export async function refuseAfterAuthFailures(c: Context<AppEnv>): Promise<void> {
  const deps = c.get('deps');
  const { enabled, authFailPerIp } = deps.config.rateLimits;
  if (!enabled) return;
  let r: LimitResult;
  try {
    r = await deps.rateLimiter.peek(AUTH_FAIL, addressKey(clientIp(c, deps.config)), authFailPerIp, AUTH_FAIL_WINDOW_MS);
  } catch (err) {
    deps.log.warn('rate limiter unavailable: allowing the request', { bucket: AUTH_FAIL, error: describeError(err) });
    return;
  }
  if (!r.ok) throw new ApiError('RATE_LIMITED', `too many failed authentications from this address; retry after ${r.retryAfter} s`, { retryAfter: r.retryAfter });
}

/**
 * After a credential was refused: log it (address, method, path, why; never the credential) and
 * charge the address. Returns normally while under the limit (the caller answers 401); the
 * failure that reaches it is answered 429 and logged once as the address being limited.
 */
export async function chargeAuthFailure(c: Context<AppEnv>, reason: string): Promise<void> {
  const deps = c.get('deps');
  const ip = clientIp(c, deps.config);
  const where = { ip, method: c.req.method, path: redactSecrets(new URL(c.req.url).pathname, deps.config.secretValues), reason };
  try {
    await enforce(c, AUTH_FAIL, addressKey(ip), deps.config.rateLimits.authFailPerIp, AUTH_FAIL_WINDOW_MS);
  } catch (err) {
    deps.log.warn('failed authentication: address now rate limited', where);
    throw err;
  }
  deps.log.warn('failed authentication', where);
}

/** Middleware form, keyed by client IP. */
export function limitByIp(bucket: string, limit: (config: Config) => number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const config = c.get('deps').config;
    // Off (RATE_LIMITS=off): not even the client address is worked out.
    if (config.rateLimits.enabled) await enforce(c, bucket, addressKey(clientIp(c, config)), limit(config));
    await next();
  };
}
