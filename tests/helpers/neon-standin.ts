/**
 * A local stand-in for Neon's serverless HTTP endpoint (`POST /sql`), backed by real PostgreSQL.
 * It lets the real `neon()` client from @neondatabase/serverless run against a local database, so
 * the production adapter is tested with its real driver (type parsing, error class, transactions).
 *
 * Wire format, as sent by @neondatabase/serverless 1.2 (index.mjs) and served by Neon's proxy
 * (proxy/src/serverless/sql_over_http.rs):
 *   request:  POST <fetchEndpoint>, headers Neon-Connection-String (the connection string, with
 *             `application_name` appended), Neon-Raw-Text-Output: true, Neon-Array-Mode: true,
 *             Authorization: Bearer <jwt> (only with authToken), and for transactions only
 *             Neon-Batch-Isolation-Level (ReadUncommitted|ReadCommitted|RepeatableRead|Serializable),
 *             Neon-Batch-Read-Only / Neon-Batch-Deferrable ("true"|"false").
 *             Body `{query, params}` or `{queries: [{query, params}, ...]}`; params are already
 *             Postgres text (strings or null; arrays as `{...}` literals, Buffers as `\x..`).
 *   response: 200 `{fields: [{name, dataTypeID, ...}], rows, command, rowCount, rowAsArray}` with
 *             every value as Postgres text (the driver parses by dataTypeID), or `{results: [...]}`
 *             for a transaction. Errors: HTTP 400 + `{message, code (SQLSTATE), detail, hint, ...}`
 *             becomes NeonDbError with those fields; any other status becomes NeonDbError
 *             "Server error (HTTP status N): <body>" with no code.
 *
 * Pointing a client at it: the endpoint is only a process-wide setting (NeonConfigGlobalOnly);
 * there is no per-call option. In Node and in workerd alike:
 *   import { neon, neonConfig } from '@neondatabase/serverless';
 *   if (env.DATABASE_HTTP_URL) neonConfig.fetchEndpoint = env.DATABASE_HTTP_URL; // e.g. standin.url
 *   const sql = neon(connectionString);
 * With a string fetchEndpoint the connection string's host is ignored for routing, but the driver
 * still requires a postgres:// or postgresql:// URL with user, host and database. By default this
 * stand-in also ignores it and runs everything on `opts.databaseUrl`; set
 * `useClientConnectionString` to connect to the string the client sends instead.
 * `neonConfig.fetchEndpoint = undefined` (cast) restores the default (https://api.<host>/sql).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';

export interface NeonStandinOptions {
  /** Database every query runs on (unless useClientConnectionString). */
  databaseUrl: string;
  /** Connect to the client's Neon-Connection-String header instead (it must be reachable). */
  useClientConnectionString?: boolean;
}

export interface NeonStandin {
  /** Full endpoint URL, e.g. http://127.0.0.1:PORT/sql — assign it to neonConfig.fetchEndpoint. */
  url: string;
  close(): Promise<void>;
}

interface QueryData {
  query: string;
  params?: unknown[];
  arrayMode?: boolean;
}

const ISOLATION: Record<string, string> = {
  ReadUncommitted: 'READ UNCOMMITTED',
  ReadCommitted: 'READ COMMITTED',
  RepeatableRead: 'REPEATABLE READ',
  Serializable: 'SERIALIZABLE',
};

// Every column comes back as the raw Postgres text so the driver's own parsers do the work, as
// with real Neon. The cast is needed because pg's typings declare the overloaded getTypeParser.
const RAW_TEXT = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

/** Neon's proxy answers with these keys on every error (missing ones null, code ""). */
const ERROR_FIELDS = ['severity', 'detail', 'hint', 'position', 'internalPosition', 'internalQuery', 'where',
  'schema', 'table', 'column', 'dataType', 'constraint', 'file', 'line', 'routine'] as const;

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export async function startNeonStandin(opts: NeonStandinOptions): Promise<NeonStandin> {
  const pools = new Map<string, pg.Pool>();
  const poolFor = (connectionString: string): pg.Pool => {
    let pool = pools.get(connectionString);
    if (!pool) {
      pool = new pg.Pool({ connectionString, max: 10, allowExitOnIdle: true });
      // An idle client dying (e.g. Postgres restarted) must not crash the test process.
      pool.on('error', () => {});
      pools.set(connectionString, pool);
    }
    return pool;
  };

  const run = async (db: pg.Pool | pg.PoolClient, q: QueryData, defaultArrayMode: boolean) => {
    // Neon runs each query with the extended protocol, so a multi-statement string fails as there.
    const config = {
      text: q.query,
      values: (q.params ?? []).map(toPgText),
      rowMode: 'array' as const,
      types: RAW_TEXT,
      queryMode: 'extended', // pg >= 8.12 option, missing from @types/pg
    };
    const result = await db.query<unknown[]>(config);
    const arrayMode = q.arrayMode ?? defaultArrayMode;
    const names = result.fields.map((f) => f.name);
    return {
      rowAsArray: arrayMode,
      fields: result.fields.map((f) => ({
        name: f.name, dataTypeID: f.dataTypeID, tableID: f.tableID, columnID: f.columnID,
        dataTypeSize: f.dataTypeSize, dataTypeModifier: f.dataTypeModifier, format: 'text',
      })),
      rows: arrayMode ? result.rows : result.rows.map((r) => Object.fromEntries(names.map((n, i) => [n, r[i]]))),
      // pg parses the command tag like Neon does: "INSERT 0 3" -> INSERT / 3, "CREATE TABLE" -> CREATE / null.
      command: result.command,
      rowCount: result.rowCount,
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const header = (name: string): string | undefined => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://x').pathname !== '/sql') {
      throw new HttpError(404, `neon stand-in only serves POST /sql (got ${req.method} ${req.url})`);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: { query?: unknown; queries?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
    } catch {
      throw new HttpError(400, 'request body is not valid JSON');
    }
    const clientConn = header('neon-connection-string');
    const pool = poolFor(opts.useClientConnectionString && clientConn ? clientConn : opts.databaseUrl);
    // Neon treats anything but the exact string "true" as false.
    const arrayMode = header('neon-array-mode') === 'true';
    const headers: Record<string, string> = { 'content-type': 'application/json', 'access-control-allow-origin': '*' };

    if (typeof body.query === 'string') {
      const out = await run(pool, body as QueryData, arrayMode);
      res.writeHead(200, headers).end(JSON.stringify(out));
      return;
    }
    if (!Array.isArray(body.queries)) throw new HttpError(400, 'expected {query, params} or {queries: [...]}');

    const isoHeader = header('neon-batch-isolation-level');
    const iso = isoHeader === undefined ? undefined : ISOLATION[isoHeader];
    if (isoHeader !== undefined && !iso) throw new HttpError(400, 'invalid isolation level');
    const readOnly = header('neon-batch-read-only') === 'true';
    const deferrable = header('neon-batch-deferrable') === 'true';
    // Neon echoes the transaction settings it applied.
    if (isoHeader !== undefined) headers['neon-batch-isolation-level'] = isoHeader;
    if (readOnly) headers['neon-batch-read-only'] = 'true';
    if (deferrable) headers['neon-batch-deferrable'] = 'true';

    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query(`BEGIN${iso ? ` ISOLATION LEVEL ${iso}` : ''}${readOnly ? ' READ ONLY' : ''}${deferrable ? ' DEFERRABLE' : ''}`);
      const results: unknown[] = [];
      try {
        for (const q of body.queries as QueryData[]) results.push(await run(client, q, arrayMode));
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch((e: Error) => (broken = e));
        throw err;
      }
      res.writeHead(200, headers).end(JSON.stringify({ results }));
    } finally {
      // A connection that could not roll back is destroyed rather than reused mid-transaction.
      client.release(broken ?? false);
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const e = err as Partial<Record<string, unknown>> & { message?: string };
      // Postgres answered (SQLSTATE present): 400 with its fields, as Neon does for query errors.
      // Anything else (cannot reach Postgres, bad request): Neon's 4xx/5xx with just a message.
      const isDb = err instanceof pg.DatabaseError;
      const status = isDb ? 400 : err instanceof HttpError ? err.status : 500;
      const payload: Record<string, unknown> = { message: e.message ?? String(err), code: isDb ? e.code : '' };
      for (const f of ERROR_FIELDS) payload[f] = isDb ? (e[f] ?? null) : null;
      if (!res.headersSent) res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/sql`,
    async close() {
      // fetch keeps connections alive; drop them so close() resolves promptly.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...pools.values()].map((p) => p.end()));
      pools.clear();
    },
  };
}

/** JSON params to Postgres text, as Neon's proxy does (the driver already sends strings/null). */
function toPgText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}
