/**
 * The edge door: a Cloudflare Workers module worker (`export default { fetch, scheduled }`),
 * bundled by esbuild (npm run build:worker; wrangler.jsonc points at the bundle) and tested in
 * workerd through miniflare. Postgres through Neon's HTTP driver, KV through the Upstash REST
 * client: no TCP, no Node APIs. Static files (public/) are served by the assets binding before the
 * worker runs; cron triggers (wrangler.jsonc `triggers.crons`) call `scheduled`.
 */
// workerd's built-in module: the deployment's bindings at module scope (declared in cloudflare-workers.d.ts).
import { env as startupEnv } from 'cloudflare:workers';
import { type App, createApp } from './lib/app.js';
import { parseConfig } from './lib/config.js';
import { consoleLogger, type Deps } from './lib/deps.js';
import { type FetchHandler, lazyApp } from './lib/door.js';
import { allFamilies } from './lib/families.js';
import { memoryRateLimiter } from './lib/ratelimit/memory.js';
import { upstashRateLimiter } from './lib/ratelimit/upstash.js';
import { runScheduled } from './lib/scheduled.js';
import { createMemoryKv } from './lib/storage/kv-memory.js';
import { createUpstashKv } from './lib/storage/kv-upstash.js';
import { withPrefix } from './lib/storage/kv.js';
import { createNeonSql } from './lib/storage/sql-neon.js';
import { warmUpAttention } from './lib/attention/warm.js';
import { warmUpValidation } from './lib/events/validate.js';

type Bindings = Record<string, unknown>;
interface ExecutionContext {
  waitUntil(p: Promise<unknown>): void;
}
interface ScheduledController {
  cron: string;
  scheduledTime: number;
}

/** Bindings are fixed for the life of an isolate, so storage clients are built once from the first env. */
function buildDeps(env: Bindings): Deps {
  const config = parseConfig(env, 'edge');
  if (config.database.driver !== 'neon') throw new Error('edge runtime requires the neon driver');
  const sql = createNeonSql({ connectionString: config.database.url, httpEndpoint: config.database.httpEndpoint });
  const upstash = config.kv.driver === 'upstash' ? createUpstashKv(config.kv) : null;
  const kv = withPrefix(upstash ?? createMemoryKv(), config.kv.prefix);
  const rateLimiter = upstash ? upstashRateLimiter(upstash.client, config.kv.prefix, { timeoutMs: upstash.timeoutMs, breaker: upstash.breaker }) : memoryRateLimiter();
  return {
    config,
    sql,
    kv,
    now: () => new Date(),
    // Routes use the request's own ctx.waitUntil (lib/http/defer.ts); this is the fallback.
    waitUntil: (p) => void p.catch((err: unknown) => consoleLogger.error('background task failed', { error: String(err) })),
    log: consoleLogger,
    rateLimiter,
  };
}

let deps: Deps | undefined;
let handler: FetchHandler | undefined;
let built: Promise<App> | undefined;

function depsFor(env: Bindings): Deps {
  deps ??= buildDeps(env);
  return deps;
}

/** The app, built once per isolate; a failed build (a missing binding) is tried again next time. */
function appFor(env: Bindings): Promise<App> {
  built ??= (async () => createApp(depsFor(env), allFamilies))().catch((err: unknown) => {
    built = undefined;
    throw err;
  });
  return built;
}

// Built while the isolate starts, from the bindings workerd exposes at module scope: start-up has its
// own CPU allowance, so the first request no longer spends ~12 ms of the free plan's 10 ms building
// every route. No I/O happens here (the Neon and Upstash clients connect on first use). A build that
// fails (a missing or bad binding) is left to the first request, which answers BAD_ENVIRONMENT.
if (startupEnv && typeof startupEnv === 'object' && Object.keys(startupEnv).length > 0) appFor(startupEnv as Bindings).catch(() => {});
// Also while it starts: the event schemas' parsers and the ingest validation code, which the first
// posted event would otherwise prepare and compile inside its own 10 ms (~2.9 ms of ~24 ms gross of
// workerd's CPU for a first ingest on the AMD EPYC machine, bench/worker-workerd.ts). Pure CPU: no
// I/O, timers or random values, which workerd refuses at start-up. A failure only loses the warm-up.
try {
  warmUpValidation();
  // And an instructor's "who needs help" poll's scoring and response schema (the Now view).
  warmUpAttention();
} catch {
  // never fail the isolate's start for it
}

export default {
  fetch(request: Request, env: Bindings, ctx: ExecutionContext): Response | Promise<Response> {
    handler ??= lazyApp(() => appFor(env));
    return handler(request, env, ctx);
  },

  /** Cron triggers: the sweep and retention, awaited through waitUntil so the run is not cut short. */
  scheduled(controller: ScheduledController, env: Bindings, ctx: ExecutionContext): void {
    // A throw here (bad environment, unknown schedule) fails the invocation, which Cloudflare
    // records in the cron trigger's past events: the operator sees it there and in the logs.
    ctx.waitUntil(runScheduled(controller.cron, depsFor(env)));
  },
};
