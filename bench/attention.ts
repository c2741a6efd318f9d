/**
 * Attention group: GET /api/attention — the "who needs help" query — for a 200-student workshop
 * (made here, at the current time, under its own token prefix) and over the 1,000,000-event seed
 * (seed.ts; its newest event is "now", 20 sessions active, ~17,000 events in the default 12 h
 * window). Each HTTP figure beside the raw one (computeAttention through a pg pool), and the plan
 * Postgres picks for both, so an index regression shows.
 */
import { ATTENTION_DEFAULTS, computeAttention } from '../lib/attention/compute.js';
import { ATTENTION_SQL } from '../lib/attention/query.js';
import { RESERVED_EVENT_TYPES } from '../lib/schemas/event.js';
import type { Sql } from '../lib/storage/sql.js';
import { ADMIN_TOKEN } from './config.js';
import { bearer, client, expectStatus } from './http.js';
import type { Server } from './lib.js';
import { fmt, latency, measure, pct, type Section, table } from './measure.js';
import { SEED_EVENTS, type Seeded } from './seed.js';

/** An instructor's dashboard polls; a few at once is the realistic load. */
const CONCURRENCY = 4;
const TIMEOUT_MS = 10 * 60_000;
const ROOM = 200;

/**
 * 200 students over the last 40 minutes, ~45 events each: most walk steps 1-6 at 5 minutes a step,
 * 10 are stuck on step 3 since 30 minutes, 15 hit the same error three times in the last minutes.
 */
async function seedRoom(sql: Sql, prefix: string): Promise<number> {
  const [r] = await sql.query<{ n: number }>(
    `WITH ins AS (
       INSERT INTO events (event_uuid, session_token, event_type, event_data, created_at, received_at)
       SELECT gen_random_uuid(), $1 || s, ev.type, ev.data, ev.at, ev.at
       FROM generate_series(0, ${ROOM - 1}) AS s,
       LATERAL (
         SELECT CASE WHEN i % 9 = 0 THEN 'navigation' WHEN s < 25 AND s >= 10 AND i >= 42 THEN 'error' ELSE 'action' END AS type,
                CASE WHEN s < 10 THEN LEAST(3, 1 + i / 7) ELSE 1 + i / 9 END AS step,
                now() - interval '40 minutes' + i * interval '52 seconds' AS at, i
         FROM generate_series(0, 44) AS i
       ) st,
       LATERAL (SELECT st.type,
                       jsonb_build_object('currentStep', st.step, 'stepName', 'Step ' || st.step)
                       || CASE st.type WHEN 'navigation' THEN jsonb_build_object('from', st.step, 'to', st.step + 1, 'toStepName', 'Step ' || (st.step + 1))
                                       WHEN 'error' THEN jsonb_build_object('errorType', 'ImportError', 'errorMessage', 'No module named voice')
                                       ELSE jsonb_build_object('actionName', 'run_code') END AS data,
                       st.at) ev
       RETURNING 1
     ) SELECT count(*)::int AS n FROM ins`,
    [prefix],
  );
  await sql.query('ANALYZE events');
  return r?.n ?? 0;
}

async function plan(sql: Sql, now: Date, prefix: string | null): Promise<string[]> {
  // The statement computeAttention sends: one workshop's window, or the room as it is now.
  const rows = await sql.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${ATTENTION_SQL[prefix ? 'window' : 'now']}`, [
    new Date(now.getTime() - ATTENTION_DEFAULTS.lookbackMs).toISOString(),
    now.toISOString(),
    prefix,
    [...RESERVED_EVENT_TYPES],
    TIMEOUT_MS,
    ATTENTION_DEFAULTS.repeatWindowMs,
    ATTENTION_DEFAULTS.recentWindowMs,
    ATTENTION_DEFAULTS.repeatCount,
    ATTENTION_DEFAULTS.topErrorsWindowMs,
    ATTENTION_DEFAULTS.stuckMinMs,
    ATTENTION_DEFAULTS.stuckMinPassed,
    ATTENTION_DEFAULTS.stuckMultiplier,
    ATTENTION_DEFAULTS.quietAfterErrorMs,
  ]);
  return rows.map((r) => r['QUERY PLAN']);
}

/** The plan's lines that matter in a README: how events are reached, and the totals. */
const essentials = (lines: readonly string[]) => lines.filter((l) => /on events|Index Cond|Execution Time|Planning Time/.test(l)).map((l) => l.trim());

export async function runAttention(server: Server, sql: Sql, seed: Seeded): Promise<Section> {
  // Rooms of earlier runs would sit in the seed's last 12 h: the seed row must read the seed only.
  await sql.query("DELETE FROM events WHERE session_token LIKE 'ws\\_att\\_%'");
  const prefix = `ws_att_${Date.now().toString(36)}_`;
  try {
    return await measureRoom(server, sql, seed, prefix);
  } finally {
    await sql.query('DELETE FROM events WHERE starts_with(session_token, $1)', [prefix]);
  }
}

async function measureRoom(server: Server, sql: Sql, seed: Seeded, prefix: string): Promise<Section> {
  const rows: string[][] = [];
  let failed = false;
  const http = client(server.url, CONCURRENCY);
  const headers = bearer(ADMIN_TOKEN);
  const run = async (name: string, answer: string, raw: () => Promise<unknown>, get?: () => ReturnType<typeof http.get>) => {
    console.log(`\nattention: ${name}, ${CONCURRENCY} connections`);
    const h = get ? await measure('HTTP GET', async () => void expectStatus(await get(), 200), { concurrency: CONCURRENCY, server }) : null;
    const r = await measure('raw (computeAttention via pg)', () => raw().then(() => undefined), { concurrency: CONCURRENCY, server });
    failed ||= (h?.errors ?? 0) + r.errors > 0;
    rows.push([name, answer, h ? fmt(h.opsPerS) : '-', h ? latency(h) : '-', String(h?.errors ?? 0), fmt(r.opsPerS), latency(r), h ? pct(h.opsPerS / r.opsPerS) : '-']);
  };
  // The seed first: a room made now would fall inside a fresh seed's last 12 h.
  const seeded = await computeAttention({ sql, now: seed.anchor, timeoutMs: TIMEOUT_MS });
  // The server's clock is now, not the seed's: this row is raw only.
  await run(`${fmt(SEED_EVENTS)}-event seed, last 12 h, no filter`, `${seeded.active_students} active, ${seeded.students.length} need help`, () =>
    computeAttention({ sql, now: seed.anchor, timeoutMs: TIMEOUT_MS }),
  );
  const seedPlan = await plan(sql, seed.anchor, null);
  const events = await seedRoom(sql, prefix);
  const room = JSON.parse(expectStatus(await http.get(`/api/attention?workshop=${prefix}`, headers), 200).text) as { active_students: number; students: unknown[] };
  await run(
    `${ROOM}-student workshop (\`?workshop=\`)`,
    `${room.active_students} active, ${room.students.length} need help`,
    () => computeAttention({ sql, now: new Date(), timeoutMs: TIMEOUT_MS, workshop: prefix }),
    () => http.get(`/api/attention?workshop=${prefix}`, headers),
  );
  http.close();
  const roomPlan = await plan(sql, new Date(), prefix);
  console.log(`\nattention plan, ${ROOM}-student workshop:\n${roomPlan.join('\n')}`);
  console.log(`\nattention plan, ${fmt(SEED_EVENTS)}-event seed:\n${seedPlan.join('\n')}`);
  if (room.active_students !== ROOM) failed = true;
  return {
    failed,
    markdown: [
      '### Who needs help: `GET /api/attention`',
      '',
      ...table(['Room', 'Answer', 'HTTP req/s', 'HTTP p50 / p99 ms', 'Errors', 'Raw calls/s', 'Raw p50 / p99 ms', 'HTTP ÷ raw'], 'llrrrrrr', rows),
      '',
      `The workshop: ${ROOM} students, ${fmt(events)} events over the last 40 minutes (10 stuck, 15 with a repeated error), found by its token prefix. ` +
        `The seed: the reads group's ${fmt(SEED_EVENTS)} events, evaluated at its newest event (the server's clock cannot be moved, so that row is raw only). ` +
        'One SQL statement either way; the plan\'s essentials (`EXPLAIN (ANALYZE, BUFFERS)`, full plans in the bench output):',
      '',
      '```',
      `-- ${ROOM}-student workshop`,
      ...essentials(roomPlan),
      `-- ${fmt(SEED_EVENTS)}-event seed, no filter`,
      ...essentials(seedPlan),
      '```',
    ],
  };
}
