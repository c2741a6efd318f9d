/**
 * The name an erasure is audited under: HMAC-SHA256 of the student id, keyed by a key derived
 * from ADMIN_TOKEN (ADR 0014). An unkeyed sha256(id) could be confirmed by anyone who guesses the
 * id ("emma_smith"); with the key, only someone who holds the admin token can (and they can read
 * everything anyway). Rotating ADMIN_TOKEN changes the hashes of later erasures, not earlier ones.
 */
import { derivedHmacKey } from '../util/derived-key.js';

const encoder = new TextEncoder();

/** `hmac:<32 hex>` for the audit path. The id is lowercased: erasure by `EMMA@X.COM` and `emma@x.com` is one student. */
export async function erasureHash(adminToken: string, studentId: string): Promise<string> {
  const key = await derivedHmacKey(adminToken, 'sessionlog erasure audit v1');
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(studentId.trim().toLowerCase())));
  return `hmac:${[...mac.slice(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}
