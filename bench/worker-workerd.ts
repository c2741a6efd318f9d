/**
 * The edge worker's cold start in workerd itself, the runtime Cloudflare runs it in (through
 * miniflare, as the edge tests do): CPU of the runtime process for the bundle's start-up and its
 * first requests, each less what the same step costs a worker that only answers "ok" (miniflare's
 * own entry worker and the HTTP hop in and out, which are not the worker's). CPU is the sum over
 * workerd's threads of /proc/<pid>/task/<tid>/schedstat (nanoseconds on CPU), read before and
 * after each step; the step includes what the request left running (the audit write, the
 * subrequest to storage and its parsing), since Cloudflare counts `waitUntil` work too.
 *
 * What it adds to worker-cold.ts (a fresh V8 in Node): the runtime's own V8 and built-ins (its
 * Request, Response and fetch are C++, not Node's undici), and a real subrequest to storage: the
 * Neon HTTP driver against the local /sql stand-in on PostgreSQL. Its figures still include
 * workerd's own C++ for that subrequest, which Cloudflare's CPU limit does not count, so they err
 * high. Linux only (schedstat); timed here only, never in tests.
 *   npx tsx bench/worker-workerd.ts [bundle]   (default: builds dist/worker.js; DATABASE_URL or the bench database)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';
import { buildWorker } from '../scripts/build-worker.js';
import { startNeonStandin } from '../tests/helpers/neon-standin.js';
import { ROOT } from './lib.js';

export interface WorkerdStep {
  status: number;
  /** workerd's CPU for the step, less the "ok" worker's for the same step (ms). */
  cpuMs: number;
  /** workerd's CPU for the step before that subtraction (ms). */
  grossMs: number;
}

export interface WorkerdCold {
  /** Parsing and evaluating the bundle (workerd starts it before the first request), less the "ok" worker's. */
  startup: WorkerdStep;
  /** A fresh isolate's first request: `GET /api/session-log` without a token (refused and audited), then a second. */
  firstRefused: WorkerdStep;
  secondRefused: WorkerdStep;
  /** Another fresh isolate's first request: one event posted to `/api/session-log` and stored. */
  firstIngest: WorkerdStep;
  secondIngest: WorkerdStep;
  /**
   * A third isolate's first `GET /api/attention` (an instructor's Now view) over whatever the
   * database holds live, then a second: not part of the verdict, which is about posted events.
   */
  firstAttention: WorkerdStep;
  secondAttention: WorkerdStep;
}

const OK_WORKER = 'export default { fetch() { return new Response("ok"); } };';
const SETTLE_MS = 150;
const settle = () => new Promise((r) => setTimeout(r, SETTLE_MS));

/** workerd processes this process started (miniflare spawns one per instance). */
function workerdChildren(): Set<number> {
  const out = new Set<number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (comm === 'workerd' && ppid === process.pid) out.add(Number(d));
    } catch {
      // the process went away while we looked
    }
  }
  return out;
}

/** Nanoseconds on CPU, all threads of `pid` so far. */
function cpuNs(pid: number): number {
  let sum = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      sum += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // a thread that ended between the listing and the read
    }
  }
  return sum;
}

interface Instance {
  startupNs: number;
  /** CPU of each request in order, answered status with it. */
  steps: { status: number; ns: number }[];
}

export async function runInstance(scriptPath: string, bindings: Record<string, unknown>, requests: (() => [string, RequestInit?])[]): Promise<Instance> {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(ROOT, 'wrangler.jsonc'));
  const before = workerdChildren();
  const mf = new Miniflare({
    modules: true,
    scriptPath,
    compatibilityDate: workerOptions.compatibilityDate,
    compatibilityFlags: workerOptions.compatibilityFlags,
    bindings: { ...workerOptions.bindings, ...bindings },
  });
  try {
    await mf.ready;
    const pid = [...workerdChildren()].find((p) => !before.has(p));
    if (pid === undefined) throw new Error('worker-workerd: no workerd process found');
    // The whole start-up (runtime and bundle) is what the process used until it was ready.
    await settle();
    const startupNs = cpuNs(pid);
    const idle0 = cpuNs(pid);
    await settle();
    const idleNs = cpuNs(pid) - idle0;
    const steps: Instance['steps'] = [];
    for (const make of requests) {
      const c0 = cpuNs(pid);
      const [url, init] = make();
      const res = await mf.dispatchFetch(url, init as never);
      await res.arrayBuffer();
      await settle();
      steps.push({ status: res.status, ns: Math.max(0, cpuNs(pid) - c0 - idleNs) });
    }
    return { startupNs, steps };
  } finally {
    await mf.dispose();
  }
}

const step = (status: number, ns: number, baseNs: number): WorkerdStep => ({ status, cpuMs: Math.max(0, ns - baseNs) / 1e6, grossMs: ns / 1e6 });

/** One cold measurement: fresh workerd instances for the "ok" worker and for the bundle. */
export async function measureWorkerdCold(bundle: string, databaseUrl: string): Promise<WorkerdCold> {
  // Beside the bundle: workerd refuses a script path that leaves its starting directory.
  await mkdir(join(ROOT, 'dist'), { recursive: true });
  const dir = await mkdtemp(join(ROOT, 'dist', 'workerd-ok-'));
  const okWorker = join(dir, 'ok-worker.js');
  await writeFile(okWorker, OK_WORKER);
  const standin = await startNeonStandin({ databaseUrl });
  try {
    const bindings = {
      DATABASE_URL: 'postgresql://app:pw@ep-local.neon.tech/neondb',
      DATABASE_HTTP_URL: standin.url,
      ADMIN_TOKEN: `sl_admin_workerd_${'a'.repeat(32)}`,
      RATE_LIMITS: 'off',
    };
    const refused = (): [string] => ['http://localhost/api/session-log'];
    const ingest = (): [string, RequestInit] => [
      'http://localhost/api/session-log',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sessionToken: `ws_workerd_${crypto.randomUUID()}`, studentEmail: 'workerd@example.com', eventType: 'navigation', eventData: { from: 1, to: 2 } }),
      },
    ];
    const attention = (): [string, RequestInit] => ['http://localhost/api/attention', { headers: { authorization: `Bearer ${bindings.ADMIN_TOKEN}` } }];
    const ok = await runInstance(okWorker, bindings, [refused, refused]);
    const a = await runInstance(bundle, bindings, [refused, refused]);
    const b = await runInstance(bundle, bindings, [ingest, ingest]);
    const c = await runInstance(bundle, bindings, [attention, attention]);
    // A request answered otherwise (a 500 for a missing binding, a 503 from storage) costs less
    // than the real one and would pass for a fast start.
    const expect = (inst: Instance, status: number, what: string) => {
      const bad = inst.steps.find((st) => st.status !== status);
      if (bad) throw new Error(`worker-workerd: ${what} answered ${bad.status}, not ${status}`);
    };
    expect(ok, 200, 'the "ok" worker');
    expect(a, 401, 'the refused request');
    expect(b, 200, 'the ingest request');
    expect(c, 200, 'the attention request');
    const base = (i: number) => ok.steps[i]?.ns ?? 0;
    const at = (inst: Instance, i: number) => step(inst.steps[i]?.status ?? 0, inst.steps[i]?.ns ?? 0, base(i));
    return {
      // Both isolates start the same bundle: their mean.
      startup: step(0, (a.startupNs + b.startupNs) / 2, ok.startupNs),
      firstRefused: at(a, 0),
      secondRefused: at(a, 1),
      firstIngest: at(b, 0),
      secondIngest: at(b, 1),
      firstAttention: at(c, 0),
      secondAttention: at(c, 1),
    };
  } finally {
    await standin.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/sessionlog_bench';
  console.log(JSON.stringify(await measureWorkerdCold(process.argv[2] ?? (await buildWorker()), databaseUrl), null, 1));
}
