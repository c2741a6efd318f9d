/**
 * `npm run migrate`: apply the numbered migrations to DATABASE_URL (through `pg`, also for Neon —
 * Neon accepts TCP connections) or, without it, to the embedded database in DATA_DIR.
 */
import { parseConfig } from '../lib/config.js';
import { loadMigrations } from '../lib/node/migrations.js';
import { migrate } from '../lib/storage/migrate.js';
import { createPgSql } from '../lib/storage/sql-pg.js';
import type { Sql } from '../lib/storage/sql.js';

const config = parseConfig({ ...process.env, ADMIN_TOKEN: process.env.ADMIN_TOKEN ?? 'unused-by-migrations-0123456789abcdef' });
let sql: Sql;
if (config.database.driver === 'pglite') {
  const { createEmbeddedSql } = await import('../lib/node/embedded.js');
  sql = await createEmbeddedSql(config.database.dataDir);
} else {
  sql = createPgSql({ connectionString: config.database.url, max: 2 });
}
try {
  const applied = await migrate(sql, await loadMigrations());
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
} finally {
  await sql.close();
}
