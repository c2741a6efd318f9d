import * as z from '../util/zod.js';

/*
 * Apart from responses.ts: every Vercel function mounts /api/health and /api/openapi.json, and
 * importing responses.ts would build every response schema (sessions, events, analyses) in each
 * of them on a cold start (ADR 0020). The other modules import these from here or through
 * responses.ts's re-export.
 */
export const Health = z.object({
  status: z.enum(['ok', 'error']),
  storage: z.object({ postgres: z.enum(['ok', 'unavailable']), kv: z.enum(['ok', 'unavailable']) }),
  drivers: z.object({ postgres: z.string(), kv: z.string() }),
});

/** GET /api/openapi.json: only the outline is promised here; the validators check the rest. */
export const OpenApiDocument = z.looseObject({ openapi: z.string(), info: z.looseObject({ title: z.string(), version: z.string() }), paths: z.record(z.string(), z.unknown()) });
