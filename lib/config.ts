import { z } from 'zod';
import { DEFAULT_TEMPLATES, type TemplateName } from './analysis/templates.js';
import { type ConfigFile, parseConfigFile } from './config-file.js';

/**
 * The environment, parsed once at the door (server.ts, worker.ts, api/*). Nothing else reads
 * process.env: derived config is passed in, which keeps routes testable with any config.
 */
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const optionalUrl = z.url().optional();

export const EnvSchema = z.object({
  /** `production` turns off local conveniences (generated admin token, `*` CORS). */
  NODE_ENV: z.string().optional(),
  /** Set by Vercel on its functions; any value means production. */
  VERCEL: z.string().optional(),
  /** Local server port. @default 3000 */
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Local server bind address. @default all interfaces */
  HOST: z.string().optional(),
  /** Where the embedded database and the generated admin token live. @default .data */
  DATA_DIR: z.string().default('.data'),
  /** Postgres connection string. Unset: embedded PGlite in DATA_DIR (local only). */
  DATABASE_URL: z.string().optional(),
  /** Which driver talks to DATABASE_URL. `auto`: neon for *.neon.tech and on edge, pg otherwise. @default auto */
  DATABASE_DRIVER: z.enum(['auto', 'pg', 'neon', 'pglite']).default('auto'),
  /** Connections per process for the pg driver. @default 10 */
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  /** Longest a single query may take with the pg driver before the request answers 503. @default 5000 */
  DATABASE_QUERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  /** Override of Neon's HTTP /sql endpoint, e.g. a local Neon HTTP proxy. */
  DATABASE_HTTP_URL: optionalUrl,
  /** Upstash REST URL as Vercel's KV integration names it. */
  KV_REST_API_URL: optionalUrl,
  /** Upstash REST token as Vercel's KV integration names it. */
  KV_REST_API_TOKEN: z.string().optional(),
  /** Upstash REST URL under Upstash's own name (used when KV_REST_API_URL is unset). */
  UPSTASH_REDIS_REST_URL: optionalUrl,
  /** Upstash REST token under Upstash's own name. */
  UPSTASH_REDIS_REST_TOKEN: z.string().optional(),
  /**
   * Deadline of one KV request in ms. A KV that accepts connections but never answers costs at most
   * this per call (and, after three such failures, nothing until the next probe): Postgres decides
   * alone meanwhile. Raise it only for a KV far from the functions. @default 1000
   */
  KV_TIMEOUT_MS: z.coerce.number().int().min(50).max(30_000).default(1000),
  /** Prefix of every KV key, so several deployments can share one Redis. @default sl: */
  KV_PREFIX: z.string().max(64).default('sl:'),
  /** Bearer token for instructor/admin reads. Required in production; generated locally. */
  ADMIN_TOKEN: z.string().min(1).optional(),
  /** Read-only instructor tokens: comma list of name:token. They read (and run analyses) but cannot delete or reconfigure. */
  INSTRUCTOR_TOKENS: z.string().optional(),
  /** Days to keep events and ended sessions (POST /api/cron/retention). @default 90 */
  RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /** Rate limits on ingestion and webhooks: on or off. @default on */
  RATE_LIMITS: z.enum(['on', 'off']).default('on'),
  /** Ingestion requests per minute per client IP. @default 1200 */
  RATE_LIMIT_INGEST_IP: z.coerce.number().int().min(1).default(1200),
  /** Ingestion requests per minute per session token. @default 600 */
  RATE_LIMIT_INGEST_TOKEN: z.coerce.number().int().min(1).default(600),
  /** Webhook requests per minute per client IP. @default 1200 */
  RATE_LIMIT_WEBHOOK_IP: z.coerce.number().int().min(1).default(1200),
  /** Trust X-Forwarded-For for the client IP (set on Vercel automatically; behind your own proxy set true). @default false */
  TRUST_PROXY: bool.optional(),
  /** Bearer token for server-to-server writers (the tool server, an agent platform). */
  SERVICE_TOKEN: z.string().min(1).optional(),
  /** Bearer secret Vercel cron sends to /api/cron/*. Unset: cron endpoints answer 401. */
  CRON_SECRET: z.string().min(1).optional(),
  /** Inactivity that ends a session, in minutes (fractions allowed). @default 10 */
  SESSION_TIMEOUT_MINUTES: z.coerce.number().positive().max(24 * 60).default(10),
  /** Shared secret Vapi sends as `X-Vapi-Secret` (legacy) or as a Bearer credential (see VAPI_BEARER_HEADER). */
  VAPI_WEBHOOK_SECRET: z.string().min(1).optional(),
  /** Header of Vapi's Bearer credential (its `headerName`); the value is read with or without `Bearer `. @default authorization */
  VAPI_BEARER_HEADER: z.string().min(1).default('authorization'),
  /** HMAC key of Vapi's HMAC credential (its `secretKey`). */
  VAPI_HMAC_SECRET: z.string().min(1).optional(),
  /** The HMAC credential's `algorithm`. @default sha256 */
  VAPI_HMAC_ALGORITHM: z.enum(['sha256', 'sha512', 'sha1']).default('sha256'),
  /** Header carrying the HMAC signature (hex or base64). @default x-signature (Vapi's default; x-vapi-signature is also read) */
  VAPI_SIGNATURE_HEADER: z.string().min(1).default('x-signature'),
  /** The HMAC credential's `signaturePrefix`, stripped before comparing (e.g. `sha256=`). @default none */
  VAPI_SIGNATURE_PREFIX: z.string().min(1).max(40).optional(),
  /** Header carrying the signed timestamp (seconds or ms); the signature covers `{timestamp}.{body}`. @default x-timestamp */
  VAPI_TIMESTAMP_HEADER: z.string().min(1).default('x-timestamp'),
  /**
   * A signature counts only over `{timestamp}.{body}` with a fresh timestamp, as Vapi's default HMAC
   * plan signs. Set false only for integrations that sign the body alone (weaker: such a signature
   * can be replayed for ever). @default true
   */
  VAPI_HMAC_REQUIRE_TIMESTAMP: bool.default(true),
  /**
   * Bytes of not-yet-verified HMAC bodies this process buffers at once, in MB: a flood of large
   * posts with forged signatures costs at most this much memory (beyond it: 503 + Retry-After).
   * @default 32
   */
  VAPI_UNVERIFIED_BUDGET_MB: z.coerce.number().min(1).max(1024).default(32),
  /** Oldest signed timestamp accepted, in seconds (replay window). @default 300 */
  VAPI_HMAC_TOLERANCE_SECONDS: z.coerce.number().int().min(1).default(300),
  /** A student's session active within ± this many minutes of a call's start joins the call. @default 5 */
  VAPI_MATCH_WINDOW_MINUTES: z.coerce.number().min(0).max(24 * 60).default(5),
  /** Largest webhook body, in MB (end-of-call reports carry whole transcripts). @default 16 */
  WEBHOOK_MAX_BODY_MB: z.coerce.number().min(1).max(100).default(16),
  /** Where Vapi tool calls are forwarded (the tutoring tool server). Unset: answered "not configured". */
  TOOL_SERVER_URL: optionalUrl,
  /** Bearer token sent to TOOL_SERVER_URL. */
  TOOL_SERVER_TOKEN: z.string().min(1).optional(),
  /** How long to wait for the tool server, in ms (Vapi gives up after ~20 s). @default 15000 */
  TOOL_SERVER_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(15_000),
  /**
   * The customer's own Vapi server URL: every Vapi message is forwarded there unchanged, and the
   * answers of messages Vapi reads (assistant-request, destination requests...) come from it.
   * Unset: Sessionlog answers alone. @default none
   */
  VAPI_UPSTREAM_URL: optionalUrl,
  /** Sent to VAPI_UPSTREAM_URL as `X-Vapi-Secret` and `Authorization: Bearer` (what the upstream checked before). */
  VAPI_UPSTREAM_SECRET: z.string().min(1).optional(),
  /** How long to wait for the upstream's answer, in ms (Vapi gives an assistant-request 7.5 s). @default 7000 */
  VAPI_UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(7000),
  /** Without an upstream, an assistant-request is answered `{"assistantId": VAPI_ASSISTANT_ID}` (unset: an error Vapi speaks). */
  VAPI_ASSISTANT_ID: z.string().min(1).max(200).optional(),
  /** Bearer token for POST /api/webhooks/session-data (other voice platforms). */
  WEBHOOK_TOKEN: z.string().min(1).optional(),
  /** Accept Vapi webhooks at all. @default true (session.config: webhooks.vapi.enabled) */
  VAPI_WEBHOOK_ENABLED: bool.default(true),
  /** Turn on OpenAI session analysis (also needs a key). @default false (session.config: analysis.enabled) */
  ANALYSIS_ENABLED: bool.default(false),
  /** API key for analysis only; falls back to OPENAI_API_KEY. */
  ANALYSIS_API_KEY: z.string().min(1).optional(),
  /** Fallback API key for analysis. */
  OPENAI_API_KEY: z.string().min(1).optional(),
  /** Any OpenAI-compatible endpoint. @default https://api.openai.com/v1 */
  OPENAI_BASE_URL: optionalUrl,
  /** Model for analysis (must support structured outputs). @default gpt-4o-mini */
  ANALYSIS_MODEL: z.string().min(1).default('gpt-4o-mini'),
  /** When analysis runs: session_complete, on_request (comma list). @default both */
  ANALYSIS_TRIGGERS: z.string().default('session_complete,on_request'),
  /** Input budget in tokens; long transcripts are trimmed from the middle. @default 16000 */
  ANALYSIS_MAX_INPUT_TOKENS: z.coerce.number().int().min(500).max(2_000_000).default(16_000),
  /** Give up on one model call after this many ms. @default 60000 */
  ANALYSIS_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(60_000),
  /** JSON of session.config (edge runtimes, where there is no file to read). */
  SESSION_CONFIG: z.string().optional(),
  /** Comma list of origins allowed to call the API from browsers; `*` only locally. @default * locally, none in production */
  ALLOWED_ORIGINS: z.string().optional(),
  /** Log every request line to stdout (never bodies or tokens). @default false */
  LOG_REQUESTS: bool.default(false),
});

export type Env = z.input<typeof EnvSchema>;

/** Shortest secret accepted in production (ADMIN_TOKEN, SERVICE_TOKEN, CRON_SECRET, webhook secrets...). */
export const MIN_SECRET_LENGTH = 32;

export interface Config {
  mode: 'local' | 'production';
  port: number;
  host: string | undefined;
  dataDir: string;
  database:
    | { driver: 'pglite'; dataDir: string }
    | { driver: 'pg'; url: string; poolMax: number; queryTimeoutMs: number }
    | { driver: 'neon'; url: string; httpEndpoint: string | undefined };
  kv: { driver: 'upstash'; url: string; token: string; prefix: string; timeoutMs: number } | { driver: 'memory'; prefix: string };
  adminToken: string | undefined;
  serviceToken: string | undefined;
  instructorTokens: ReadonlyArray<{ name: string; token: string }>;
  retentionDays: number;
  rateLimits: { enabled: boolean; ingestPerIp: number; ingestPerToken: number; webhookPerIp: number; trustProxy: boolean };
  cronSecret: string | undefined;
  vapi: {
    webhookSecret: string | undefined;
    hmacSecret: string | undefined;
    bearerHeader: string;
    hmacAlgorithm: 'sha256' | 'sha512' | 'sha1';
    signatureHeader: string;
    signaturePrefix: string | undefined;
    timestampHeader: string;
    requireTimestamp: boolean;
    toleranceSeconds: number;
    unverifiedBudgetBytes: number;
    matchWindowMs: number;
    upstream: { url: string; secret: string | undefined; timeoutMs: number } | undefined;
    assistantId: string | undefined;
  };
  webhookMaxBytes: number;
  toolServer: { url: string; token: string | undefined; timeoutMs: number } | undefined;
  webhookToken: string | undefined;
  vapiEnabled: boolean;
  analysis: {
    enabled: boolean;
    /** Null when enabled without a key: requests say so (503) instead of failing later. */
    apiKey: string | null;
    baseURL: string | undefined;
    model: string;
    triggers: ReadonlySet<'session_complete' | 'on_request'>;
    maxInputTokens: number;
    timeoutMs: number;
    prompts: Record<TemplateName, string>;
  };
  /** Inactivity after which a session is over. */
  sessionTimeoutMs: number;
  /** `'*'` = any origin (local only). */
  allowedOrigins: '*' | readonly string[];
  logRequests: boolean;
}

export class ConfigError extends Error {
  readonly keys: string[];
  constructor(message: string, keys: string[]) {
    super(message);
    this.name = 'ConfigError';
    this.keys = keys;
  }
}

/**
 * Parse and cross-check the environment. `runtime: 'edge'` forbids what an edge isolate cannot do
 * (PGlite, TCP). Errors name the keys, never their values (a value may be a secret).
 */
export function parseConfig(raw: Record<string, unknown>, runtime: 'node' | 'edge' = 'node', fileConfig?: ConfigFile): Config {
  // Empty strings mean "unset" (an empty line in a .env file, a blank Vercel variable).
  const env0 = Object.fromEntries(Object.entries(raw).filter(([, v]) => typeof v === 'string' && v !== '')) as Record<string, string>;
  let file = fileConfig;
  if (!file && env0.SESSION_CONFIG) {
    try {
      file = parseConfigFile(JSON.parse(env0.SESSION_CONFIG), 'SESSION_CONFIG');
    } catch (err) {
      throw new ConfigError(err instanceof SyntaxError ? 'SESSION_CONFIG is not valid JSON' : String((err as Error).message), ['SESSION_CONFIG']);
    }
  }
  // The file gives defaults; the environment overrides it.
  const fromFile: Record<string, string> = {};
  const put = (k: string, v: unknown) => {
    if (v !== undefined) fromFile[k] = Array.isArray(v) ? v.join(',') : String(v);
  };
  put('SESSION_TIMEOUT_MINUTES', file?.session_tracking?.timeout_minutes);
  put('VAPI_WEBHOOK_ENABLED', file?.webhooks?.vapi?.enabled);
  put('VAPI_MATCH_WINDOW_MINUTES', file?.webhooks?.vapi?.match_window_minutes);
  put('ANALYSIS_ENABLED', file?.analysis?.enabled);
  put('ANALYSIS_MODEL', file?.analysis?.model);
  put('ANALYSIS_TRIGGERS', file?.analysis?.triggers);
  put('ANALYSIS_MAX_INPUT_TOKENS', file?.analysis?.max_input_tokens);
  const cleaned = { ...fromFile, ...env0 };
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const keys = [...new Set(parsed.error.issues.map((i) => String(i.path[0])))];
    const detail = parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join('; ');
    throw new ConfigError(`Invalid environment: ${detail}`, keys);
  }
  const env = parsed.data;
  const mode = env.NODE_ENV === 'production' || env.VERCEL || runtime === 'edge' ? 'production' : 'local';

  let database: Config['database'];
  const driver = env.DATABASE_DRIVER;
  if (!env.DATABASE_URL || driver === 'pglite') {
    if (mode === 'production' || runtime === 'edge') {
      throw new ConfigError('DATABASE_URL is required in production (the embedded database is for local use)', ['DATABASE_URL']);
    }
    database = { driver: 'pglite', dataDir: `${env.DATA_DIR.replace(/\/$/, '')}/pglite` };
  } else {
    const host = safeHost(env.DATABASE_URL);
    if (host === undefined) throw new ConfigError('DATABASE_URL is not a valid postgres:// URL', ['DATABASE_URL']);
    const useNeon = driver === 'neon' || (driver === 'auto' && (runtime === 'edge' || host.endsWith('.neon.tech')));
    if (runtime === 'edge' && !useNeon) {
      throw new ConfigError('DATABASE_DRIVER must be neon (or auto) on edge runtimes', ['DATABASE_DRIVER']);
    }
    database = useNeon
      ? { driver: 'neon', url: env.DATABASE_URL, httpEndpoint: env.DATABASE_HTTP_URL }
      : { driver: 'pg', url: env.DATABASE_URL, poolMax: env.DATABASE_POOL_MAX, queryTimeoutMs: env.DATABASE_QUERY_TIMEOUT_MS };
  }

  const kvUrl = env.KV_REST_API_URL ?? env.UPSTASH_REDIS_REST_URL;
  const kvToken = env.KV_REST_API_TOKEN ?? env.UPSTASH_REDIS_REST_TOKEN;
  if (kvUrl && !kvToken) throw new ConfigError('KV_REST_API_TOKEN is required with KV_REST_API_URL', ['KV_REST_API_TOKEN']);
  const kv: Config['kv'] =
    kvUrl && kvToken
      ? { driver: 'upstash', url: kvUrl, token: kvToken, prefix: env.KV_PREFIX, timeoutMs: env.KV_TIMEOUT_MS }
      : { driver: 'memory', prefix: env.KV_PREFIX };

  if (mode === 'production' && !env.ADMIN_TOKEN) {
    // Fail closed: without it every instructor endpoint would be either open or dead.
    throw new ConfigError('ADMIN_TOKEN is required in production', ['ADMIN_TOKEN']);
  }

  const origins = (env.ALLOWED_ORIGINS ?? (mode === 'local' ? '*' : ''))
    .split(',')
    .map((o) => o.trim().replace(/\/$/, ''))
    .filter(Boolean);
  if (origins.includes('*') && mode === 'production') {
    throw new ConfigError('ALLOWED_ORIGINS=* is only allowed locally; list the workshop origins', ['ALLOWED_ORIGINS']);
  }

  const instructorTokens: Array<{ name: string; token: string }> = [];
  for (const pair of (env.INSTRUCTOR_TOKENS ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const i = pair.indexOf(':');
    const name = pair.slice(0, i).trim();
    const token = pair.slice(i + 1).trim();
    if (i <= 0 || !token || !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
      throw new ConfigError('INSTRUCTOR_TOKENS must be a comma list of name:token (names of letters, digits, _ . -)', ['INSTRUCTOR_TOKENS']);
    }
    instructorTokens.push({ name, token });
  }

  if (mode === 'production') {
    // A short shared secret can be guessed by an attacker with a fast connection (and brute force is
    // only rate limited per address). Local mode keeps short ones for convenience.
    const secrets: Array<[string, string | undefined]> = [
      ['ADMIN_TOKEN', env.ADMIN_TOKEN],
      ['SERVICE_TOKEN', env.SERVICE_TOKEN],
      ['CRON_SECRET', env.CRON_SECRET],
      ['WEBHOOK_TOKEN', env.WEBHOOK_TOKEN],
      ['VAPI_WEBHOOK_SECRET', env.VAPI_WEBHOOK_SECRET],
      ['VAPI_HMAC_SECRET', env.VAPI_HMAC_SECRET],
      ['VAPI_UPSTREAM_SECRET', env.VAPI_UPSTREAM_SECRET],
      ...instructorTokens.map((t): [string, string] => ['INSTRUCTOR_TOKENS', t.token]),
    ];
    const short = [...new Set(secrets.filter(([, v]) => v !== undefined && v.length < MIN_SECRET_LENGTH).map(([k]) => k))];
    if (short.length) {
      throw new ConfigError(`${short.join(', ')}: secrets must be at least ${MIN_SECRET_LENGTH} characters in production (e.g. openssl rand -hex 32)`, short);
    }
  }

  const triggers = env.ANALYSIS_TRIGGERS.split(',').map((t) => t.trim()).filter(Boolean);
  const badTrigger = triggers.find((t) => t !== 'session_complete' && t !== 'on_request');
  if (badTrigger) throw new ConfigError(`ANALYSIS_TRIGGERS: unknown trigger "${badTrigger}" (use session_complete, on_request)`, ['ANALYSIS_TRIGGERS']);

  return {
    mode,
    port: env.PORT,
    host: env.HOST,
    dataDir: env.DATA_DIR,
    database,
    kv,
    adminToken: env.ADMIN_TOKEN,
    serviceToken: env.SERVICE_TOKEN,
    instructorTokens,
    retentionDays: env.RETENTION_DAYS,
    rateLimits: {
      enabled: env.RATE_LIMITS === 'on',
      ingestPerIp: env.RATE_LIMIT_INGEST_IP,
      ingestPerToken: env.RATE_LIMIT_INGEST_TOKEN,
      webhookPerIp: env.RATE_LIMIT_WEBHOOK_IP,
      trustProxy: env.TRUST_PROXY ?? Boolean(env.VERCEL),
    },
    cronSecret: env.CRON_SECRET,
    vapi: {
      webhookSecret: env.VAPI_WEBHOOK_SECRET,
      hmacSecret: env.VAPI_HMAC_SECRET,
      bearerHeader: env.VAPI_BEARER_HEADER.toLowerCase(),
      hmacAlgorithm: env.VAPI_HMAC_ALGORITHM,
      signatureHeader: env.VAPI_SIGNATURE_HEADER.toLowerCase(),
      signaturePrefix: env.VAPI_SIGNATURE_PREFIX,
      timestampHeader: env.VAPI_TIMESTAMP_HEADER.toLowerCase(),
      requireTimestamp: env.VAPI_HMAC_REQUIRE_TIMESTAMP,
      toleranceSeconds: env.VAPI_HMAC_TOLERANCE_SECONDS,
      unverifiedBudgetBytes: Math.round(env.VAPI_UNVERIFIED_BUDGET_MB * 1024 * 1024),
      matchWindowMs: Math.round(env.VAPI_MATCH_WINDOW_MINUTES * 60_000),
      upstream: env.VAPI_UPSTREAM_URL ? { url: env.VAPI_UPSTREAM_URL, secret: env.VAPI_UPSTREAM_SECRET, timeoutMs: env.VAPI_UPSTREAM_TIMEOUT_MS } : undefined,
      assistantId: env.VAPI_ASSISTANT_ID,
    },
    webhookMaxBytes: Math.round(env.WEBHOOK_MAX_BODY_MB * 1024 * 1024),
    toolServer: env.TOOL_SERVER_URL ? { url: env.TOOL_SERVER_URL, token: env.TOOL_SERVER_TOKEN, timeoutMs: env.TOOL_SERVER_TIMEOUT_MS } : undefined,
    webhookToken: env.WEBHOOK_TOKEN,
    vapiEnabled: env.VAPI_WEBHOOK_ENABLED,
    analysis: {
      enabled: env.ANALYSIS_ENABLED,
      apiKey: env.ANALYSIS_API_KEY ?? env.OPENAI_API_KEY ?? null,
      baseURL: env.OPENAI_BASE_URL,
      model: env.ANALYSIS_MODEL,
      triggers: new Set(triggers as Array<'session_complete' | 'on_request'>),
      maxInputTokens: env.ANALYSIS_MAX_INPUT_TOKENS,
      timeoutMs: env.ANALYSIS_TIMEOUT_MS,
      prompts: { ...DEFAULT_TEMPLATES, ...stripUndefined(file?.analysis?.prompts ?? {}) },
    },
    sessionTimeoutMs: Math.round(env.SESSION_TIMEOUT_MINUTES * 60_000),
    allowedOrigins: origins.includes('*') ? '*' : origins,
    logRequests: env.LOG_REQUESTS,
  };
}

function safeHost(url: string): string | undefined {
  try {
    const u = new URL(url);
    return /^postgres(ql)?:$/.test(u.protocol) ? u.hostname : undefined;
  } catch {
    return undefined;
  }
}

function stripUndefined<T extends Record<string, unknown>>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}
