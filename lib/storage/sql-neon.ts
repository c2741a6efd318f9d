import { neon, neonConfig } from '@neondatabase/serverless';
import { guarded, type Row, type Sql, type Statement } from './sql.js';

export interface NeonOptions {
  connectionString: string;
  /**
   * Override for the HTTP `/sql` endpoint (a local Neon HTTP proxy, or the test stand-in).
   * Neon only exposes this as a process-wide setting, so it applies to every neon() client here.
   */
  httpEndpoint?: string | undefined;
}

/**
 * Neon's serverless driver over HTTP: every query is one fetch, no connection to keep, so it is
 * safe at module scope in a serverless function and works on edge runtimes (Web fetch only).
 * `batch` uses Neon's HTTP transaction: all statements in one request, one transaction.
 */
export function createNeonSql(opts: NeonOptions): Sql {
  if (opts.httpEndpoint) neonConfig.fetchEndpoint = opts.httpEndpoint;
  const sql = neon(opts.connectionString);
  return {
    driver: 'neon',
    query<T = Row>(text: string, params: readonly unknown[] = []) {
      return guarded(async () => (await sql.query(text, params as unknown[])) as T[]);
    },
    batch(statements: readonly Statement[]) {
      return guarded(
        async () =>
          (await sql.transaction(statements.map((s) => sql.query(s.text, (s.params ?? []) as unknown[])))) as Row[][],
      );
    },
    async close() {
      // Nothing to close: HTTP requests hold no connection.
    },
  };
}
