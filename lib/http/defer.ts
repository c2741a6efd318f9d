import type { Context } from 'hono';
import type { AppEnv } from './env.js';

/**
 * Run `promise` after the response without losing it: the request's executionCtx.waitUntil (the
 * edge worker's own; on other doors lib/app.ts supplies one backed by the door's waitUntil:
 * Vercel's @vercel/functions, or the local tracker that tests and the local server await).
 * Returns the promise so callers (and tests) can still await it.
 */
export function defer<T>(c: Context<AppEnv>, promise: Promise<T>): Promise<T> {
  let ctx: { waitUntil(p: Promise<unknown>): void } | undefined;
  try {
    ctx = c.executionCtx;
  } catch {
    // A context made without app.fetch (hono throws when it has none).
  }
  if (ctx) ctx.waitUntil(promise);
  else c.get('deps').waitUntil(promise);
  return promise;
}
