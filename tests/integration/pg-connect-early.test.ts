/**
 * `connectEarly` (lib/storage/sql-pg.ts): a Vercel instance opens its first connection while the
 * app is built and the request read (ADR 0020). The queries issued meanwhile must use that
 * connection rather than open another, and report its failure the way a failed connect always is.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { StorageUnavailableError } from '../../lib/errors.js';
import { createPgSql } from '../../lib/storage/sql-pg.js';
import type { Sql } from '../../lib/storage/sql.js';
import { describeWithPostgres, TEST_DATABASE_URL } from '../helpers/servers.js';

const withAppName = (url: string, name: string) => `${url}${url.includes('?') ? '&' : '?'}application_name=${name}`;

describeWithPostgres('pg: the connection opened early', () => {
  let direct: Sql;
  beforeAll(() => {
    direct = createPgSql({ connectionString: TEST_DATABASE_URL ?? '', max: 1 });
  });
  afterAll(async () => {
    await direct?.close();
  });

  const backends = async (name: string) =>
    Number((await direct.query<{ n: string }>('SELECT count(*)::text AS n FROM pg_stat_activity WHERE application_name = $1', [name]))[0]?.n);

  it('is opened before any query, and the first queries use it instead of opening more', async () => {
    const name = `early_${randomUUID().slice(0, 8)}`;
    const sql = createPgSql({ connectionString: withAppName(TEST_DATABASE_URL ?? '', name), max: 4, connectEarly: true });
    try {
      // Issued while the early connection is still opening: without waiting for it, the pool
      // would open a second one.
      const [first] = await sql.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      expect(await backends(name)).toBe(1);
      const [again] = await sql.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      expect(again?.pid).toBe(first?.pid);
      expect(await sql.batch([{ text: 'SELECT 1 AS one' }])).toEqual([[{ one: 1 }]]);
    } finally {
      await sql.close();
    }
  });

  it('opens nothing before the first query without it', async () => {
    const name = `late_${randomUUID().slice(0, 8)}`;
    const sql = createPgSql({ connectionString: withAppName(TEST_DATABASE_URL ?? '', name), max: 4 });
    try {
      await new Promise((r) => setTimeout(r, 200));
      expect(await backends(name)).toBe(0);
      await sql.query('SELECT 1');
      expect(await backends(name)).toBe(1);
    } finally {
      await sql.close();
    }
  });

  it('a database that cannot be reached fails the queries waiting for it as unavailable, and later ones too', async () => {
    // Port 1 on localhost: refused at once.
    const sql = createPgSql({ connectionString: 'postgres://postgres@127.0.0.1:1/none', max: 2, connectEarly: true });
    try {
      await expect(sql.query('SELECT 1')).rejects.toBeInstanceOf(StorageUnavailableError);
      await expect(sql.query('SELECT 1')).rejects.toBeInstanceOf(StorageUnavailableError);
      await expect(sql.batch([{ text: 'SELECT 1' }])).rejects.toBeInstanceOf(StorageUnavailableError);
    } finally {
      await sql.close();
    }
  });
});
