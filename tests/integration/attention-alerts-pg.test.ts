/**
 * Attention and alerts on real PostgreSQL: the cooldown under truly concurrent connections (the
 * unique key, not luck, keeps one alert), and the attention query over a 200-student room with
 * the plan Postgres actually picks.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { raiseAlerts } from '../../lib/alerts/store.js';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { loadMigrations } from '../../lib/node/migrations.js';
import { AttentionResponse } from '../../lib/schemas/attention.js';
import { migrate } from '../../lib/storage/migrate.js';
import { createPgSql } from '../../lib/storage/sql-pg.js';
import type { Sql } from '../../lib/storage/sql.js';
import { admin, makeDeps } from '../helpers/deps.js';
import { describeWithPostgres, TEST_DATABASE_URL } from '../helpers/servers.js';
import { room, walk } from '../helpers/workshop.js';

describeWithPostgres('attention and alerts on PostgreSQL', () => {
  let sql: Sql;
  let now = new Date('2026-09-01T10:00:00Z');
  beforeAll(async () => {
    sql = createPgSql({ connectionString: TEST_DATABASE_URL ?? '', max: 20 });
    await migrate(sql, await loadMigrations());
  });
  afterAll(() => sql.close());

  it('40 concurrent evaluations raising the same (rule, key) record exactly one alert per cooldown', async () => {
    const key = `k_${crypto.randomUUID()}`;
    const draft = { rule: 'repeated_error' as const, key, studentId: key, sessionId: 'ws_x', title: 't', detail: 'd', data: {} };
    const at = new Date();
    const results = await Promise.all(Array.from({ length: 40 }, () => raiseAlerts(sql, [draft], at, 15 * 60_000, false)));
    expect(results.flat()).toHaveLength(1);
    const later = new Date(at.getTime() + 15 * 60_000);
    const again = await Promise.all(Array.from({ length: 40 }, () => raiseAlerts(sql, [draft], later, 15 * 60_000, false)));
    expect(again.flat()).toHaveLength(1);
    const [row] = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM alerts WHERE key = $1', [key]);
    expect(row?.n).toBe(2);
  });

  it('ranks a 200-student room on PostgreSQL', async () => {
    now = new Date(now.getTime() + 86_400_000);
    const app = createApp(makeDeps({ sql, now: () => now }), allFamilies);
    const r = room(app, () => now);
    const students = Array.from({ length: 200 }, (_, i) => r.student(`s${i}`));
    const events = students.flatMap((s, i) =>
      i < 5 ? [...walk(s, [1, 2, 3], 2, 20), s.action(1, 3)] : [...walk(s, [1, 2, 3, 4], 2, 7 + (i % 3)), s.action(0.5, 4)],
    );
    await r.post(events);
    await sql.query('ANALYZE events');
    const started = performance.now();
    const res = await app.request(`/api/attention?workshop=${r.prefix}`, { headers: admin });
    const ms = performance.now() - started;
    const a = AttentionResponse.parse(await res.json());
    expect(a.active_students).toBe(200);
    expect(a.students.map((s) => s.session_id).sort()).toEqual(students.slice(0, 5).map((s) => s.token).sort());
    expect(a.students.every((s) => s.reasons[0]?.code === 'stuck')).toBe(true);
    console.log(`attention over 200 students (PostgreSQL): ${ms.toFixed(1)} ms`);
    expect(ms).toBeLessThan(2000);

    // Helped marks on PostgreSQL: two of the five stuck students marked, one undone.
    for (const [method, s] of [['POST', students[0]], ['POST', students[1]], ['DELETE', students[1]]] as const) {
      const m = await app.request(`/api/attention/${s?.token}/helped`, { method, headers: admin });
      expect(m.status, await m.clone().text()).toBe(200);
    }
    const marked = AttentionResponse.parse(await (await app.request(`/api/attention?workshop=${r.prefix}`, { headers: admin })).json());
    expect(marked.students.map((s) => s.session_id).sort()).toEqual(students.slice(1, 5).map((s) => s.token).sort());
    expect(marked.helped?.map((h) => [h.session_id, h.by])).toEqual([[students[0]?.token, 'admin']]);
  });
});
