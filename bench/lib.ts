/**
 * Building blocks shared by the benchmark groups: the ingest rows, a closed-loop load runner,
 * the server child process and the bench databases. (The HTTP client is in http.ts.)
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { NewEvent } from '../lib/events/ingest.js';
import { SERVER_NODE } from './config.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

// ---- rows ----

export const SESSIONS = 1_000;
export const STUDENTS = 200;
export const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';

/** An event as a workshop page posts it. */
export interface WireEvent {
  sessionToken: string;
  studentEmail: string;
  eventType: string;
  eventData: Record<string, unknown>;
  eventId: string;
}

/**
 * A random browser session: a session token tied to one of STUDENTS emails (a student may have
 * several sessions). A batch comes from one page, so all its events share one session.
 */
export function pickSession(): { sessionToken: string; studentEmail: string } {
  const s = Math.floor(Math.random() * SESSIONS);
  return { sessionToken: `ws_bench_${s}`, studentEmail: `student${s % STUDENTS}@workshop.example` };
}

/**
 * One event per student, inserted in one statement before each run so every student row exists:
 * runs measure the steady state, and concurrent *first* events of one new student (a separate
 * race: students_pkey 23505) cannot turn into errors that would invalidate a throughput run.
 */
export function everyStudent(): WireEvent[] {
  return Array.from({ length: STUDENTS }, (_, s) => wireEvent({ sessionToken: `ws_bench_${s}`, studentEmail: `student${s}@workshop.example` }));
}

/** ~200 bytes of eventData of a known type, so the server's per-type validation runs too. */
export function wireEvent(session = pickSession()): WireEvent {
  const step = Math.floor(Math.random() * 12);
  const kind = step % 3;
  const eventType = kind === 0 ? 'action' : kind === 1 ? 'navigation' : 'state_change';
  const typed =
    kind === 0 ? { actionName: 'click_next' } : kind === 1 ? { from: step, to: step + 1 } : { stateName: 'voice', oldValue: 'idle', newValue: 'live' };
  return { ...session, eventType, eventData: { ...typed, currentStep: step, stepName: `Step ${step}: configure`, userAgent: UA }, eventId: randomUUID() };
}

/** The same event as the server stores it (no client time: created_at = arrival, as on the HTTP path). */
export function toNewEvent(e: WireEvent): NewEvent {
  return {
    eventUuid: e.eventId,
    sessionToken: e.sessionToken,
    email: e.studentEmail,
    name: null,
    studentId: null,
    eventType: e.eventType,
    eventData: JSON.stringify(e.eventData),
    clientTs: null,
    createdAt: new Date(),
  };
}

// ---- load ----

export interface LoadResult {
  ops: number;
  errors: number;
  seconds: number;
  /** Milliseconds per completed op in the measured window, sorted ascending. */
  latencies: Float64Array;
  firstError?: string;
}

/**
 * Closed loop: `concurrency` workers each run `op` back to back. Ops completing during the warm-up
 * are discarded (cold pools, JIT); errors count in both phases, since any error invalidates a run.
 */
export async function runLoad(
  op: () => Promise<void>,
  concurrency: number,
  warmupS: number,
  measureS: number,
  /** Called as the measured window opens and closes (to sample CPU over exactly that window). */
  mark?: (edge: 'start' | 'end') => void,
): Promise<LoadResult> {
  let phase: 'warmup' | 'measure' | 'done' = 'warmup';
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const worker = async () => {
    while (phase !== 'done') {
      const t0 = performance.now();
      try {
        await op();
        if (phase === 'measure') latencies.push(performance.now() - t0);
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
  };
  const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));
  const workers = Array.from({ length: concurrency }, worker);
  await sleep(warmupS);
  phase = 'measure';
  mark?.('start');
  const start = performance.now();
  await sleep(measureS);
  phase = 'done';
  mark?.('end');
  const seconds = (performance.now() - start) / 1000;
  await Promise.all(workers);
  return { ops: latencies.length, errors, seconds, latencies: Float64Array.from(latencies).sort(), firstError };
}

export function percentile(sorted: Float64Array, q: number): number {
  return sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN) : Number.NaN;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

/** The run whose `rate` is the median (the lower middle one of an even count), with its other figures. */
export const medianBy = <T>(runs: readonly T[], rate: (run: T) => number): T => [...runs].sort((a, b) => rate(a) - rate(b))[(runs.length - 1) >> 1] as T;

// ---- server ----

export interface Server {
  url: URL;
  pid: number;
  /** Resident set size of the server process, in MB (Linux /proc). */
  rssMb(): number;
  /** CPU seconds (user + system) the server process has used so far (Linux /proc). */
  cpuSeconds(): number;
  /** The last few KB the server printed (stdout and stderr). */
  logTail(): string;
  stop(): Promise<void>;
}

/** `node -v` of a node binary (COLD_NODE, BENCH_SERVER_NODE). */
export function nodeVersion(bin: string): string {
  return execFileSync(bin, ['-v'], { encoding: 'utf8' }).trim();
}

/**
 * Run server.ts as a child on a free port. `node --import tsx` (not `npx tsx`) so the child is the
 * server itself: its pid is the one to read RSS from and to signal. PORT=0 lets the OS pick the
 * port, which the server prints, so there is no probe-then-bind race. `nodeArgs` is for profiling
 * (`--cpu-prof` is refused in NODE_OPTIONS).
 */
export async function startServer(env: Record<string, string>, nodeArgs: readonly string[] = []): Promise<Server> {
  const child = spawn(SERVER_NODE, [...nodeArgs, '--import', 'tsx', 'server.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // Keep draining both pipes for the whole run: a full pipe would block the server's logging.
  let tail = '';
  const keep = (c: Buffer) => {
    tail = (tail + c.toString()).slice(-4000);
  };
  child.stderr?.on('data', keep);
  child.stdout?.on('data', keep);
  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 30 s:\n${tail}`)), 30_000);
    child.stdout?.on('data', () => {
      const m = /listening on (http:\/\/\S+)/.exec(tail);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(new URL(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${tail}`));
    });
  }).catch(async (err: unknown) => {
    await stopChild(child, exited);
    throw err;
  });
  return {
    url,
    pid: child.pid ?? 0,
    rssMb: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? Number.NaN) / 1024,
    cpuSeconds: () => processCpuSeconds(child.pid ?? 0),
    logTail: () => tail,
    stop: () => stopChild(child, exited),
  };
}

/** USER_HZ: 100 on every mainstream Linux build. */
const CLOCK_TICKS = 100;

/** CPU seconds (user + system) a process has used so far: fields 14 and 15 of /proc/<pid>/stat; the comm field may hold spaces. */
export function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** CPU seconds the whole machine has spent busy (all cores, everything but idle and iowait). */
export function machineBusySeconds(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).map(Number) ?? [];
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = ticks;
  return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS;
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

// ---- database ----

const LOCAL_PG = 'postgres://postgres@127.0.0.1:5432';

/**
 * `env[envVar]` when set; otherwise the local database `name`, created if missing. The ingest,
 * session and mixed groups use DATABASE_URL / `sessionlog_bench` (TRUNCATED by the ingest runs);
 * the reads group keeps its 1,000,000 seeded events in a database of its own so they survive.
 */
export async function benchDatabase(name = 'sessionlog_bench', envVar = 'DATABASE_URL'): Promise<{ url: string; source: string }> {
  const given = process.env[envVar];
  if (given) return { url: given, source: envVar };
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
  const admin = new pg.Client({ connectionString: `${LOCAL_PG}/postgres` });
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!found.rowCount) {
      // 42P04 = duplicate_database: another bench run created it between the check and here.
      await admin.query(`CREATE DATABASE ${name}`).catch((e: { code?: string }) => {
        if (e.code !== '42P04') throw e;
      });
    }
  } finally {
    await admin.end();
  }
  return { url: `${LOCAL_PG}/${name}`, source: `local default (${envVar} unset)` };
}

/** The URL without its password, for printing. */
export function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
