import pg from 'pg';
import { guarded, type QueryOptions, type Row, type Sql, type Statement } from './sql.js';

export interface PgOptions {
  connectionString: string;
  /** Pool size per process. @default 10 */
  max?: number;
  /** Give up on a query after this many ms (a server that stopped answering). @default 5000 */
  queryTimeoutMs?: number;
  /**
   * Open one connection now, not at the first query: its round trips (TCP, TLS, authentication)
   * then overlap whatever runs before that query. Queries issued meanwhile wait for it rather
   * than open a second one, and fail with its error if it fails. @default false
   */
  connectEarly?: boolean;
}

/**
 * `pg` over TCP: self-hosting on Node and the integration tests. One pool per process; each
 * `query` borrows a connection for one round trip, `batch` holds one for BEGIN..COMMIT.
 */
export function createPgSql(opts: PgOptions): Sql {
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.max ?? 10,
    // Fail fast when the server is down so ingestion answers 503 quickly instead of hanging.
    connectionTimeoutMillis: 5_000,
    // A connection that is open but silent (partition, frozen server) would otherwise hang a
    // request for as long as TCP takes to notice (~15 min): time the query out and answer 503.
    query_timeout: opts.queryTimeoutMs ?? 5_000,
    keepAlive: true,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection emits 'error' on the pool; without a listener that
  // crashes the process. The next query reports the outage through the normal path.
  pool.on('error', () => {});
  let opening: Promise<void> | undefined;
  if (opts.connectEarly) {
    const settled = () => {
      opening = undefined;
    };
    opening = pool.connect().then((client) => client.release());
    opening.then(settled, settled);
  }

  return {
    driver: 'pg',
    query<T = Row>(text: string, params: readonly unknown[] = [], opts?: QueryOptions) {
      const values = params as unknown[];
      return guarded(async () => {
        if (opening) await opening;
        return (await (opts?.prepare ? pool.query({ name: opts.prepare, text, values }) : pool.query(text, values))).rows as T[];
      });
    },
    batch(statements: readonly Statement[]) {
      return guarded(async () => {
        if (opening) await opening;
        const client = await pool.connect();
        let broken = false;
        try {
          await client.query('BEGIN');
          const out: Row[][] = [];
          for (const s of statements) out.push((await client.query(s.text, (s.params ?? []) as unknown[])).rows);
          await client.query('COMMIT');
          return out;
        } catch (err) {
          try {
            await client.query('ROLLBACK');
          } catch {
            broken = true; // the connection itself failed: do not return it to the pool
          }
          throw err;
        } finally {
          client.release(broken);
        }
      });
    },
    async close() {
      await pool.end();
    },
  };
}
