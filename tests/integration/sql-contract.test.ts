/**
 * The SQL port's contract, run with the same cases against every adapter: PGlite (embedded),
 * `pg` against a real PostgreSQL, and Neon's HTTP driver against the same PostgreSQL through the
 * local /sql stand-in. The domain statements (event ingest and query, the session lists) run on each one too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageRejectedValueError, StorageUnavailableError } from '../../lib/errors.js';
import { insertEvents } from '../../lib/events/ingest.js';
import { type EventFilter, listEvents } from '../../lib/events/query.js';
import { loadMigrations } from '../../lib/node/migrations.js';
import { silentLogger } from '../../lib/deps.js';
import { activeSessions, listSessions } from '../../lib/sessions/read.js';
import { createMemoryKv } from '../../lib/storage/kv-memory.js';
import { migrate } from '../../lib/storage/migrate.js';
import { createNeonSql } from '../../lib/storage/sql-neon.js';
import { createPgSql } from '../../lib/storage/sql-pg.js';
import { createPgliteSql } from '../../lib/storage/sql-pglite.js';
import type { Sql } from '../../lib/storage/sql.js';
import { uniqueToken } from '../helpers/deps.js';
import { newEvent } from '../helpers/events.js';
import { startNeonStandin } from '../helpers/neon-standin.js';
import { describeWithPostgres, TEST_DATABASE_URL } from '../helpers/servers.js';

interface Adapter {
  make(): Promise<{ sql: Sql; stop(): Promise<void> }>;
  /** An instance of the same adapter whose database cannot be reached. */
  unreachable(): Promise<{ sql: Sql; stop(): Promise<void> }>;
}

const adapters: Record<string, Adapter> = {
  pglite: {
    async make() {
      const sql = await createPgliteSql('memory://');
      return { sql, stop: () => sql.close() };
    },
    async unreachable() {
      const sql = await createPgliteSql('memory://');
      await sql.close(); // a closed embedded database is the local form of "down"
      return { sql, stop: async () => {} };
    },
  },
  pg: {
    async make() {
      const sql = createPgSql({ connectionString: TEST_DATABASE_URL ?? '' });
      return { sql, stop: () => sql.close() };
    },
    async unreachable() {
      const sql = createPgSql({ connectionString: 'postgres://postgres@127.0.0.1:1/nowhere' });
      return { sql, stop: () => sql.close() };
    },
  },
  neon: {
    async make() {
      const standin = await startNeonStandin({ databaseUrl: TEST_DATABASE_URL ?? '' });
      const sql = createNeonSql({ connectionString: 'postgresql://app:pw@ep-local.neon.tech/neondb', httpEndpoint: standin.url });
      return { sql, stop: () => standin.close() };
    },
    async unreachable() {
      const standin = await startNeonStandin({ databaseUrl: TEST_DATABASE_URL ?? '' });
      await standin.close(); // the endpoint now refuses connections
      const sql = createNeonSql({ connectionString: 'postgresql://app:pw@ep-local.neon.tech/neondb', httpEndpoint: standin.url });
      return { sql, stop: async () => {} };
    },
  },
};

function contract(name: string, adapter: Adapter) {
  let sql: Sql;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ sql, stop } = await adapter.make());
    await migrate(sql, await loadMigrations());
  });
  afterAll(() => stop());

  it('returns typed rows for parameterised queries, arrays and nulls included', async () => {
    const [row] = await sql.query(
      `SELECT $1::int AS n, $2::text AS t, $3::jsonb AS j, $4::timestamptz AS ts, $5::text[] AS arr,
              $6::text AS nothing, true AS yes`,
      [42, 'ünï "q"', JSON.stringify({ a: [1, { b: null }] }), '2026-01-02T03:04:05.678Z', ['a', 'b,c', null, '"q"'], null],
    );
    expect(row).toEqual({
      n: 42,
      t: 'ünï "q"',
      j: { a: [1, { b: null }] },
      ts: new Date('2026-01-02T03:04:05.678Z'),
      arr: ['a', 'b,c', null, '"q"'],
      nothing: null,
      yes: true,
    });
  });

  it('batch runs all statements in one transaction and returns each result', async () => {
    const table = `contract_${name}_${Date.now()}`;
    await sql.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
    const results = await sql.batch([
      { text: `INSERT INTO ${table} VALUES ($1) RETURNING id`, params: [1] },
      { text: `SELECT count(*)::int AS n FROM ${table}` },
    ]);
    expect(results).toEqual([[{ id: 1 }], [{ n: 1 }]]);
    // The second statement fails: the first must be rolled back with it.
    await expect(
      sql.batch([
        { text: `INSERT INTO ${table} VALUES ($1)`, params: [2] },
        { text: `INSERT INTO ${table} VALUES ($1)`, params: [1] },
      ]),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await sql.query(`SELECT id FROM ${table} ORDER BY id`)).toEqual([{ id: 1 }]);
    await sql.query(`DROP TABLE ${table}`);
  });

  it('reports a constraint violation with its SQLSTATE, a value rejection as StorageRejectedValueError', async () => {
    await expect(sql.query('SELECT 1/0')).rejects.toMatchObject({ sqlState: '22012' });
    await expect(sql.query('SELECT 1/0')).rejects.toBeInstanceOf(StorageRejectedValueError);
    await expect(sql.query('SELECT nope FROM nowhere')).rejects.toMatchObject({ code: '42P01' });
  });

  it('migrations are idempotent and safe to run concurrently', async () => {
    const migrations = await loadMigrations();
    const runs = await Promise.all([migrate(sql, migrations), migrate(sql, migrations), migrate(sql, migrations)]);
    expect(runs.flat()).toEqual([]);
    const applied = await sql.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
    expect(applied.map((r) => r.name)).toEqual(migrations.map((m) => m.name));
  });

  it('ingests events in one statement, deduplicates on uuid, and pages them back', async () => {
    const token = uniqueToken(name);
    const email = `${token}@example.com`;
    const base = Date.parse('2026-04-01T09:00:00Z');
    const events = Array.from({ length: 5 }, (_, i) =>
      newEvent({
        sessionToken: token,
        email,
        name: i === 4 ? 'Grace' : null,
        eventData: JSON.stringify({ i, quote: "'; DROP TABLE events; --" }),
        createdAt: new Date(base + i * 1000),
      }),
    );
    const { inserted } = await insertEvents(sql, events);
    expect(inserted.size).toBe(5);
    // Two repeats and one new event (a copy of the first under a new uuid, at a later time).
    const copy = { ...events[0]!, eventUuid: crypto.randomUUID(), createdAt: new Date(base + 10_000) };
    const again = await insertEvents(sql, [...events.slice(0, 2), copy]);
    expect([...again.inserted]).toEqual([copy.eventUuid]);
    // Only the posted kind: these events are months old, so a sweep another suite runs on the same
    // database meanwhile may end the token's workshop session and add its `session_ended` here.
    const posted = { sessionToken: token, eventType: 'action', order: 'asc' } as const;
    const page1 = await listEvents(sql, posted, 4);
    expect(page1.events.map((e) => e.event_data.i)).toEqual([0, 1, 2, 3]);
    expect(page1.events[0]).toMatchObject({ student_email: email, student_name: 'Grace', student_id: email });
    const page2 = await listEvents(sql, posted, 4, page1.next ?? undefined);
    expect(page2.events.map((e) => e.event_data.i)).toEqual([4, 0]);
    expect(page2.next).toBeNull();
  });

  it('filters events by error type (as the top errors name it) and by session-token prefix', async () => {
    const room = `${uniqueToken(name)}_`;
    // With LIKE, `_` would match any character: this token must stay out of the room.
    const decoy = `${room.slice(0, -1).replace('_', 'X')}_a`;
    const at = (s: number) => new Date(Date.parse('2026-04-02T09:00:00Z') + s * 1000);
    const error = (sessionToken: string, s: number, data: Record<string, unknown>) =>
      newEvent({ sessionToken, eventType: 'error', eventData: JSON.stringify({ s, ...data }), createdAt: at(s) });
    await insertEvents(sql, [
      error(`${room}a`, 1, { errorType: 'TypeError' }),
      error(`${room}b`, 2, { errorType: 'TypeError' }),
      error(`${room}b`, 3, { errorType: 'SyntaxError' }),
      error(`${room}a`, 4, {}),
      error(`${room}b`, 5, { errorType: '' }),
      error(decoy, 6, { errorType: 'TypeError' }),
      newEvent({ sessionToken: `${room}a`, eventType: 'action', eventData: JSON.stringify({ s: 7, errorType: 'TypeError' }), createdAt: at(7) }),
    ]);
    const seconds = async (f: Partial<EventFilter>) => (await listEvents(sql, { order: 'asc', ...f }, 100)).events.map((e) => e.event_data.s);
    expect(await seconds({ tokenPrefix: room, errorType: 'TypeError' })).toEqual([1, 2]);
    expect(await seconds({ tokenPrefix: room, errorType: '(unspecified)' })).toEqual([4, 5]);
    // Each kind on its own: a sweep another suite runs may end these old sessions meanwhile.
    expect(await seconds({ tokenPrefix: room, eventType: 'error' })).toEqual([1, 2, 3, 4, 5]);
    expect(await seconds({ tokenPrefix: room, eventType: 'action' })).toEqual([7]);
    expect(await seconds({ tokenPrefix: `${room}b`, errorType: 'TypeError' })).toEqual([2]);
    expect(await seconds({ tokenPrefix: room.slice(0, -1), errorType: 'TypeError', until: at(6) })).toEqual([1, 2]);
    expect(await seconds({ sessionToken: decoy, errorType: 'TypeError' })).toEqual([6]);
    expect(await seconds({ tokenPrefix: room, eventType: 'action', errorType: 'TypeError' })).toEqual([]);
  });

  it('lists sessions, all and open ones, by session-id prefix (one workshop)', async () => {
    const base = uniqueToken(name);
    const room = `${base}_`;
    const decoy = `${base}Xa`; // the room's prefix as a LIKE pattern would take it: `_` matches X
    // Recent events: the open-session list reads activity inside the timeout.
    const at = Date.now() - 60_000;
    await insertEvents(sql, [`${room}a`, `${room}b`, decoy].map((sessionToken, i) => newEvent({ sessionToken, createdAt: new Date(at + i * 1000) })));
    const ctx = { sql, kv: createMemoryKv(), timeoutMs: 10 * 60_000, now: () => new Date(), log: silentLogger };
    const listed = async (workshop: string) => (await listSessions(ctx, { workshop }, 10)).sessions.map((s) => s.session_id);
    const open = async (workshop: string) => (await activeSessions(ctx, 10, workshop)).map((s) => s.session_id);
    expect(await listed(room)).toEqual([`${room}b`, `${room}a`]);
    expect(await listed(`${room}a`)).toEqual([`${room}a`]);
    expect(await listed(base)).toEqual([decoy, `${room}b`, `${room}a`]);
    expect(await open(room)).toEqual([`${room}b`, `${room}a`]);
    expect(await open(base)).toEqual([decoy, `${room}b`, `${room}a`]);
    expect(await open(`${room}zz`)).toEqual([]);
  });

  it('many concurrent first events of one new student create one student row', async () => {
    const token = uniqueToken(name);
    const email = `${token}@example.com`;
    const one = () => newEvent({ sessionToken: token, email });
    const results = await Promise.all(Array.from({ length: 40 }, () => insertEvents(sql, [one()])));
    expect(results.every((r) => r.inserted.size === 1)).toBe(true);
    const rows = await sql.query<{ n: number; linked: number }>(
      `SELECT (SELECT count(*)::int FROM students WHERE email = $1) AS n,
              (SELECT count(*)::int FROM events WHERE session_token = $2 AND student_id = $1) AS linked`,
      [email, token],
    );
    expect(rows[0]).toEqual({ n: 1, linked: 40 });
  });

  it('an unreachable database surfaces as StorageUnavailableError', async () => {
    const down = await adapter.unreachable();
    await expect(down.sql.query('SELECT 1')).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(down.sql.batch([{ text: 'SELECT 1' }])).rejects.toBeInstanceOf(StorageUnavailableError);
    await down.stop();
  });
}

describe('SQL contract: pglite', () => contract('pglite', adapters.pglite!));
describeWithPostgres('SQL contract: pg (real PostgreSQL)', () => contract('pg', adapters.pg!));
describeWithPostgres('SQL contract: neon HTTP driver (real PostgreSQL via the /sql stand-in)', () => contract('neon', adapters.neon!));
