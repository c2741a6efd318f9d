/**
 * What one ingest statement costs PostgreSQL, without HTTP and without the noise of a shared
 * machine's wall clock: `insertEvents` (the server's own call, so the student cache picks the
 * statement as in production) in a closed loop through a `pg` pool, reporting events/s and the CPU
 * time of the PostgreSQL backends that ran the statements (/proc/<pid>/stat, user + system) per
 * event stored. Wall-clock rates on a shared machine swing by tens of percent between identical
 * runs; backend CPU per event moves far less, so run two checkouts back to back and compare it
 * (ADR 0021). Needs PostgreSQL on this machine (its /proc). TRUNCATES the database's events.
 *
 *   DATABASE_URL=postgres://…/bench_x npx tsx bench/statement-cpu.ts [groups=1,4,100] [connections=8] [seconds=4] [rounds=3]
 *
 * A group of 1–8 events is what group commit sends (events of random sessions); 100 is a client
 * batch (one session). Every run starts from the ingest bench's state (resetIngest).
 */
import { readFileSync } from 'node:fs';
import { insertEvents } from '../lib/events/ingest.js';
import { createPgSql } from '../lib/storage/sql-pg.js';
import { makeBatch, resetIngest } from './ingest.js';
import { percentile, toNewEvent, wireEvent } from './lib.js';

const APP = 'sl_statement_cpu';
const [groupsArg = '1,4,100', connsArg = '8', secondsArg = '4', roundsArg = '3'] = process.argv.slice(2);
const groups = groupsArg.split(',').map(Number);
const conns = Number(connsArg);
const seconds = Number(secondsArg);
const rounds = Number(roundsArg);
const base = process.env.DATABASE_URL;
if (!base) throw new Error('DATABASE_URL is required (a bench database: its events are truncated)');
const url = new URL(base);
url.searchParams.set('application_name', APP);

const sql = createPgSql({ connectionString: url.toString(), max: conns });

/** CPU ticks (1/100 s) used so far by the backends serving this script's pool. */
async function backendTicks(): Promise<number> {
  const rows = await sql.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [APP]);
  let ticks = 0;
  for (const { pid } of rows) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // A backend that has exited, or one on another machine: not counted.
    }
  }
  return ticks;
}

async function run(group: number): Promise<{ rate: number; cpuUs: number; p50: number }> {
  await resetIngest(sql);
  const make = () => (group >= 100 ? makeBatch(group) : Array.from({ length: group }, () => wireEvent())).map(toNewEvent);
  let phase: 'warmup' | 'measure' | 'done' = 'warmup';
  let events = 0;
  const latencies: number[] = [];
  const worker = async () => {
    while (phase !== 'done') {
      const batch = make();
      const t0 = performance.now();
      const { inserted } = await insertEvents(sql, batch);
      if (inserted.size !== batch.length) throw new Error(`inserted ${inserted.size} of ${batch.length}`);
      if (phase === 'measure') {
        events += batch.length;
        latencies.push(performance.now() - t0);
      }
    }
  };
  const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));
  const workers = Promise.all(Array.from({ length: conns }, worker));
  await sleep(1);
  // Measure over this window only: the pool's connections exist by now.
  const ticks0 = await backendTicks();
  const t0 = performance.now();
  phase = 'measure';
  await sleep(seconds);
  phase = 'done';
  const elapsed = (performance.now() - t0) / 1000;
  const ticks1 = await backendTicks();
  await workers;
  const sorted = Float64Array.from(latencies).sort();
  return { rate: events / elapsed, cpuUs: ((ticks1 - ticks0) * 10_000) / events, p50: percentile(sorted, 0.5) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? Number.NaN;
try {
  for (const group of groups) {
    const results = [];
    for (let r = 0; r < rounds; r++) results.push(await run(group));
    const cpu = results.map((x) => x.cpuUs);
    console.log(
      `group ${String(group).padStart(3)} × ${conns} connections: ${Math.round(median(results.map((x) => x.rate)))} events/s, ` +
        `statement p50 ${median(results.map((x) => x.p50)).toFixed(1)} ms, PostgreSQL CPU ${Math.round(median(cpu))} µs/event ` +
        `(rounds: ${cpu.map(Math.round).join(', ')})`,
    );
  }
} finally {
  await sql.close();
}
