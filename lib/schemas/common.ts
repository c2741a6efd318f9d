import * as z from '../util/zod.js';
import { notARouteName } from './ids.js';
import { inexactIn } from '../util/exact-json.js';

/** ISO 8601 date-time with a zone (Z or ±hh:mm), as clients and Vapi send them. */
export const IsoDateTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with a time zone' });

/**
 * A time a client sends (bodies and query filters): IsoDateTime between 1970 and 2200. Year 0000
 * was refused by Postgres with a message naming no field, and 1900 made hundred-year sessions.
 * Not for documents the server writes (IsoDateTime): what is stored must always read back.
 */
const MIN_INPUT_TIME = Date.UTC(1970, 0, 1);
const MAX_INPUT_TIME = Date.UTC(2200, 0, 1);
export const InputTime = IsoDateTime.check(
  z.refine((v) => {
    const t = Date.parse(v);
    return t >= MIN_INPUT_TIME && t < MAX_INPUT_TIME;
  }, 'must be a time between 1970 and 2200'),
);

export const EventType = z.string().check(z.regex(/^[a-z][a-z0-9_]{0,49}$/, 'must be 1-50 lowercase letters, digits or _, starting with a letter'));
export type EventType = z.infer<typeof EventType>;

export const SessionToken = z.string().check(
  z.minLength(1, 'must not be empty'),
  z.maxLength(200, 'must be at most 200 characters'),
  z.regex(/^[A-Za-z0-9_.:-]+$/, 'may contain only letters, digits and _ . : -'),
  // `.` and `..` would be path segments: a session no URL can reach.
  z.refine((v) => !/^\.+$/.test(v), 'must not be only dots'),
  notARouteName,
);
export type SessionToken = z.infer<typeof SessionToken>;

/** A session-token prefix: one workshop's pages share one (e.g. `ws_spring_`). */
export const WorkshopPrefix = z.string().check(
  z.minLength(1, 'must not be empty'),
  z.maxLength(200, 'must be at most 200 characters'),
  z.regex(/^[A-Za-z0-9_.:-]+$/, 'may contain only letters, digits and _ . : -'),
);

/** Emails are stored lowercased so one student is one row whatever the page typed. */
export const Email = z.pipe(z.string().check(z.trim(), z.maxLength(254), z.toLowerCase()), z.email({ message: 'must be a valid email address' }));

/** Free text that Postgres can store: no NUL characters, no unpaired UTF-16 surrogates. */
export const SafeText = (max: number) =>
  z.string().check(z.maxLength(max, `must be at most ${max} characters`), z.refine((s) => !UNSTORABLE.test(s), 'contains a NUL character or an unpaired surrogate'));

/**
 * Characters Postgres text/jsonb cannot hold: NUL, and lone surrogates (JSON.parse accepts
 * "\ud800" but Postgres rejects it). Checked up front so such input is a 400, never a 500.
 */
export const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export const MAX_JSON_DEPTH = 64;

/**
 * Walk a parsed JSON value: report the first key or string Postgres would refuse, or nesting
 * deeper than MAX_JSON_DEPTH (deep nesting costs stack in every layer that touches it).
 * Returns a path-qualified message, or null when the value is storable.
 */
export function unstorableJson(value: unknown, path = '', depth = 0): string | null {
  const bad = unstorableAt(value, depth);
  return bad && `${joinPath(path, bad.path) || 'value'}: ${bad.message}`;
}

/** The first thing Postgres would refuse in `value`: its path below `value`, and why; null when none. */
export function unstorableAt(value: unknown, depth = 0): { path: Array<string | number>; message: string } | null {
  if (storable(value, depth)) return null;
  const path: Array<string | number> = [];
  const message = describeUnstorable(value, path, depth);
  return message ? { path, message } : null;
}

/**
 * The same walk without the message: no path string built per key, which was most of the walk's
 * cost on ingest (every event's data is walked, and nearly every one is storable).
 */
function storable(value: unknown, depth: number): boolean {
  if (depth > MAX_JSON_DEPTH) return false;
  if (typeof value === 'string') return !UNSTORABLE.test(value);
  if (typeof value === 'number') return Number.isFinite(value);
  if (value === null || typeof value !== 'object') return true;
  if (inexactIn(value)) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!storable(value[i], depth + 1)) return false;
    return true;
  }
  const record = value as Record<string, unknown>;
  for (const k of Object.keys(record)) if (UNSTORABLE.test(k) || !storable(record[k], depth + 1)) return false;
  return true;
}

/** Why `value` cannot be stored, with `path` left at the place (pushed on the way down); null when it can. */
function describeUnstorable(value: unknown, path: Array<string | number>, depth: number): string | null {
  if (depth > MAX_JSON_DEPTH) return `nested deeper than ${MAX_JSON_DEPTH} levels`;
  if (typeof value === 'string') return UNSTORABLE.test(value) ? 'contains a NUL character or an unpaired surrogate' : null;
  // JSON.parse reads 1e400 as Infinity, which JSON.stringify would store as null.
  if (typeof value === 'number') return Number.isFinite(value) ? null : 'is a number too large to store (at most about 1.8e308)';
  if (value === null || typeof value !== 'object') return null;
  const rounded = inexactIn(value);
  const entries: Array<[string | number, unknown]> = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  for (const [k, v] of entries) {
    if (typeof k === 'string' && UNSTORABLE.test(k)) return 'a key contains a NUL character or an unpaired surrogate';
    path.push(k);
    const literal = rounded?.get(String(k));
    if (literal !== undefined) return roundedMessage(literal);
    const m = describeUnstorable(v, path, depth + 1);
    if (m) return m;
    path.pop();
  }
  return null;
}

/** An integer literal JSON.parse rounded (lib/util/exact-json.ts): what it would have become, and what to send. */
const roundedMessage = (literal: string) =>
  `${literal} is an integer beyond ±2^53 (9007199254740991), which would be stored as ${String(Number(literal))}; send it as a string`;

/** zod issues → the `errors` list of a problem body: `events[3].eventType`. */
export function issuesToErrors(issues: readonly z.core.$ZodIssue[], prefix = ''): Array<{ path: string; message: string }> {
  return issues.map((i) => ({ path: joinPath(prefix, i.path) || '(body)', message: i.message }));
}

export function joinPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

/** A JSON object (not null, not an array). */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
/** What `z.record(z.string(), z.unknown())` is in JSON Schema: the OpenAPI document is unchanged. */
const RECORD_SCHEMA = { type: 'object', propertyNames: { type: 'string' }, additionalProperties: {} } as const;

/**
 * A JSON object Postgres can store: no NUL/lone surrogates, nested at most MAX_JSON_DEPTH. The
 * object itself is the output, not a copy: `z.record` copied it key by key, and the assignment
 * dropped a `__proto__` key (a tool call's parameters must be stored as sent). Documented as the
 * record it is (the metadata is what the OpenAPI document and the JSON Schema show).
 */
export const StorableObject = z
  .custom<Record<string, unknown>>(isJsonObject, { message: 'must be a JSON object' })
  .check(
    z.superRefine((v, ctx) => {
      const bad = unstorableAt(v);
      if (bad) ctx.addIssue({ code: 'custom', message: bad.message, path: bad.path });
    }),
  );
z.globalRegistry.add(StorableObject, RECORD_SCHEMA);

/**
 * A JSON object read back and answered as it is (a session document's metadata, a tool call's
 * parameters): the object, not `z.record`'s copy, which drops a `__proto__` key. Documented as
 * the record it is.
 */
export const JsonRecord = z.custom<Record<string, unknown>>(isJsonObject, { message: 'must be a JSON object' });
z.globalRegistry.add(JsonRecord, RECORD_SCHEMA);

/**
 * Make a value from a third party storable without refusing it: NULs dropped, lone surrogates
 * replaced, nesting cut at MAX_JSON_DEPTH. Used for webhook payloads, whose data must never be
 * lost over one odd field.
 */
export function sanitizeJson(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return UNSTORABLE.test(value) ? value.replace(/\u0000/g, '').replace(/[\ud800-\udfff]/g, (c, i: number, s: string) => {
    const code = c.charCodeAt(0);
    const pairNext = code < 0xdc00 && /[\udc00-\udfff]/.test(s[i + 1] ?? '');
    const pairPrev = code >= 0xdc00 && /[\ud800-\udbff]/.test(s[i - 1] ?? '');
    return pairNext || pairPrev ? c : '\ufffd';
  }) : value;
  if (value === null || typeof value !== 'object') return typeof value === 'number' && !Number.isFinite(value) ? null : value;
  if (depth >= MAX_JSON_DEPTH) return '[nested too deep]';
  if (Array.isArray(value)) return value.map((v) => sanitizeJson(v, depth + 1));
  // A null-prototype object, so a `__proto__` key stays an ordinary key.
  const out: Record<string, unknown> = Object.create(null);
  for (const [k, v] of Object.entries(value)) out[sanitizeJson(k, depth + 1) as string] = sanitizeJson(v, depth + 1);
  return out;
}
