/**
 * A key for one purpose, derived from a configured secret: HMAC-SHA256(secret, label). The secret
 * itself (ADMIN_TOKEN) stays a bearer credential only, each use gets its own key (a stream token's
 * MAC can never stand for an erasure hash), and no new setting is needed. Keys are derived once per
 * instance and kept.
 */
const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

export function derivedHmacKey(secret: string, label: string): Promise<CryptoKey> {
  const id = `${label}\u0000${secret}`;
  let key = keys.get(id);
  if (!key) {
    key = (async () => {
      const root = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      const derived = await crypto.subtle.sign('HMAC', root, encoder.encode(label));
      return crypto.subtle.importKey('raw', derived, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    })();
    keys.set(id, key);
  }
  return key;
}
