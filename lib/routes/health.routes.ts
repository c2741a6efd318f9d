import { defineRoute } from '../http/route.js';
import { Health, OpenApiDocument } from '../schemas/health.js';

export const healthRoute = defineRoute({
  method: 'get', path: '/api/health', summary: 'Storage health: 200 when Postgres and KV answer, 503 naming the part that does not', tag: 'health',
  auth: 'public', ok: { 200: Health, 503: Health },
});

export const openApiRoute = defineRoute({
  method: 'get', path: '/api/openapi.json', summary: 'This document (OpenAPI 3.1)', tag: 'health', auth: 'public', storage: false, ok: { 200: OpenApiDocument },
});

/** Mounted by every door (lib/node/vercel.ts), so each Vercel function answers both. */
export const healthRoutes = [healthRoute, openApiRoute];
