import type { Config } from './config.js';
import type { RateLimiter } from './ratelimit/interface.js';
import type { Kv } from './storage/kv.js';
import type { Sql } from './storage/sql.js';

/** Everything a route needs, wired once per app by a door (server.ts, worker.ts, api/*, tests). */
export interface Deps {
  config: Config;
  sql: Sql;
  kv: Kv;
  /** Current time; injectable so tests can move time without sleeping. */
  now: () => Date;
  /**
   * Keep background work alive after the response. Doors pass the platform's waitUntil when they
   * have one; routes use `defer(c, promise)` from lib/http/defer.ts, which prefers the request's
   * own execution context (edge workers).
   */
  waitUntil: (promise: Promise<unknown>) => void;
  log: Logger;
  /** Shared (Redis) or local (memory) rate limits. */
  rateLimiter: RateLimiter;
  /**
   * Longest one streaming response may run before it asks the client to reconnect: set by doors
   * whose platform cuts functions off (Vercel's maxDuration, lib/node/vercel.ts). Unset = until the
   * client leaves or the stream ends.
   */
  streamLimitMs?: number;
}

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** JSON-lines logger. Callers never pass secrets; error causes are reduced to name and message. */
export const consoleLogger: Logger = {
  info: (msg, fields) => console.log(JSON.stringify({ level: 'info', msg, ...fields })),
  warn: (msg, fields) => console.warn(JSON.stringify({ level: 'warn', msg, ...fields })),
  error: (msg, fields) => console.error(JSON.stringify({ level: 'error', msg, ...fields })),
};

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

export function describeError(err: unknown): { name: string; message: string } {
  return err instanceof Error ? { name: err.name, message: err.message } : { name: 'Error', message: String(err) };
}
