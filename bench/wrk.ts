/**
 * The ingest load through `wrk` (C, LuaJIT; Debian package `wrk`) instead of the Node client in
 * http.ts. pgbench's client is C and costs Postgres next to nothing; the Node client costs ~0.3 ms
 * of CPU per request, taken from the same 2 cores the server and Postgres share, so against
 * pgbench it measured the load generator as much as the server. Same bodies as `wireEvent` /
 * `makeBatch` (lib.ts): a random one of SESSIONS sessions and its student, a known event type with
 * ~200 bytes of data, a fresh random `eventId`; a batch is 100 events of one page. Every answer is
 * checked: a single event must be 200, a batch must be 200 with `"accepted":100`.
 *
 * Used when `wrk` is on the PATH and BENCH_LOADGEN is not `node` (ingest.ts).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SECONDS, WARMUP } from './config.js';
import { machineBusySeconds, processCpuSeconds, type Server, SESSIONS, STUDENTS, UA } from './lib.js';
import { fmt, type Measured, ms, pct } from './measure.js';

/** Whether `wrk` can be run here. */
export function wrkAvailable(): boolean {
  try {
    // `wrk -v` prints its version and exits 1.
    execFileSync('wrk', ['-v'], { stdio: 'pipe' });
    return true;
  } catch (err) {
    const e = err as { code?: string; stdout?: Buffer; stderr?: Buffer };
    return e.code !== 'ENOENT' && /^wrk /m.test(`${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** The Lua script: builds each request's body, checks each answer, prints one JSON line at the end. */
function script(size: number): string {
  return `
local UA = "${UA}"
local SIZE = ${size}
local threads = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end
-- A version-4 UUID from a random per-thread prefix (74 random bits) and a counter: unique within
-- the run, and one string.format where 32 math.random calls per id made the load generator take
-- CPU from the server and PostgreSQL on the shared cores.
local p1, p2, p3, p4, p5
local seq = 0
function init(args)
  math.randomseed(os.time() * 1000 + tid * 7919 + math.floor(os.clock() * 1e6))
  p1, p2, p3 = math.random(0, 0xffff), math.random(0, 0xffff), math.random(0, 0xffff)
  p4, p5 = math.random(0, 0xfff), math.random(0x8000, 0xbfff)
  bad = 0
  first_bad = ""
end
local function uuid()
  seq = seq + 1
  return string.format("%04x%04x-%04x-4%03x-%04x-%06x%06x", p1, p2, p3, p4, p5, math.floor(seq / 0x1000000), seq % 0x1000000)
end
-- What follows "eventType":" for each of the 12 steps: type, data (as wireEvent builds it) and
-- the start of the eventId, built once.
local TAIL = {}
for step = 0, 11 do
  local kind = step % 3
  local et, typed
  if kind == 0 then et = "action"; typed = '"actionName":"click_next"'
  elseif kind == 1 then et = "navigation"; typed = '"from":' .. step .. ',"to":' .. (step + 1)
  else et = "state_change"; typed = '"stateName":"voice","oldValue":"idle","newValue":"live"' end
  TAIL[step] = et .. '","eventData":{' .. typed .. ',"currentStep":' .. step .. ',"stepName":"Step ' .. step .. ': configure","userAgent":"' .. UA .. '"},"eventId":"'
end
local function event(head)
  return head .. TAIL[math.random(0, 11)] .. uuid() .. '"}'
end
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
function request()
  local s = math.random(0, ${SESSIONS - 1})
  local head = '{"sessionToken":"ws_bench_' .. s .. '","studentEmail":"student' .. (s % ${STUDENTS}) .. '@workshop.example","eventType":"'
  local body
  if SIZE == 1 then body = event(head)
  else
    local evs = {}
    for i = 1, SIZE do evs[i] = event(head) end
    body = '{"events":[' .. table.concat(evs, ",") .. ']}'
  end
  return wrk.format(nil, "/api/session-log", nil, body)
end
function response(status, headers, body)
  local ok = status == 200 and (SIZE == 1 or body:find('"accepted":' .. SIZE, 1, true) ~= nil)
  if not ok then
    bad = bad + 1
    if first_bad == "" then first_bad = "HTTP " .. status .. ": " .. body:sub(1, 200) end
  end
end
function done(summary, latency, requests)
  local nbad, first = 0, ""
  for _, t in ipairs(threads) do
    nbad = nbad + t:get("bad")
    if first == "" then first = t:get("first_bad") end
  end
  local e = summary.errors
  io.write(string.format('WRK {"requests":%d,"us":%d,"bad":%d,"socket":%d,"p50":%.3f,"p99":%.3f,"first":%q}\\n',
    summary.requests, summary.duration, nbad, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, first))
end
`;
}

interface WrkRun {
  requests: number;
  seconds: number;
  bad: number;
  socket: number;
  p50: number;
  p99: number;
  first: string;
  /** CPU seconds wrk itself used. */
  cpuSeconds: number;
}

/** One wrk run; wrk's own CPU is sampled from /proc just before it ends (it exits right after). */
function runWrk(file: string, url: URL, conns: number, seconds: number, onStart?: () => void): Promise<WrkRun> {
  return new Promise((resolve, reject) => {
    const threads = Math.min(conns, availableParallelism());
    const child: ChildProcess = spawn('wrk', [`-t${threads}`, `-c${conns}`, `-d${seconds}s`, '--timeout', '30s', '-s', file, url.origin], { stdio: ['ignore', 'pipe', 'pipe'] });
    onStart?.();
    let out = '';
    let cpu = 0;
    const sample = setInterval(() => {
      try {
        cpu = processCpuSeconds(child.pid ?? 0);
      } catch {
        // exited between samples
      }
    }, 100);
    child.stdout?.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    child.stderr?.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(sample);
      const line = /^WRK (.*)$/m.exec(out)?.[1];
      if (code !== 0 || !line) return reject(new Error(`wrk exited ${code}: ${out.slice(-500)}`));
      const r = JSON.parse(line) as Omit<WrkRun, 'seconds' | 'cpuSeconds'> & { us: number };
      resolve({ ...r, seconds: r.us / 1e6, cpuSeconds: cpu });
    });
  });
}

/** Run `fn` with the ingest script for `size` written to a temporary file. */
async function withScript<T>(size: number, fn: (file: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'sl-wrk-'));
  try {
    const file = join(dir, 'ingest.lua');
    writeFileSync(file, script(size));
    return await fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Untimed load (a warm-up): fails on any bad answer. */
async function untimed(what: string, file: string, server: Server, concurrency: number, seconds: number): Promise<void> {
  const w = await runWrk(file, server.url, concurrency, Math.max(1, Math.round(seconds)));
  if (w.bad || w.socket) throw new Error(`${what}: ${w.bad} bad answers, ${w.socket} socket errors (${w.first})`);
}

/** Untimed ingest load through wrk (the server's warm-up, ingest.ts); fails on any bad answer. */
export function warmWrk(server: Server, o: { concurrency: number; size: number; seconds: number }): Promise<void> {
  return withScript(o.size, (file) => untimed('server warm-up', file, server, o.concurrency, o.seconds));
}

/** The ingest load (size 1: single events, else batches of `size`) through wrk, summarised like measure(). */
export function measureWrk(label: string, server: Server, o: { concurrency: number; size: number }): Promise<Measured> {
  return withScript(o.size, async (file) => {
    if (WARMUP > 0) await untimed('warm-up', file, server, o.concurrency, WARMUP);
    const cores = availableParallelism();
    let server0 = 0;
    let machine0 = 0;
    let t0 = 0;
    const r = await runWrk(file, server.url, o.concurrency, Math.max(1, Math.round(SECONDS)), () => {
      server0 = server.cpuSeconds();
      machine0 = machineBusySeconds();
      t0 = performance.now();
    });
    const wall = (performance.now() - t0) / 1000;
    const serverCpu = server.cpuSeconds() - server0;
    const share = (s: number) => pct(s / wall);
    const cpu = `cpu: server ${share(serverCpu)}, wrk ${share(r.cpuSeconds)}, machine ${share(machineBusySeconds() - machine0)}/${cores * 100}%`;
    const errors = r.bad + r.socket;
    const m: Measured = {
      label,
      opsPerS: r.requests / r.seconds,
      unitsPerS: (r.requests * o.size) / r.seconds,
      p50: r.p50,
      p99: r.p99,
      errors,
      firstError: r.first || (r.socket ? `${r.socket} socket errors` : undefined),
      cpu,
      serverCpuMsPerOp: r.requests ? (serverCpu * 1000) / r.requests : Number.NaN,
    };
    const err = errors ? `  ERRORS ${errors} (first: ${m.firstError?.slice(0, 200)})` : '';
    const units = o.size > 1 ? `${fmt(m.unitsPerS).padStart(7)} ev/s ` : '';
    console.log(`  ${label.padEnd(28)} ${units}${fmt(m.opsPerS).padStart(6)} op/s  p50 ${ms(m.p50)}  p99 ${ms(m.p99)} ms  ${cpu}, server ${m.serverCpuMsPerOp.toFixed(2)} ms CPU/op${err}`);
    return m;
  });
}
