/**
 * The worker bundle in workerd through miniflare, on real storage: PostgreSQL (migrated) through
 * the Neon HTTP driver via the local /sql stand-in, Redis through the Upstash REST client via the
 * local bridge. Compatibility date, flags, bindings and (with `assets`) the static assets come from
 * wrangler.jsonc through wrangler itself. The suites of a run share one bundle; each gets its own KV prefix.
 */
import { Miniflare } from 'miniflare';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';
import { loadMigrations } from '../../lib/node/migrations.js';
import { migrate } from '../../lib/storage/migrate.js';
import { createPgSql } from '../../lib/storage/sql-pg.js';
import { startNeonStandin } from './neon-standin.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './servers.js';
import { sharedWorker } from './shared-build.js';
import { startUpstashBridge } from './upstash-bridge.js';

export interface EdgeWorld {
  mf: Miniflare;
  close(): Promise<void>;
}

export async function startEdgeWorld(o: { name: string; bindings: Record<string, string>; assets?: boolean }): Promise<EdgeWorld> {
  const pg = createPgSql({ connectionString: TEST_DATABASE_URL ?? '' });
  await migrate(pg, await loadMigrations());
  await pg.close();
  const { workerOptions } = unstable_getMiniflareWorkerOptions('wrangler.jsonc');
  const standin = await startNeonStandin({ databaseUrl: TEST_DATABASE_URL ?? '' });
  const bridge = await startUpstashBridge({ redisUrl: TEST_REDIS_URL ?? '' });
  // Bundled once per run for the edge suites (tests/helpers/shared-build.ts); the run removes it.
  const scriptPath = await sharedWorker();
  const mf = new Miniflare({
    modules: true,
    scriptPath,
    compatibilityDate: workerOptions.compatibilityDate,
    compatibilityFlags: workerOptions.compatibilityFlags,
    ...(o.assets ? { assets: workerOptions.assets } : {}),
    bindings: {
      ...workerOptions.bindings,
      DATABASE_URL: 'postgresql://app:pw@ep-local.neon.tech/neondb',
      DATABASE_HTTP_URL: standin.url,
      KV_REST_API_URL: bridge.url,
      KV_REST_API_TOKEN: bridge.token,
      KV_PREFIX: `edge-${o.name}:${crypto.randomUUID()}:`,
      ...o.bindings,
    },
  });
  await mf.ready;
  return {
    mf,
    async close() {
      await mf.dispose();
      await standin.close();
      await bridge.close();
    },
  };
}
