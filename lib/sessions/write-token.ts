import { fromBase64url, toBase64url } from '../util/base64url.js';
import { derivedHmacKey } from '../util/derived-key.js';

/**
 * Session write tokens: the capability a public page needs to post events into a session it did
 * not open itself (a tutoring sitting, an explicit session, a voice call) — a practice page posting
 * `attempt`s into the student's sitting. Workshop pages need none: their token is their own session.
 *
 * `wt1.<mac>`, where mac = HMAC-SHA256(key, session id) and the key is derived from ADMIN_TOKEN with
 * its own label (lib/util/derived-key.ts): no new secret, it names one session only, and rotating
 * the admin token revokes every write token. It does not expire: a session is one sitting, and the
 * token gives nothing beyond adding events to it (ADR 0028).
 */
const LABEL = 'sessionlog session write token v1';
const PREFIX = 'wt1.';
const encoder = new TextEncoder();

/** The syntax, for input validation: `wt1.` and a base64url SHA-256 MAC (43 characters). */
export const WRITE_TOKEN_PATTERN = /^wt1\.[A-Za-z0-9_-]{43}$/;

export async function signWriteToken(secret: string, sessionId: string): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', await derivedHmacKey(secret, LABEL), encoder.encode(sessionId));
  return PREFIX + toBase64url(new Uint8Array(mac));
}

/** True when `token` is the write token of `sessionId` (constant-time MAC check). */
export async function verifyWriteToken(secret: string, sessionId: string, token: string): Promise<boolean> {
  if (!WRITE_TOKEN_PATTERN.test(token)) return false;
  const mac = fromBase64url(token.slice(PREFIX.length));
  if (!mac || toBase64url(mac) !== token.slice(PREFIX.length)) return false; // one spelling per token
  return crypto.subtle.verify('HMAC', await derivedHmacKey(secret, LABEL), mac, encoder.encode(sessionId));
}
