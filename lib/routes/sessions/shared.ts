import type { Context } from 'hono';
import type { AppEnv } from '../../app.js';
import type { Deps } from '../../deps.js';
import { requireToken } from '../../http/auth.js';
import { parseParam } from '../../http/validate.js';
import { SessionId } from '../../schemas/session.js';
import type { SessionCtx } from '../../sessions/context.js';

export function sessionCtx(deps: Deps): SessionCtx {
  return { sql: deps.sql, kv: deps.kv, timeoutMs: deps.config.sessionTimeoutMs, now: deps.now, log: deps.log };
}

export const ctxOf = (c: Context<AppEnv>): SessionCtx => sessionCtx(c.get('deps'));

export const sessionIdParam = (c: Context<AppEnv>): string => parseParam(c, 'id', SessionId);

/** Instructors (and operators) read. */
export const admin = (deps: Deps) => requireToken(() => [deps.config.adminToken], 'admin token');
/** Servers that write session data: the tool server, agent platforms — or an admin. */
export const writer = (deps: Deps) => requireToken(() => [deps.config.serviceToken, deps.config.adminToken], 'service or admin token');
/** Vercel cron sends `Authorization: Bearer $CRON_SECRET`. */
export const cron = (deps: Deps) => requireToken(() => [deps.config.cronSecret], 'cron secret');
