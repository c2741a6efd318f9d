import type { Context } from 'hono';
import type * as z from '../util/zod.js';
import type { AppEnv } from './env.js';
import { ApiError } from '../errors.js';
import { type Cursor, decodeEventCursor } from '../events/cursor.js';
import { InvalidCursorError } from '../util/cursor.js';
import { readJson, readText } from './body.js';
import { invalidInput as invalid, invalidParam } from './validation-hook.js';

/** Default body limit for JSON endpoints other than ingestion. */
export const DEFAULT_BODY_LIMIT = 256 * 1024;

/** Read the JSON body (size-limited) and validate it; 400 naming each bad field. */
export async function parseBody<S extends z.ZodMiniType>(c: Context<AppEnv>, schema: S, maxBytes = DEFAULT_BODY_LIMIT): Promise<z.infer<S>> {
  const body = await readJson(c.req.raw, maxBytes);
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw invalid('body', parsed.error.issues);
  return parsed.data;
}

/** Like parseBody, but an empty body means `{}` (all defaults). */
export async function parseOptionalBody<S extends z.ZodMiniType>(c: Context<AppEnv>, schema: S, maxBytes = DEFAULT_BODY_LIMIT): Promise<z.infer<S>> {
  const text = await readText(c.req.raw, maxBytes);
  let body: unknown = {};
  if (text.trim()) {
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new ApiError('BAD_REQUEST', `request body is not valid JSON: ${err instanceof Error ? err.message : 'parse error'}`);
    }
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw invalid('body', parsed.error.issues);
  return parsed.data;
}

/** Like parseBody, with the schema chosen from the raw body (e.g. one entry vs. a batch). */
export async function parseBodyBy<S extends z.ZodMiniType>(c: Context<AppEnv>, pick: (raw: unknown) => S, maxBytes = DEFAULT_BODY_LIMIT): Promise<z.infer<S>> {
  const body = await readJson(c.req.raw, maxBytes);
  const parsed = pick(body).safeParse(body);
  if (!parsed.success) throw invalid('body', parsed.error.issues);
  return parsed.data;
}

/** Validate the query string (first value of each parameter; unknown parameters are ignored). */
export function parseQuery<S extends z.ZodMiniType>(c: Context<AppEnv>, schema: S): z.infer<S> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw invalid('query', parsed.error.issues);
  return parsed.data;
}

/** Validate a path parameter. */
export function parseParam<S extends z.ZodMiniType>(c: Context<AppEnv>, name: string, schema: S): z.infer<S> {
  const parsed = schema.safeParse(c.req.param(name));
  if (!parsed.success) throw invalidParam(name, parsed.error.issues);
  return parsed.data;
}

/** Decode a `cursor` query parameter; a foreign or damaged cursor is a 400 naming `cursor`. */
export function cursorParam<T>(raw: string | undefined, decode: (s: string) => T): T | undefined {
  if (!raw) return undefined;
  try {
    return decode(raw);
  } catch (err) {
    if (err instanceof InvalidCursorError) throw new ApiError('BAD_REQUEST', err.message, { errors: [{ path: 'cursor', message: err.message }] });
    throw err;
  }
}

/** An event-log cursor issued for `order`. */
export const eventCursorParam = (raw: string | undefined, order: 'asc' | 'desc'): Cursor | undefined => cursorParam(raw, (s) => decodeEventCursor(s, order));
