import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type Config } from '../../lib/config.js';
import { consoleLogger, type Deps, silentLogger } from '../../lib/deps.js';
import { createWaitUntil } from '../../lib/node/deps.js';
import { loadMigrations } from '../../lib/node/migrations.js';
import type { RateLimiter } from '../../lib/ratelimit/interface.js';
import { memoryRateLimiter } from '../../lib/ratelimit/memory.js';
import { createMemoryKv } from '../../lib/storage/kv-memory.js';
import type { Kv } from '../../lib/storage/kv.js';
import { migrate } from '../../lib/storage/migrate.js';
import { signWriteToken } from '../../lib/sessions/write-token.js';
import { createPgliteSql, openPglite, pgliteSql } from '../../lib/storage/sql-pglite.js';
import type { QueryOptions, Sql } from '../../lib/storage/sql.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

/**
 * The write token the API hands out for session `id` under ADMIN_TOKEN (POST /api/sessions/{id}/write-token),
 * for tests whose subject is not the token itself: a page needs it to post into a session it did not open.
 */
export const writeTokenFor = (id: string): Promise<string> => signWriteToken(ADMIN_TOKEN, id);

export function testConfig(env: Record<string, string> = {}): Config {
  // Rate limits are off unless a test turns them on: in-process requests all share one "IP".
  // So is the sweep by traffic: tests move time and assert what is stored, and a sweep started in
  // the background by an earlier request would end their sessions at an arbitrary moment.
  // tests/unit/traffic-sweep.test.ts turns it on.
  return parseConfig({ ADMIN_TOKEN, DATA_DIR: '/tmp/sessionlog-test', RATE_LIMITS: 'off', TRAFFIC_SWEEP_SECONDS: '0', ...env });
}

/**
 * A fresh in-memory PGlite with the schema applied. Start one per test file. It starts from a
 * migrated template (below): an empty PGlite takes ~4.5 s to create on the CI machine, one loaded
 * from the template ~1.5 s, and ~60 files start one.
 */
export async function memoryPglite(): Promise<Sql> {
  const sql = await createPgliteSql('memory://', { loadDataDir: await migratedTemplate() });
  // A no-op when the template is current; applies what it lacks otherwise.
  await migrate(sql, await loadMigrations());
  return sql;
}

let template: Promise<Blob> | undefined;
/**
 * A dump of an in-memory PGlite with every migration applied, kept in the OS temp folder under a
 * hash of the migrations and PGlite's version, so each test file (each worker process) reads it
 * instead of initialising and migrating a cluster. Written to a temporary name and renamed, so a
 * file another worker is still writing is never read.
 */
function migratedTemplate(): Promise<Blob> {
  template ??= (async () => {
    const migrations = await loadMigrations();
    const pgliteVersion = (JSON.parse(await readFile(new URL('../../node_modules/@electric-sql/pglite/package.json', import.meta.url), 'utf8')) as { version: string }).version;
    const key = createHash('sha256').update(pgliteVersion).update(JSON.stringify(migrations)).digest('hex').slice(0, 16);
    const file = join(tmpdir(), `sessionlog-test-pglite-${key}.tgz`);
    try {
      return new Blob([await readFile(file)]);
    } catch {
      const db = await openPglite('memory://');
      await migrate(pgliteSql(db), migrations);
      const dump = await db.dumpDataDir('gzip');
      await db.close();
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, Buffer.from(await dump.arrayBuffer()));
      await rename(tmp, file);
      return dump;
    }
  })();
  return template;
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

/**
 * `inner` as an app sees it, telling `seen` the text of each statement before it runs (each one of
 * a batch too) and `rows` what each query brought back: for tests that count statements or bytes
 * through a real database. Closing it leaves `inner` open.
 */
export function tapSql(inner: Sql, seen: (text: string) => void, rows?: (result: readonly unknown[]) => void): Sql {
  return {
    driver: inner.driver,
    async query<T>(text: string, params?: readonly unknown[], opts?: QueryOptions): Promise<T[]> {
      seen(text);
      const result = await inner.query<T>(text, params, opts);
      rows?.(result);
      return result;
    },
    batch(statements) {
      for (const st of statements) seen(st.text);
      return inner.batch(statements);
    },
    close: async () => {},
  };
}
