import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../errors.js';

const encoder = new TextEncoder();

/**
 * Compare secrets in constant time using Web Crypto only (runs on Node, Vercel and workerd):
 * hashing both sides first makes the comparison independent of length and content.
 */
export async function safeEqual(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(a)),
    crypto.subtle.digest('SHA-256', encoder.encode(b)),
  ]);
  const x = new Uint8Array(ha);
  const y = new Uint8Array(hb);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

export function bearerToken(header: string | undefined | null): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

/** True when the Authorization header carries one of the accepted tokens. */
export async function hasToken(header: string | undefined | null, accepted: ReadonlyArray<string | undefined>): Promise<boolean> {
  const token = bearerToken(header);
  if (!token) return false;
  let ok = false;
  // Check every candidate (no early exit) so timing does not reveal which one matched.
  for (const candidate of accepted) if (candidate && (await safeEqual(token, candidate))) ok = true;
  return ok;
}

/** Middleware: 401 problem unless the request carries one of the tokens `pick` returns. */
export function requireToken(pick: () => ReadonlyArray<string | undefined>, what: string): MiddlewareHandler {
  return async (c, next) => {
    if (!(await hasToken(c.req.header('authorization'), pick()))) {
      throw new ApiError('UNAUTHORIZED', `missing or invalid bearer token (${what} required)`, {
        headers: { 'www-authenticate': 'Bearer' },
      });
    }
    await next();
  };
}
