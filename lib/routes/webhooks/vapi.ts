import type { Context } from 'hono';
import { callAdapters } from '../../calls/adapters.js';
import { completed, type Fallback, fallbackAnswer } from '../../calls/vapi/answers.js';
import { baseType, messageType } from '../../calls/vapi/message.js';
import { ASKING, forward, relay } from '../../calls/vapi/upstream.js';
import type { Config } from '../../config.js';
import type { Logger } from '../../deps.js';
import { describeError } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { defer } from '../../http/defer.js';
import { ByteBudget, readText, readTextWithin } from '../../http/body.js';
import type { AppEnv } from '../../http/env.js';
import { addressKey, clientIp } from '../../http/ratelimit.js';
import { isJsonObject } from '../../schemas/common.js';
import { authenticate, deliver, type OnSessionComplete, parseDelivery, parseJson, refuseAfterAuthFailures, refuseCredentials } from './deliver.js';

export type { OnSessionComplete };

let warnedUnauthenticated = false;

/** A signed body not yet verified must arrive within this (Vapi sends it at once); then 408. */
const UNVERIFIED_READ_MS = 30_000;

/**
 * Per process (isolate): bytes of HMAC-signed bodies read before their signature is checked. A
 * flood of large posts with forged signatures waits on nothing and buffers at most this; one client
 * address holds at most half of it, so one client's slow bodies cannot have every signed delivery
 * refused (two 8 MB bodies trickling a byte every 2 s held all 16 MB for the 30 s read deadline).
 */
const unverified = new Map<number, ByteBudget>();
const budgetOf = (limit: number) => {
  const known = unverified.get(limit);
  if (known) return known;
  const b = new ByteBudget(limit, Math.floor(limit / 2));
  unverified.set(limit, b);
  return b;
};

/**
 * POST /api/webhooks/vapi (also /webhook/vapi/session-complete): every Vapi server message.
 * Authenticated (secret, bearer or HMAC over the raw body), parsed leniently, folded into the
 * session, acknowledged fast; end-of-session work is deferred past the response.
 */
export function vapiWebhook(onComplete?: OnSessionComplete) {
  return async (c: Context<AppEnv>): Promise<Response> => {
    const deps = c.get('deps');
    if (!deps.config.vapiEnabled) throw new ApiError('NOT_FOUND', 'the Vapi webhook is disabled on this server (webhooks.vapi.enabled / VAPI_WEBHOOK_ENABLED)');
    const vapi = callAdapters.vapi;
    // Header credentials first: a request without a usable one is refused before its body is read.
    await refuseAfterAuthFailures(c);
    const first = await vapi.checkHeaders?.(c.req.raw.headers, deps.config, deps.now());
    if (first && first.ok === false) return refuseCredentials(c, vapi, first.reason);
    let raw: string;
    let auth: Awaited<ReturnType<typeof authenticate>>;
    if (first && first.ok !== 'needs-body') {
      raw = await readText(c.req.raw, deps.config.webhookMaxBytes);
      auth = first;
    } else {
      // A signature needs the body: read it within the budget of unverified bytes, verify, release.
      const budget = budgetOf(deps.config.vapi.unverifiedBudgetBytes);
      const address = addressKey(clientIp(c, deps.config));
      const read = await readTextWithin(c.req.raw, deps.config.webhookMaxBytes, budget, UNVERIFIED_READ_MS, address);
      try {
        raw = read.text;
        auth = await authenticate(c, vapi, raw);
      } finally {
        budget.give(read.taken, address);
      }
    }
    if (auth.via === 'unconfigured' && !warnedUnauthenticated) {
      warnedUnauthenticated = true;
      deps.log.warn('accepting unauthenticated Vapi webhooks (local mode, no VAPI_WEBHOOK_SECRET / VAPI_HMAC_SECRET)');
    }
    const body = parseJson(raw);
    const delivery = await parseDelivery(vapi, body, deps.now());
    // The type as parsed (a tool-calls message may leave it out): a tool call is not forwarded twice.
    const type = baseType(messageType(body));
    const up = deps.config.vapi.upstream;
    if (ASKING.has(type) && type !== 'tool-calls' && type !== 'function-call') {
      // Asks for an answer Sessionlog does not compute: the customer's server, else a default.
      const answer = await answerRequest(type, raw, deps.config, deps.log);
      const logged = answer.logged;
      if (logged && delivery.callId) {
        const note = { ...delivery, update: { kind: 'event' as const, type: 'call_answer', key: type, data: { request: type, ...logged } } };
        defer(c, deliver(c, vapi, note, raw).catch((err: unknown) => deps.log.warn('vapi answer not logged', { error: describeError(err) })));
      }
      // No Retry-After: Vapi does not retry an utterance, it falls back (the voice's fallbackPlan).
      if ('refuse' in answer) throw new ApiError('UNAVAILABLE', answer.refuse);
      return new Response(answer.body, { status: answer.status, headers: { 'content-type': answer.contentType } });
    }
    const outcome = await deliver(c, vapi, delivery, raw, onComplete);
    // The customer's server sees every message; what needs no answer goes after the response.
    // Tool calls reached it already (unless TOOL_SERVER_URL took them: it wins for tools).
    if (up && type !== 'tool-calls' && type !== 'function-call') defer(c, forward(up, raw, deps.log));
    // Vapi reads the answer of tool calls; everything else is acknowledged with `{}`.
    return c.json((outcome.answer ?? {}) as Record<string, unknown>);
  };
}

type Answer = ({ status: number; body: string; contentType: string } | { refuse: string }) & { logged: Record<string, unknown> | undefined };

const answerOf = (f: Fallback, logged: Record<string, unknown> | undefined): Answer =>
  'refuse' in f ? { ...f, logged } : { status: 200, body: JSON.stringify(f.body), contentType: 'application/json', logged };

/**
 * The upstream gave no answer Vapi could read (`error` says why): the type's answer without one,
 * `{"assistantId"}` for an assistant-request when VAPI_ASSISTANT_ID is set. The timeline keeps the
 * failure and, when the default assistant took the call, which one.
 */
function withoutUpstreamAnswer(type: string, error: string, config: Config, logged: Record<string, unknown>): Answer {
  const f = fallbackAnswer(type, error, config.vapi.assistantId);
  const assistantId = 'body' in f ? f.body.assistantId : undefined;
  return answerOf(f, typeof assistantId === 'string' ? { ...logged, assistant_id: assistantId } : logged);
}

/**
 * The answer to a message Vapi reads (other than tool calls): the upstream's status and body when
 * there is one (a 2xx JSON object completed where the SDK type requires more), else `{"assistantId"}`
 * for an assistant-request when VAPI_ASSISTANT_ID is set, else the message type's answer without one
 * (lib/calls/vapi/answers.ts). An upstream that is down, too slow or answers a 2xx that is not a JSON
 * object gets the same (its error statuses are relayed). `logged` goes on the timeline.
 */
async function answerRequest(type: string, raw: string, config: Config, log: Logger): Promise<Answer> {
  const up = config.vapi.upstream;
  if (up) {
    const r = await relay(up, raw, up.timeoutMs, log);
    if ('failure' in r) return withoutUpstreamAnswer(type, r.failure, config, { error: r.failure });
    let parsed: unknown;
    try {
      parsed = JSON.parse(r.body);
    } catch {
      parsed = undefined;
    }
    const relayed = { status: r.status, body: r.body, contentType: r.contentType, logged: { upstream_status: r.status, ...chosen(parsed) } };
    // A refusal is the customer's server's to make, as if Vapi had asked it; audio is not read here.
    // A 5xx is its failure, not a choice: logged (the status and the request's type, never the body).
    if (r.status >= 500) log.warn('vapi upstream failed a request', { status: r.status, request: type });
    if (r.status < 200 || r.status > 299 || type === 'voice-request') return relayed;
    if (!isJsonObject(parsed)) {
      // A proxy's error page, or an empty body: nothing Vapi could read as the answer. Logged as the
      // upstream's other failures are (the status, never the body: it may be anything).
      const error = 'The upstream server did not answer with a JSON object.';
      log.warn('vapi upstream answered no JSON object', { status: r.status });
      return withoutUpstreamAnswer(type, error, config, { upstream_status: r.status, error });
    }
    const fitted = completed(type, parsed);
    return fitted ? answerOf({ body: fitted }, relayed.logged) : relayed;
  }
  if (type === 'assistant-request') {
    if (config.vapi.assistantId) return answerOf({ body: { assistantId: config.vapi.assistantId } }, { assistant_id: config.vapi.assistantId });
    const error = 'No assistant is configured for this number (VAPI_ASSISTANT_ID or VAPI_UPSTREAM_URL).';
    return answerOf(fallbackAnswer(type, error), { error });
  }
  if (type === 'transfer-destination-request' || type === 'handoff-destination-request') {
    const error = 'No destination server is configured (VAPI_UPSTREAM_URL).';
    return answerOf(fallbackAnswer(type, error), { error });
  }
  // Not logged: nothing was chosen, and knowledge-base, endpointing and voice requests come every turn.
  return answerOf(fallbackAnswer(type, `No server is configured to answer ${type} (VAPI_UPSTREAM_URL).`), undefined);
}

/** What an answer chose, for the timeline (never the whole body: it may hold a full assistant). */
function chosen(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object') return {};
  const b = body as Record<string, unknown>;
  const dest = b.destination as Record<string, unknown> | undefined;
  const assistant = b.assistant as Record<string, unknown> | undefined;
  return Object.fromEntries(
    Object.entries({
      assistant_id: typeof b.assistantId === 'string' ? b.assistantId : undefined,
      assistant_name: typeof assistant?.name === 'string' ? assistant.name : undefined,
      destination: dest && typeof dest === 'object' ? { type: dest.type, number: dest.number, sip_uri: dest.sipUri, assistant_name: dest.assistantName } : undefined,
      error: typeof b.error === 'string' ? b.error.slice(0, 500) : undefined,
    }).filter(([, v]) => v !== undefined),
  );
}
