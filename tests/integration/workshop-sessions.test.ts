/**
 * The ingest statement's workshop-session upsert on a real PostgreSQL through the production `pg`
 * driver: concurrent batches on one token land exactly (counts added under the row lock, last
 * activity and step by event time), duplicates never count, and the search indexes exist.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { insertEvents, type NewEvent } from '../../lib/events/ingest.js';
import { loadMigrations } from '../../lib/node/migrations.js';
import { silentLogger } from '../../lib/deps.js';
import { listSessions } from '../../lib/sessions/read.js';
import { createMemoryKv } from '../../lib/storage/kv-memory.js';
import { migrate } from '../../lib/storage/migrate.js';
import { createPgSql } from '../../lib/storage/sql-pg.js';
import type { Sql } from '../../lib/storage/sql.js';
import { uniqueToken } from '../helpers/deps.js';
import { newEvent } from '../helpers/events.js';
import { describeWithPostgres, TEST_DATABASE_URL } from '../helpers/servers.js';

describeWithPostgres('workshop sessions on real PostgreSQL', () => {
  let sql: Sql;
  beforeAll(async () => {
    sql = createPgSql({ connectionString: TEST_DATABASE_URL ?? '', max: 12 });
    await migrate(sql, await loadMigrations());
  });
  afterAll(() => sql.close());

  const base = Date.parse('2026-06-01T10:00:00Z');
  const event = (token: string, i: number, over: Partial<NewEvent> = {}): NewEvent =>
    newEvent({
      sessionToken: token,
      eventType: i % 5 === 0 ? 'error' : 'action',
      eventData: JSON.stringify({ currentStep: i, stepName: `step ${i}` }),
      createdAt: new Date(base + i * 1000),
      ...over,
    });

  it('concurrent batches on one new token: one session, exact counts, step and activity by event time', async () => {
    const token = uniqueToken('conc');
    const email = `${token}@example.com`;
    // 24 batches of 10 events, event times interleaved across batches (batch b holds i = b, b+24, ...),
    // so arrival order says nothing about event order. Every batch names the student.
    const batches = Array.from({ length: 24 }, (_, b) => Array.from({ length: 10 }, (_, k) => event(token, b + 24 * k, { email })));
    const results = await Promise.all(batches.map((batch) => insertEvents(sql, batch)));
    expect(results.reduce((n, r) => n + r.inserted.size, 0)).toBe(240);
    // Retries of half the batches, concurrently with a few new events: the repeats count nothing.
    const late = Array.from({ length: 6 }, (_, k) => event(token, 1000 + k));
    const again = await Promise.all([...batches.slice(0, 12).map((batch) => insertEvents(sql, batch)), insertEvents(sql, late)]);
    expect(again.reduce((n, r) => n + r.inserted.size, 0)).toBe(6);

    const rows = await sql.query<{ n: number; sessions: number; event_count: number; error_count: number; current_step: string; step_name: string; started_at: Date; last_activity_at: Date; student_id: string; anonymous: number }>(
      `SELECT (SELECT count(*)::int FROM events WHERE session_token = $1) AS n,
              (SELECT count(*)::int FROM sessions WHERE id = $1) AS sessions,
              (SELECT count(*)::int FROM events WHERE session_token = $1 AND student_id IS NULL) AS anonymous,
              s.event_count, s.error_count, s.current_step, s.step_name, s.started_at, s.last_activity_at, s.student_id
       FROM sessions s WHERE s.id = $1`,
      [token],
    );
    const errors = [...Array.from({ length: 240 }, (_, i) => i), ...Array.from({ length: 6 }, (_, k) => 1000 + k)].filter((i) => i % 5 === 0).length;
    expect(rows[0]).toEqual({
      n: 246,
      sessions: 1,
      anonymous: 0, // the late email-less events are the session's student's
      event_count: 246,
      error_count: errors,
      current_step: '1005',
      step_name: 'step 1005',
      started_at: new Date(base),
      last_activity_at: new Date(base + 1005 * 1000),
      student_id: email,
    });
  });

  it('concurrent first batches of many tokens in different orders do not deadlock', async () => {
    const tokens = Array.from({ length: 6 }, () => uniqueToken('multi'));
    const batch = (order: string[]) => order.flatMap((t, j) => [event(t, j), event(t, j + 10)]);
    const results = await Promise.all(Array.from({ length: 12 }, (_, k) => insertEvents(sql, batch(k % 2 ? [...tokens].reverse() : tokens))));
    expect(results.every((r) => r.inserted.size === 12)).toBe(true);
    const rows = await sql.query<{ id: string; event_count: number }>('SELECT id, event_count FROM sessions WHERE id = ANY($1::text[]) ORDER BY id', [tokens]);
    expect(rows).toEqual([...tokens].sort().map((id) => ({ id, event_count: 24 })));
  });

  it('a token that is another session\'s id is never converted', async () => {
    const id = uniqueToken('tutoring');
    await sql.query(
      `INSERT INTO sessions (id, student_id, platform, kind, status, started_at, last_activity_at) VALUES ($1, NULL, 'vapi', 'auto', 'active', now(), now())`,
      [id],
    );
    await Promise.all([insertEvents(sql, [event(id, 1)]), insertEvents(sql, [event(id, 2)])]);
    const [row] = await sql.query('SELECT platform, workshop, event_count, current_step FROM sessions WHERE id = $1', [id]);
    expect(row).toEqual({ platform: 'vapi', workshop: false, event_count: 0, current_step: null });
  });

  it('session search is indexed by pg_trgm', async () => {
    const ext = await sql.query<{ extname: string }>("SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'");
    expect(ext).toEqual([{ extname: 'pg_trgm' }]);
    const idx = await sql.query<{ indexname: string }>(
      "SELECT indexname FROM pg_indexes WHERE indexname LIKE '%_trgm' ORDER BY indexname",
    );
    expect(idx.map((r) => r.indexname)).toEqual(['sessions_id_trgm', 'sessions_student_trgm', 'students_email_trgm', 'students_name_trgm']);
    // The statement GET /api/sessions?q= runs can use every one of them (the planner seq-scans
    // small tables, so other scans are turned off to ask which indexes match its shape).
    let captured: { text: string; params: readonly unknown[] } | undefined;
    const recorder: Sql = {
      driver: sql.driver,
      query: (async (text: string, params: readonly unknown[] = []) => {
        captured = { text, params };
        return [];
      }) as Sql['query'],
      batch: (statements) => sql.batch(statements),
      close: async () => {},
    };
    await listSessions({ sql: recorder, kv: createMemoryKv(), timeoutMs: 600_000, now: () => new Date(), log: silentLogger }, { q: 'Pri' }, 50);
    if (!captured) throw new Error('listSessions made no query');
    const [, , plan] = await sql.batch([
      { text: 'SET LOCAL enable_seqscan = off' },
      // Nor whole-index walks of a btree (students_pkey) with the match as a filter.
      { text: 'SET LOCAL enable_indexscan = off' },
      { text: `EXPLAIN (COSTS OFF) ${captured.text}`, params: captured.params },
    ]);
    const text = (plan ?? []).map((r) => String(r['QUERY PLAN'])).join('\n');
    for (const name of ['sessions_id_trgm', 'sessions_student_trgm', 'students_email_trgm', 'students_name_trgm']) expect(text).toContain(name);
  });
});
