/**
 * Ingest benchmark: `npm run bench`. Optional env: BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (2),
 * DATABASE_URL (else a local `sessionlog_bench` database; its tables are TRUNCATED), and
 * BENCH_SERVER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the server.
 *
 * For single-event and 100-event-batch POSTs at 8 and 32 connections, compares the HTTP ingest
 * rate of the local server with the raw Postgres rate of the same rows and concurrency: first
 * through `insertEvents` (exactly the statement the server runs), then a plain INSERT baseline
 * without the student upsert. Target: HTTP ≥ 50% of the insertEvents rate.
 * Exit code 1 when any request failed (the run is then invalid).
 */
import http from 'node:http';
import { availableParallelism } from 'node:os';
import { insertEvents } from '../lib/events/ingest.js';
import { createPgSql } from '../lib/storage/sql-pg.js';
import {
  benchDatabase,
  everyStudent,
  type LoadResult,
  machineBusySeconds,
  percentile,
  pickSession,
  postJson,
  redact,
  runLoad,
  startServer,
  toNewEvent,
  wireEvent,
} from './lib.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
/** One pool size for the server and the raw runs, so neither is starved at 32 connections. */
const POOL = 32;
const TARGET = 0.5;
const SCENARIOS = [
  { name: 'single', size: 1, concurrency: 8 },
  { name: 'single', size: 1, concurrency: 32 },
  { name: 'batch', size: 100, concurrency: 8 },
  { name: 'batch', size: 100, concurrency: 32 },
] as const;

const PLAIN_SINGLE = `INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, created_at)
  VALUES ($1, $2, NULL, $3, $4::jsonb, $5)`;
const PLAIN_BATCH = `INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, created_at)
  SELECT u, s, NULL, t, d::jsonb, c FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS r(u, s, t, d, c)`;

interface Measured {
  eventsPerS: number;
  reqPerS: number;
  p50: number;
  p99: number;
  errors: number;
}

function summarise(r: LoadResult, size: number, label: string, cpu: string): Measured {
  const [p50, p99] = [percentile(r.latencies, 0.5), percentile(r.latencies, 0.99)];
  const m = { eventsPerS: (r.ops * size) / r.seconds, reqPerS: r.ops / r.seconds, p50, p99, errors: r.errors };
  const err = r.errors ? `  errors ${r.errors} (first: ${r.firstError?.slice(0, 200)})` : '  errors 0';
  console.log(`  ${label.padEnd(17)} ${fmt(m.eventsPerS).padStart(7)} ev/s ${fmt(m.reqPerS).padStart(6)} req/s  p50 ${m.p50.toFixed(2)} ms  p99 ${m.p99.toFixed(2)} ms  ${cpu}${err}`);
  return m;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (n: number) => `${Math.round(n * 100)}%`;

/** A batch comes from one page, so its events share one session and student. */
const makeBatch = (size: number) => {
  const session = pickSession();
  return Array.from({ length: size }, () => wireEvent(session));
};

async function main(): Promise<void> {
  const db = await benchDatabase();
  // Empty values mean unset to the server: no request logging, memory KV even if the shell has Upstash.
  const serverEnv = { DATABASE_URL: db.url, DATABASE_DRIVER: 'pg', DATABASE_POOL_MAX: String(POOL), ADMIN_TOKEN: 'sl_admin_bench', LOG_REQUESTS: '', KV_REST_API_URL: '', UPSTASH_REDIS_REST_URL: '' };
  const server = await startServer(serverEnv, (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean));
  // Ctrl-C or a kill must not leave the server running.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void server.stop().finally(() => process.exit(130)));
  const sql = createPgSql({ connectionString: db.url, max: POOL });
  const rows: string[] = [];
  let invalid = false;
  try {
    const [version] = await sql.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    const cores = availableParallelism();
    const env = `${cores} cores, Node ${process.version}, PostgreSQL ${version?.v}, ${SECONDS} s per run after ${WARMUP} s warm-up, pool ${POOL}`;
    console.log(`database: ${redact(db.url)} (${db.source})\nserver:   ${server.url.origin} pid ${server.pid}\nmachine:  ${env}`);
    /**
     * One run from a known state: empty events and the 200 students already registered, so every
     * run measures the steady state (first-event student creation is not what is being compared).
     * CPU shares (100% = one core) show what saturates the machine: server, this process (client
     * or pg driver), and the whole machine (the rest is mostly Postgres).
     */
    const measure = async (label: string, size: number, concurrency: number, op: () => Promise<void>) => {
      // CASCADE: tables added later that reference these must not make the bench fail.
      await sql.query('TRUNCATE events, students CASCADE');
      await insertEvents(sql, everyStudent().map(toNewEvent));
      const [server0, bench0, machine0, t0] = [server.cpuSeconds(), process.cpuUsage(), machineBusySeconds(), performance.now()];
      const result = await runLoad(op, concurrency, WARMUP, SECONDS);
      const wall = (performance.now() - t0) / 1000;
      const benchCpu = process.cpuUsage(bench0);
      const share = (cpuSeconds: number) => pct(cpuSeconds / wall);
      const cpu =
        `cpu: server ${share(server.cpuSeconds() - server0)}, bench ${share((benchCpu.user + benchCpu.system) / 1e6)}, ` +
        `machine ${share(machineBusySeconds() - machine0)}/${cores * 100}%`;
      return summarise(result, size, label, cpu);
    };

    for (const s of SCENARIOS) {
      console.log(`\n${s.name} (${s.size} event${s.size > 1 ? 's' : ''}/request), ${s.concurrency} connections`);
      const agent = new http.Agent({ keepAlive: true, maxSockets: s.concurrency });
      const url = new URL('/api/session-log', server.url);
      const viaHttp = await measure('HTTP POST', s.size, s.concurrency, async () => {
        const body = s.size === 1 ? JSON.stringify(wireEvent()) : JSON.stringify({ events: makeBatch(s.size) });
        const res = await postJson(agent, url, body);
        if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.text.slice(0, 200)}`);
        // Batches also prove every event was stored (a 200 with duplicates would inflate the rate).
        if (s.size > 1 && (JSON.parse(res.text) as { accepted?: number }).accepted !== s.size) throw new Error(`not all accepted: ${res.text}`);
      });
      const rss = server.rssMb();
      console.log(`  server RSS ${rss.toFixed(0)} MB`);
      agent.destroy();

      const raw = await measure('raw insertEvents', s.size, s.concurrency, async () => {
        const events = (s.size === 1 ? [wireEvent()] : makeBatch(s.size)).map(toNewEvent);
        const inserted = await insertEvents(sql, events);
        if (inserted.size !== events.length) throw new Error(`inserted ${inserted.size} of ${events.length}`);
      });

      const plain = await measure('raw plain INSERT', s.size, s.concurrency, async () => {
        const ev = (s.size === 1 ? [wireEvent()] : makeBatch(s.size)).map(toNewEvent);
        const cols = [ev.map((e) => e.eventUuid), ev.map((e) => e.sessionToken), ev.map((e) => e.eventType), ev.map((e) => e.eventData)];
        cols.push(ev.map((e) => e.createdAt.toISOString()));
        await sql.query(s.size === 1 ? PLAIN_SINGLE : PLAIN_BATCH, s.size === 1 ? cols.map((c) => c[0]) : cols);
      });

      const ratio = viaHttp.eventsPerS / raw.eventsPerS;
      const verdict = viaHttp.errors || raw.errors || plain.errors ? 'INVALID (errors)' : ratio >= TARGET ? 'PASS' : 'FAIL';
      invalid ||= verdict.startsWith('INVALID');
      console.log(`  HTTP ÷ raw insertEvents ${pct(ratio)}, HTTP ÷ plain INSERT ${pct(viaHttp.eventsPerS / plain.eventsPerS)}  → ${verdict} (target ≥ ${pct(TARGET)})`);
      rows.push(
        `| ${s.name} ×${s.size} | ${s.concurrency} | ${fmt(viaHttp.eventsPerS)} | ${fmt(viaHttp.reqPerS)} | ${viaHttp.p50.toFixed(1)} / ${viaHttp.p99.toFixed(1)} | ${viaHttp.errors} | ` +
          `${fmt(raw.eventsPerS)} | ${pct(ratio)} | ${fmt(plain.eventsPerS)} | ${pct(viaHttp.eventsPerS / plain.eventsPerS)} | ${rss.toFixed(0)} MB | ${verdict} |`,
      );
    }

    console.log(`\n${env}.\n`);
    console.log('| Scenario | Conns | HTTP events/s | HTTP req/s | HTTP p50 / p99 ms | Errors | Raw insertEvents events/s | HTTP ÷ raw | Plain INSERT events/s | HTTP ÷ plain | Server RSS | ≥ 50% of raw |');
    console.log('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|');
    for (const r of rows) console.log(r);
    if (invalid) console.log(`\nINVALID RUN: requests failed. Server log tail:\n${server.logTail()}`);
  } finally {
    await server.stop();
    await sql.close();
  }
  if (invalid) process.exitCode = 1;
}

await main();
