import type { Family } from './http/env.js';
import { register } from './http/register.js';
import { openApiRoute } from './routes/health.routes.js';

/**
 * GET /api/openapi.json. Every door mounts it, but the document's builder (lib/openapi-document.ts)
 * imports every family's route definitions and the JSON Schema conversion: loaded here on the
 * first request for the document, so a function answering anything else neither loads nor
 * builds it (ADR 0020; tests/unit/openapi-lazy.test.ts).
 */
export const openApiFamily: Family = (app) => {
  register(app, openApiRoute, async (c) => {
    const { openApiDocument } = await import('./openapi-document.js');
    c.header('cache-control', 'public, max-age=300');
    return c.json(openApiDocument());
  });
};
