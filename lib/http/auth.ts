import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv, Principal, Role } from './env.js';
import type { Config } from '../config.js';
import { describeError } from '../deps.js';
import { redactQuery, writeAudit } from '../audit/trail.js';
import { redactSecrets } from '../util/redact.js';
import { ApiError } from '../errors.js';
import { defer } from './defer.js';
import { chargeAuthFailure, refuseAfterAuthFailures } from './ratelimit.js';
import { bearerToken, sameDigest, sha256 } from '../util/safe-equal.js';

/** Digests of configured secrets, computed once: each request then hashes only its own token. */
const secretDigests = new Map<string, Promise<Uint8Array>>();
function secretDigest(secret: string): Promise<Uint8Array> {
  const known = secretDigests.get(secret);
  if (known) return known;
  const d = sha256(secret);
  secretDigests.set(secret, d);
  return d;
}

/** Which principal a bearer token is. Every configured token is compared (no early exit). */
export async function resolvePrincipal(header: string | undefined | null, config: Config): Promise<Principal | null> {
  const token = bearerToken(header);
  if (!token) return null;
  const given = await sha256(token);
  const candidates: Array<[string | undefined, Principal]> = [
    [config.adminToken, { role: 'admin', id: 'admin' }],
    ...config.instructorTokens.map((t): [string, Principal] => [t.token, { role: 'instructor', id: `instructor:${t.name}` }]),
    [config.serviceToken, { role: 'service', id: 'service' }],
    [config.cronSecret, { role: 'cron', id: 'cron' }],
    [config.webhookToken, { role: 'webhook', id: 'webhook' }],
  ];
  let found: Principal | null = null;
  for (const [secret, principal] of candidates) if (secret && sameDigest(given, await secretDigest(secret)) && !found) found = principal;
  return found;
}

/** Roles whose every request is audited, reads included: people. */
const AUDITED_ROLES: ReadonlySet<Role> = new Set(['admin', 'instructor']);
const READS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * What else is audited: every change, whoever made it. Cron calls change data even when Vercel
 * sends them as GET (retention, erasure by cron), so every cron call counts as one.
 */
function audited(principal: Principal, method: string): boolean {
  return AUDITED_ROLES.has(principal.role) || principal.role === 'cron' || !READS.has(method);
}

/**
 * Middleware: 401 without a known token, 403 for a known token whose role may not do this.
 * Failed authentications are limited per client address (RATE_LIMIT_AUTH_FAIL_IP, lib/http/ratelimit.ts).
 * Written to the audit trail after the response, with the token's id (never the token): every
 * refused attempt (401, 403), every request by a person, every change by any token.
 */
export function allow(roles: readonly Role[], action: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const deps = c.get('deps');
    // Refusals by the failure limit are not audited: under a flood they would write a row each.
    await refuseAfterAuthFailures(c);
    const principal = await resolvePrincipal(c.req.header('authorization'), deps.config);
    if (!principal) {
      await auditRefusal(c, action, () => chargeAuthFailure(c, c.req.header('authorization') ? 'unknown bearer token' : 'no bearer token'));
      throw new ApiError('UNAUTHORIZED', `missing or invalid bearer token (${roles.join(' or ')} token required)`, {
        headers: { 'www-authenticate': 'Bearer' },
      });
    }
    if (!roles.includes(principal.role)) {
      audit(c, principal.id, action, 403);
      throw new ApiError('FORBIDDEN', `the ${principal.role} token may not ${action}`);
    }
    c.set('principal', principal);
    try {
      await next();
    } finally {
      if (audited(principal, c.req.method)) audit(c, principal.id, action, c.res.status);
    }
  };
}

/**
 * A refused credential: run `charge` (the failure limit, which may turn it into a 429) and audit
 * the attempt as `anonymous` with the status it gets. Webhook routes use it for their own checks.
 */
export async function auditRefusal(c: Context<AppEnv>, action: string, charge: () => Promise<void>): Promise<void> {
  try {
    await charge();
  } catch (err) {
    audit(c, 'anonymous', action, err instanceof ApiError ? err.status : 500);
    throw err;
  }
  audit(c, 'anonymous', action, 401);
}

/** Write one audit row for this request after the response (best effort, never the token). */
export function audit(c: Context<AppEnv>, actor: string, action: string, status: number): void {
  const deps = c.get('deps');
  const url = new URL(c.req.url);
  const auditPath = c.get('auditPath');
  // A credential is never stored, wherever the caller put it: secret-named parameters by name,
  // any configured secret by its value (a query parameter of any name, the path).
  const secrets = deps.config.secretValues;
  const write = writeAudit(deps.sql, {
    at: deps.now(),
    actor,
    action,
    method: c.req.method,
    path: redactSecrets(auditPath ?? safeDecode(url.pathname), secrets),
    status,
    detail: auditPath || !url.search ? {} : { query: redactQuery(url.searchParams, secrets) },
  });
  // A warning, not an error: the request itself succeeded, and the trail is best effort.
  defer(
    c,
    write.catch((err: unknown) => deps.log.warn('audit write failed', { error: describeError(err) })),
  );
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
