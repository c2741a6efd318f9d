import type { RouteDef } from '../http/route.js';
import { analysisRoutes } from './analysis.routes.js';
import { attentionRoutes } from './attention.routes.js';
import { auditRoutes } from './audit.routes.js';
import { cronRoutes } from './cron.routes.js';
import { healthRoutes } from './health.routes.js';
import { sessionLogRoutes } from './session-log/routes.js';
import { sessionsRoutes } from './sessions/routes.js';
import { studentsRoutes } from './students.routes.js';
import { webhooksRoutes } from './webhooks/routes.js';

/**
 * Every endpoint of the API, from the definitions beside the handlers. The OpenAPI document is
 * built from this list and tests/unit/routes.test.ts checks that the full app mounts exactly
 * these routes, so an endpoint cannot be served without being documented, or the reverse.
 * Imports definitions only (schemas), never handlers: see lib/http/route.ts.
 */
export const ROUTES: readonly RouteDef[] = [
  ...healthRoutes,
  ...sessionLogRoutes,
  ...analysisRoutes,
  ...sessionsRoutes,
  ...cronRoutes,
  ...auditRoutes,
  ...studentsRoutes,
  ...webhooksRoutes,
  ...attentionRoutes,
];

/** `GET /api/sessions/:id`, as hono lists its routes. */
export const honoKey = (def: Pick<RouteDef, 'method' | 'path'>) => `${def.method.toUpperCase()} ${def.path.replaceAll(/\{([^}]+)\}/g, ':$1')}`;
