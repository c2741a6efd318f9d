/**
 * The sweep lease (lib/lifecycle/maintenance.ts) on a real PostgreSQL with real concurrency:
 * many connections claim at the same instant and exactly one wins. (PGlite has one connection and
 * runs the claims one after another, so only a real server shows the upsert's row lock at work.)
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { claimRun } from '../../lib/lifecycle/maintenance.js';
import { loadMigrations } from '../../lib/node/migrations.js';
import { migrate } from '../../lib/storage/migrate.js';
import { createPgSql } from '../../lib/storage/sql-pg.js';
import type { Sql } from '../../lib/storage/sql.js';
import { describeWithPostgres, TEST_DATABASE_URL } from '../helpers/servers.js';

describeWithPostgres('maintenance lease on PostgreSQL', () => {
  let pools: Sql[];
  beforeAll(async () => {
    // Separate pools: separate clients, as separate function instances would be.
    pools = Array.from({ length: 4 }, () => createPgSql({ connectionString: TEST_DATABASE_URL ?? '', max: 5 }));
    await migrate(pools[0] as Sql, await loadMigrations());
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
  });

  it('one winner among twenty concurrent claims, for a new job and for a due one', async () => {
    const job = `test-${crypto.randomUUID()}`;
    const t0 = new Date('2026-03-05T09:00:00Z');
    const claimAll = (at: Date) => Promise.all(Array.from({ length: 20 }, (_, i) => claimRun(pools[i % pools.length] as Sql, job, at, 60_000)));
    expect((await claimAll(t0)).filter(Boolean)).toHaveLength(1);
    expect((await claimAll(new Date(t0.getTime() + 30_000))).filter(Boolean)).toHaveLength(0);
    expect((await claimAll(new Date(t0.getTime() + 61_000))).filter(Boolean)).toHaveLength(1);
    await pools[0]?.query('DELETE FROM maintenance_runs WHERE job = $1', [job]);
  });
});
