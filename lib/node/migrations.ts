import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Migration } from '../storage/migrate.js';

/** Node-only: read the numbered .sql files beside this module. Doors on edge runtimes never migrate. */
export async function loadMigrations(): Promise<Migration[]> {
  const dir = fileURLToPath(new URL('../storage/migrations/', import.meta.url));
  const names = (await readdir(dir)).filter((n) => /^\d+_.+\.sql$/.test(n)).sort();
  return Promise.all(names.map(async (name) => ({ name, sql: await readFile(`${dir}${name}`, 'utf8') })));
}
