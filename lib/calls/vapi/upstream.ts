import type { Logger } from '../../deps.js';
import { describeError } from '../../deps.js';

/**
 * Sessionlog as a transparent tap in front of the customer's own server (VAPI_UPSTREAM_URL):
 * every Vapi message is forwarded there with its body unchanged. Messages whose reply Vapi reads
 * get the upstream's answer back within Vapi's deadline; the rest are acknowledged at once and
 * forwarded after the response, so logging never slows a call.
 */
export interface Upstream {
  url: string;
  secret: string | undefined;
  /** Deadline for a relayed answer (Vapi waits 7.5 s for an assistant-request). */
  timeoutMs: number;
}

/** Message types whose reply Vapi reads (everything else is acknowledged with `{}`). */
export const ASKING = new Set([
  'assistant-request',
  'tool-calls',
  'function-call',
  'transfer-destination-request',
  'handoff-destination-request',
  'knowledge-base-request',
  'voice-request',
  'call.endpointing.request',
]);

export type Relayed = { status: number; body: string; contentType: string } | { failure: string };

const headersFor = (up: Upstream) => ({
  'content-type': 'application/json',
  // Both ways Vapi itself authenticates to a server URL: the customer's server keeps its check.
  ...(up.secret ? { 'x-vapi-secret': up.secret, authorization: `Bearer ${up.secret}` } : {}),
});

/** POST the raw body to the upstream and return its status and body (or why there is none). */
export async function relay(up: Upstream, rawBody: string, timeoutMs: number, log: Logger): Promise<Relayed> {
  try {
    const res = await fetch(up.url, { method: 'POST', headers: headersFor(up), body: rawBody, signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    return { status: res.status, body, contentType: res.headers.get('content-type') ?? 'application/json' };
  } catch (err) {
    const timeout = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    log.warn('vapi upstream unreachable', { error: describeError(err) });
    return { failure: timeout ? 'The upstream server did not answer in time.' : 'The upstream server could not be reached.' };
  }
}

/** Forward a message Vapi needs no answer to (after the response); failures are logged, not retried. */
export async function forward(up: Upstream, rawBody: string, log: Logger): Promise<void> {
  const r = await relay(up, rawBody, Math.max(up.timeoutMs, 10_000), log);
  if ('status' in r && r.status >= 400) log.warn('vapi upstream refused a forwarded message', { status: r.status });
}
