/**
 * Neon's HTTP endpoint on its real terms, through the stand-in that enforces them: a response
 * over 10 MiB is refused with 507, values come back typed unless Neon-Raw-Text-Output is "true",
 * and JSON array params become Postgres array literals. The API's event pages stay under the
 * limit by bounding bytes as well as rows, and a refusal that still happens is a clear,
 * non-retryable 413 rather than a 503 that invites the same request again.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { StorageResultTooLargeError } from '../../lib/errors.js';
import { iterateEvents, listEvents, tailEvents } from '../../lib/events/query.js';
import { allFamilies } from '../../lib/families.js';
import { loadMigrations } from '../../lib/node/migrations.js';
import { EventListResponse } from '../../lib/schemas/event.js';
import { migrate } from '../../lib/storage/migrate.js';
import { createNeonSql } from '../../lib/storage/sql-neon.js';
import { createPgSql } from '../../lib/storage/sql-pg.js';
import type { Sql } from '../../lib/storage/sql.js';
import { admin, makeDeps, uniqueToken } from '../helpers/deps.js';
import { NEON_MAX_RESPONSE_BYTES, type NeonStandin, startNeonStandin } from '../helpers/neon-standin.js';
import { expectProblem } from '../helpers/problem.js';
import { describeWithPostgres, TEST_DATABASE_URL } from '../helpers/servers.js';

const NEON_URL = 'postgresql://app:pw@ep-local.neon.tech/neondb';
/** Events this big, 32 KB each as the API allows: 340 of them are ~11 MB, past Neon's limit. */
const EVENT_CHARS = 32_000;
const EVENT_COUNT = 340;

describeWithPostgres('Neon HTTP limits through the stand-in', () => {
  let standin: NeonStandin;
  let sql: Sql;
  let pg: ReturnType<typeof createPgSql>;
  const token = uniqueToken('neonbig');

  beforeAll(async () => {
    pg = createPgSql({ connectionString: TEST_DATABASE_URL ?? '' });
    await migrate(pg, await loadMigrations());
    // Times in whole milliseconds, as the API stores them (cursors carry ISO milliseconds).
    // Half the events are all quotes: the proxy JSON-encodes jsonb's text, which doubles every
    // `\"`, the worst case for the bytes on the wire.
    await pg.query(
      `INSERT INTO events (event_uuid, session_token, event_type, event_data, created_at)
       SELECT gen_random_uuid(), $1, 'action',
              jsonb_build_object('n', g, 'pad', repeat(CASE WHEN g % 2 = 0 THEN '"' ELSE 'x' END, $2::int)),
              date_trunc('milliseconds', now()) - make_interval(secs => $3::int - g)
       FROM generate_series(1, $3::int) g`,
      [token, EVENT_CHARS, EVENT_COUNT],
    );
    standin = await startNeonStandin({ databaseUrl: TEST_DATABASE_URL ?? '' });
    sql = createNeonSql({ connectionString: NEON_URL, httpEndpoint: standin.url });
  });

  afterAll(async () => {
    await pg?.query('DELETE FROM events WHERE session_token = $1', [token]);
    await pg?.close();
    await standin?.close();
  });

  it('refuses a response over 10 MiB with 507, which the adapter reports as too large, not unavailable', async () => {
    const err = await sql.query('SELECT event_data FROM events WHERE session_token = $1', [token]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageResultTooLargeError);
    expect((err as StorageResultTooLargeError).limitBytes).toBe(NEON_MAX_RESPONSE_BYTES);
    // The same limit applies to a transaction's results added up.
    const half = Math.ceil(EVENT_COUNT / 2);
    const batch = await sql
      .batch([
        { text: 'SELECT event_data FROM events WHERE session_token = $1 ORDER BY id LIMIT $2', params: [token, half] },
        { text: 'SELECT event_data FROM events WHERE session_token = $1 ORDER BY id DESC LIMIT $2', params: [token, half] },
      ])
      .catch((e: unknown) => e);
    expect(batch).toBeInstanceOf(StorageResultTooLargeError);
  });

  it('pages a session of 32 KB events within the limit and returns every event once', async () => {
    const first = await listEvents(sql, { sessionToken: token, order: 'asc' }, 1000);
    expect(first.events.length).toBeGreaterThan(0);
    expect(first.events.length).toBeLessThan(EVENT_COUNT);
    expect(first.next).not.toBeNull();
    const seen: number[] = [];
    for await (const page of iterateEvents(sql, { sessionToken: token, order: 'asc' }, 10_000)) {
      for (const e of page) seen.push(e.event_data.n as number);
    }
    expect(seen).toEqual(Array.from({ length: EVENT_COUNT }, (_, i) => i + 1));
    // Descending and with a small budget too: the budget, not the row limit, ends each page.
    const small = await listEvents(sql, { sessionToken: token, order: 'desc' }, 1000, undefined, 100_000);
    // 340 (quotes: ~64 KB as jsonb text) + 339 (~32 KB) = 96 KB < 100 KB, so 338 starts inside the budget.
    expect(small.events.map((e) => e.event_data.n)).toEqual([340, 339, 338]);
    // The live tail is bounded the same way and resumes after the last event it returned.
    const tail = await tailEvents(sql, token, '0', 1000);
    expect(tail.events.length).toBeLessThan(EVENT_COUNT);
    const rest = await tailEvents(sql, token, tail.lastSeq, 1000);
    expect(rest.events[0]?.event_data.n).toBe(tail.events.length + 1);
  });

  it('serves GET /api/session-log?limit=1000 and its export over Neon without a 503', async () => {
    const deps = makeDeps({ sql });
    const app = createApp(deps, allFamilies);
    const res = await app.request(`/api/session-log?sessionToken=${token}&limit=1000&order=asc`, { headers: admin });
    expect(res.status).toBe(200);
    const body = EventListResponse.parse(await res.json());
    expect(body.events.length).toBeLessThan(EVENT_COUNT);
    expect(body.next_cursor).toEqual(expect.any(String));
    const next = await app.request(`/api/session-log?sessionToken=${token}&limit=1000&order=asc&cursor=${body.next_cursor}`, { headers: admin });
    expect(EventListResponse.parse(await next.json()).events[0]?.event_data.n).toBe(body.events.length + 1);

    const csv = await app.request(`/api/session-log?sessionToken=${token}&format=csv`, { headers: admin });
    expect(csv.status).toBe(200);
    expect((await csv.text()).trim().split('\r\n')).toHaveLength(EVENT_COUNT + 1);
  });

  it('answers a query the limit still refuses with a 413 problem naming the limit', async () => {
    const { app } = withRoute(sql);
    const res = await app.request('/too-big');
    const body = await expectProblem(res, 413);
    expect(body.detail).toContain(String(NEON_MAX_RESPONSE_BYTES));
    expect(res.headers.get('retry-after')).toBeNull();
  });

  it('returns typed JSON unless Neon-Raw-Text-Output is "true", and encodes JSON array params as the proxy does', async () => {
    const ask = async (headers: Record<string, string>, query: string, params: unknown[]) => {
      const res = await fetch(standin.url, {
        method: 'POST',
        headers: { 'neon-connection-string': NEON_URL, 'neon-array-mode': 'true', ...headers },
        body: JSON.stringify({ query, params }),
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { rows: unknown[][] }).rows[0];
    };
    const q = `SELECT true AS b, 7::int4 AS i, 8::int8 AS big, 1.5::float8 AS f, 'NaN'::float8 AS nan,
                      '{"a":[1]}'::jsonb AS j, ARRAY[1,NULL,3]::int[] AS arr, ARRAY['x,y','"q"']::text[] AS texts, now() IS NOT NULL AS t`;
    expect(await ask({}, q, [])).toEqual([true, 7, '8', 1.5, 'NaN', { a: [1] }, [1, null, 3], ['x,y', '"q"'], true]);
    expect(await ask({ 'neon-raw-text-output': 'true' }, q, [])).toEqual(['t', '7', '8', '1.5', 'NaN', '{"a": [1]}', '{1,NULL,3}', '{"x,y","\\"q\\""}', 't']);
    // A JSON array param is a Postgres array, strings inside quoted; objects inside as JSON text.
    const arr = await ask({ 'neon-raw-text-output': 'true' }, 'SELECT $1::text[] AS a, $2::int[] AS b, $3::jsonb AS c', [
      ['a"b', 'c,d', null],
      [[1, 2], [3, 4]],
      { k: [1, 'v'] },
    ]);
    expect(arr).toEqual(['{"a\\"b","c,d",NULL}', '{{1,2},{3,4}}', '{"k": [1, "v"]}']);
    const objs = await ask({ 'neon-raw-text-output': 'true' }, 'SELECT ($1::jsonb[])[2] AS o', [[{ a: 1 }, { b: 'x' }]]);
    expect(objs).toEqual(['{"b": "x"}']);
  });
});

/** An app with one extra route that reads more than the limit allows, as a future route might. */
function withRoute(sql: Sql) {
  const deps = makeDeps({ sql });
  const app = createApp(deps, allFamilies);
  app.get('/too-big', async (c) => c.json(await sql.query("SELECT repeat('x', 11 * 1024 * 1024) AS big")));
  return { app };
}
