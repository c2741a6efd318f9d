/**
 * Ingest group: single-event and 100-event-batch POST /api/session-log at 8 and 32 connections,
 * beside PostgreSQL's own limit for the same rows at the same concurrency, in the same run:
 * `pgbench` inserting single rows / 100-row INSERTs into a table with the same indexes
 * (pgbench.ts). Also `insertEvents` straight through `pg` (the server's statement without HTTP).
 * Targets (issue 16): single events ≥ 0.5× pgbench single-row inserts, p99 ≤ 20 ms at 8
 * connections; 100-event batches ≥ 0.6× pgbench 100-row inserts.
 */
import { insertEvents } from '../lib/events/ingest.js';
import type { Sql } from '../lib/storage/sql.js';
import { client, expectStatus } from './http.js';
import { everyStudent, median, medianBy, pickSession, type Server, toNewEvent, wireEvent } from './lib.js';
import { fmt, latency, type Measured, measure, ms, pct, type Section, table } from './measure.js';
import { BARE_INSERT, type PgbenchResult, resetBareTable, runPgbench } from './pgbench.js';
import { inputParams } from '../lib/events/ingest-sql.js';
import { measureWrk, warmWrk, wrkAvailable } from './wrk.js';
import { SERVER_WARMUP } from './config.js';

/**
 * The HTTP load generator: `wrk` (C, like pgbench's own client) when installed, else the Node
 * client of http.ts, which takes ~0.3 ms of the shared CPU per request. BENCH_LOADGEN=node|wrk forces one.
 */
export function loadGenerator(): 'wrk' | 'node' {
  const wanted = process.env.BENCH_LOADGEN?.trim();
  if (wanted && wanted !== 'wrk' && wanted !== 'node') throw new Error('BENCH_LOADGEN must be wrk or node');
  if (wanted === 'node') return 'node';
  if (wrkAvailable()) return 'wrk';
  if (wanted === 'wrk') throw new Error('BENCH_LOADGEN=wrk but wrk is not installed (apt-get install wrk)');
  return 'node';
}

/** Rounds per scenario (BENCH_ROUNDS, default 3). */
const ROUNDS = Math.max(1, Math.floor(Number(process.env.BENCH_ROUNDS ?? 3)));

const SCENARIOS = [
  { name: 'single', size: 1, concurrency: 8, target: 0.5, p99: 20 },
  { name: 'single', size: 1, concurrency: 32, target: 0.5, p99: undefined },
  { name: 'batch', size: 100, concurrency: 8, target: 0.6, p99: undefined },
  { name: 'batch', size: 100, concurrency: 32, target: 0.6, p99: undefined },
] as const;

/** BENCH_INGEST=batch (or single, or e.g. batch-8): only the scenarios whose `name-conns` starts with one of these. */
const ONLY = (process.env.BENCH_INGEST ?? '').split(',').map((x) => x.trim()).filter(Boolean);
const wantedScenarios = () => SCENARIOS.filter((s) => !ONLY.length || ONLY.some((o) => `${s.name}-${s.concurrency}`.startsWith(o)));

/** A batch comes from one page, so its events share one session and student. */
export const makeBatch = (size: number) => {
  const session = pickSession();
  return Array.from({ length: size }, () => wireEvent(session));
};

/**
 * One run from a known state: empty events and the 200 students already registered (with their
 * workshop sessions, made by the same statement), so every run measures the steady state
 * (first-event student and session creation is not what is being compared).
 * CASCADE: tables added later that reference these must not make the bench fail.
 */
export async function resetIngest(sql: Sql): Promise<void> {
  // The load generator stops with requests in flight, and the server finishes them after it: at 32
  // connections a 100-event statement takes ~150 ms. A TRUNCATE beside one waits on it while it waits
  // on the TRUNCATE (40P01, seen once). So wait for the database's other backends to go idle first,
  // and take the TRUNCATE again if it still loses such a race.
  await untilIdle(sql);
  for (let attempt = 1; ; attempt++) {
    try {
      await sql.query('TRUNCATE events, students, sessions CASCADE');
      break;
    } catch (err) {
      if ((err as { code?: string }).code !== '40P01' || attempt >= 5) throw err;
      await untilIdle(sql);
    }
  }
  await insertEvents(sql, everyStudent().map(toNewEvent));
}

/** Until no other backend of this database runs a statement (at most 30 s). */
async function untilIdle(sql: Sql): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const [busy] = await sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND state = 'active'`,
    );
    if (!busy?.n) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function runIngest(server: Server, sql: Sql, databaseUrl: string): Promise<Section> {
  const rows: string[][] = [];
  let failed = false;
  const loadgen = loadGenerator();
  console.log(`\ningest: load generator ${loadgen}, ${ROUNDS} round${ROUNDS > 1 ? 's' : ''} per scenario`);
  if (SERVER_WARMUP > 0) {
    // Once per server, untimed (config.ts, SERVER_WARMUP): the rounds then all measure the steady state.
    console.log(`ingest: warming the server up with ${SERVER_WARMUP} s of single events at 8 connections (untimed)`);
    await resetIngest(sql);
    if (loadgen === 'wrk') await warmWrk(server, { concurrency: 8, size: 1, seconds: SERVER_WARMUP });
    else await viaNode(server, 1, { concurrency: 8, units: 1, server, seconds: SERVER_WARMUP, warmup: 0 }, 'server warm-up (untimed)');
  }
  for (const s of wantedScenarios()) {
    console.log(`\ningest: ${s.name} (${s.size} event${s.size > 1 ? 's' : ''}/request), ${s.concurrency} connections`);
    const opts = { concurrency: s.concurrency, units: s.size, server };
    const http: Measured[] = [];
    const pgbench: PgbenchResult[] = [];
    let rss = 0;
    const viaHttp = async () => {
      await resetIngest(sql);
      http.push(loadgen === 'wrk' ? await measureWrk('HTTP POST (wrk)', server, { concurrency: s.concurrency, size: s.size }) : await viaNode(server, s.size, opts));
      rss = Math.max(rss, server.rssMb());
    };
    const viaPgbench = async () => {
      pgbench.push(await runPgbench(databaseUrl, sql, s.size, s.concurrency));
    };
    // Rounds, each pairing the server with pgbench and alternating which goes first: on a shared
    // machine the rate drifts by ±20% over minutes, and a lone pair can land on either side of a target.
    for (let r = 0; r < ROUNDS; r++) for (const run of r % 2 ? [viaPgbench, viaHttp] : [viaHttp, viaPgbench]) await run();
    console.log(`  server RSS ${rss.toFixed(0)} MB (peak over the rounds)`);

    await resetIngest(sql);
    const raw = await measure('raw insertEvents', async () => {
      const events = (s.size === 1 ? [wireEvent()] : makeBatch(s.size)).map(toNewEvent);
      const { inserted } = await insertEvents(sql, events);
      if (inserted.size !== events.length) throw new Error(`inserted ${inserted.size} of ${events.length}`);
    }, opts);
    await resetBareTable(sql);
    const bare = await measure('bare INSERT … unnest', async () => {
      const events = (s.size === 1 ? [wireEvent()] : makeBatch(s.size)).map(toNewEvent);
      await sql.query(BARE_INSERT, inputParams(events, events.map((e) => e.email)), { prepare: 'bench_bare_insert' });
    }, opts);
    console.log(`  bare insert ÷ pgbench ${(bare.unitsPerS / medianBy(pgbench, (p) => p.rowsPerS).rowsPerS).toFixed(2)}× (the least any statement from Node does, in the same run)`);

    const ratios = http.map((h, i) => h.unitsPerS / (pgbench[i]?.rowsPerS ?? Number.NaN));
    const ratio = median(ratios);
    const h = medianBy(http, (m) => m.unitsPerS);
    const pgb = medianBy(pgbench, (p) => p.rowsPerS);
    const errors = http.reduce((n, m) => n + m.errors, 0) + raw.errors + pgbench.reduce((n, p) => n + p.failed, 0);
    const p99ok = s.p99 === undefined || h.p99 <= s.p99;
    const goal = `≥ ${s.target}×${s.p99 === undefined ? '' : `, p99 ≤ ${s.p99} ms`}`;
    const verdict = errors ? 'INVALID (errors)' : ratio >= s.target && p99ok ? `PASS (${goal})` : `FAIL (${goal})`;
    failed ||= errors > 0;
    const spread = ROUNDS > 1 ? ` (rounds ${ratios.map((x) => x.toFixed(2)).join(', ')})` : '';
    console.log(`  HTTP ÷ pgbench ${ratio.toFixed(2)}×${spread}, HTTP ÷ raw insertEvents ${pct(h.unitsPerS / raw.unitsPerS)}  → ${verdict}`);
    rows.push(row(`${s.name} ×${s.size}`, s.concurrency, h, raw, bare, pgb, { ratio, ratios, errors }, `${rss.toFixed(0)} MB`, verdict));
  }
  return {
    failed,
    markdown: [
      '### Ingest: `POST /api/session-log` against PostgreSQL\'s own limit',
      '',
      ...table(
        ['Scenario', 'Conns', 'HTTP events/s', 'HTTP p50 / p99 ms', 'Errors', 'Server CPU ms/req', 'pgbench rows/s', 'pgbench p50 / p99 ms', 'HTTP ÷ pgbench', 'Raw insertEvents events/s', 'HTTP ÷ insertEvents', 'Bare insert events/s (÷ pgbench)', 'Server RSS', 'Target'],
        'lrrrrrrrrrrrrl',
        rows,
      ),
      '',
      `Load generator: ${loadgen === 'wrk' ? '`wrk` (C, with a Lua script building the same bodies and checking every answer)' : 'the Node client of bench/http.ts (`wrk` not installed)'}. ` +
        '`pgbench -n -c <conns> -j 2 -T <s>` runs a custom script in the same run on the same machine: one single-row INSERT per ' +
        'transaction (or one 100-row `INSERT … SELECT … generate_series`) of the same ~200-byte events (JSON cast to `jsonb` per row) into `bench_raw_events`, created ' +
        '`LIKE events INCLUDING ALL` (same unique `event_uuid` and the four time indexes; no foreign key, no sessions, no HTTP). ' +
        'It is the physical limit the server is held to. Raw insertEvents = the server\'s own statement (event insert with the ' +
        'session upsert, and the student upsert for students it does not know yet) through a `pg` pool, without HTTP. ' +
        'Bare insert = the same parameters inserted as they are into a copy of `events` without its foreign key (no session, no student ' +
        'check, no RETURNING) from the same pool: the least any statement sent from Node does, and its ratio to the median pgbench round. ' +
        'Server CPU ms/req = the server process\'s CPU time (user + system, /proc/<pid>/stat) over the measured window ÷ requests answered. ' +
        (SERVER_WARMUP > 0 ? `Before the first scenario the server takes ${SERVER_WARMUP} s of untimed single events (BENCH_SERVER_WARMUP_SECONDS), once: a fresh process compiles and optimises for its first seconds under load. ` : '') +
        'Each run starts from an empty `events` table with the 200 students registered. ' +
        `Each scenario is ${ROUNDS} round${ROUNDS > 1 ? 's' : ''} (BENCH_ROUNDS) of the server and pgbench back to back, alternating which goes first; ` +
        'HTTP ÷ pgbench is the median of the rounds\' ratios (each round\'s in brackets) and decides the verdict, and the other figures are the ' +
        'median round\'s; raw insertEvents and the bare insert run once.',
    ],
  };
}

/** The same load through the Node client (http.ts). */
async function viaNode(server: Server, size: number, opts: { concurrency: number; units: number; server: Server; seconds?: number; warmup?: number }, label = 'HTTP POST (node client)'): Promise<Measured> {
  const http = client(server.url, opts.concurrency);
  try {
    return await measure(label, async () => {
      const body = size === 1 ? JSON.stringify(wireEvent()) : JSON.stringify({ events: makeBatch(size) });
      const res = expectStatus(await http.post('/api/session-log', body), 200);
      // Batches also prove every event was stored (a 200 with duplicates would inflate the rate).
      if (size > 1 && (JSON.parse(res.text) as { accepted?: number }).accepted !== size) throw new Error(`not all accepted: ${res.text}`);
    }, opts);
  } finally {
    http.close();
  }
}

function row(name: string, conns: number, h: Measured, raw: Measured, bare: Measured, pgb: PgbenchResult, r: { ratio: number; ratios: number[]; errors: number }, rss: string, verdict: string): string[] {
  return [
    name,
    String(conns),
    fmt(h.unitsPerS),
    latency(h),
    String(r.errors),
    Number.isFinite(h.serverCpuMsPerOp) ? h.serverCpuMsPerOp.toFixed(2) : 'n/a',
    fmt(pgb.rowsPerS),
    `${ms(pgb.p50)} / ${ms(pgb.p99)}`,
    `${r.ratio.toFixed(2)}×${r.ratios.length > 1 ? ` (${r.ratios.map((x) => x.toFixed(2)).join(', ')})` : ''}`,
    fmt(raw.unitsPerS),
    pct(h.unitsPerS / raw.unitsPerS),
    `${fmt(bare.unitsPerS)} (${(bare.unitsPerS / pgb.rowsPerS).toFixed(2)}×)`,
    rss,
    verdict,
  ];
}
