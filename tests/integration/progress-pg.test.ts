/**
 * Student progress on real PostgreSQL through the production `pg` client: the driver's decoding
 * of the aggregates (jsonb arrays, float8 sums), the 200-session bound, and the time it takes for a
 * student with 250 sessions of 20 attempts each.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { loadMigrations } from '../../lib/node/migrations.js';
import { StudentProgress } from '../../lib/schemas/progress.js';
import { migrate } from '../../lib/storage/migrate.js';
import { createPgSql } from '../../lib/storage/sql-pg.js';
import type { Sql } from '../../lib/storage/sql.js';
import { admin, makeDeps } from '../helpers/deps.js';
import { describeWithPostgres, TEST_DATABASE_URL } from '../helpers/servers.js';

describeWithPostgres('student progress on PostgreSQL', () => {
  let sql: Sql;
  beforeAll(async () => {
    sql = createPgSql({ connectionString: TEST_DATABASE_URL ?? '', max: 5 });
    await migrate(sql, await loadMigrations());
  });
  afterAll(() => sql.close());

  it('reads 250 sessions of 20 attempts, keeps the latest 200, with the slopes of the data', async () => {
    const student = `stu_${crypto.randomUUID().slice(0, 12)}`;
    // Session i (6 h apart): (i mod 10) + 5 of 20 correct, each attempt 4000 + 10 i ms, topic T(i mod 17).
    await sql.query('INSERT INTO students (id, name) VALUES ($1, $2)', [student, 'Big Student']);
    await sql.query(
      `WITH s AS (
         INSERT INTO sessions (id, student_id, platform, kind, status, started_at, last_activity_at, ended_at, end_reason, subject, topic)
         SELECT $1 || '_' || i, $1, 'mcp', 'auto', 'completed', t, t + interval '20 minutes', t + interval '20 minutes', 'timeout', 'Math', 'T' || (i % 17)
         FROM generate_series(0, 249) AS i, LATERAL (SELECT timestamptz '2026-01-01T08:00:00Z' + i * interval '6 hours' AS t) x
         RETURNING id, started_at, (split_part(id, '_', 3))::int AS i
       )
       INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, created_at)
       SELECT gen_random_uuid(), s.id, $1, 'attempt', jsonb_build_object('correct', k < (s.i % 10) + 5, 'timeMs', 4000 + 10 * s.i), s.started_at + k * interval '30 seconds'
       FROM s, generate_series(0, 19) AS k`,
      [student],
    );
    await sql.query('ANALYZE events');
    const app = createApp(makeDeps({ sql, now: () => new Date('2026-06-01T00:00:00Z') }), allFamilies);

    const times: number[] = [];
    let body: StudentProgress | undefined;
    for (let k = 0; k < 10; k++) {
      const t = performance.now();
      const res = await app.request(`/api/students/${student}/progress?last=20`, { headers: admin });
      const text = await res.text();
      times.push(performance.now() - t); // the request as a client sees it: SQL, computation, serialisation
      expect(res.status).toBe(200);
      body = StudentProgress.parse(JSON.parse(text));
    }
    const p = body!;
    expect(p).toMatchObject({ session_count: 250, truncated: true, student: { id: student, name: 'Big Student' } });
    expect(p.sessions).toHaveLength(200);
    expect(p.sessions[0]?.session_id).toBe(`${student}_50`); // the latest 200, oldest first
    expect(p.sessions[0]).toMatchObject({ attempts: 20, correct: 5, accuracy: 0.25, avg_time_per_attempt_ms: 4500, duration_seconds: 1200, topics: ['T16'] });
    // The last 20 sessions are i = 230…249: accuracy (i mod 10 + 5)/20 saws up and down, time rises 10 ms a session.
    expect(p.trends.time_per_attempt_ms).toMatchObject({ points: 20, slope: 10, direction: 'up', improving: false });
    expect(p.trends.duration_seconds).toMatchObject({ slope: 0, direction: 'flat' });
    expect(p.trends.accuracy.values.map((v) => v.value)).toEqual(Array.from({ length: 20 }, (_, j) => ((230 + j) % 10 + 5) / 20));
    // 17 topics cycle through the last 3 sessions: 14 of them are not revisited.
    expect(p.topics.covered).toHaveLength(17 + 1);
    expect(p.topics.not_revisited).toHaveLength(14);
    times.sort((a, b) => a - b);
    console.log(`progress of a student with 250 sessions × 20 attempts on PostgreSQL: median ${times[5]?.toFixed(1)} ms, max ${times[9]?.toFixed(1)} ms`);
  });
});
