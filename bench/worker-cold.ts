/**
 * Cold-start cost of the worker bundle, approximated in a fresh Node process (V8, as workerd):
 * CPU time to parse and evaluate the bundle (which builds the app from the bindings workerd exposes
 * at module scope), then to answer its first requests, with the network answering at once (see the
 * probe). Cloudflare's free plan allows 10 ms of CPU per request; start-up (the module's top level)
 * has its own allowance.
 *   npx tsx bench/worker-cold.ts [bundle]   (default: builds dist/worker.js first)
 */
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { buildWorker } from '../scripts/build-worker.js';

export interface WorkerCold {
  bundle: string;
  bytes: number;
  gzipBytes: number;
  loadCpuMs: number;
  firstRequest: { status: number; cpuMs: number };
  secondRequest: { status: number; cpuMs: number };
  firstOpenApi: { status: number; cpuMs: number };
}

// The bundle runs in a child `node` (not under tsx, whose loader would transform it and count
// its own work): CPU of the module's evaluation, then of each request.
const probe = (bundle: string) => `
const ms = (u) => (u.user + u.system) / 1000;
// Node loads its fetch implementation (undici) on first use of Request/Response; workerd has them
// built in, so that cost is paid here, outside the measurement.
await new Response(new Request('http://localhost/', { method: 'POST', body: '{}' }).body).text();
// Two more differences from workerd, removed so the figure is the worker's own CPU:
// - outgoing fetches (the audit write and the sweep's lease query to Neon, in the background)
//   answer at once: in workerd a subrequest's connection and TLS are the runtime's, while
//   Node's undici would spend ~20 ms of JavaScript on DNS, sockets and TLS here;
// - zod compiles object parsers with new Function, which workerd forbids (zod sees the
//   Cloudflare user agent and interprets instead): same here.
globalThis.fetch = async () => new Response('{"message":"stand-in"}', { status: 503, headers: { 'content-type': 'application/json' } });
globalThis.__zod_globalConfig = { jitless: true };
// No storage is reached: a request without a token is refused before any query.
const env = { DATABASE_URL: 'postgresql://app:pw@ep-x.neon.tech/neondb', ADMIN_TOKEN: 'x'.repeat(32) };
// workerd's built-in cloudflare:workers module hands the bundle the same bindings at module scope.
globalThis.__cfEnv = env;
const { register } = await import('node:module');
register('data:text/javascript,' + encodeURIComponent(
  "export async function resolve(s, c, next) { return s === 'cloudflare:workers' ? { url: 'data:text/javascript,export const env = globalThis.__cfEnv;', shortCircuit: true } : next(s, c); }"));
let t = process.cpuUsage();
const mod = await import(${JSON.stringify(pathToFileURL(bundle).href)});
const load = ms(process.cpuUsage(t));
const timed = async (path) => {
  const t0 = process.cpuUsage();
  const res = await mod.default.fetch(new Request('http://localhost' + path), env, { waitUntil() {} });
  await res.arrayBuffer();
  return { status: res.status, cpuMs: ms(process.cpuUsage(t0)) };
};
const firstRequest = await timed('/api/session-log');
const secondRequest = await timed('/api/session-log');
const firstOpenApi = await timed('/api/openapi.json');
console.log(JSON.stringify({ loadCpuMs: load, firstRequest, secondRequest, firstOpenApi }));
`;
/** One fresh process on `bundle` (build it first with buildWorker). */
export async function measureWorkerCold(bundle: string): Promise<WorkerCold> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', probe(bundle)]);
  const measured = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Omit<WorkerCold, 'bundle' | 'bytes' | 'gzipBytes'>;
  return { bundle, bytes: (await stat(bundle)).size, gzipBytes: gzipSync(await readFile(bundle)).byteLength, ...measured };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await measureWorkerCold(process.argv[2] ?? (await buildWorker()))));
}
