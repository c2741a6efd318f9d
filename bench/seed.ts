/**
 * The 1,000,000 stored events the reads group queries, made in SQL (generate_series) in a few
 * statements, and kept between runs: seeding takes a minute or two, a count takes a second.
 *
 * Shape, chosen to look like workshop traffic rather than uniform noise:
 * - 1,000 students with emails, 2,000 session tokens (`ws_read_<k>`, student k mod 1000, so each
 *   student has two sittings about 15 days apart);
 * - 30 days of events in arrival order (ids grow with time, as in production); at any moment 20
 *   sessions are active and their events interleave, 500 events per session;
 * - types: navigation 40%, action 30%, state_change 12%, api_call 10%, error 5% (five errorTypes),
 *   attempt 3%; ~250 bytes of eventData each.
 */
import { migrate } from '../lib/storage/migrate.js';
import { loadMigrations } from '../lib/node/migrations.js';
import type { Sql } from '../lib/storage/sql.js';
import { fmt } from './measure.js';

export const SEED_EVENTS = 1_000_000;
export const SEED_SESSIONS = 2_000;
export const SEED_STUDENTS = 1_000;
const CHUNK = 100_000;
const PER_SLOT = 20; // sessions active at once
const SLOT_EVENTS = SEED_EVENTS / (SEED_SESSIONS / PER_SLOT); // 10,000 events per time slot

export const seedToken = (k: number) => `ws_read_${k}`;
export const seedEmail = (n: number) => `reader${n}@workshop.example`;

export interface Seeded {
  /** Time of the newest seeded event: read windows ("last hour") are relative to it, so a seed reused days later still has a last hour. */
  anchor: Date;
  /** Whether this run made the events (else they were reused). */
  created: boolean;
  seconds: number;
}

const EVENTS_SQL = `
INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, created_at, received_at)
SELECT gen_random_uuid(), 'ws_read_' || k, 'reader' || (k % ${SEED_STUDENTS}) || '@workshop.example', type,
       jsonb_build_object('currentStep', step, 'stepName', 'Step ' || step || ': configure the voice agent',
         'userAgent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36')
       || CASE type
            WHEN 'navigation' THEN jsonb_build_object('from', step, 'to', step + 1, 'fromStepName', 'Step ' || step, 'toStepName', 'Step ' || (step + 1))
            WHEN 'action' THEN jsonb_build_object('actionName', (ARRAY['click_next', 'run_code', 'copy_snippet', 'open_hint'])[1 + step % 4])
            WHEN 'state_change' THEN jsonb_build_object('stateName', 'voice', 'oldValue', 'idle', 'newValue', 'live')
            WHEN 'api_call' THEN jsonb_build_object('endpoint', '/api/chat', 'method', 'POST', 'status', 200, 'success', true)
            WHEN 'error' THEN jsonb_build_object('errorType', (ARRAY['TypeError', 'NetworkError', 'ValidationError', 'TimeoutError', 'SyntaxError'])[1 + step % 5],
                                                 'errorMessage', 'Cannot read properties of undefined (reading ''voice'') at step ' || step, 'statusCode', 500)
            ELSE jsonb_build_object('question', step, 'correct', r < 0.985)
          END,
       ts, ts
FROM generate_series($1::int, $2::int) AS i,
LATERAL (SELECT (i / ${SLOT_EVENTS}) * ${PER_SLOT} + (i % ${PER_SLOT}) AS k,
                $3::timestamptz - interval '30 days' + i * (interval '30 days' / ${SEED_EVENTS}) AS ts,
                random() AS r,
                (i / 40) % 12 AS step) AS a,
LATERAL (SELECT CASE WHEN r < 0.40 THEN 'navigation' WHEN r < 0.70 THEN 'action' WHEN r < 0.82 THEN 'state_change'
                     WHEN r < 0.92 THEN 'api_call' WHEN r < 0.97 THEN 'error' ELSE 'attempt' END AS type) AS t`;

/**
 * The seed tokens' workshop sessions, as ingest would have kept them (one row per token: student,
 * counts, latest step). Events are seeded in SQL, not through ingest, so their sessions are made here.
 */
const SESSIONS_SQL = `
INSERT INTO sessions (id, student_id, platform, kind, status, started_at, last_activity_at, workshop, event_count, error_count,
                      current_step, step_at, step_name, step_name_at, participants)
SELECT t.token, t.student_id, 'web', 'auto', 'active', t.first_at, t.last_at, true, t.n, t.errors,
       l.step, l.at, l.name, l.at, jsonb_build_array(jsonb_build_object('id', t.student_id, 'role', 'student',
         'joined_at', to_char(t.first_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
FROM (SELECT session_token AS token, min(student_id) AS student_id, min(created_at) AS first_at, max(created_at) AS last_at,
             count(*)::int AS n, (count(*) FILTER (WHERE event_type = 'error'))::int AS errors
      FROM events WHERE session_token LIKE 'ws\\_read\\_%' GROUP BY session_token) t,
LATERAL (SELECT event_data->>'currentStep' AS step, event_data->>'stepName' AS name, created_at AS at FROM events
         WHERE session_token = t.token ORDER BY created_at DESC, id DESC LIMIT 1) l
ON CONFLICT (id) DO NOTHING`;

/** Make sure the reads database holds exactly the seed; reuse it when it does. */
export async function ensureSeed(sql: Sql): Promise<Seeded> {
  const t0 = performance.now();
  await migrate(sql, await loadMigrations());
  // Only the seeded types: the reads server's sweep adds a `session_ended` to sessions it ends,
  // which must not make the next run throw the seed away and draw a new random one.
  const [have] = await sql.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM events WHERE session_token LIKE 'ws\\_read\\_%' AND event_type <> 'session_ended'",
  );
  const [students] = await sql.query<{ n: number }>("SELECT count(*)::int AS n FROM students WHERE email LIKE 'reader%@workshop.example'");
  let created = false;
  if (have?.n !== SEED_EVENTS || students?.n !== SEED_STUDENTS) {
    created = true;
    console.log(`reads: seeding ${fmt(SEED_EVENTS)} events (found ${fmt(have?.n ?? 0)}); this takes a minute or two, and is reused by later runs`);
    // A partial seed (an interrupted run) is removed first so the count is exact.
    await sql.query("DELETE FROM events WHERE session_token LIKE 'ws\\_read\\_%'");
    await sql.query(
      `INSERT INTO students (id, email, name)
       SELECT 'reader' || n || '@workshop.example', 'reader' || n || '@workshop.example', 'Reader ' || n
       FROM generate_series(0, ${SEED_STUDENTS - 1}) AS n ON CONFLICT DO NOTHING`,
    );
    const now = new Date().toISOString();
    for (let lo = 0; lo < SEED_EVENTS; lo += CHUNK) {
      await sql.query(EVENTS_SQL, [lo, lo + CHUNK - 1, now]);
      process.stdout.write(`  ${fmt(lo + CHUNK)} events (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
    }
    // Fresh statistics and a set visibility map: the planner and index-only scans see what a
    // long-running database (with autovacuum) would.
    await sql.query('VACUUM (ANALYZE) events');
    await sql.query('ANALYZE students');
  }
  const [sessions] = await sql.query<{ n: number }>("SELECT count(*)::int AS n FROM sessions WHERE id LIKE 'ws\\_read\\_%'");
  // What an earlier run's server changed — sessions its sweep ended, with their `session_ended`
  // events — is undone, so every run reads the same seed.
  const swept = await sql.query("DELETE FROM events WHERE session_token LIKE 'ws\\_read\\_%' AND event_type = 'session_ended' RETURNING 1");
  if (created || swept.length > 0 || sessions?.n !== SEED_SESSIONS) {
    await sql.query("DELETE FROM sessions WHERE id LIKE 'ws\\_read\\_%'");
    await sql.query(SESSIONS_SQL);
    // VACUUM, not only ANALYZE: autovacuum may be off (it is on the CI machine), and every run's
    // rebuilt sessions and removed `session_ended` rows otherwise pile up as dead tuples that
    // slowed the next run's reads by up to 2.5× (session timeline, 89 → 232 ms raw p50).
    await sql.query('VACUUM (ANALYZE) sessions');
    if (swept.length > 0) await sql.query('VACUUM (ANALYZE) events');
  }
  // The newest event belongs to the last session: one index lookup, not a scan.
  const [last] = await sql.query<{ t: Date | string }>('SELECT max(created_at) AS t FROM events WHERE session_token = $1', [seedToken(SEED_SESSIONS - 1)]);
  if (!last?.t) throw new Error('seed has no newest event');
  return { anchor: new Date(last.t), created, seconds: (performance.now() - t0) / 1000 };
}
