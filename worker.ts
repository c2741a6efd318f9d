/**
 * The edge door: a Cloudflare-style worker (`export default { fetch }`), bundled by esbuild
 * (npm run build:worker) and tested in workerd through miniflare. Postgres through Neon's HTTP
 * driver, KV through the Upstash REST client: no TCP, no Node APIs.
 */
import { createApp } from './lib/app.js';
import { parseConfig } from './lib/config.js';
import { consoleLogger } from './lib/deps.js';
import { type FetchHandler, lazyApp } from './lib/door.js';
import { allFamilies } from './lib/families.js';
import { memoryRateLimiter } from './lib/ratelimit/memory.js';
import { upstashRateLimiter } from './lib/ratelimit/upstash.js';
import { createMemoryKv } from './lib/storage/kv-memory.js';
import { createUpstashKv } from './lib/storage/kv-upstash.js';
import { withPrefix } from './lib/storage/kv.js';
import { createNeonSql } from './lib/storage/sql-neon.js';

type Bindings = Record<string, unknown>;

let handler: FetchHandler | undefined;

export default {
  fetch(request: Request, env: Bindings, ctx: { waitUntil(p: Promise<unknown>): void }): Response | Promise<Response> {
    // Bindings are fixed for the life of an isolate, so the app is built once from the first env.
    handler ??= lazyApp(async () => {
      const config = parseConfig(env, 'edge');
      if (config.database.driver !== 'neon') throw new Error('edge runtime requires the neon driver');
      const sql = createNeonSql({ connectionString: config.database.url, httpEndpoint: config.database.httpEndpoint });
      const upstash = config.kv.driver === 'upstash' ? createUpstashKv(config.kv) : null;
      const kv = withPrefix(upstash ?? createMemoryKv(), config.kv.prefix);
      const rateLimiter = upstash ? upstashRateLimiter(upstash.client, config.kv.prefix, { timeoutMs: upstash.timeoutMs, breaker: upstash.breaker }) : memoryRateLimiter();
      return createApp(
        {
          config,
          sql,
          kv,
          now: () => new Date(),
          // Routes use the request's own ctx.waitUntil (lib/http/defer.ts); this is the fallback.
          waitUntil: (p) => void p.catch((err: unknown) => consoleLogger.error('background task failed', { error: String(err) })),
          log: consoleLogger,
          rateLimiter,
        },
        allFamilies,
      );
    });
    return handler(request, env, ctx);
  },
};
