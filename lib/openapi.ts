import type { Family } from './http/env.js';
import { register } from './http/register.js';
import { openApiRoute } from './routes/health.routes.js';

/**
 * GET /api/openapi.json. Every door mounts it, but the document's builder (lib/openapi-document.ts)
 * imports every family's route definitions and the JSON Schema conversion: loaded here on the
 * first request for the document, so a function answering anything else neither loads nor
 * builds it (ADR 0020; tests/unit/cold-start.test.ts).
 *
 * The edge bundle carries the document already built (scripts/build-worker.ts defines
 * __SESSIONLOG_OPENAPI__): building it costs ~70 ms of CPU, seven times a free-plan worker's
 * budget for one request.
 */
declare const __SESSIONLOG_OPENAPI__: string | undefined;

export const openApiFamily: Family = (app) => {
  register(app, openApiRoute, async (c) => {
    c.header('cache-control', 'public, max-age=300');
    if (typeof __SESSIONLOG_OPENAPI__ === 'string') return c.body(__SESSIONLOG_OPENAPI__, 200, { 'content-type': 'application/json' });
    const { openApiDocument } = await import('./openapi-document.js');
    return c.json(openApiDocument());
  });
};
