/**
 * One measured scenario: a closed-loop load (lib.ts runLoad) plus where the CPU went, printed as a
 * progress line and returned for the markdown tables. Shared by every HTTP-vs-raw group.
 */
import { availableParallelism } from 'node:os';
import { SECONDS, WARMUP } from './config.js';
import { machineBusySeconds, percentile, runLoad, type Server } from './lib.js';

export interface Measured {
  label: string;
  /** Operations (requests, or raw calls) per second. */
  opsPerS: number;
  /** Units per second: events for ingest, otherwise the same as opsPerS. */
  unitsPerS: number;
  p50: number;
  p99: number;
  errors: number;
  firstError?: string | undefined;
  /** CPU shares, 100% = one core: the server, this process (client or pg driver), the machine. */
  cpu: string;
  /** Server process CPU (user + system) per operation over the measured window, in ms; NaN without a server. */
  serverCpuMsPerOp: number;
}

export interface MeasureOptions {
  concurrency: number;
  /** Units one op carries (events per request); 1 by default. */
  units?: number;
  /** The server child, to report its CPU share (omit for raw runs to still show it idle). */
  server?: Server | undefined;
  seconds?: number;
  warmup?: number;
}

/**
 * Run `op` back to back on `concurrency` workers for WARMUP + SECONDS and summarise. CPU shares
 * show what saturates the machine: on 2 cores the client, the server and Postgres compete, so a
 * figure is only meaningful next to where the CPU went.
 */
export async function measure(label: string, op: () => Promise<void>, o: MeasureOptions): Promise<Measured> {
  const cores = availableParallelism();
  const server0 = o.server?.cpuSeconds() ?? 0;
  const [bench0, machine0, t0] = [process.cpuUsage(), machineBusySeconds(), performance.now()];
  let windowCpu = [0, 0];
  const r = await runLoad(op, o.concurrency, o.warmup ?? WARMUP, o.seconds ?? SECONDS, (edge) => {
    if (o.server) windowCpu = edge === 'start' ? [o.server.cpuSeconds(), 0] : [windowCpu[0] ?? 0, o.server.cpuSeconds()];
  });
  const wall = (performance.now() - t0) / 1000;
  const benchCpu = process.cpuUsage(bench0);
  const share = (cpuSeconds: number) => pct(cpuSeconds / wall);
  const cpu =
    `cpu: server ${o.server ? share(o.server.cpuSeconds() - server0) : '-'}, bench ${share((benchCpu.user + benchCpu.system) / 1e6)}, ` +
    `machine ${share(machineBusySeconds() - machine0)}/${cores * 100}%`;
  const m: Measured = {
    label,
    opsPerS: r.ops / r.seconds,
    unitsPerS: (r.ops * (o.units ?? 1)) / r.seconds,
    p50: percentile(r.latencies, 0.5),
    p99: percentile(r.latencies, 0.99),
    errors: r.errors,
    firstError: r.firstError,
    cpu,
    serverCpuMsPerOp: o.server && r.ops ? (((windowCpu[1] ?? 0) - (windowCpu[0] ?? 0)) * 1000) / r.ops : Number.NaN,
  };
  const err = r.errors ? `  ERRORS ${r.errors} (first: ${r.firstError?.slice(0, 200)})` : '';
  const units = o.units && o.units > 1 ? `${fmt(m.unitsPerS).padStart(7)} ev/s ` : '';
  console.log(`  ${label.padEnd(28)} ${units}${fmt(m.opsPerS).padStart(6)} op/s  p50 ${ms(m.p50)}  p99 ${ms(m.p99)} ms  ${cpu}${o.server ? `, server ${m.serverCpuMsPerOp.toFixed(2)} ms CPU/op` : ''}${err}`);
  return m;
}

/** Run `op` for each item with at most `concurrency` in flight (priming data before a run). */
export async function forEachConcurrent<T>(items: readonly T[], concurrency: number, op: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await op(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

export const fmt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
export const pct = (n: number): string => (Number.isFinite(n) ? `${Math.round(n * 100)}%` : 'n/a');
/** Milliseconds with one decimal below 100 ms (sub-ms differences matter there), whole above. */
export const ms = (n: number): string => (!Number.isFinite(n) ? 'n/a' : n < 100 ? n.toFixed(1) : n.toFixed(0));
export const latency = (m: Measured): string => `${ms(m.p50)} / ${ms(m.p99)}`;

/** A markdown table from a header and rows of cells; `align` is one of `l`/`r` per column. */
export function table(header: readonly string[], align: string, rows: ReadonlyArray<readonly string[]>): string[] {
  const sep = [...align].map((a) => (a === 'r' ? '--:' : '---'));
  return [`| ${header.join(' | ')} |`, `|${sep.join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

/** What a group hands back to run.ts: its markdown (heading, tables, notes) and whether it failed. */
export interface Section {
  markdown: string[];
  /** Requests failed or a check did not hold: the run is invalid (exit code 1). */
  failed: boolean;
}
