/**
 * What a cold start pays for (ADR 0020), checked without a clock: the OpenAPI document is built
 * only by a request for it, and each Vercel function compiles before its first request only its
 * own family's routes, the shared app, and none of the code most requests never run (the OpenAPI
 * builder, the other families, the OpenAI client, the YAML parser, the drivers it is not
 * configured for, the sweep). Timings are the `cold` bench group's business (npm run bench).
 */
import { readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { openApiBuilds } from '../../lib/openapi-document.js';
import type { Sql } from '../../lib/storage/sql.js';
import type { BuiltFunction } from '../../scripts/build-vercel.js';
import { admin, makeDeps, memoryPglite, uniqueToken } from '../helpers/deps.js';
import { sharedVercelOutput } from '../helpers/shared-build.js';

describe('the OpenAPI document is built only when asked for', () => {
  let sql: Sql;
  beforeAll(async () => {
    sql = await memoryPglite();
  }, 60_000);
  afterAll(async () => {
    await sql.close();
  });

  it('no other request builds it; the first GET /api/openapi.json builds it once', async () => {
    const app = createApp(makeDeps({ sql }), allFamilies);
    const token = uniqueToken();
    const answered = [
      await app.request('/api/health'),
      await app.request('/api/session-log', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sessionToken: token, studentEmail: 'cold@example.com', eventType: 'navigation', eventData: { from: 1, to: 2 } }),
      }),
      await app.request(`/api/session-log?sessionToken=${token}`, { headers: admin }),
      await app.request('/api/sessions/active', { headers: admin }),
      await app.request('/api/nowhere'),
    ].map((r) => r.status);
    expect(answered).toEqual([200, 200, 200, 200, 404]);
    expect(openApiBuilds()).toBe(0);

    const first = await app.request('/api/openapi.json');
    expect(first.status).toBe(200);
    expect(((await first.json()) as { openapi: string }).openapi).toBe('3.1.0');
    expect(openApiBuilds()).toBe(1);
    // Kept for the life of the instance.
    expect((await app.request('/api/openapi.json')).status).toBe(200);
    expect(openApiBuilds()).toBe(1);
  });
});

/** Each door's own route definitions (besides health's, which every door mounts). */
const OWN: Record<string, string[]> = {
  'analysis.ts': ['lib/routes/analysis.routes.ts'],
  'attention.ts': ['lib/routes/attention.routes.ts'],
  'audit.ts': ['lib/routes/audit.routes.ts'],
  'cron.ts': ['lib/routes/cron.routes.ts'],
  'health.ts': [],
  'session-log.ts': ['lib/routes/session-log/routes.ts'],
  'sessions.ts': ['lib/routes/sessions/routes.ts'],
  'students.ts': ['lib/routes/students.routes.ts'],
  'webhooks.ts': ['lib/routes/webhooks/routes.ts'],
};
const DEFINITIONS = [...new Set(Object.values(OWN).flat())];

/** Loaded only when a request needs them; never before the first request. */
const LAZY = ['lib/openapi-document.ts', 'lib/routes/inventory.ts', 'lib/lifecycle/maintenance.ts', 'lib/schemas/responses.ts'];

/**
 * Other families' schemas, which a door would build at start-up for nothing: the event schemas
 * (~260 zod objects) and the analysis runner (with the progress report's schemas), only where a
 * first request of the family needs them.
 */
const NOT_EAGER: Record<string, string[]> = {
  'lib/schemas/event.ts': ['analysis.ts', 'attention.ts', 'audit.ts', 'health.ts'],
  'lib/analysis/run.ts': ['attention.ts', 'audit.ts', 'cron.ts', 'health.ts', 'session-log.ts', 'sessions.ts', 'students.ts', 'webhooks.ts'],
  // The cron, students and webhooks doors check ids and use the row helpers, not the session
  // schemas (lib/schemas/ids.ts, lib/sessions/documents.ts: ADR 0029).
  'lib/schemas/session.ts': ['attention.ts', 'audit.ts', 'cron.ts', 'health.ts', 'session-log.ts', 'students.ts', 'webhooks.ts'],
  // The alert rules reach lib/attention/compute.ts from every door that stores events; the response
  // schema is the attention door's, and the worker's warm-up's (lib/attention/warm.ts).
  'lib/schemas/attention.ts': ['analysis.ts', 'audit.ts', 'cron.ts', 'health.ts', 'session-log.ts', 'sessions.ts', 'students.ts', 'webhooks.ts'],
};
const LAZY_PACKAGES = [
  'node_modules/openai/',
  'node_modules/yaml/',
  'node_modules/@neondatabase/',
  'node_modules/@upstash/',
  'node_modules/pg/',
];

describe('what each Vercel function compiles before its first request', () => {
  const doors = readdirSync('api').filter((f) => f.endsWith('.ts')).sort();
  const bundles = new Map<string, BuiltFunction>();
  beforeAll(async () => {
    // The bundles `npm run build:vercel` ships (scripts/bundle-function.ts, one per door), as
    // tests/unit/vercel-build.test.ts checks them: built once per run for both files.
    const built = await sharedVercelOutput();
    for (const f of built.functions) bundles.set(`${basename(f.name)}.ts`, f);
  }, 120_000);

  it('knows every door', () => {
    expect(doors).toEqual(Object.keys(OWN).sort());
  });

  it("only the door's own route definitions, and health's", () => {
    for (const door of doors) {
      const b = bundles.get(door);
      const defs = b?.eagerInputs.filter((f) => DEFINITIONS.includes(f) || f === 'lib/routes/health.routes.ts').sort();
      expect(defs, door).toEqual([...(OWN[door] ?? []), 'lib/routes/health.routes.ts'].sort());
    }
  });

  it('none of the code its first request never runs, which stays in the bundle for later', () => {
    for (const door of doors) {
      const b = bundles.get(door);
      if (!b) throw new Error(`no bundle for ${door}`);
      // Each is in the bundle (so the check below could fail), only not loaded before the first request.
      for (const f of LAZY) expect(b.inputs, `${door} bundles ${f}`).toContain(f);
      for (const p of LAZY_PACKAGES) expect(b.inputs.some((f) => f.startsWith(p)), `${door} bundles ${p}`).toBe(true);
      expect(b.eagerInputs.filter((f) => LAZY.includes(f) || LAZY_PACKAGES.some((p) => f.startsWith(p))), door).toEqual([]);
      // …while what it does run is there: the app, zod and hono.
      expect(b.eagerInputs, door).toEqual(expect.arrayContaining(['lib/app.ts', 'lib/node/vercel.ts', `api/${door}`]));
      expect(b.eagerBytes, door).toBeLessThan(b.totalBytes / 2);
    }
  });

  it("no other family's schemas", () => {
    for (const [module, doorsWithout] of Object.entries(NOT_EAGER)) {
      for (const door of doorsWithout) expect(bundles.get(door)?.eagerInputs, `${door} loads ${module} at start`).not.toContain(module);
    }
    // …which the check would see: the doors that do need them load them.
    expect(bundles.get('session-log.ts')?.eagerInputs).toContain('lib/schemas/event.ts');
    expect(bundles.get('analysis.ts')?.eagerInputs).toContain('lib/analysis/run.ts');
    expect(bundles.get('sessions.ts')?.eagerInputs).toContain('lib/schemas/session.ts');
  });

  it('zod/mini alone: the classic zod API (~390 KB loaded with the first schema) is in no bundle, eager or lazy', () => {
    for (const door of doors) {
      const b = bundles.get(door);
      if (!b) throw new Error(`no bundle for ${door}`);
      expect(b.inputs.filter((f) => f.startsWith('node_modules/zod/v4/classic/') || f.startsWith('node_modules/zod/v3/')), door).toEqual([]);
      // …and the zod it does load is mini's, from the start, so the check above looks at the right paths.
      expect(b.eagerInputs, door).toContain('node_modules/zod/v4/mini/schemas.js');
      expect(b.eagerInputs, door).toContain('lib/util/zod.ts');
    }
  });
});
