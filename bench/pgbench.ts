/**
 * PostgreSQL's own limit for the ingest rows: `pgbench` (the server's C client, one connection
 * per client, no HTTP, no validation, no sessions) inserting the same ~200-byte events into a
 * table with the same indexes as `events`, one row per transaction or 100 per INSERT. The ingest
 * group divides the HTTP rate by this one, measured in the same run on the same machine.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sql } from '../lib/storage/sql.js';
import { SECONDS, WARMUP } from './config.js';
import { percentile } from './lib.js';

/** Same columns, defaults, unique event_uuid and the four time indexes (LIKE copies indexes, not foreign keys). */
const TABLE = 'bench_raw_events';

export interface PgbenchResult {
  rowsPerS: number;
  txPerS: number;
  p50: number;
  p99: number;
  failed: number;
}

/**
 * The `wireEvent` body of bench/lib.ts, as the server stores it. Its step varies per row and the
 * JSON is cast per row, as the server's rows are: a constant `'…'::jsonb` would be parsed once per
 * statement and flatter the 100-row insert.
 */
const [DATA_HEAD, DATA_TAIL] = JSON.stringify({
  actionName: 'click_next', currentStep: 999_999, stepName: 'Step 4: configure',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
}).split('999999');

function script(rows: number): string {
  const step = rows === 1 ? ':s' : 'g';
  const cols = `gen_random_uuid(), 'ws_bench_' || :s, 'student' || (:s % 200) || '@workshop.example', 'action', ('${DATA_HEAD}' || (${step} % 12) || '${DATA_TAIL}')::jsonb, now()`;
  const insert = `INSERT INTO ${TABLE} (event_uuid, session_token, student_id, event_type, event_data, created_at)`;
  return `\\set s random(0, 999)\n${rows === 1 ? `${insert} VALUES (${cols});` : `${insert} SELECT ${cols} FROM generate_series(1, ${rows}) g;`}\n`;
}

export async function resetRawTable(sql: Sql): Promise<void> {
  await sql.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (LIKE events INCLUDING ALL)`);
  await sql.query(`TRUNCATE ${TABLE}`);
}

/** `pgbench -n -c <conns> -j 2 -T <s>` with a per-transaction log for the percentiles. */
export async function runPgbench(databaseUrl: string, sql: Sql, rows: number, conns: number): Promise<PgbenchResult> {
  await resetRawTable(sql);
  const dir = mkdtempSync(join(tmpdir(), 'sl-pgbench-'));
  try {
    const file = join(dir, 'script.sql');
    writeFileSync(file, script(rows));
    const run = (seconds: number, log: boolean) =>
      new Promise<string>((resolve, reject) => {
        const args = ['-n', '-c', String(conns), '-j', '2', '-T', String(seconds), '-f', file, ...(log ? ['-l', '--log-prefix', join(dir, 'tx')] : []), databaseUrl];
        execFile('pgbench', args, { cwd: dir }, (err, stdout, stderr) => (err ? reject(new Error(`pgbench failed: ${stderr || err.message}`)) : resolve(stdout)));
      });
    if (WARMUP > 0) await run(Math.max(1, Math.round(WARMUP)), false);
    const out = await run(Math.max(1, Math.round(SECONDS)), true);
    const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1]);
    const failed = Number(/number of failed transactions: (\d+)/.exec(out)?.[1] ?? 0);
    // Log lines: client_id transaction_no time_us script_no time_epoch time_us_part
    const lat: number[] = [];
    for (const f of readdirSync(dir).filter((n) => n.startsWith('tx'))) {
      for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
        const us = Number(line.split(' ')[2]);
        if (Number.isFinite(us) && line) lat.push(us / 1000);
      }
    }
    const sorted = Float64Array.from(lat).sort();
    const r = { rowsPerS: tps * rows, txPerS: tps, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), failed };
    console.log(`  pgbench ${rows === 1 ? 'single-row' : `${rows}-row`} INSERT      ${Math.round(r.rowsPerS)} rows/s  p50 ${r.p50.toFixed(1)}  p99 ${r.p99.toFixed(1)} ms  failed ${failed}`);
    return r;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A copy of `events` without its foreign key, for the bare insert below. */
const BARE_TABLE = 'bench_bare_events';

/**
 * The least any ingest statement sent from Node can do: the same parameters the server's statements
 * get (inputParams: per-event arrays and one JSON array of the events' data), inserted as they are
 * into a copy of `events` (its indexes; no foreign key, no session, no student check, no RETURNING).
 * pgbench builds its rows inside PostgreSQL; these cross the wire protocol as text, are parsed as
 * arrays and JSON, and are sent by a Node client on the same 2 cores. What separates the server's
 * statement from pgbench beyond this is the statement's own work.
 */
export const BARE_INSERT = `INSERT INTO ${BARE_TABLE} (event_uuid, session_token, student_id, event_type, event_data, client_ts, created_at, claimed_email, claimed_name)
SELECT t.event_uuid, t.session_token, t.sid, t.event_type, $7::jsonb -> (t.ord::int - 1), t.client_ts, t.created_at, t.email, t.name
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $8::timestamptz[], $9::timestamptz[], $10::boolean[]) WITH ORDINALITY
  AS t(event_uuid, session_token, email, name, sid, event_type, client_ts, created_at, may_write, ord)`;

export async function resetBareTable(sql: Sql): Promise<void> {
  await sql.query(`CREATE TABLE IF NOT EXISTS ${BARE_TABLE} (LIKE events INCLUDING ALL)`);
  await sql.query(`TRUNCATE ${BARE_TABLE}`);
}

