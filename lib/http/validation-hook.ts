import type * as z from '../util/zod.js';
import { ApiError } from '../errors.js';
import { issuesToErrors } from '../schemas/common.js';

/** A 400 naming each bad field: `invalid body: a.b: too long; c: required`. */
export function invalidInput(what: string, issues: readonly z.core.$ZodIssue[]): ApiError {
  const errors = issuesToErrors(issues);
  return new ApiError('BAD_REQUEST', `invalid ${what}: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, { errors });
}

/** A 400 for a path parameter: `invalid id in path: …`, naming the parameter. */
export function invalidParam(name: string, issues: readonly z.core.$ZodIssue[]): ApiError {
  const message = issues[0]?.message ?? 'invalid';
  return new ApiError('BAD_REQUEST', `invalid ${name} in path: ${message}`, { errors: [{ path: name, message }] });
}

type HookResult = { success: true } | { success: false; error: { issues: readonly z.core.$ZodIssue[] }; target: string };

/**
 * The one validation hook of every app (lib/http/register.ts validates path parameters through it): whatever a route definition
 * asks hono to validate fails as the same problem+json 400 the handlers' own parse helpers throw
 * (lib/http/validate.ts), never as hono's default `{success:false,error}` JSON.
 */
export function validationHook(result: HookResult): void {
  if (result.success) return;
  const { issues } = result.error;
  if (result.target === 'param') throw invalidParam(String(issues[0]?.path[0] ?? 'parameter'), issues);
  throw invalidInput(result.target === 'json' || result.target === 'form' ? 'body' : result.target, issues);
}
