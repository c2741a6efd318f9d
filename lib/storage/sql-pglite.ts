import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { guarded, type Row, type Sql, type Statement } from './sql.js';

/**
 * PGlite: Postgres compiled to WASM, embedded in the process. The default for `npm start` so a
 * laptop needs no accounts or servers. `dataDir` is a folder (persistent) or `memory://`.
 * PGlite has a single connection and queues concurrent calls itself.
 */
export async function createPgliteSql(dataDir: string, opts: { loadDataDir?: Blob } = {}): Promise<Sql> {
  return pgliteSql(await openPglite(dataDir, opts));
}

/**
 * The PGlite the port runs on. pg_trgm: migration 006 indexes session search with it, as on Neon
 * and self-hosted Postgres. `loadDataDir`: start from a dump (`dumpDataDir`) instead of an empty
 * cluster (the tests' migrated template, tests/helpers/deps.ts, which opens its own with this).
 */
export function openPglite(dataDir: string, opts: { loadDataDir?: Blob } = {}): Promise<PGlite> {
  return PGlite.create(dataDir, { extensions: { pg_trgm }, ...(opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {}) });
}

/** The Sql port over an open PGlite (from openPglite). */
export function pgliteSql(db: PGlite): Sql {
  return {
    driver: 'pglite',
    query<T = Row>(text: string, params: readonly unknown[] = []) {
      return guarded(async () => (await db.query<T>(text, params as unknown[])).rows);
    },
    batch(statements: readonly Statement[]) {
      return guarded(() =>
        db.transaction(async (tx) => {
          const out: Row[][] = [];
          for (const s of statements) out.push((await tx.query<Row>(s.text, (s.params ?? []) as unknown[])).rows);
          return out;
        }),
      );
    },
    async close() {
      if (!db.closed) await db.close();
    },
  };
}
