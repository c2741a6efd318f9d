/**
 * The token reservation on real PostgreSQL with a connection pool: many runs reserving at the
 * same moment, from separate connections, never reserve more than the day's budget — the
 * conditional upsert re-checks the total under the day row's lock — and settling replaces each
 * reservation by the reported usage. Also the paused-session duration SQL under the pg driver
 * (bigint paused_ms comes back as text there).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reserve, settle, usageByDay } from '../../lib/analysis/budget.js';
import { silentLogger } from '../../lib/deps.js';
import { loadMigrations } from '../../lib/node/migrations.js';
import type { SessionCtx } from '../../lib/sessions/context.js';
import { createSession } from '../../lib/sessions/explicit.js';
import { pauseSession, resumeSession } from '../../lib/sessions/pause.js';
import { getDocument } from '../../lib/sessions/read.js';
import { activeDurationMsSql } from '../../lib/sessions/duration.js';
import { createMemoryKv } from '../../lib/storage/kv-memory.js';
import { migrate } from '../../lib/storage/migrate.js';
import { createPgSql } from '../../lib/storage/sql-pg.js';
import type { Sql } from '../../lib/storage/sql.js';
import { describeWithPostgres, TEST_DATABASE_URL } from '../helpers/servers.js';

describeWithPostgres('analysis token budget on PostgreSQL', () => {
  let sql: Sql;
  let now = new Date('2026-08-01T12:00:00Z');
  const ctx = (): SessionCtx => ({ sql, kv: createMemoryKv(), timeoutMs: 30 * 60_000, now: () => now, log: silentLogger });

  beforeAll(async () => {
    sql = createPgSql({ connectionString: TEST_DATABASE_URL ?? '', max: 20 });
    await migrate(sql, await loadMigrations());
  });
  afterAll(() => sql.close());

  it('40 concurrent reservations of 1,000 against a 10,000 budget: exactly 10 succeed', async () => {
    // A day of its own (a random year far ahead), so reruns on the same database start from zero.
    const day = `${2100 + Math.floor(Math.random() * 800)}-03-${String(1 + Math.floor(Math.random() * 28)).padStart(2, '0')}`;
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const [r] = await sql.query<{ id: string }>(
        `INSERT INTO analyses (session_id, template, template_hash, model, trigger, status) VALUES ($1, 'session_summary', 'h', 'm', 'test', 'pending') RETURNING id::text AS id`,
        [`budget_${crypto.randomUUID()}`],
      );
      ids.push(r?.id ?? '');
    }
    const results = await Promise.all(ids.map((id) => reserve(ctx(), id, day, 1000, 10_000)));
    const won = ids.filter((_, i) => results[i]);
    expect(won).toHaveLength(10);
    let [u] = await usageByDay(ctx(), day, 1);
    expect(u).toMatchObject({ reserved_tokens: 10_000, total_tokens: 0 });

    await Promise.all(won.map((id) => settle(ctx(), id, { inputTokens: 900, outputTokens: 150 })));
    [u] = await usageByDay(ctx(), day, 1);
    expect(u).toMatchObject({ reserved_tokens: 0, input_tokens: 9000, output_tokens: 1500, total_tokens: 10_500, analyses: 10 });
    // Settling twice changes nothing: the reservation is gone from the row.
    await settle(ctx(), won[0] ?? '', { inputTokens: 900, outputTokens: 150 });
    expect((await usageByDay(ctx(), day, 1))[0]?.total_tokens).toBe(10_500);
  });

  it('paused time is excluded on the pg driver too', async () => {
    const c = ctx();
    const row = await createSession(c, { participant: `p_${crypto.randomUUID().slice(0, 8)}`, max_participants: 1 });
    now = new Date(now.getTime() + 10 * 60_000);
    await pauseSession(c, row.id);
    now = new Date(now.getTime() + 40 * 24 * 3_600_000); // longer than int milliseconds can hold
    await resumeSession(c, row.id);
    const doc = await getDocument(c, row.id);
    expect(doc).toMatchObject({ status: 'active', paused_ms: 40 * 24 * 3_600_000, duration_seconds: 600 });
    const [r] = await sql.query<{ ms: number }>(`SELECT ${activeDurationMsSql('s')} AS ms FROM sessions s WHERE id = $1`, [row.id]);
    expect(Number(r?.ms)).toBe(600_000);
  });
});
