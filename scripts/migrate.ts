/**
 * `npm run migrate`: apply the numbered migrations to DATABASE_URL (through `pg`, also for Neon —
 * Neon accepts TCP connections) or, without it, to the embedded database in DATA_DIR.
 */
import { parseConfig } from '../lib/config.js';
import { loadMigrations } from '../lib/node/migrations.js';
import { openScriptSql } from '../lib/node/script-sql.js';
import { migrate } from '../lib/storage/migrate.js';

const config = parseConfig({ ...process.env, ADMIN_TOKEN: process.env.ADMIN_TOKEN ?? 'unused-by-migrations-0123456789abcdef' });
const sql = await openScriptSql(config);
try {
  const applied = await migrate(sql, await loadMigrations());
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
} finally {
  await sql.close();
}
