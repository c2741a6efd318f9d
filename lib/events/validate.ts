import * as z from '../util/zod.js';
import type { FieldError } from '../errors.js';
import { issuesToErrors, joinPath, JsonRecord, unstorableAt } from '../schemas/common.js';
import { EventInput, KNOWN_EVENT_DATA, MAX_EVENT_DATA_BYTES } from '../schemas/event.js';
import { eventTime, type NewEvent } from './ingest.js';

export type Validated =
  | { ok: true; event: NewEvent; /** as sent, not yet verified (lib/sessions/write-token.ts) */ writeToken?: string }
  | { ok: false; errors: FieldError[]; /** eventData over the size limit */ tooLarge: boolean };

const encoder = new TextEncoder();

/**
 * EventInput as checked at run time: the same fields, rules and messages, except that eventData is
 * only checked to be a JSON object. EventInput's z.record copies the object key by key (a quarter
 * of the event's validation) into a copy nobody reads: the object is stored as sent (below), and
 * keys parsed from JSON are always strings. EventInput stays the documented schema.
 */
const EventCheck = z.extend(EventInput, {
  eventData: z.optional(JsonRecord),
});

/** A field's path under the batch prefix (`events[3].eventData`), or alone for a single event. */
const at = (prefix: string, p: string) => (prefix ? `${prefix}.${p}` : p);

/**
 * Validate one posted event (merged over batch-level defaults) and resolve it into a NewEvent:
 * the event schema, the documented fields of known types, what Postgres can store, the 32 KB
 * limit on eventData, and the event time corrected for client clock skew.
 */
export function validateEvent(raw: unknown, receivedAt: Date, defaults?: Record<string, unknown>, prefix = ''): Validated {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, tooLarge: false, errors: [{ path: prefix || '(body)', message: 'must be a JSON object' }] };
  }
  // A single event has no batch defaults: parse the body as read rather than a copy of it.
  const parsed = EventCheck.safeParse(defaults ? { ...defaults, ...raw } : raw);
  if (!parsed.success) return { ok: false, tooLarge: false, errors: issuesToErrors(parsed.error.issues, prefix) };
  const input = parsed.data;
  // Store the object as parsed from JSON, not zod's copy: zod drops a `__proto__` key when it
  // copies a record, and a student's data must be stored as sent.
  const sent = (raw as { eventData?: unknown }).eventData;
  const data = (sent !== undefined ? sent : (defaults?.eventData ?? {})) as Record<string, unknown>;

  // Own keys only: `constructor` or `toString` would find the object's prototype (a 500).
  const known = Object.hasOwn(KNOWN_EVENT_DATA, input.eventType) ? KNOWN_EVENT_DATA[input.eventType] : undefined;
  if (known) {
    const r = known.safeParse(data);
    if (!r.success) return { ok: false, tooLarge: false, errors: issuesToErrors(r.error.issues, at(prefix, 'eventData')) };
  }
  const bad = unstorableAt(data);
  if (bad) return { ok: false, tooLarge: false, errors: [{ path: joinPath(at(prefix, 'eventData'), bad.path), message: bad.message }] };
  const json = JSON.stringify(data);
  // Byte length only matters near the limit; UTF-8 is at most 3 bytes per UTF-16 unit.
  if (json.length * 3 > MAX_EVENT_DATA_BYTES && encoder.encode(json).byteLength > MAX_EVENT_DATA_BYTES) {
    return {
      ok: false,
      tooLarge: true,
      errors: [{ path: at(prefix, 'eventData'), message: `must be at most ${MAX_EVENT_DATA_BYTES} bytes when serialised` }],
    };
  }
  return {
    ok: true,
    event: {
      eventUuid: (input.eventId ?? crypto.randomUUID()).toLowerCase(),
      sessionToken: input.sessionToken,
      email: input.studentEmail ?? null,
      name: input.studentName ?? null,
      studentId: null,
      eventType: input.eventType,
      eventData: json,
      clientTs: input.timestamp === undefined ? null : new Date(input.timestamp),
      createdAt: eventTime(receivedAt, input.timestamp, input.sentAt),
    },
    ...(input.writeToken === undefined ? {} : { writeToken: input.writeToken }),
  };
}

/** The event types warmed: each known type, and one free type. */
const warmTypes = () => [...Object.keys(KNOWN_EVENT_DATA), 'custom'];

/** One valid event of each warmed type, as a page would post it (built only when warming: not at import). */
const warmSamples = (): Record<string, unknown>[] => warmTypes().map((eventType, i) => ({
  // Given, not generated: random values are not allowed while a worker isolate starts.
  eventId: `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
  sessionToken: 'ws_warm_up',
  studentEmail: 'warm-up@example.com',
  studentName: 'Warm Up',
  eventType,
  eventData: { note: 'warm-up' },
  timestamp: 1_700_000_000_000,
}));

/**
 * Validate one sample of each known event type, storing nothing: zod prepares each schema's parser
 * on its first use and V8 compiles each function on its first call, and an edge isolate's start-up
 * has its own CPU allowance while its first request has 10 ms (worker.ts). No I/O, no timers, no
 * random values. Returns how many samples were valid (all of them, or the warm-up only ran the
 * error path: tests/unit/validate-warm.test.ts).
 */
export function warmUpValidation(): number {
  const at = new Date(1_700_000_000_000);
  let valid = 0;
  for (const sample of warmSamples()) {
    if (validateEvent(sample, at).ok) valid++;
    // A batch's event: the envelope's shared fields merged under it.
    const { sessionToken, studentEmail, studentName, ...own } = sample;
    if (validateEvent(own, at, { sessionToken, studentEmail, studentName }, 'events[0]').ok) valid++;
  }
  return valid;
}

/** What warmUpValidation returns when every sample was valid. */
export const WARM_SAMPLE_COUNT = warmTypes().length * 2;
