/**
 * The name an erasure is audited under: HMAC-SHA256 of the student id, keyed by a key derived
 * from ADMIN_TOKEN (ADR 0014). An unkeyed sha256(id) could be confirmed by anyone who guesses the
 * id ("emma_smith"); with the key, only someone who holds the admin token can (and they can read
 * everything anyway). Rotating ADMIN_TOKEN changes the hashes of later erasures, not earlier ones.
 */
const encoder = new TextEncoder();

async function hmac(key: Uint8Array<ArrayBuffer> | string, text: string): Promise<Uint8Array<ArrayBuffer>> {
  const raw = typeof key === 'string' ? encoder.encode(key) : key;
  const k = await crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, encoder.encode(text)));
}

/** `hmac:<32 hex>` for the audit path. The id is lowercased: erasure by `EMMA@X.COM` and `emma@x.com` is one student. */
export async function erasureHash(adminToken: string, studentId: string): Promise<string> {
  // A derived key, not the token itself: the token's only other use is comparing bearer credentials.
  const key = await hmac(adminToken, 'sessionlog erasure audit v1');
  const mac = await hmac(key, studentId.trim().toLowerCase());
  return `hmac:${[...mac.slice(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}
