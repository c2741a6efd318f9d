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
 *
 * Production terms it enforces (proxy/src/serverless/sql_over_http.rs and json.rs):
 * - Size: the JSON of the rows written so far (across a transaction's results too) may not pass
 *   `maxResponseBytes` (Neon's default 10 MiB); past it the answer is HTTP 507
 *   `{"message":"response is too large (max is N bytes)","code":""}`, which the driver surfaces as
 *   NeonDbError "Server error (HTTP status 507): ...".
 * - Neon-Raw-Text-Output: only the exact "true" returns every value as Postgres text; otherwise
 *   bool, int2/int4, float4/float8 (finite), json/jsonb and arrays of them come back as JSON values.
 * - Params: JSON null -> NULL, strings as is, numbers/booleans/objects as their JSON text, and JSON
 *   arrays as Postgres array literals (`{1,"a",NULL}`, objects inside as quoted JSON text).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';

export interface NeonStandinOptions {
  /** Database every query runs on (unless useClientConnectionString). */
  databaseUrl: string;
  /** Connect to the client's Neon-Connection-String header instead (it must be reachable). */
  useClientConnectionString?: boolean;
  /** Largest rows JSON a response may carry before the 507 refusal. @default 10 MiB, Neon's proxy default. */
  maxResponseBytes?: number;
}

/** Neon's proxy default for `max_response_size_bytes`. */
export const NEON_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

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

  const maxBytes = opts.maxResponseBytes ?? NEON_MAX_RESPONSE_BYTES;
  // Bytes of row JSON written into the current response; a transaction's results add up.
  const run = async (db: pg.Pool | pg.PoolClient, q: QueryData, defaultArrayMode: boolean, rawText: boolean, budget: { used: number }) => {
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
    const values = rawText ? result.rows : result.rows.map((r) => r.map((v, i) => (v === null ? null : textToJson(v as string, result.fields[i]?.dataTypeID ?? 0))));
    // The proxy checks its buffer after each row; measuring the rows' JSON is the same test.
    for (const row of values) {
      budget.used += Buffer.byteLength(JSON.stringify(arrayMode ? row : Object.fromEntries(names.map((n, i) => [n, row[i]])))) + 1;
      if (budget.used > maxBytes) throw new HttpError(507, `response is too large (max is ${maxBytes} bytes)`);
    }
    return {
      rowAsArray: arrayMode,
      fields: result.fields.map((f) => ({
        name: f.name, dataTypeID: f.dataTypeID, tableID: f.tableID, columnID: f.columnID,
        dataTypeSize: f.dataTypeSize, dataTypeModifier: f.dataTypeModifier, format: 'text',
      })),
      rows: arrayMode ? values : values.map((r) => Object.fromEntries(names.map((n, i) => [n, r[i]]))),
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
    const rawText = header('neon-raw-text-output') === 'true';
    const budget = { used: 0 };
    const headers: Record<string, string> = { 'content-type': 'application/json', 'access-control-allow-origin': '*' };

    if (typeof body.query === 'string') {
      const out = await run(pool, body as QueryData, arrayMode, rawText, budget);
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
        for (const q of body.queries as QueryData[]) results.push(await run(client, q, arrayMode, rawText, budget));
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
  // Node closes an idle keep-alive socket after 5 s; a client (undici) reusing it at that moment
  // gets ECONNRESET, a flake the real endpoint does not produce at that rate. Keep sockets longer.
  server.keepAliveTimeout = 60_000;
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

/** A JSON param to Postgres text, as Neon's proxy does (json.rs json_value_to_pg_text). */
export function toPgText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return toPgArray(v);
  return JSON.stringify(v);
}

/** A JSON array as a Postgres array literal; strings quoted and escaped, objects as quoted JSON. */
function toPgArray(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (Array.isArray(v)) return `{${v.map(toPgArray).join(',')}}`;
  if (typeof v === 'object') return JSON.stringify(JSON.stringify(v));
  return JSON.stringify(v);
}

// Type OIDs the proxy turns into JSON values when raw text is off (pg_text_to_json).
const BOOL = 16;
const INTS = new Set([21, 23]);
const FLOATS = new Set([700, 701]);
const JSONS = new Set([114, 3802]);
/** Array type OID -> element type OID for the element types above (and text-like ones). */
const ARRAY_OF: Record<number, number> = { 1000: 16, 1005: 21, 1007: 23, 1016: 20, 1021: 700, 1022: 701, 199: 114, 3807: 3802, 1009: 25, 1015: 1043 };

/** Postgres text to the JSON value Neon's proxy sends without Neon-Raw-Text-Output. */
export function textToJson(text: string, typeId: number): unknown {
  const elem = ARRAY_OF[typeId];
  if (elem !== undefined) return parsePgArray(text, elem);
  if (typeId === BOOL) return text === 't';
  if (INTS.has(typeId)) return Number.parseInt(text, 10);
  if (FLOATS.has(typeId)) {
    const f = Number.parseFloat(text);
    // NaN and the infinities stay strings: JSON has no literal for them.
    return Number.isFinite(f) ? f : text;
  }
  if (JSONS.has(typeId)) return JSON.parse(text);
  return text;
}

/** Parse a Postgres array literal (nested, quoted items, NULL) into JSON, items by element type. */
function parsePgArray(text: string, elem: number): unknown[] {
  let i = text.startsWith('[') ? text.indexOf('=') + 1 : 0;
  const parse = (): unknown[] => {
    if (text[i] !== '{') throw new Error('unbalanced array');
    i++;
    const out: unknown[] = [];
    if (text[i] === '}') {
      i++;
      return out;
    }
    for (;;) {
      if (text[i] === '{') out.push(parse());
      else if (text[i] === '"') {
        let s = '';
        i++;
        while (text[i] !== '"') {
          if (text[i] === '\\') i++;
          s += text[i++];
        }
        i++;
        out.push(textToJson(s, elem));
      } else {
        let end = i;
        while (text[end] !== ',' && text[end] !== '}') end++;
        const item = text.slice(i, end).trim();
        i = end;
        out.push(item === 'NULL' ? null : textToJson(item, elem));
      }
      if (text[i] === ',') i++;
      else break;
    }
    if (text[i] !== '}') throw new Error('unbalanced array');
    i++;
    return out;
  };
  return parse();
}
