import * as z from '../util/zod.js';

/*
 * The identifiers every family checks (path parameters, webhooks, the cron and students routes),
 * apart from the session schemas that import them: a function that only checks an id does not
 * build the ~250 schemas of session.ts at start-up (ADR 0020).
 */

/** `paused` is derived (an open session with paused_at set), never stored: see migration 014. */
export const SESSION_STATUSES = ['waiting', 'active', 'paused', 'completed', 'abandoned'] as const;
export const SessionStatus = z.enum(SESSION_STATUSES);
export type SessionStatus = z.infer<typeof SessionStatus>;

/** Student and participant ids: readable ids such as `emma_smith` (emails allowed). */
export const StudentId = z.string().check(z.minLength(1, 'must not be empty'), z.maxLength(100, 'must be at most 100 characters'), z.regex(/^[A-Za-z0-9_.:@+-]+$/, 'may contain only letters, digits and _ . : @ + -'), z.refine((v) => !/^\.+$/.test(v), 'must not be only dots'));

/** Session ids double as the event log's session token, so they share its alphabet. */
/**
 * Ids that `GET /api/sessions/{name}` lists instead of reading (`/api/sessions/active`, `/waiting`):
 * a session so named could never be read by its id.
 */
export const ROUTE_NAMES = ['active', 'waiting'] as const;
export const notARouteName = z.refine<string>((v) => v !== 'active' && v !== 'waiting', `must not be ${ROUTE_NAMES.join(' or ')} (a sessions route of that name lists sessions)`);

export const SessionId = z.string().check(
  z.minLength(1),
  z.maxLength(200),
  z.regex(/^[A-Za-z0-9_.:-]+$/, 'may contain only letters, digits and _ . : -'),
  z.refine((v) => !/^\.+$/.test(v), 'must not be only dots'),
  notARouteName,
);

export const Platform = z.string().check(z.regex(/^[a-z][a-z0-9_-]{0,39}$/, 'must be a lowercase platform name such as vapi, web, mcp, superinterface, generic'));
