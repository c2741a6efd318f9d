import type { Handler, MiddlewareHandler } from 'hono';
import { validator } from 'hono/validator';
import type * as z from '../util/zod.js';
import type { App, AppEnv } from './env.js';
import type { Config } from '../config.js';
import { allow } from './auth.js';
import { allowWithStreamToken } from './stream-token.js';
import { limitByIp } from './ratelimit.js';
import { ROLES, type RateLimitClass, type RouteDef } from './route.js';
import { validationHook } from './validation-hook.js';

const LIMITS: Record<RateLimitClass, (config: Config) => number> = {
  'ingest-ip': (c) => c.rateLimits.ingestPerIp,
  'webhook-ip': (c) => c.rateLimits.webhookPerIp,
};

/**
 * Mount one defined route: the rate limit first (a flood is refused before any token is
 * hashed), then the role check, then the path parameters through the app's validation hook, then
 * the handler. Everything a route needs comes from its definition, so a route cannot be mounted
 * with different rules than it documents.
 */
export function register(app: App, def: RouteDef, handler: Handler<AppEnv>): void {
  const middleware: MiddlewareHandler<AppEnv>[] = [];
  if (def.rateLimit) middleware.push(limitByIp(def.rateLimit, LIMITS[def.rateLimit]));
  if (def.auth in ROLES) {
    if (!def.action) throw new Error(`${def.method} ${def.path}: an ${def.auth} route needs an action (for 403s and the audit trail)`);
    const roles = ROLES[def.auth as keyof typeof ROLES];
    middleware.push(def.streamToken ? allowWithStreamToken(roles, def.action) : allow(roles, def.action));
  }
  if (def.params) middleware.push(validateParams(def.params));
  // The handlers answer plain Responses whose bodies are checked against the same schemas in the
  // tests (tests/unit/openapi.test.ts).
  app.on([def.method.toUpperCase()], [def.path.replaceAll(/\/{(.+?)}/g, '/:$1')], ...middleware, handler);
}

/** Path parameters, through the one validation hook: a problem+json 400 naming the parameter. */
function validateParams(schema: z.ZodMiniObject): MiddlewareHandler<AppEnv> {
  return validator('param', (value) => {
    const parsed = schema.safeParse(value);
    if (!parsed.success) validationHook({ success: false, error: parsed.error, target: 'param' });
    return parsed.data;
  });
}
