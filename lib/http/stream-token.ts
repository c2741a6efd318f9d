import type { MiddlewareHandler } from 'hono';
import type { AppEnv, Role } from './env.js';
import { ApiError } from '../errors.js';
import { allow, audit, auditRefusal } from './auth.js';
import { chargeAuthFailure, refuseAfterAuthFailures } from './ratelimit.js';
import { fromBase64url, toBase64url } from '../util/base64url.js';
import { derivedHmacKey } from '../util/derived-key.js';

/**
 * Short-lived stream tokens: `EventSource` cannot send an Authorization header, and a long-lived
 * token must never sit in a URL (logs, history, Referer). POST /api/sessions/{id}/stream-token
 * hands out `st1.<payload>.<mac>`, valid for STREAM_TOKEN_SECONDS and for that one session only,
 * usable as `?token=` on GET /api/sessions/{id}/stream.
 *
 * The MAC key is derived from ADMIN_TOKEN (HMAC-SHA256 with a fixed label), so there is no new
 * secret to configure and rotating the admin token revokes every stream token (ADR 0017).
 */
export const STREAM_TOKEN_SECONDS = 60;
const LABEL = 'sessionlog stream token v1';
const encoder = new TextEncoder();

/** The MAC key for one admin token, derived once per instance. */
const macKey = (adminToken: string) => derivedHmacKey(adminToken, LABEL);

export async function signStreamToken(adminToken: string, sessionId: string, now: Date): Promise<{ token: string; expiresAt: Date }> {
  const expiresAt = new Date(now.getTime() + STREAM_TOKEN_SECONDS * 1000);
  const payload = toBase64url(encoder.encode(JSON.stringify({ s: sessionId, e: Math.floor(expiresAt.getTime() / 1000) })));
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await macKey(adminToken), encoder.encode(payload)));
  return { token: `st1.${payload}.${toBase64url(mac)}`, expiresAt };
}

export type StreamTokenCheck = { ok: true } | { ok: false; status: 401 | 403; reason: string };

/** Is `token` a stream token this server signed, unexpired, for `sessionId`? */
export async function verifyStreamToken(adminToken: string, token: string, sessionId: string, now: Date): Promise<StreamTokenCheck> {
  const [version, payload, mac, ...rest] = token.split('.');
  const macBytes = mac ? fromBase64url(mac) : null;
  // Only the encoding this server writes: base64url's last character carries spare bits, so
  // several strings decode to the same MAC; a token must be exactly the one that was issued.
  if (version !== 'st1' || !payload || !macBytes || toBase64url(macBytes) !== mac || rest.length) return { ok: false, status: 401, reason: 'not a stream token' };
  // crypto.subtle.verify compares in constant time.
  if (!(await crypto.subtle.verify('HMAC', await macKey(adminToken), macBytes as Uint8Array<ArrayBuffer>, encoder.encode(payload)))) {
    return { ok: false, status: 401, reason: 'stream token signature is invalid' };
  }
  let claims: { s?: unknown; e?: unknown };
  try {
    claims = JSON.parse(new TextDecoder().decode(fromBase64url(payload) ?? new Uint8Array())) as typeof claims;
  } catch {
    return { ok: false, status: 401, reason: 'not a stream token' };
  }
  if (typeof claims.e !== 'number' || claims.e * 1000 <= now.getTime()) return { ok: false, status: 401, reason: 'stream token expired; ask for a new one' };
  if (claims.s !== sessionId) return { ok: false, status: 403, reason: 'the stream token is for another session' };
  return { ok: true };
}

/**
 * Middleware for routes that accept a stream token: `?token=` when given (checked against the
 * `:id` path parameter), otherwise the usual bearer check for `roles`. Refusals are charged to the
 * failure limit and audited like any other refused credential.
 */
export function allowWithStreamToken(roles: readonly Role[], action: string): MiddlewareHandler<AppEnv> {
  const bearer = allow(roles, action);
  return async (c, next) => {
    const token = c.req.query('token');
    if (token === undefined) return bearer(c, next);
    await refuseAfterAuthFailures(c);
    const deps = c.get('deps');
    // Audit the path without the query: the token must not land in the trail.
    c.set('auditPath', new URL(c.req.url).pathname);
    const check: StreamTokenCheck = deps.config.adminToken
      ? await verifyStreamToken(deps.config.adminToken, token, c.req.param('id') ?? '', deps.now())
      : { ok: false, status: 401, reason: 'stream tokens are not available (ADMIN_TOKEN is not set)' };
    if (!check.ok) {
      if (check.status === 401) {
        await auditRefusal(c, action, () => chargeAuthFailure(c, 'invalid stream token'));
        throw new ApiError('UNAUTHORIZED', check.reason, { headers: { 'www-authenticate': 'Bearer' } });
      }
      audit(c, 'anonymous', action, 403);
      throw new ApiError('FORBIDDEN', check.reason);
    }
    await next();
  };
}
