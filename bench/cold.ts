/**
 * The `cold` group: what a serverless user waits for when no instance is warm.
 *  - every Vercel function (api/*.ts) started COLD_RUNS times in a fresh `node` (cold-start.ts):
 *    process spawn → first answered request, on the `pg` driver against the bench database, with
 *    a request typical of that function; as `npm run build:vercel` ships it (the CommonJS bundles
 *    in its Build Output, scripts/build-vercel.ts) at a deployment's first cold start and at a
 *    later one, with Vercel's bytecode cache emulated (bytecode-cache.cjs, ADR 0029), and as the
 *    zero-config deploy ships it (files compiled one by one, node_modules unbundled:
 *    zero-config.ts), alternately (ADR 0025);
 *  - the edge worker bundle: CPU of its first request in a fresh V8 (worker-cold.ts), and in
 *    workerd itself, the runtime Cloudflare runs (worker-workerd.ts).
 * Medians are reported; timed here only, never in tests.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { loadMigrations } from '../lib/node/migrations.js';
import { migrate } from '../lib/storage/migrate.js';
import type { Sql } from '../lib/storage/sql.js';
import { buildVercelOutput } from '../scripts/build-vercel.js';
import { buildWorker } from '../scripts/build-worker.js';
import { bundleFunction, HANDLER } from '../scripts/bundle-function.js';
import { type ColdRequest, type ColdRun, coldNodeVersion, spawnOnce } from './cold-start.js';
import { serverEnv } from './config.js';
import { median, ROOT } from './lib.js';
import { ms, type Section, table } from './measure.js';
import { resetIngest } from './ingest.js';
import { measureWorkerCold, type WorkerCold } from './worker-cold.js';
import { measureWorkerdCold, type WorkerdCold, type WorkerdStep } from './worker-workerd.js';
import { transpileZeroConfig } from './zero-config.js';

/** Fresh processes per function (COLD_RUNS); the median is reported. */
const RUNS = Number(process.env.COLD_RUNS ?? 5);
/**
 * Another checkout (e.g. a worktree of main) whose functions run interleaved with these: on a
 * shared machine only a comparison within one run says whether a change helped.
 */
const BASELINE = process.env.COLD_BASELINE;
/** Targets from issue 16. */
export const TARGET_FUNCTION_MS = 100;
export const TARGET_WORKER_CPU_MS = 10;

// Production secrets must be 32+ characters (lib/config.ts); these are the bench's own.
const ADMIN = `sl_admin_cold_${'a'.repeat(32)}`;
const CRON = `sl_cron_cold_${'c'.repeat(32)}`;
const WEBHOOK = `sl_webhook_cold_${'w'.repeat(32)}`;
const VAPI = `sl_vapi_cold_${'v'.repeat(32)}`;
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const json = { 'content-type': 'application/json' };

/** A request each function typically answers first, and the statuses that count as answered. */
const CASES: Record<string, { request: () => ColdRequest; ok: number[] }> = {
  'analysis.ts': { request: () => ({ method: 'GET', path: `/api/sessions/${randomUUID()}/analysis`, headers: bearer(ADMIN) }), ok: [200, 404] },
  'attention.ts': { request: () => ({ method: 'GET', path: '/api/attention', headers: bearer(ADMIN) }), ok: [200] },
  'audit.ts': { request: () => ({ method: 'GET', path: '/api/audit?limit=10', headers: bearer(ADMIN) }), ok: [200] },
  'cron.ts': { request: () => ({ method: 'GET', path: '/api/cron/sweep', headers: bearer(CRON) }), ok: [200] },
  'health.ts': { request: () => ({ method: 'GET', path: '/api/health' }), ok: [200] },
  'session-log.ts': {
    request: () => ({
      method: 'POST', path: '/api/session-log', headers: json,
      body: JSON.stringify({ sessionToken: `ws_cold_${randomUUID()}`, studentEmail: 'cold@example.com', eventType: 'navigation', eventData: { from: 1, to: 2 } }),
    }),
    ok: [200],
  },
  'sessions.ts': { request: () => ({ method: 'GET', path: '/api/sessions/active', headers: bearer(ADMIN) }), ok: [200] },
  'students.ts': {
    request: () => ({ method: 'PUT', path: `/api/students/cold_${randomUUID().slice(0, 8)}`, headers: { ...json, ...bearer(ADMIN) }, body: JSON.stringify({ name: 'Cold Start' }) }),
    ok: [200, 201],
  },
  'webhooks.ts': {
    request: () => ({
      method: 'POST', path: '/api/webhooks/vapi', headers: { ...json, 'x-vapi-secret': VAPI },
      body: JSON.stringify({ message: { type: 'status-update', status: 'in-progress', timestamp: Date.now(), call: { id: `cold-${randomUUID()}` } } }),
    }),
    ok: [200],
  },
};

function coldEnv(databaseUrl: string): Record<string, string> {
  return {
    ...serverEnv(databaseUrl),
    // What Vercel sets: production mode (secrets checked, no request logs by default).
    VERCEL: '1',
    NODE_ENV: 'production',
    ADMIN_TOKEN: ADMIN,
    SERVICE_TOKEN: `sl_service_cold_${'s'.repeat(32)}`,
    CRON_SECRET: CRON,
    WEBHOOK_TOKEN: WEBHOOK,
    VAPI_WEBHOOK_SECRET: VAPI,
    // One request per process: a pool of 32 would only cost sockets.
    DATABASE_POOL_MAX: '4',
  };
}

interface Row {
  fn: string;
  eagerBytes: number;
  totalBytes: number;
  runs: ColdRun[];
  /** The same bundle at a later cold start: with Vercel's bytecode cache (emulated, bytecode-cache.cjs). */
  cached: ColdRun[];
  zeroConfig: ColdRun[];
  baseline: ColdRun[];
}

const kb = (n: number) => `${Math.round(n / 1024).toLocaleString('en-US')} KB`;
/** Whether the launcher's `import('node:http')` loaded undici, in how many of the starts of the bundles. */
function launcherUndici(rows: Row[]): string {
  const runs = rows.flatMap((r) => [...r.runs, ...r.cached]);
  const loaded = runs.filter((r) => r.undiciAtLaunch).length;
  if (loaded === 0) return 'it does not load Node\'s fetch implementation, undici, which the first `new Request` then loads';
  return `on this Node it loads Node's fetch implementation, undici, in ${loaded} of ${runs.length} starts, which Node 20 loads at the first \`new Request\` instead`;
}
const med = (runs: ColdRun[], k: 'totalMs' | 'bootMs' | 'launcherMs' | 'importMs' | 'firstRequestMs' | 'cpuMs') => median(runs.map((r) => r[k]));

export async function runCold(sql: Sql, databaseUrl: string): Promise<Section> {
  await migrate(sql, await loadMigrations());
  // From the state each ingest run starts from (200 students, one event each), not from whatever
  // the groups before left: after the mixed load the bench database holds ~500,000 events of
  // 1,000 sessions all live at once, and the attention function's first answer would measure that
  // query (the attention group measures it), not a cold start — its 5 s statements then kept
  // running in Postgres while the next functions started.
  await resetIngest(sql);
  const env = coldEnv(databaseUrl);
  const functions = readdirSync(join(ROOT, 'api')).filter((f) => f.endsWith('.ts')).sort();
  const missing = functions.filter((f) => !CASES[f]);
  if (missing.length) throw new Error(`cold: no representative request for ${missing.join(', ')}`);
  const bare: ColdRun[] = [];
  const rows: Row[] = [];
  let failed = false;
  // Exactly what `npm run build:vercel` writes, into dist/ rather than .vercel/ (a developer's own build stays).
  const output = await buildVercelOutput(join(ROOT, 'dist', 'cold-output'));
  const zeroConfig = await transpileZeroConfig(ROOT);
  for (const fn of functions) {
    const c = CASES[fn];
    if (!c) continue;
    const built = output.functions.find((f) => f.name === `api/${basename(fn, '.ts')}`);
    if (!built) throw new Error(`cold: build:vercel wrote no function for api/${fn}`);
    const base = BASELINE ? await bundleFunction(`api/${fn}`, join(ROOT, 'dist', 'cold-baseline'), BASELINE) : undefined;
    const runs: ColdRun[] = [];
    const cached: ColdRun[] = [];
    const zero: ColdRun[] = [];
    const baseline: ColdRun[] = [];
    const check = (run: ColdRun, how: string) => {
      if (c.ok.includes(run.status)) return run;
      failed = true;
      console.error(`cold: api/${fn} (${how}) answered ${run.status}: ${run.detail ?? ''}`);
      return run;
    };
    const handler = join(built.dir, HANDLER);
    // The first cold start of a deployment writes the bytecode cache (untimed); later ones read it.
    const cache = { root: built.dir, dir: await mkdtemp(join(tmpdir(), 'sessionlog-bytecode-')) };
    const seeded = check(await spawnOnce(env, handler, c.request(), cache), 'writing the bytecode cache');
    if (!seeded.bytecode?.compiled || seeded.bytecode.fromCache) throw new Error(`cold: api/${fn}: the bytecode cache hook compiled nothing (${JSON.stringify(seeded.bytecode)})`);
    const fromCache = (run: ColdRun) => {
      const b = run.bytecode;
      // Every file the run compiled came from the cache; else the figure is not a cached start.
      if (!b || b.rejected || b.fromCache !== b.compiled) {
        failed = true;
        console.error(`cold: api/${fn}: a cached start compiled from source: ${JSON.stringify(b)}`);
      }
      return run;
    };
    const variants: Array<() => Promise<unknown>> = [
      async () => bare.push(await spawnOnce(env)),
      async () => zero.push(check(await spawnOnce(env, join(zeroConfig, 'api', fn.replace(/\.ts$/, '.js')), c.request()), 'zero-config')),
      async () => runs.push(check(await spawnOnce(env, handler, c.request()), 'build:vercel')),
      async () => cached.push(fromCache(check(await spawnOnce(env, handler, c.request(), cache), 'build:vercel, bytecode cache'))),
    ];
    if (base) variants.push(async () => baseline.push(await spawnOnce(env, base.file, c.request())));
    for (let i = 0; i < RUNS; i++) {
      // Interleaved so every variant sees the same machine load, and rotated: on the 2-core CI
      // machine the first process of a round ran ~50 ms slower than the next (Node's own boot
      // included), whichever variant it was, which a fixed order charged to one variant.
      for (let k = 0; k < variants.length; k++) await variants[(i + k) % variants.length]?.();
    }
    await rm(cache.dir, { recursive: true, force: true });
    rows.push({ fn, eagerBytes: built.eagerBytes, totalBytes: built.totalBytes, runs, cached, zeroConfig: zero, baseline });
    console.log(
      `cold: api/${fn} ${ms(med(runs, 'totalMs'))} ms (import ${ms(med(runs, 'importMs'))}, first request ${ms(med(runs, 'firstRequestMs'))}, CPU ${ms(med(runs, 'cpuMs'))}); ` +
        `bytecode cache ${ms(med(cached, 'totalMs'))} ms (import ${ms(med(cached, 'importMs'))}, CPU ${ms(med(cached, 'cpuMs'))}); ` +
        `zero-config ${ms(med(zero, 'totalMs'))} ms, CPU ${ms(med(zero, 'cpuMs'))}`,
    );
  }
  const workerBundle = await buildWorker();
  const worker: WorkerCold[] = [];
  const workerd: WorkerdCold[] = [];
  for (let i = 0; i < RUNS; i++) {
    worker.push(await measureWorkerCold(workerBundle));
    workerd.push(await measureWorkerdCold(workerBundle, databaseUrl));
  }
  const wdMed = (pick: (w: WorkerdCold) => number) => median(workerd.map(pick));
  /** A table cell: the step's median net CPU, and its median gross CPU in brackets. */
  const wdCell = (pick: (w: WorkerdCold) => WorkerdStep) => `${ms(wdMed((w) => pick(w).cpuMs))} (${ms(wdMed((w) => pick(w).grossMs))})`;
  const wdFirst = Math.max(wdMed((w) => w.firstRefused.cpuMs), wdMed((w) => w.firstIngest.cpuMs));
  console.log(
    `cold: worker first request ${ms(median(worker.map((w) => w.firstRequest.cpuMs)))} ms CPU in V8; in workerd: refused ${ms(wdMed((w) => w.firstRefused.cpuMs))}, ` +
      `ingest ${ms(wdMed((w) => w.firstIngest.cpuMs))} ms`,
  );
  const w0 = worker[0];
  const wMed = (pick: (w: (typeof worker)[number]) => number) => median(worker.map(pick));
  const bareMs = median(bare.map((b) => b.totalMs));
  const overCached = rows.filter((r) => med(r.cached, 'totalMs') > TARGET_FUNCTION_MS).map((r) => r.fn);
  const overFirst = rows.filter((r) => med(r.runs, 'totalMs') > TARGET_FUNCTION_MS).map((r) => r.fn);
  const list = (fns: string[]) => fns.map((f) => `\`api/${f}\``).join(', ');
  const workerFirst = wMed((w) => w.firstRequest.cpuMs);

  const markdown = [
    '### Cold start',
    '',
    `Median of ${RUNS} fresh processes per function, each function as \`npm run build:vercel\` ships it (its CommonJS bundle, for \`vercel deploy --prebuilt\`) ` +
      'at a deployment\'s first cold start and at a later one, which has Vercel\'s bytecode cache (emulated: `bench/bytecode-cache.cjs` gives each file ' +
      'the V8 code cache written right after that file first ran, in an untimed start before these), ' +
      'and, started alternately with them, as the zero-config deploy ships it (every file compiled on its own, node_modules unbundled). ' +
      `**Start → answer** is spawning \`node\` to the first response ` +
      'received (target ≤ 100 ms); Node boot is Node\'s own start-up inside that; launcher is the launcher\'s own `import(\'node:http\')` ' +
      `(${launcherUndici(rows)}); import is loading the bundle; first request includes ` +
      `building the app and connecting to PostgreSQL (\`pg\`); the request comes from the bench process, as a platform's would; CPU to answer is the function process's CPU time ` +
      `(user + system, all threads) when its answer had left it, which the other load on a shared machine disturbs less than wall time. A process that does nothing takes ${ms(bareMs)} ms ` +
      `(${ms(median(bare.map((b) => b.cpuMs)))} ms CPU) from spawn to its first line on the same machine in the same run. ` +
      `The functions ran on Node ${coldNodeVersion()}${process.env.COLD_NODE ? ' (`COLD_NODE`)' : ''}.`,
    '',
    ...table(
      [
        'Function', 'Loaded at start', 'Bundle (all chunks)', 'Start → answer (ms), bytecode cache', 'Import', 'First request', 'CPU to answer',
        'First cold start: start → answer', 'Node boot', 'Launcher', 'Import', 'First request', 'CPU to answer', 'Zero-config: start → answer', 'Zero-config: CPU', 'Status',
      ],
      'lrrrrrrrrrrrrrrr',
      rows.map((r) => [
        `\`api/${r.fn}\``, kb(r.eagerBytes), kb(r.totalBytes),
        ms(med(r.cached, 'totalMs')), ms(med(r.cached, 'importMs')), ms(med(r.cached, 'firstRequestMs')), ms(med(r.cached, 'cpuMs')),
        ms(med(r.runs, 'totalMs')), ms(med(r.runs, 'bootMs')), ms(med(r.runs, 'launcherMs')),
        ms(med(r.runs, 'importMs')), ms(med(r.runs, 'firstRequestMs')), ms(med(r.runs, 'cpuMs')),
        ms(med(r.zeroConfig, 'totalMs')), ms(med(r.zeroConfig, 'cpuMs')), String(r.runs[0]?.status ?? ''),
      ]),
    ),
    '',
    ...(BASELINE
      ? [
          `Baseline: the same functions from \`${BASELINE}\`, started alternately with these in the same run (median start → answer, and CPU):`,
          '',
          ...table(
            ['Function', 'Baseline start → answer (ms)', 'Now', 'Baseline CPU (ms)', 'Now'],
            'lrrrr',
            rows.map((r) => [`\`api/${r.fn}\``, ms(med(r.baseline, 'totalMs')), ms(med(r.runs, 'totalMs')), ms(med(r.baseline, 'cpuMs')), ms(med(r.runs, 'cpuMs'))]),
          ),
          '',
        ]
      : []),
    ...table(
      ['Edge worker (`dist/worker.js`)', 'Bundle', 'gzip', 'Module load CPU (ms)', 'First request CPU (ms)', 'Second request', 'First `/api/openapi.json`'],
      'lrrrrrr',
      [[
        'median of fresh V8 processes', kb(w0?.bytes ?? 0), kb(w0?.gzipBytes ?? 0), ms(wMed((w) => w.loadCpuMs)), ms(workerFirst),
        ms(wMed((w) => w.secondRequest.cpuMs)), ms(wMed((w) => w.firstOpenApi.cpuMs)),
      ]],
    ),
    '',
    `The same bundle in workerd (\`bench/worker-workerd.ts\`, median of ${RUNS}): the runtime process's CPU for each step (all threads, ` +
      '/proc schedstat), less what the same step costs a worker that only answers "ok"; storage is the Neon HTTP driver against the local ' +
      'stand-in on PostgreSQL. Fresh isolates: one refused (`GET /api/session-log` without a token, audited), one storing an event ' +
      '(`POST /api/session-log`), and one answering an instructor\'s `GET /api/attention` over the ingest reset\'s 200 live sessions. ' +
      'Gross figures (before the subtraction) in brackets.',
    '',
    ...table(
      ['Edge worker in workerd', 'Start-up CPU (ms)', 'First request CPU (ms)', 'Second request'],
      'lrrr',
      [
        ['refused (401)', wdCell((w) => w.startup), wdCell((w) => w.firstRefused), wdCell((w) => w.secondRefused)],
        ['one event stored (200)', '', wdCell((w) => w.firstIngest), wdCell((w) => w.secondIngest)],
        ['`GET /api/attention` (200; not in the verdict)', '', wdCell((w) => w.firstAttention), wdCell((w) => w.secondAttention)],
      ],
    ),
    '',
    (overCached.length ? `With the bytecode cache, over the ${TARGET_FUNCTION_MS} ms target: ${list(overCached)}.` : `With the bytecode cache, every function within ${TARGET_FUNCTION_MS} ms.`) +
      (overFirst.length ? ` At a deployment's first cold start, over it: ${list(overFirst)}.` : ` At a deployment's first cold start too.`),
    // The verdict is workerd's: the runtime the worker is deployed on, its own Request, Response
    // and console (JavaScript in Node), and a first request that reaches storage.
    `Worker first request ${wdFirst > TARGET_WORKER_CPU_MS ? 'over' : 'within'} the ${TARGET_WORKER_CPU_MS} ms CPU target in workerd ` +
      `(${ms(wdFirst)} ms, the slower of refused and stored; ${ms(workerFirst)} ms for the refused one in V8 in Node).`,
  ];
  return { markdown, failed };
}
