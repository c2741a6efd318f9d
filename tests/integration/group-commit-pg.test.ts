/**
 * Group commit and the student cache on real PostgreSQL: through the production `pg` adapter, and
 * through the Neon HTTP adapter with its real driver against the local stand-in of Neon's endpoint.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { loadMigrations } from '../../lib/node/migrations.js';
import { migrate } from '../../lib/storage/migrate.js';
import { createNeonSql } from '../../lib/storage/sql-neon.js';
import { createPgSql } from '../../lib/storage/sql-pg.js';
import type { Sql } from '../../lib/storage/sql.js';
import { DROP_POISON, groupCommitCases } from '../helpers/group-commit-suite.js';
import { type NeonStandin, startNeonStandin } from '../helpers/neon-standin.js';
import { describeWithPostgres, TEST_DATABASE_URL } from '../helpers/servers.js';

describeWithPostgres('group commit on PostgreSQL', () => {
  let sql: Sql;
  beforeAll(async () => {
    sql = createPgSql({ connectionString: TEST_DATABASE_URL ?? '', max: 10 });
    await migrate(sql, await loadMigrations());
    await sql.query(DROP_POISON); // left by an interrupted run
  });
  afterAll(() => sql.close());
  describe('pg', () => groupCommitCases(() => sql));

  describe('Neon HTTP', () => {
    let standin: NeonStandin;
    let neon: Sql;
    beforeAll(async () => {
      standin = await startNeonStandin({ databaseUrl: TEST_DATABASE_URL ?? '' });
      neon = createNeonSql({ connectionString: 'postgresql://app:pw@ep-local.neon.tech/neondb', httpEndpoint: standin.url });
    });
    afterAll(async () => {
      await neon.close();
      await standin.close();
    });
    groupCommitCases(() => neon);
  });
});
