import type { Config } from '../config.js';
import type { Sql } from '../storage/sql.js';
import { createPgSql } from '../storage/sql-pg.js';

/**
 * The database a command-line script (`npm run migrate`, `npm run backfill:attempts`) works on:
 * DATABASE_URL through `pg` (also for Neon, which accepts TCP connections), or without it the
 * embedded database in DATA_DIR. Two connections: a script runs one thing at a time.
 */
export async function openScriptSql(config: Config): Promise<Sql> {
  if (config.database.driver !== 'pglite') return createPgSql({ connectionString: config.database.url, max: 2 });
  const { createEmbeddedSql } = await import('./embedded.js');
  return createEmbeddedSql(config.database.dataDir);
}
