import type { Context } from 'hono';
import type { AppEnv } from '../../http/env.js';
import { ApiError, type FieldError } from '../../errors.js';
import { alertsDue, evaluateOnIngest } from '../../alerts/evaluate.js';
import { ingestOne } from '../../events/group-commit.js';
import { insertEvents, type NewEvent } from '../../events/ingest.js';
import { runInBackground } from '../../http/background.js';
import { validateEvent } from '../../events/validate.js';
import { issuesToErrors } from '../../schemas/common.js';
import { BatchEnvelope, BatchIngestResponse, MAX_INGEST_BODY_BYTES, type SingleIngestResponse } from '../../schemas/event.js';
import { readJson } from '../../http/body.js';
import { verifyWriteToken } from '../../sessions/write-token.js';
import { addressKey, clientIp, enforce } from '../../http/ratelimit.js';

/**
 * POST /api/session-log — one event, or `{"events":[...]}` up to 500. Public (workshop pages post
 * from browsers). Valid events are stored in one SQL round trip; invalid ones are reported by
 * index (207) and never block the valid ones. Success is only answered after the write commits.
 */
export async function postSessionLog(c: Context<AppEnv>): Promise<Response> {
  const deps = c.get('deps');
  const body = await readJson(c.req.raw, MAX_INGEST_BODY_BYTES);
  const receivedAt = deps.now();
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError('BAD_REQUEST', 'request body must be a JSON object: one event, or {"events":[...]}');
  }
  return 'events' in body ? postBatch(c, body, receivedAt) : postSingle(c, body, receivedAt);
}

async function postSingle(c: Context<AppEnv>, body: object, receivedAt: Date): Promise<Response> {
  const v = validateEvent(body, receivedAt);
  if (!v.ok) {
    const detail = v.errors.map((e) => `${e.path}: ${e.message}`).join('; ');
    throw new ApiError(v.tooLarge ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST', `invalid event: ${detail}`, { errors: v.errors });
  }
  if (v.writeToken !== undefined && !(await writeAllowed(c, v.event, v.writeToken))) {
    throw new ApiError('FORBIDDEN', `writeToken: ${BAD_WRITE_TOKEN}`, { errors: [{ path: 'writeToken', message: BAD_WRITE_TOKEN }] });
  }
  await chargeTokens(c, [v.event]);
  // Shares one statement with the requests arriving meanwhile; answers once this row committed.
  const fate = await ingestOne(c.get('deps').sql, v.event);
  if (fate === 'refused') {
    throw new ApiError('FORBIDDEN', `sessionToken: ${NEEDS_WRITE_TOKEN}`, { errors: [{ path: 'sessionToken', message: NEEDS_WRITE_TOKEN }] });
  }
  if (fate === 'inserted') alertAfter(c, [v.event]);
  // Built to the type rather than parsed: tests assert it against SingleIngestResponse, and a
  // zod pass per event was measurable CPU on the hottest path.
  const answer: SingleIngestResponse = fate === 'inserted'
    ? { success: true, message: 'Event logged successfully', eventId: v.event.eventUuid }
    : { success: true, message: 'Event already logged', eventId: v.event.eventUuid, duplicate: true };
  return c.json(answer);
}

async function postBatch(c: Context<AppEnv>, body: object, receivedAt: Date): Promise<Response> {
  const envelope = BatchEnvelope.safeParse(body);
  if (!envelope.success) {
    const errors = issuesToErrors(envelope.error.issues);
    throw new ApiError('BAD_REQUEST', `invalid batch: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, { errors });
  }
  const { events, ...batchFields } = envelope.data;
  // Only a batch that sets fields for all its events has defaults: the others' events are parsed
  // as sent, not copied one by one over an empty object.
  const defaults = Object.keys(batchFields).length ? batchFields : undefined;
  // One event per eventId goes to the database; a later event repeating it (a retry inside the
  // batch) shares its fate. Refusals come back by eventId, so two events with one id and different
  // fates could not be told apart: one could be reported refused although stored, or a batch of
  // which nothing was stored answered as a success.
  const valid: NewEvent[] = [];
  const indexOf = new Map<NewEvent, number>();
  const byId = new Map<string, NewEvent>();
  const repeats: Array<{ index: number; of: NewEvent }> = [];
  let rejected: Array<{ index: number; error: string }> = [];
  let tooLarge = 0;
  const allErrors: FieldError[] = [];
  const checked = new Map<string, Promise<boolean>>(); // one MAC check per token pair, not per event
  const reject = (index: number, errors: readonly FieldError[]) => {
    rejected.push({ index, error: errors.map((e) => `${e.path}: ${e.message}`).join('; ') });
    allErrors.push(...errors);
  };
  for (const [index, raw] of events.entries()) {
    const v = validateEvent(raw, receivedAt, defaults, `events[${index}]`);
    if (!v.ok) {
      reject(index, v.errors);
      if (v.tooLarge) tooLarge++;
      continue;
    }
    if (v.writeToken !== undefined && !(await writeAllowed(c, v.event, v.writeToken, checked))) {
      reject(index, [{ path: `events[${index}].writeToken`, message: BAD_WRITE_TOKEN }]);
      continue;
    }
    const first = byId.get(v.event.eventUuid);
    if (!first) {
      byId.set(v.event.eventUuid, v.event);
      valid.push(v.event);
      indexOf.set(v.event, index);
    } else if (first.sessionToken === v.event.sessionToken && (first.writeAllowed === true) === (v.event.writeAllowed === true)) {
      repeats.push({ index, of: first });
    } else {
      reject(index, [{ path: `events[${index}].eventId`, message: `repeats the eventId of events[${indexOf.get(first)}] for another sessionToken or writeToken` }]);
    }
  }
  if (valid.length === 0) {
    const forbidden = allErrors.length > 0 && allErrors.every((e) => e.message === BAD_WRITE_TOKEN);
    // Every event over the size limit: the same 413 a single such event gets.
    const code = forbidden ? 'FORBIDDEN' : tooLarge === rejected.length ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST';
    throw new ApiError(code, `no valid events in the batch (${rejected.length} rejected)`, { errors: allErrors.slice(0, 100) });
  }
  await chargeTokens(c, valid.concat(repeats.map((r) => r.of)));
  const { inserted, refused } = await insertEvents(c.get('deps').sql, valid);
  const refusedAt = (e: NewEvent, index: number) => {
    if (!refused.has(e.eventUuid)) return false;
    reject(index, [{ path: `events[${index}].sessionToken`, message: NEEDS_WRITE_TOKEN }]);
    return true;
  };
  let refusedCount = 0;
  for (const e of valid) if (refusedAt(e, indexOf.get(e) ?? -1)) refusedCount++;
  for (const r of repeats) if (refusedAt(r.of, r.index)) refusedCount++;
  if (refusedCount) rejected = rejected.sort((a, b) => a.index - b.index);
  const sent = valid.length + repeats.length;
  // Nothing stored and nothing already stored: not a success, whatever else was wrong.
  if (refusedCount === sent) {
    const errors = rejected.length === refusedCount ? [{ path: 'sessionToken', message: NEEDS_WRITE_TOKEN }] : allErrors.slice(0, 100);
    throw new ApiError('FORBIDDEN', `no event of the batch may be stored (${rejected.length} rejected): events into a session the page did not open need its writeToken`, { errors });
  }
  alertAfter(c, valid.filter((e) => inserted.has(e.eventUuid)));
  const accepted = inserted.size;
  const result = BatchIngestResponse.parse({
    success: true,
    accepted,
    // A repeat of a stored event is a duplicate of it, like the same event sent again later.
    duplicates: sent - accepted - refusedCount,
    ...(rejected.length ? { rejected } : {}),
  });
  return c.json(result, rejected.length ? 207 : 200);
}

const BAD_WRITE_TOKEN = 'is not the write token of this sessionToken';
const NEEDS_WRITE_TOKEN =
  'names a session this page did not open (a tutoring, explicit or voice session); adding events to it needs the session\'s writeToken';

/**
 * A write token, once verified, lets the event into a session the page did not open (ingest-sql.ts
 * refuses it otherwise). Verified per event (a batch's default applies to each), never stored.
 */
async function writeAllowed(c: Context<AppEnv>, event: NewEvent, token: string, checked = new Map<string, Promise<boolean>>()): Promise<boolean> {
  const secret = c.get('deps').config.adminToken;
  if (!secret) return false;
  const key = `${event.sessionToken}\u0000${token}`;
  let ok = checked.get(key);
  if (!ok) {
    ok = verifyWriteToken(secret, event.sessionToken, token);
    checked.set(key, ok);
  }
  if (!(await ok)) return false;
  event.writeAllowed = true;
  return true;
}

/**
 * The per-session-token limit, so one runaway page (or an attacker aiming at a victim's session)
 * cannot flood a session's log from many addresses. Every token in the request is charged by its
 * events, not once per request: keying only the first event's token let 120 batches put 5,880
 * events on a victim by naming a throwaway token first. Charged after validation, so events that
 * will never be stored cost nothing; the charges run side by side (one limiter call per distinct
 * token, at most the 500 a batch holds, and the per-IP limit already bounds requests).
 */
async function chargeTokens(c: Context<AppEnv>, events: readonly NewEvent[]): Promise<void> {
  const { config } = c.get('deps');
  if (!config.rateLimits.enabled) return;
  // Events sent with the session's verified writeToken are charged apart from those without: a
  // tutoring session's events posted without it are all refused, yet they were charged first, so
  // anyone who guessed the session's id could spend its limit and lock its own practice page out.
  const perToken = new Map<string, { token: string; writer: boolean; n: number }>();
  for (const e of events) {
    const writer = e.writeAllowed === true;
    const key = `${writer ? 'w' : 'p'}${e.sessionToken}`;
    const entry = perToken.get(key);
    if (entry) entry.n++;
    else perToken.set(key, { token: e.sessionToken, writer, n: 1 });
  }
  const limit = config.rateLimits.ingestPerToken;
  const results = await Promise.allSettled([
    // The address too, by events: fresh tokens per event would otherwise make the token limit moot.
    enforce(c, 'ingest-ip-events', addressKey(clientIp(c, config)), config.rateLimits.ingestEventsPerIp, 60_000, events.length),
    ...[...perToken.values()].map(({ token, writer, n }) => enforce(c, writer ? 'ingest-token-writer' : 'ingest-token', token.slice(0, 200), limit, 60_000, n)),
  ]);
  const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (refused) throw refused.reason;
}

/**
 * Alert rules run after the response, on the events actually stored (lib/alerts/evaluate.ts);
 * not even scheduled when they have nothing to look at (no error event, cohort pass done).
 */
function alertAfter(c: Context<AppEnv>, stored: readonly NewEvent[]): void {
  const deps = c.get('deps');
  if (alertsDue(deps, stored)) runInBackground(c, 'alert rules', () => evaluateOnIngest(deps, stored));
}
