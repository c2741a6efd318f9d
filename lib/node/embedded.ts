import { mkdir } from 'node:fs/promises';
import { createPgliteSql } from '../storage/sql-pglite.js';
import type { Sql } from '../storage/sql.js';

/**
 * The embedded database (PGlite, 16 MB of WASM and data files) for the local server, scripts and
 * tests. Only those import this module: a Vercel function traces every file its door can reach,
 * and a reachable import of PGlite, even a lazy one, puts all of it into every function (each was
 * 22–25 MB). tests/unit/vercel-size.test.ts fails if a door reaches it again.
 */
export async function createEmbeddedSql(dataDir: string): Promise<Sql> {
  if (!dataDir.startsWith('memory://')) await mkdir(dataDir, { recursive: true });
  return createPgliteSql(dataDir);
}
