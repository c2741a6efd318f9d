import type { Context } from 'hono';
import type { AppEnv } from '../../http/env.js';
import type { Deps } from '../../deps.js';
import { parseParam } from '../../http/validate.js';
import { SessionId } from '../../schemas/ids.js';
import type { SessionCtx } from '../../sessions/context.js';

export function sessionCtx(deps: Deps): SessionCtx {
  return { sql: deps.sql, kv: deps.kv, timeoutMs: deps.config.sessionTimeoutMs, now: deps.now, log: deps.log };
}

export const ctxOf = (c: Context<AppEnv>): SessionCtx => sessionCtx(c.get('deps'));

export const sessionIdParam = (c: Context<AppEnv>): string => parseParam(c, 'id', SessionId);
