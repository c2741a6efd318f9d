/**
 * Constant-time secret comparison with Web Crypto only (runs on Node, Vercel and workerd). It lives
 * here, not in the HTTP middleware, because domain code (platform webhook signatures) needs it too
 * and domain code must not import lib/http (docs/adr/0009-layers.md).
 */

const encoder = new TextEncoder();

/** SHA-256 of a string: hashing both sides first makes a comparison independent of length. */
export const sha256 = async (s: string): Promise<Uint8Array> => new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(s)));

/** Compare two digests of equal length without an early exit. */
export function sameDigest(x: Uint8Array, y: Uint8Array): boolean {
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** Compare secrets in constant time: hashing both sides first makes the comparison independent of length and content. */
export async function safeEqual(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([sha256(a), sha256(b)]);
  return sameDigest(x, y);
}

/** The token of an `Authorization: Bearer <token>` header, if that is what it carries. */
export function bearerToken(header: string | undefined | null): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}
