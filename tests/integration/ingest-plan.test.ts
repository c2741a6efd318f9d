/**
 * The ingest statements' cached plans on real PostgreSQL (ADR 0021). Both statements are prepared
 * (`pg` keeps them per connection), so Postgres soon runs a generic plan chosen once, from the
 * table sizes of that moment. The anonymous-event attribution (`attrib`, ingest-sql.ts) must then
 * cost nothing when no session is being named — nearly every statement — whatever plan was chosen:
 * a generic plan made on a small `events` table used to seq-scan all of `events` on every ingest.
 * Checked on the plan Postgres really executed (EXPLAIN ANALYZE of the generic plan), not on time.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { insertKnown } from '../../lib/events/ingest-known.js';
import { insertLean } from '../../lib/events/ingest-lean.js';
import { insertPage, PAGE_PARAM_TYPES, pageParams } from '../../lib/events/ingest-page.js';
import { insertEvents, type NewEvent } from '../../lib/events/ingest.js';
import { inputParams } from '../../lib/events/ingest-sql.js';
import { loadMigrations } from '../../lib/node/migrations.js';
import { migrate } from '../../lib/storage/migrate.js';
import { createPgSql } from '../../lib/storage/sql-pg.js';
import type { Sql } from '../../lib/storage/sql.js';
import { uniqueToken } from '../helpers/deps.js';
import { newEvent } from '../helpers/events.js';
import { describeWithPostgres, TEST_DATABASE_URL } from '../helpers/servers.js';

/** The text of the statement a call sends, taken from a Sql that records instead of running. */
async function statementOf(call: (sql: Sql) => Promise<unknown>): Promise<string> {
  let text = '';
  const recorder: Sql = {
    driver: 'pg',
    query: async (t: string) => {
      text = t;
      return [];
    },
    batch: async () => [],
    close: async () => {},
  } as unknown as Sql;
  await call(recorder);
  return text;
}

interface PlanNode {
  'Node Type': string;
  Operation?: string;
  'Relation Name'?: string;
  'Actual Loops': number;
  Plans?: PlanNode[];
}

function* walk(node: PlanNode): Generator<PlanNode> {
  yield node;
  for (const child of node.Plans ?? []) yield* walk(child);
}

describeWithPostgres('ingest statement plans', () => {
  let sql: Sql;
  let client: pg.Client;
  beforeAll(async () => {
    sql = createPgSql({ connectionString: TEST_DATABASE_URL ?? '', max: 2 });
    await migrate(sql, await loadMigrations());
    client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    await client.query('SET plan_cache_mode = force_generic_plan');
  });
  afterAll(async () => {
    await client.end();
    await sql.close();
  });

  const event = (token: string, email: string) => newEvent({ sessionToken: token, email, eventData: JSON.stringify({ currentStep: 2 }) });

  const INPUT_TYPES = ['uuid[]', 'text[]', 'text[]', 'text[]', 'text[]', 'text[]', 'jsonb', 'timestamptz[]', 'timestamptz[]', 'boolean[]'];

  /**
   * EXPLAIN ANALYZE of `text` run as a generic plan with the ingest parameters of `e` (inputParams,
   * or pageParams for the page-batch statement, whose `types` are given).
   */
  async function executeGeneric(name: string, text: string, e: NewEvent, sid: string | null, page = false): Promise<PlanNode> {
    const lit = (v: unknown) => (v === null ? 'NULL' : client.escapeLiteral(String(v)));
    const [params, types] = page ? [pageParams([e, { ...e, eventUuid: crypto.randomUUID() }], sid), PAGE_PARAM_TYPES] : [inputParams([e], [sid]), INPUT_TYPES];
    const args = params.map((p, i) => (Array.isArray(p) ? `ARRAY[${p.map(lit).join(', ')}]::${types[i]}` : `${lit(p)}::${types[i]}`));
    await client.query(`DEALLOCATE ALL`);
    await client.query(`PREPARE ${name} AS ${text}`);
    const res = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE ${name}(${args.join(', ')})`);
    return (res.rows[0]['QUERY PLAN'] as Array<{ Plan: PlanNode }>)[0]!.Plan;
  }

  /** Every scan of `events` under the attribution UPDATE, with how often it ran. */
  function attributionScans(plan: PlanNode): PlanNode[] {
    const update = [...walk(plan)].find((n) => n['Node Type'] === 'ModifyTable' && n.Operation === 'Update' && n['Relation Name'] === 'events');
    expect(update, 'the statement attributes anonymous events').toBeDefined();
    return [...walk(update as PlanNode)].filter((n) => n !== update && n['Relation Name'] === 'events');
  }

  it('a known student posting to a session that knows them: the attribution scan of events never runs', async () => {
    const token = uniqueToken();
    const email = `${token}@example.com`;
    await insertEvents(sql, [event(token, email)]); // the student and their session exist
    const known = await statementOf((s) => insertKnown(s, [event(token, email)], [email]));
    const e = event(token, email);
    const scans = attributionScans(await executeGeneric('sl_plan_known', known, e, email));
    expect(scans.length).toBeGreaterThan(0);
    expect(scans.map((n) => n['Actual Loops'])).toEqual(scans.map(() => 0));
    const [row] = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE event_uuid = $1', [e.eventUuid]);
    expect(row?.n).toBe(1);
    // The page-batch statement shares the attribution (SESSION_TAIL).
    const page = await statementOf((s) => insertPage(s, [event(token, email), event(token, email)], email));
    const pageScans = attributionScans(await executeGeneric('sl_plan_page', page, event(token, email), email, true));
    expect(pageScans.length).toBeGreaterThan(0);
    expect(pageScans.map((n) => n['Actual Loops'])).toEqual(pageScans.map(() => 0));
  });

  it('the full statement likewise, for a student it has not seen', async () => {
    const token = uniqueToken();
    const email = `${token}@example.com`;
    const full = await statementOf((s) => insertEvents(s, [event(token, email)]));
    expect(full).toContain('by_email AS');
    const scans = attributionScans(await executeGeneric('sl_plan_full', full, event(token, email), null));
    expect(scans.length).toBeGreaterThan(0);
    expect(scans.map((n) => n['Actual Loops'])).toEqual(scans.map(() => 0));
  });

  it('events for a session already stored update its row in place (HOT): no index of sessions is written', async () => {
    // ADR 0027: an update that changes an indexed column writes a new entry into every index of the
    // table — the trigram GIN indexes too, whose pending lists were then merged inline (~30 ms) by
    // whichever ingest statement crossed their limit. The counters are this transaction's own.
    const token = uniqueToken();
    const email = `${token}@example.com`;
    await insertEvents(sql, [event(token, email)]); // the student and their session exist
    const [{ id } = { id: '' }] = await sql.query<{ id: string }>('SELECT id FROM students WHERE email = $1', [email]);
    const full = await statementOf((s) => insertEvents(s, [event(token, email)]));
    const known = await statementOf((s) => insertKnown(s, [event(token, email)], [id]));
    const lean = await statementOf((s) => insertLean(s, [event(token, email)], [id]));
    const page = await statementOf((s) => insertPage(s, [event(token, email), event(token, email)], id));
    await client.query('BEGIN');
    try {
      const base = Date.now();
      const later = (ms: number) => ({ ...event(token, email), createdAt: new Date(base + ms) });
      await client.query(full, inputParams([later(1000)], [null]));
      await client.query(known, inputParams([later(2000)], [id]));
      await client.query(known, inputParams([later(3000), later(3001)], [id, id]));
      await client.query(lean, inputParams([later(4000)], [id]));
      await client.query(page, pageParams([later(5000), later(5001)], id));
      const { rows } = await client.query(
        `SELECT pg_stat_get_xact_tuples_updated('sessions'::regclass)::int AS updated,
                pg_stat_get_xact_tuples_hot_updated('sessions'::regclass)::int AS hot,
                (SELECT event_count FROM sessions WHERE id = $1) AS events,
                (SELECT last_activity_at FROM sessions WHERE id = $1) AS last`,
        [token],
      );
      // Five statements, each updating the session (the full one also links its student to it).
      expect(rows[0].updated).toBeGreaterThanOrEqual(5);
      expect(rows[0]).toEqual({ updated: rows[0].updated, hot: rows[0].updated, events: 8, last: later(5001).createdAt });
    } finally {
      await client.query('ROLLBACK');
    }
  });

  /**
   * The plans Postgres made for the prepared statement `name` on one connection after a known
   * student's twelve ingests, `batch(i)` making the i-th one's events (of `token_<i % 3>`).
   */
  async function plansAfterTwelve(name: string, batch: (i: number, token: string, email: string) => NewEvent[]) {
    const one = createPgSql({ connectionString: TEST_DATABASE_URL ?? '', max: 1 });
    try {
      const token = uniqueToken();
      const email = `${token}@example.com`;
      await insertEvents(one, [event(token, email)]); // the student is stored and cached
      for (let i = 0; i < 12; i++) await insertEvents(one, batch(i, token, email));
      const [plans] = await one.query<{ generic: number; custom: number }>(
        `SELECT generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements WHERE name = $1`,
        [name],
      );
      return plans;
    } finally {
      await one.close();
    }
  }

  it('the page-batch statement is planned once per connection, whatever its batches\' sizes', async () => {
    const plans = await plansAfterTwelve('sl_ingest_page', (i, token, email) => Array.from({ length: 2 + ((i * 37) % 100) }, () => event(`${token}_${i % 3}`, email)));
    expect(plans).toEqual({ generic: 12 - 5, custom: 5 });
  });

  it('the lean statement is planned once per connection (a generic plan), not again at every execution', async () => {
    // A custom plan costed for the few events it sees looks cheaper than the generic one, and
    // Postgres then re-plans at every execution: that cost more than the lean statement saved.
    const plans = await plansAfterTwelve('sl_ingest_lean', (i, token, email) => [event(`${token}_${i % 3}`, email)]);
    // Postgres tries five custom plans before it compares them with the generic one.
    expect(plans).toEqual({ generic: 12 - 5, custom: 5 });
  });

  it('with thousands of students, the known and lean statements probe students and sessions by index, not a scan of them all', async () => {
    // The planner's estimate of the input rows decides this: `unnest` of array parameters (10
    // rows) keeps it at index probes; a set-returning function's default (100 rows, as with
    // jsonb_array_elements) made the generic plan hash-join a scan of every student per statement
    // (20,000 students: ~15 ms for one event).
    const token = uniqueToken();
    await client.query(`INSERT INTO students (id, email) SELECT $1 || g, $1 || g || '@example.com' FROM generate_series(1, 5000) g`, [`${token}_`]);
    try {
      await client.query('ANALYZE students');
      const email = `${token}_42@example.com`;
      await insertEvents(sql, [event(token, email)]);
      const [{ id } = { id: '' }] = await sql.query<{ id: string }>('SELECT id FROM students WHERE email = $1', [email]);
      const known = await statementOf((s) => insertKnown(s, [event(token, email)], [id]));
      const lean = await statementOf((s) => insertLean(s, [event(token, email)], [id]));
      const page = await statementOf((s) => insertPage(s, [event(token, email), event(token, email)], id));
      for (const [name, text] of [['sl_plan_known_many', known], ['sl_plan_lean_many', lean], ['sl_plan_page_many', page]] as const) {
        const plan = await executeGeneric(name, text, event(token, email), id, name === 'sl_plan_page_many');
        const scans = (table: string) => [...walk(plan)].filter((n) => n['Relation Name'] === table).map((n) => n['Node Type']);
        expect(scans('students').length, name).toBeGreaterThan(0);
        expect(scans('students'), name).not.toContain('Seq Scan');
        expect(scans('sessions'), name).not.toContain('Seq Scan');
      }
    } finally {
      // Leave the shared database as small as it was: the plan flips back at tens of thousands.
      await client.query('DELETE FROM sessions WHERE id = $1', [token]);
      await client.query(`DELETE FROM students WHERE id LIKE $1 || '%'`, [`${token}_`]);
    }
  });
});
