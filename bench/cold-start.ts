/**
 * Cold start of one Vercel function: bundle its door (api/*.ts) with esbuild the way a Node
 * serverless build would, then start a fresh `node` on the bundle and time process spawn → first
 * answered request. Used by the `cold` bench group (cold.ts).
 *
 * Bundling: node platform, ESM, every package inlined except Node built-ins and pg's optional
 * native binding (what @vercel/nft never traces either, scripts/vercel-trace.ts). Code splitting
 * is on so a dynamic `import()` stays a separate file loaded only when reached: that is how the
 * unbundled function Vercel ships behaves (each module is a file read on first import), and it is
 * the point of the lazy imports in lib/node/deps.ts and lib/openapi.ts.
 */
import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { ROOT } from './lib.js';

export interface Bundle {
  /** The entry file to import. */
  file: string;
  /** Bytes node must read and compile before the first request: the entry and its static imports. */
  eagerBytes: number;
  /** Every chunk, lazy ones included. */
  totalBytes: number;
}

/** CJS packages inside an ESM bundle call require() for built-ins: give them one. */
const BANNER = "import { createRequire as __coldRequire } from 'node:module'; const require = __coldRequire(import.meta.url);";

export async function bundleFunction(entry: string, outRoot = join(ROOT, 'dist', 'cold')): Promise<Bundle> {
  const outdir = join(outRoot, basename(entry, '.ts'));
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const { metafile } = await build({
    entryPoints: { index: join(ROOT, entry) },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['pg-native'],
    banner: { js: BANNER },
    metafile: true,
    logLevel: 'error',
  });
  return { file: join(outdir, 'index.mjs'), ...sizes(metafile, outdir) };
}

function sizes(meta: Metafile, outdir: string): { eagerBytes: number; totalBytes: number } {
  const outputs = new Map(Object.entries(meta.outputs).map(([path, o]) => [join(ROOT, path), o]));
  const entry = [...outputs].find(([, o]) => o.entryPoint)?.[0];
  const eager = new Set<string>();
  const visit = (path: string) => {
    if (eager.has(path)) return;
    eager.add(path);
    for (const i of outputs.get(path)?.imports ?? []) if (i.kind === 'import-statement' && !i.external) visit(join(ROOT, i.path));
  };
  if (!entry) throw new Error(`no entry chunk in ${outdir}`);
  visit(entry);
  let eagerBytes = 0;
  let totalBytes = 0;
  for (const [path, o] of outputs) {
    totalBytes += o.bytes;
    if (eager.has(path)) eagerBytes += o.bytes;
  }
  return { eagerBytes, totalBytes };
}

export interface ColdRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface ColdRun {
  /** Parent's clock: spawn → the child's report line arrived. */
  totalMs: number;
  /** Child's clock (performance.now() counts from process start): Node's own start-up before our code. */
  bootMs: number;
  importMs: number;
  firstRequestMs: number;
  /** CPU the child used up to the answer (user + system, all threads): steadier than wall time on a shared machine. */
  cpuMs: number;
  status: number;
  /** The body of an answer that was not a success, for the log. */
  detail?: string;
}

// The harness: a fetch handler is all a Vercel function is. Its report is printed before exit so
// the parent's clock stops at the answer, not at the pool's teardown.
const PROBE = `
const bootMs = performance.now();
const [bundle, req] = process.argv.slice(-2);
const { method, path, headers, body } = JSON.parse(req);
const mod = await import(bundle);
const imported = performance.now();
const res = await mod.default.fetch(new Request('http://localhost' + path, { method, headers, body }));
const text = await res.text();
const done = performance.now();
const cpu = process.cpuUsage();
const report = { bootMs, importMs: imported - bootMs, firstRequestMs: done - imported, cpuMs: (cpu.user + cpu.system) / 1000, status: res.status, detail: res.status >= 300 ? text.slice(0, 300) : undefined };
process.stdout.write(JSON.stringify(report) + '\\n', () => process.exit(0));
`;

/** Node alone: the same spawn → first line for a process that does nothing. */
const BARE = `const cpu = process.cpuUsage(); process.stdout.write(JSON.stringify({ bootMs: performance.now(), importMs: 0, firstRequestMs: 0, cpuMs: (cpu.user + cpu.system) / 1000, status: 0 }) + '\\n', () => process.exit(0));`;

export function spawnOnce(env: Record<string, string>, bundle?: string, request?: ColdRequest): Promise<ColdRun> {
  const args = bundle && request ? ['--input-type=module', '-e', PROBE, pathToFileURL(bundle).href, JSON.stringify(request)] : ['-e', BARE];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let settled = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const nl = out.indexOf('\n');
      if (nl < 0 || settled) return;
      settled = true;
      const totalMs = performance.now() - started;
      try {
        resolve({ totalMs, ...(JSON.parse(out.slice(0, nl)) as Omit<ColdRun, 'totalMs'>) });
      } catch (e) {
        reject(new Error(`cold probe printed ${out.slice(0, 200)}: ${String(e)}`));
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (!settled) reject(new Error(`cold probe exited ${code} without answering: ${err.slice(-1000)}`));
    });
  });
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};
