/**
 * What Vercel ships per function: each api/*.ts door traced the way Vercel's Node builder does
 * (scripts/vercel-trace.ts, @vercel/nft). The embedded database must never be reachable from a
 * door (it made every function 22–25 MB), and every function stays under the budget.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUDGET_BYTES, type FunctionTrace, traceVercelFunctions } from '../../scripts/vercel-trace.js';

describe('Vercel function size', () => {
  it('no door reaches PGlite, and each function is under the budget', { timeout: 300_000 }, async () => {
    const traces: FunctionTrace[] = await traceVercelFunctions();
    expect(traces.map((t) => t.entry).sort()).toEqual(expect.arrayContaining(['api/health.ts', 'api/sessions.ts', 'api/webhooks.ts', 'api/cron.ts']));
    for (const t of traces) {
      // The tracer did follow the door into the app and its dependencies (a trace that stopped
      // at the entry file would pass every size check).
      expect(t.files, t.entry).toEqual(expect.arrayContaining([t.entry, 'lib/app.ts', 'lib/node/deps.ts', 'node_modules/hono/package.json']));
      expect(t.files.filter((f) => f.includes('@electric-sql/pglite') || f === 'lib/node/embedded.ts' || f === 'lib/storage/sql-pglite.ts'), t.entry).toEqual([]);
      expect(t.bytes, `${t.entry}: ${(t.bytes / 1024 / 1024).toFixed(2)} MB`).toBeLessThan(BUDGET_BYTES);
    }
  });

  it('the tracer sees the embedded database where it is reachable (the local server)', { timeout: 300_000 }, async () => {
    // Same tracer on a door that does import it: proves the check above can fail.
    const [server] = await traceVercelFunctions(process.cwd(), [join(process.cwd(), 'server.ts')]);
    expect(server?.files.some((f) => f.startsWith('node_modules/@electric-sql/pglite/'))).toBe(true);
    expect(server?.bytes).toBeGreaterThan(BUDGET_BYTES);
  });

  it('a function without DATABASE_URL answers BAD_ENVIRONMENT naming it, instead of opening an embedded database', async () => {
    const saved = { ...process.env };
    try {
      // Local mode (no VERCEL, no NODE_ENV=production): the case config alone would hand to PGlite.
      for (const k of ['DATABASE_URL', 'VERCEL', 'NODE_ENV', 'DATABASE_DRIVER']) delete process.env[k];
      process.env.ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
      const door = (await import('../../api/health.js')) as { default: { fetch: (r: Request) => Promise<Response> } };
      const res = await door.default.fetch(new Request('https://example.vercel.app/api/health'));
      expect(res.status).toBe(500);
      const body = (await res.json()) as { detail: string };
      expect(body.detail).toContain('DATABASE_URL');
      expect(body.detail).toContain('no embedded database');
    } finally {
      process.env = saved;
    }
  });
});
