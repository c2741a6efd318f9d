import type { Config } from '../../config.js';
import { bearerToken, safeEqual } from '../../util/safe-equal.js';

const encoder = new TextEncoder();

export type VapiAuthResult = { ok: true; via: 'secret' | 'bearer' | 'hmac' | 'unconfigured' } | { ok: false; reason: string };

async function hmacSha256(secret: string, payload: string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(payload)));
}

const toHex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
const toBase64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));

/**
 * Authenticate a Vapi delivery, accepting what Vapi can be configured to send:
 * - `X-Vapi-Secret: <secret>` (legacy server.secret) or `Authorization: Bearer <secret>`
 *   (a Bearer credential), against VAPI_WEBHOOK_SECRET;
 * - an HMAC-SHA256 signature of the raw body (hex, or base64; an optional `sha256=` prefix) in
 *   VAPI_SIGNATURE_HEADER (or `x-signature`, Vapi's default), against VAPI_HMAC_SECRET. With a
 *   timestamp header the signed payload is `{timestamp}.{body}` and stale timestamps are refused.
 * All comparisons are constant time. With neither secret configured, only local mode accepts.
 */
export async function verifyVapi(headers: Headers, rawBody: string, config: Config, now: Date): Promise<VapiAuthResult> {
  const { webhookSecret, hmacSecret, signatureHeader, timestampHeader, toleranceSeconds } = config.vapi;
  if (!webhookSecret && !hmacSecret) {
    return config.mode === 'local' ? { ok: true, via: 'unconfigured' } : { ok: false, reason: 'no Vapi webhook secret is configured on this server' };
  }
  if (webhookSecret) {
    const legacy = headers.get('x-vapi-secret');
    if (legacy && (await safeEqual(legacy, webhookSecret))) return { ok: true, via: 'secret' };
    const bearer = bearerToken(headers.get('authorization'));
    if (bearer && (await safeEqual(bearer, webhookSecret))) return { ok: true, via: 'bearer' };
  }
  if (hmacSecret) {
    const raw = headers.get(signatureHeader) ?? headers.get('x-signature');
    if (raw) {
      const given = raw.trim().replace(/^sha256=/i, '');
      const ts = headers.get(timestampHeader);
      if (ts) {
        const n = Number(ts);
        const ms = Number.isFinite(n) ? (n > 1e12 ? n : n * 1000) : Date.parse(ts);
        if (!Number.isFinite(ms) || Math.abs(now.getTime() - ms) > toleranceSeconds * 1000) {
          return { ok: false, reason: 'signature timestamp is missing, malformed or outside the accepted window' };
        }
      }
      const payloads = ts ? [`${ts}.${rawBody}`, rawBody] : [rawBody];
      let match = false;
      for (const payload of payloads) {
        const mac = await hmacSha256(hmacSecret, payload);
        // Check both encodings without early exit; safeEqual hashes first, so lengths leak nothing.
        if (await safeEqual(given.toLowerCase(), toHex(mac))) match = true;
        if (await safeEqual(given, toBase64(mac))) match = true;
      }
      if (match) return { ok: true, via: 'hmac' };
    }
  }
  return { ok: false, reason: 'missing or invalid Vapi credentials (X-Vapi-Secret, Bearer token or HMAC signature)' };
}
