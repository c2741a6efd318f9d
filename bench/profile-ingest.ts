/**
 * `npx tsx bench/profile-ingest.ts [batch size]`: one server child under `--cpu-prof`, single-event
 * POSTs (or batches of that many events of one session) from 8 connections for BENCH_SECONDS,
 * then the hottest functions of the server's profile by self time and the server's CPU per request. For finding what the ingest hot path spends (issue 16).
 * DATABASE_URL as for `npm run bench` (its tables are truncated).
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPgSql } from '../lib/storage/sql-pg.js';
import { POOL, SECONDS, serverEnv } from './config.js';
import { client, expectStatus } from './http.js';
import { makeBatch, resetIngest } from './ingest.js';
import { benchDatabase, startServer, wireEvent } from './lib.js';
import { measure } from './measure.js';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

const db = await benchDatabase();
const sql = createPgSql({ connectionString: db.url, max: 4 });
const dir = mkdtempSync(join(tmpdir(), 'sl-prof-'));
const server = await startServer(serverEnv(db.url), ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
// After the server's start, which migrates a new bench database.
await resetIngest(sql);
const http = client(server.url, 8);
const size = Number(process.argv[2] ?? 1);
const body = () => JSON.stringify(size > 1 ? { events: makeBatch(size) } : wireEvent());
const m = await measure(size > 1 ? `HTTP POST batch of ${size}` : 'HTTP POST single', async () => {
  expectStatus(await http.post('/api/session-log', body()), 200);
}, { concurrency: 8, server, seconds: SECONDS });
http.close();
await server.stop();
await sql.close();
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error('no profile written');
const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: Node[]; samples: number[] };
const total = prof.samples.length;
const self = new Map<string, number>();
for (const n of prof.nodes) {
  const where = n.callFrame.url.replace(/^.*\/(node_modules\/[^/]+|lib|bench)\//, '$1/');
  const key = `${n.callFrame.functionName || '(anonymous)'} ${where}:${n.callFrame.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + (n.hitCount ?? 0));
}
console.log(`\nserver CPU ${m.serverCpuMsPerOp.toFixed(2)} ms per request (pool ${POOL}); profile ${join(dir, file)}; top self time:`);
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
