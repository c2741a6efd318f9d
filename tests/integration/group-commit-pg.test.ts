/** Group commit and the student cache on real PostgreSQL through the production `pg` adapter. */
import { afterAll, beforeAll, describe } from 'vitest';
import { loadMigrations } from '../../lib/node/migrations.js';
import { migrate } from '../../lib/storage/migrate.js';
import { createPgSql } from '../../lib/storage/sql-pg.js';
import type { Sql } from '../../lib/storage/sql.js';
import { DROP_POISON, groupCommitCases } from '../helpers/group-commit-suite.js';
import { describeWithPostgres, TEST_DATABASE_URL } from '../helpers/servers.js';

describeWithPostgres('group commit on PostgreSQL', () => {
  let sql: Sql;
  beforeAll(async () => {
    sql = createPgSql({ connectionString: TEST_DATABASE_URL ?? '', max: 10 });
    await migrate(sql, await loadMigrations());
    await sql.query(DROP_POISON); // left by an interrupted run
  });
  afterAll(() => sql.close());
  describe('through the route', () => groupCommitCases(() => sql));
});
