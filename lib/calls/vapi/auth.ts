import type { Config } from '../../config.js';
import { safeEqual } from '../../util/safe-equal.js';

const encoder = new TextEncoder();

export type VapiAuthResult = { ok: true; via: 'secret' | 'bearer' | 'hmac' | 'unconfigured' } | { ok: false; reason: string };
/** What the headers alone decide: accepted, refused, or an HMAC signature that needs the body. */
export type VapiHeaderCheck = VapiAuthResult | { ok: 'needs-body' };

const HASH = { sha256: 'SHA-256', sha512: 'SHA-512', sha1: 'SHA-1' } as const;
/** Hex length of each digest: a signature of any other length is refused before reading the body. */
const HEX_LENGTH = { sha256: 64, sha512: 128, sha1: 40 } as const;

/** The HMAC key: the secret's bytes, or (VAPI_HMAC_SECRET_IS_BASE64) the bytes it encodes. */
function keyBytes(v: Config['vapi']): Uint8Array<ArrayBuffer> {
  const secret = v.hmacSecret as string;
  if (!v.secretIsBase64) return encoder.encode(secret);
  const bin = atob(secret.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
}

async function hmac(algorithm: keyof typeof HASH, key: Uint8Array<ArrayBuffer>, payload: string): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: HASH[algorithm] }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, encoder.encode(payload)));
}

const toHex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
const toBase64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
const toBase64Url = (b: Uint8Array) => toBase64(b).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/** The signature as sent, without the configured prefix (or `sha256=`-style), or null when absent. */
function signatureOf(headers: Headers, v: Config['vapi']): string | null {
  // An explicitly configured header is the only one read; Vapi's default also reads the header
  // earlier Vapi integrations used (x-vapi-signature).
  const names = v.signatureHeader === 'x-signature' ? ['x-signature', 'x-vapi-signature'] : [v.signatureHeader];
  for (const name of names) {
    let raw = headers.get(name)?.trim();
    if (!raw) continue;
    if (v.signaturePrefix && raw.toLowerCase().startsWith(v.signaturePrefix.toLowerCase())) raw = raw.slice(v.signaturePrefix.length);
    return raw.replace(new RegExp(`^${v.hmacAlgorithm}=`, 'i'), '').trim();
  }
  return null;
}

/** The signed timestamp in ms when present, fresh and well-formed (seconds or milliseconds); else why not. */
function freshTimestamp(raw: string | null, v: Config['vapi'], now: Date): { ms: number } | { reason: string } | null {
  if (!raw) return null;
  const n = Number(raw);
  const ms = raw.trim() !== '' && Number.isFinite(n) ? (n > 1e11 ? n : n * 1000) : Date.parse(raw);
  if (!Number.isFinite(ms) || Math.abs(now.getTime() - ms) > v.toleranceSeconds * 1000) {
    return { reason: 'signature timestamp is malformed or outside the accepted window' };
  }
  return { ms };
}

const plausible = (sig: string, v: Config['vapi']) => {
  const hexLen = HEX_LENGTH[v.hmacAlgorithm];
  if (sig.length === hexLen && /^[0-9a-f]+$/i.test(sig)) return true;
  // base64 of n bytes: 4*ceil(n/3) characters (padded), fewer unpadded or base64url.
  const b64 = Math.ceil(hexLen / 2 / 3) * 4;
  return sig.length >= b64 - 2 && sig.length <= b64 && /^[A-Za-z0-9+/_-]+=*$/.test(sig);
};

/**
 * Decide what the headers alone can: a matching legacy `X-Vapi-Secret` or Bearer credential is
 * accepted, and a request that carries nothing usable is refused, both before a byte of the body
 * is read (an unauthenticated 15 MB post costs nothing). A plausible HMAC signature (with a fresh
 * timestamp when one is required) needs the body to verify.
 */
export async function checkVapiHeaders(headers: Headers, config: Config, now: Date): Promise<VapiHeaderCheck> {
  const v = config.vapi;
  if (!v.webhookSecret && !v.hmacSecret) {
    return config.mode === 'local' ? { ok: true, via: 'unconfigured' } : { ok: false, reason: 'no Vapi webhook secret is configured on this server' };
  }
  if (v.webhookSecret) {
    const legacy = headers.get('x-vapi-secret');
    if (legacy && (await safeEqual(legacy, v.webhookSecret))) return { ok: true, via: 'secret' };
    // Vapi's Bearer credential may use another header and may send the token without `Bearer `.
    const value = headers.get(v.bearerHeader)?.trim();
    const token = value ? value.replace(/^Bearer\s+/i, '') : undefined;
    if (token && (await safeEqual(token, v.webhookSecret))) return { ok: true, via: 'bearer' };
  }
  if (v.hmacSecret) {
    const sig = signatureOf(headers, v);
    if (sig && plausible(sig, v)) {
      const ts = freshTimestamp(headers.get(v.timestampHeader), v, now);
      if (ts && 'reason' in ts) return { ok: false, reason: ts.reason };
      if (!ts && v.requireTimestamp && v.payloadFormat.includes('{timestamp}')) return { ok: false, reason: `a signed timestamp (${v.timestampHeader}) is required with the signature` };
      return { ok: 'needs-body' };
    }
  }
  return { ok: false, reason: 'missing or invalid Vapi credentials (X-Vapi-Secret, Bearer token or HMAC signature)' };
}

/**
 * Authenticate a Vapi delivery, accepting every credential Vapi offers:
 * - `X-Vapi-Secret: <secret>` (legacy server.secret) or a Bearer credential in VAPI_BEARER_HEADER
 *   (with or without the `Bearer ` prefix), against VAPI_WEBHOOK_SECRET;
 * - an HMAC (VAPI_HMAC_ALGORITHM: sha256, sha512 or sha1; hex or base64; optional prefix) in
 *   VAPI_SIGNATURE_HEADER, against VAPI_HMAC_SECRET. With VAPI_HMAC_REQUIRE_TIMESTAMP (default)
 *   it counts only over `{timestamp}.{body}` with a fresh timestamp; otherwise a signature of
 *   the body alone is also accepted (weaker: it can be replayed).
 * All comparisons are constant time. With neither secret configured, only local mode accepts.
 */
export async function verifyVapi(
  headers: Headers,
  rawBody: string,
  config: Config,
  now: Date,
  request: { method?: string; url?: string } = {},
): Promise<VapiAuthResult> {
  const first = await checkVapiHeaders(headers, config, now);
  if (first.ok !== 'needs-body') return first;
  const v = config.vapi;
  const key = keyBytes(v);
  const given = signatureOf(headers, v) ?? '';
  const tsRaw = headers.get(v.timestampHeader);
  const ts = freshTimestamp(tsRaw, v, now);
  // Vapi's payloadFormat, each placeholder replaced once, left to right (a body holding
  // "{timestamp}" stays as it is).
  const fill = (timestamp: string) => {
    const values: Record<string, string> = {
      timestamp,
      body: rawBody,
      method: request.method ?? 'POST',
      url: request.url ?? '',
      'svix-id': (v.messageIdHeader && headers.get(v.messageIdHeader)) || '',
    };
    return v.payloadFormat.replace(/\{(timestamp|body|method|url|svix-id)\}/g, (_, name: string) => values[name] ?? '');
  };
  const payloads: string[] = [];
  const usesTimestamp = v.payloadFormat.includes('{timestamp}');
  if (!usesTimestamp) payloads.push(fill(''));
  else if (ts && 'ms' in ts && tsRaw) payloads.push(fill(tsRaw));
  if (!v.requireTimestamp && usesTimestamp) payloads.push(rawBody);
  let match = false;
  for (const payload of payloads) {
    const mac = await hmac(v.hmacAlgorithm, key, payload);
    // Every encoding checked without early exit; safeEqual hashes first, so lengths leak nothing.
    if (await safeEqual(given.toLowerCase(), toHex(mac))) match = true;
    if (await safeEqual(given, toBase64(mac))) match = true;
    if (await safeEqual(given, toBase64Url(mac))) match = true;
  }
  return match ? { ok: true, via: 'hmac' } : { ok: false, reason: 'missing or invalid Vapi credentials (X-Vapi-Secret, Bearer token or HMAC signature)' };
}
