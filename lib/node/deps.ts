import { type Config, ConfigError } from '../config.js';
import { consoleLogger, type Deps, type Logger } from '../deps.js';
import { createMemoryKv } from '../storage/kv-memory.js';
import { type Kv, withPrefix } from '../storage/kv.js';
import type { Sql } from '../storage/sql.js';
import type { RateLimiter } from '../ratelimit/interface.js';
import { memoryRateLimiter } from '../ratelimit/memory.js';

/** Opens the embedded database in a folder: lib/node/embedded.ts, passed in by the local doors. */
export type EmbeddedSql = (dataDir: string) => Promise<Sql>;

/**
 * Node-only wiring (the local server, Vercel functions, scripts). The embedded database is not
 * imported here, not even lazily: whatever this module reaches is traced into every Vercel
 * function. Doors that may run it (server.ts, scripts, tests) pass `embedded`; the Vercel doors
 * do not, so a deployment without DATABASE_URL answers BAD_ENVIRONMENT naming it.
 */
export async function createSql(config: Config, embedded?: EmbeddedSql, connectEarly = false): Promise<Sql> {
  const db = config.database;
  switch (db.driver) {
    case 'pglite':
      if (!embedded) throw new ConfigError('a serverless function has no embedded database: set DATABASE_URL to a PostgreSQL (or Neon) URL', ['DATABASE_URL']);
      return embedded(db.dataDir);
    // Each driver is imported when configured, not before: a function loads and compiles only the
    // client it uses (pg, or Neon's with its WebSocket shim), not all of them (ADR 0020).
    case 'pg': {
      const { createPgSql } = await import('../storage/sql-pg.js');
      return createPgSql({ connectionString: db.url, max: db.poolMax, queryTimeoutMs: db.queryTimeoutMs, connectEarly });
    }
    case 'neon': {
      const { createNeonSql } = await import('../storage/sql-neon.js');
      return createNeonSql({ connectionString: db.url, httpEndpoint: db.httpEndpoint });
    }
  }
}

export async function createKv(config: Config): Promise<{ kv: Kv; rateLimiter: RateLimiter }> {
  if (config.kv.driver === 'upstash') {
    // Upstash's client and ratelimit (240 KB) only when configured, as the SQL drivers above.
    const [{ createUpstashKv }, { upstashRateLimiter }] = await Promise.all([import('../storage/kv-upstash.js'), import('../ratelimit/upstash.js')]);
    const kv = createUpstashKv(config.kv);
    return { kv: withPrefix(kv, config.kv.prefix), rateLimiter: upstashRateLimiter(kv.client, config.kv.prefix, { timeoutMs: config.kv.timeoutMs, breaker: kv.breaker }) };
  }
  return { kv: withPrefix(createMemoryKv(), config.kv.prefix), rateLimiter: memoryRateLimiter() };
}

/** Promises handed to waitUntil, so a local process can finish them before it exits. */
export function createWaitUntil(log: Logger): { waitUntil: (p: Promise<unknown>) => void; settle: () => Promise<void> } {
  const pending = new Set<Promise<unknown>>();
  return {
    waitUntil(p) {
      const tracked = p.catch((err: unknown) => log.error('background task failed', { error: String(err) })).finally(() => pending.delete(tracked));
      pending.add(tracked);
    },
    async settle() {
      while (pending.size) await Promise.all([...pending]);
    },
  };
}

/**
 * `connectEarly`: open the first `pg` connection now rather than at the first query, so its round
 * trips overlap building the app and reading the request (a Vercel cold start).
 */
export async function createNodeDeps(
  config: Config,
  opts: { migrate?: boolean; log?: Logger; embedded?: EmbeddedSql; connectEarly?: boolean } = {},
): Promise<Deps & { settle: () => Promise<void> }> {
  const log = opts.log ?? consoleLogger;
  const sql = await createSql(config, opts.embedded, opts.connectEarly);
  if (opts.migrate) {
    const [{ migrate }, { loadMigrations }] = await Promise.all([import('../storage/migrate.js'), import('./migrations.js')]);
    await migrate(sql, await loadMigrations());
  }
  const { waitUntil, settle } = createWaitUntil(log);
  return { config, sql, ...(await createKv(config)), now: () => new Date(), waitUntil, settle, log };
}
