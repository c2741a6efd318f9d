import type { Context } from 'hono';
import type { AppEnv } from './env.js';

/**
 * Run `promise` after the response without losing it: the edge worker's per-request
 * executionCtx.waitUntil when there is one, else the door's waitUntil (Vercel's
 * @vercel/functions, or the local tracker that tests and the local server await).
 * Returns the promise so callers (and tests) can still await it.
 */
export function defer<T>(c: Context<AppEnv>, promise: Promise<T>): Promise<T> {
  let ctx: { waitUntil(p: Promise<unknown>): void } | undefined;
  try {
    ctx = c.executionCtx;
  } catch {
    // Hono throws when the runtime gave no execution context (Node, tests).
  }
  if (ctx) ctx.waitUntil(promise);
  else c.get('deps').waitUntil(promise);
  return promise;
}
