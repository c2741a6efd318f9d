import { StorageRejectedValueError, StorageResultTooLargeError, StorageUnavailableError } from '../errors.js';

/** One parameterised statement. Parameters are plain JS values; arrays become Postgres arrays. */
export interface Statement {
  text: string;
  params?: readonly unknown[];
}

export type Row = Record<string, unknown>;

export interface QueryOptions {
  /**
   * Keep this statement parsed (and, after Postgres's first executions, planned) per connection
   * under this name, for the hottest statements: pg sends Parse once per pooled connection instead
   * of parse + plan on every call. The name must always come with the same text. Ignored by Neon
   * HTTP (stateless) and PGlite.
   */
  prepare?: string;
}

/**
 * The narrow SQL port every domain module uses. Three adapters implement it side by side
 * (sql-neon.ts, sql-pg.ts, sql-pglite.ts) and tests/storage/sql-contract.test.ts runs the same
 * cases against each one.
 *
 * - `query` is one round trip, one statement (which may be a CTE chain doing several writes).
 * - `batch` runs the statements in ONE transaction and ONE round trip where the driver allows
 *   (Neon HTTP sends them in one request; pg and PGlite run BEGIN..COMMIT on one connection).
 *
 * Connection-level failures surface as StorageUnavailableError, value rejections (SQLSTATE
 * class 22) as StorageRejectedValueError, a result too large for the transport (Neon's 10 MiB
 * HTTP limit) as StorageResultTooLargeError; everything else propagates unchanged.
 */
export interface Sql {
  readonly driver: 'neon' | 'pg' | 'pglite';
  query<T = Row>(text: string, params?: readonly unknown[], opts?: QueryOptions): Promise<T[]>;
  batch(statements: readonly Statement[]): Promise<Row[][]>;
  close(): Promise<void>;
}

/** Network and server-state errors that mean "try again later", by Node error code or SQLSTATE. */
const UNAVAILABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

function sqlStateOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * Map a driver error to the port's error vocabulary. `hasServerCode` tells whether the driver
 * got as far as a Postgres answer; anything without a SQLSTATE is treated as unreachable.
 */
export function classifySqlError(err: unknown): unknown {
  if (err instanceof StorageUnavailableError || err instanceof StorageRejectedValueError || err instanceof StorageResultTooLargeError) return err;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; sourceError?: unknown; name?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const state = sqlStateOf(err);
  if (state) {
    // 08: connection exception, 53: insufficient resources, 57P: operator intervention (shutdown).
    if (state.startsWith('08') || state.startsWith('53') || state.startsWith('57P')) {
      return new StorageUnavailableError('postgres', `${state}`, err);
    }
    if (state.startsWith('22')) return new StorageRejectedValueError(state, message, err);
    return err;
  }
  // Neon's proxy refuses a response over its size limit with HTTP 507 and
  // {"message":"response is too large (max is N bytes)"}. It is a 5xx but the same query will be
  // refused again, so it is checked before the retryable 5xx case below.
  if (e?.name === 'NeonDbError' && /^Server error \(HTTP status 507\)|response is too large/.test(message)) {
    const max = /max is (\d+) bytes/.exec(message)?.[1];
    return new StorageResultTooLargeError(max === undefined ? undefined : Number(max), err);
  }
  // Neon's HTTP driver: no SQLSTATE and a failed fetch (sourceError) or an HTTP 5xx from the
  // endpoint means the database could not be reached.
  if (e?.name === 'NeonDbError' && (e.sourceError !== undefined || /^Server error \(HTTP status 5/.test(message))) {
    return new StorageUnavailableError('postgres', 'HTTP endpoint unreachable', err);
  }
  const nodeCode = typeof e?.code === 'string' ? e.code : undefined;
  const causeCode = (e?.cause as { code?: unknown } | undefined)?.code;
  if (
    (nodeCode && UNAVAILABLE_NODE_CODES.has(nodeCode)) ||
    (typeof causeCode === 'string' && UNAVAILABLE_NODE_CODES.has(causeCode)) ||
    /connect|terminated|timeout|timed out|fetch failed|closed|network|socket/i.test(message)
  ) {
    return new StorageUnavailableError('postgres', 'connection failed', err);
  }
  return err;
}

export async function guarded<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw classifySqlError(err);
  }
}

/**
 * Build a parameter list while writing a dynamic WHERE clause: `p(value)` appends the value and
 * returns its placeholder (`$1`, `$2`...), so only the filters given reach the SQL.
 */
export function paramList(): { values: unknown[]; p: (value: unknown) => string } {
  const values: unknown[] = [];
  return {
    values,
    p(value) {
      values.push(value);
      return `$${values.length}`;
    },
  };
}
