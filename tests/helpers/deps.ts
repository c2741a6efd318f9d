import { parseConfig, type Config } from '../../lib/config.js';
import { consoleLogger, type Deps, silentLogger } from '../../lib/deps.js';
import { createWaitUntil } from '../../lib/node/deps.js';
import { loadMigrations } from '../../lib/node/migrations.js';
import type { RateLimiter } from '../../lib/ratelimit/interface.js';
import { memoryRateLimiter } from '../../lib/ratelimit/memory.js';
import { createMemoryKv } from '../../lib/storage/kv-memory.js';
import type { Kv } from '../../lib/storage/kv.js';
import { migrate } from '../../lib/storage/migrate.js';
import { createPgliteSql } from '../../lib/storage/sql-pglite.js';
import type { Sql } from '../../lib/storage/sql.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export function testConfig(env: Record<string, string> = {}): Config {
  // Rate limits are off unless a test turns them on: in-process requests all share one "IP".
  // So is the sweep by traffic: tests move time and assert what is stored, and a sweep started in
  // the background by an earlier request would end their sessions at an arbitrary moment.
  // tests/unit/traffic-sweep.test.ts turns it on.
  return parseConfig({ ADMIN_TOKEN, DATA_DIR: '/tmp/sessionlog-test', RATE_LIMITS: 'off', TRAFFIC_SWEEP_SECONDS: '0', ...env });
}

/** A fresh in-memory PGlite with the schema applied. Start one per test file: it takes seconds. */
export async function memoryPglite(): Promise<Sql> {
  const sql = await createPgliteSql('memory://');
  await migrate(sql, await loadMigrations());
  return sql;
}

export type TestDeps = Deps & { settle: () => Promise<void> };

export function makeDeps(parts: { sql: Sql; kv?: Kv; config?: Config; now?: () => Date; rateLimiter?: RateLimiter }): TestDeps {
  const { waitUntil, settle } = createWaitUntil(process.env.SL_TEST_LOG ? consoleLogger : silentLogger);
  return {
    config: parts.config ?? testConfig(),
    sql: parts.sql,
    kv: parts.kv ?? createMemoryKv(),
    now: parts.now ?? (() => new Date()),
    rateLimiter: parts.rateLimiter ?? memoryRateLimiter(() => (parts.now ?? (() => new Date()))().getTime()),
    waitUntil,
    settle,
    // SL_TEST_LOG=1 shows what the app logs (unhandled errors included) while debugging a test.
    log: process.env.SL_TEST_LOG ? consoleLogger : silentLogger,
  };
}

export const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** A unique session token per test, so tests never see each other's rows. */
export function uniqueToken(prefix = 'ws'): string {
  return `${prefix}_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`;
}
