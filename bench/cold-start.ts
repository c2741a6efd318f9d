/**
 * Cold start of one Vercel function: start a fresh `node` on its bundle
 * (scripts/bundle-function.ts) and time process spawn → first answered request. Used by the
 * `cold` bench group (cold.ts).
 */
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';

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
