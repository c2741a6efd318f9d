import type * as z from './util/zod.js';
import { DEFAULT_TEMPLATES, type TemplateName } from './analysis/templates.js';
import { type ConfigFile, parseConfigFile } from './config-file.js';
import { type Env, EnvSchema } from './config-env.js';

/*
 * Configuration: the environment's schema (every option with its @default) is in config-env.ts;
 * this module turns a parsed environment plus the config file into the Config the app uses, and
 * refuses what must not run (missing or short secrets in production, `*` origins, bad values).
 */
export { type Env, EnvSchema };

/** Shortest secret accepted in production (ADMIN_TOKEN, SERVICE_TOKEN, CRON_SECRET, webhook secrets...). */
export const MIN_SECRET_LENGTH = 32;

export interface Config {
  mode: 'local' | 'production';
  port: number;
  host: string | undefined;
  /** Local server: the whole request (headers and body) must arrive within this (server.ts). */
  requestTimeoutMs: number;
  dataDir: string;
  database:
    | { driver: 'pglite'; dataDir: string }
    | { driver: 'pg'; url: string; poolMax: number; queryTimeoutMs: number }
    | { driver: 'neon'; url: string; httpEndpoint: string | undefined };
  kv: { driver: 'upstash'; url: string; token: string; prefix: string; timeoutMs: number } | { driver: 'memory'; prefix: string };
  adminToken: string | undefined;
  serviceToken: string | undefined;
  instructorTokens: ReadonlyArray<{ name: string; token: string }>;
  /**
   * Every configured secret's value (tokens, webhook and signing secrets, API keys): what the
   * audit trail and the failed-authentication log must never hold, wherever a caller put it (a
   * query parameter of any name, a path segment). lib/util/redact.ts.
   */
  secretValues: readonly string[];
  retentionDays: number;
  rateLimits: {
    enabled: boolean;
    ingestPerIp: number;
    ingestPerToken: number;
    /** Events per minute per client IP: requests alone let one address post 500-event batches on fresh tokens. */
    ingestEventsPerIp: number;
    webhookPerIp: number;
    /** Failed authentications per minute per client IP (RATE_LIMIT_AUTH_FAIL_IP). */
    authFailPerIp: number;
    trustProxy: boolean;
    /** Trusted proxies appending to X-Forwarded-For (TRUST_PROXY_HOPS). */
    proxyHops: number;
    /** A header the platform itself sets to the client's address (Vercel), preferred over X-Forwarded-For. */
    platformIpHeader: string | undefined;
  };
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
    secretIsBase64: boolean;
    /** What the HMAC covers (Vapi's `payloadFormat`). */
    payloadFormat: string;
    messageIdHeader: string | undefined;
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
  /** Tool names whose calls with a boolean `correct` argument also count as attempts (ATTEMPT_TOOLS, ADR 0030); empty: none. */
  attemptTools: ReadonlySet<string>;
  analysis: {
    enabled: boolean;
    /** Null when enabled without a key: requests say so (503) instead of failing later. */
    apiKey: string | null;
    baseURL: string | undefined;
    model: string;
    triggers: ReadonlySet<'session_complete' | 'on_request'>;
    maxInputTokens: number;
    timeoutMs: number;
    /** Tokens per UTC day (ANALYSIS_DAILY_TOKEN_BUDGET); null = no cap. */
    dailyTokenBudget: number | null;
    prompts: Record<TemplateName, string>;
  };
  /** Inactivity after which a session is over. */
  sessionTimeoutMs: number;
  /** How often ordinary traffic may run the sweep; 0 = never (TRAFFIC_SWEEP_SECONDS). */
  trafficSweepMs: number;
  /**
   * `'*'` = any origin (local only); else serialized origins (`https://workshop.example.org`, what
   * `new URL(entry).origin` gives), compared exactly with the Origin header, which browsers send in
   * that same form.
   */
  allowedOrigins: '*' | readonly string[];
  alerts: AlertsConfig;
  logRequests: boolean;
}

/** Alert rules and delivery (lib/alerts/), from the config file's `alerts` and ALERT_WEBHOOK_*. */
export interface AlertsConfig {
  enabled: boolean;
  cooldownMs: number;
  maxAttempts: number;
  webhook: { url: string; format: 'json' | 'slack'; secret: string | undefined } | undefined;
  repeatedError: { enabled: boolean; count: number; windowMs: number };
  errorSpike: { enabled: boolean; students: number; windowMs: number };
  stuck: { enabled: boolean; multiplier: number; minMs: number };
  callError: { enabled: boolean; endedReasons: readonly string[] };
  /** Posted events run the cohort pass (stuck students, due retries) once a minute (ALERT_PASS_ON_INGEST). */
  passOnIngest: boolean;
}

/** Vapi `endedReason` fragments that mean the call failed rather than ended normally. */
export const DEFAULT_CALL_ERROR_REASONS = [
  'error', 'failed', 'fault', 'not-found', 'not-valid', 'invalid', 'not-provided', 'no-server-available', 'join-timed-out', 'unauthorized', 'exceeded-quota',
] as const;

function alertsConfig(file: ConfigFile['alerts'], env: z.infer<typeof EnvSchema>, runtime: 'node' | 'edge'): AlertsConfig {
  const r = file?.rules;
  const min = (m: number) => Math.round(m * 60_000);
  return {
    enabled: file?.enabled ?? true,
    cooldownMs: min(file?.cooldown_minutes ?? 15),
    maxAttempts: file?.max_attempts ?? 5,
    webhook: env.ALERT_WEBHOOK_URL ? { url: env.ALERT_WEBHOOK_URL, format: env.ALERT_WEBHOOK_FORMAT, secret: env.ALERT_WEBHOOK_SECRET } : undefined,
    repeatedError: { enabled: r?.repeated_error?.enabled ?? true, count: r?.repeated_error?.count ?? 3, windowMs: min(r?.repeated_error?.window_minutes ?? 10) },
    errorSpike: { enabled: r?.error_spike?.enabled ?? true, students: r?.error_spike?.students ?? 5, windowMs: min(r?.error_spike?.window_minutes ?? 5) },
    stuck: { enabled: r?.stuck?.enabled ?? true, multiplier: r?.stuck?.multiplier ?? 3, minMs: min(r?.stuck?.min_minutes ?? 10) },
    callError: { enabled: r?.call_error?.enabled ?? true, endedReasons: (r?.call_error?.ended_reasons ?? DEFAULT_CALL_ERROR_REASONS).map((x) => x.toLowerCase()) },
    // The edge worker's cron trigger runs the pass every minute (lib/scheduled.ts), and a request
    // there has 10 ms of CPU on the free plan: the pass scores every live student (ADR 0006 amendment).
    passOnIngest: env.ALERT_PASS_ON_INGEST ?? runtime !== 'edge',
  };
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
 * ALLOWED_ORIGINS as browsers write their Origin header: each entry through the URL parser to its
 * serialized origin (scheme and host lowercased, no default port, no trailing slash), so that
 * lib/app.ts can compare the header exactly. An entry that is not an origin — no scheme, a path or
 * a query, a wildcard host — matched no page, and its workshop's events were refused with nothing
 * said at start-up; it stops start-up instead. `*` (any origin) is for local use only.
 */
function parseAllowedOrigins(raw: string, mode: Config['mode']): Config['allowedOrigins'] {
  const entries = raw
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  if (entries.includes('*')) {
    if (mode === 'production') throw new ConfigError('ALLOWED_ORIGINS=* is only allowed locally; list the workshop origins', ['ALLOWED_ORIGINS']);
    return '*';
  }
  return [...new Set(entries.map(originOf))];
}

function originOf(entry: string, index: number): string {
  // The entry is named (origins are public: every cross-origin request carries one), but not one
  // with an `@`, whose user:password part may be a secret and would reach a serverless door's
  // BAD_ENVIRONMENT answer (lib/door.ts).
  const named = entry.includes('@') ? `entry ${index + 1}` : `"${entry}"`;
  const refuse = (why: string) => new ConfigError(`ALLOWED_ORIGINS: ${named} is not an origin: ${why}`, ['ALLOWED_ORIGINS']);
  if (/\s/.test(entry)) throw refuse('separate origins with commas');
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    throw refuse('write it as https://host or https://host:port');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refuse('only http:// and https:// origins can be listed (write it as https://host or https://host:port)');
  if (url.username || url.password) throw refuse('it has a user name or password');
  if (url.hostname.includes('*')) throw refuse('wildcards are not supported; list each origin');
  if (url.pathname !== '/' || url.search || url.hash) throw refuse(`it has a path or query; its origin is ${url.origin}`);
  return url.origin;
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
  put('ATTEMPT_TOOLS', file?.session_tracking?.attempt_tools);
  put('VAPI_WEBHOOK_ENABLED', file?.webhooks?.vapi?.enabled);
  put('VAPI_MATCH_WINDOW_MINUTES', file?.webhooks?.vapi?.match_window_minutes);
  put('ANALYSIS_ENABLED', file?.analysis?.enabled);
  put('ANALYSIS_MODEL', file?.analysis?.model);
  put('ANALYSIS_TRIGGERS', file?.analysis?.triggers);
  put('ANALYSIS_MAX_INPUT_TOKENS', file?.analysis?.max_input_tokens);
  const cleaned = { ...fromFile, ...env0 };
  // Parsed once per instance: zod's compiled fast path (new Function on first parse) would cost
  // a cold start ~5 ms to generate code that never runs again (ADR 0020).
  const parsed = EnvSchema.safeParse(cleaned, { jitless: true });
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

  const origins = parseAllowedOrigins(env.ALLOWED_ORIGINS ?? (mode === 'local' ? '*' : ''), mode);

  if (env.VAPI_HMAC_REQUIRE_TIMESTAMP && !env.VAPI_HMAC_PAYLOAD_FORMAT.includes('{timestamp}')) {
    throw new ConfigError(
      'VAPI_HMAC_PAYLOAD_FORMAT has no {timestamp}, so its signatures can be replayed: set VAPI_HMAC_REQUIRE_TIMESTAMP=false to accept them anyway',
      ['VAPI_HMAC_PAYLOAD_FORMAT', 'VAPI_HMAC_REQUIRE_TIMESTAMP'],
    );
  }
  if (env.VAPI_HMAC_SECRET && env.VAPI_HMAC_SECRET_IS_BASE64 && !/^[A-Za-z0-9+/_-]+={0,2}$/.test(env.VAPI_HMAC_SECRET)) {
    throw new ConfigError('VAPI_HMAC_SECRET is not base64, but VAPI_HMAC_SECRET_IS_BASE64 says it is', ['VAPI_HMAC_SECRET', 'VAPI_HMAC_SECRET_IS_BASE64']);
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

  const attemptTools = parseAttemptTools(env.ATTEMPT_TOOLS);

  return {
    mode,
    port: env.PORT,
    host: env.HOST,
    requestTimeoutMs: Math.round(env.REQUEST_TIMEOUT_SECONDS * 1000),
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
      ingestEventsPerIp: env.RATE_LIMIT_INGEST_IP_EVENTS,
      webhookPerIp: env.RATE_LIMIT_WEBHOOK_IP,
      authFailPerIp: env.RATE_LIMIT_AUTH_FAIL_IP,
      trustProxy: env.TRUST_PROXY ?? Boolean(env.VERCEL),
      proxyHops: env.TRUST_PROXY_HOPS,
      platformIpHeader: env.VERCEL ? 'x-vercel-forwarded-for' : undefined,
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
      secretIsBase64: env.VAPI_HMAC_SECRET_IS_BASE64,
      payloadFormat: env.VAPI_HMAC_PAYLOAD_FORMAT,
      messageIdHeader: env.VAPI_MESSAGE_ID_HEADER?.toLowerCase(),
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
    attemptTools,
    analysis: {
      enabled: env.ANALYSIS_ENABLED,
      apiKey: env.ANALYSIS_API_KEY ?? env.OPENAI_API_KEY ?? null,
      baseURL: env.OPENAI_BASE_URL,
      model: env.ANALYSIS_MODEL,
      triggers: new Set(triggers as Array<'session_complete' | 'on_request'>),
      maxInputTokens: env.ANALYSIS_MAX_INPUT_TOKENS,
      timeoutMs: env.ANALYSIS_TIMEOUT_MS,
      dailyTokenBudget: env.ANALYSIS_DAILY_TOKEN_BUDGET ?? null,
      prompts: { ...DEFAULT_TEMPLATES, ...stripUndefined(file?.analysis?.prompts ?? {}) },
    },
    sessionTimeoutMs: Math.round(env.SESSION_TIMEOUT_MINUTES * 60_000),
    // The edge worker's cron trigger sweeps every 5 minutes (wrangler.jsonc), and a request there
    // has 10 ms of CPU on the free plan: by traffic only when asked for (ADR 0011 amendment).
    trafficSweepMs: (runtime === 'edge' && (raw.TRAFFIC_SWEEP_SECONDS ?? '') === '' ? 0 : env.TRAFFIC_SWEEP_SECONDS) * 1000,
    allowedOrigins: origins,
    alerts: alertsConfig(file?.alerts, env, runtime),
    logRequests: env.LOG_REQUESTS,
    secretValues: [
      env.ADMIN_TOKEN, env.SERVICE_TOKEN, env.CRON_SECRET, env.WEBHOOK_TOKEN, env.VAPI_WEBHOOK_SECRET, env.VAPI_HMAC_SECRET,
      env.VAPI_UPSTREAM_SECRET, env.TOOL_SERVER_TOKEN, env.ALERT_WEBHOOK_SECRET, env.ANALYSIS_API_KEY, env.OPENAI_API_KEY,
      ...instructorTokens.map((t) => t.token),
    ].filter((v): v is string => typeof v === 'string' && v.length >= MIN_REDACTED_LENGTH),
  };
}

/**
 * Shorter values are not looked for: a local mode's short token would turn every word it
 * matches into "[redacted]". Production secrets are at least MIN_SECRET_LENGTH (32).
 */
const MIN_REDACTED_LENGTH = 8;

/**
 * ATTEMPT_TOOLS: tool names, exactly as the tools are named (a name that differs in case is another
 * tool). `none` is no tool at all: an empty variable means "unset" (the default) like every other.
 * In the config file `attempt_tools: []` says the same.
 */
function parseAttemptTools(raw: string): ReadonlySet<string> {
  const names = raw.split(',').map((t) => t.trim()).filter(Boolean);
  if (names.length === 1 && names[0] === 'none') return new Set();
  const bad = names.find((n) => n.length > 200 || n === 'none');
  if (bad !== undefined) {
    throw new ConfigError(`ATTEMPT_TOOLS: ${bad === 'none' ? '"none" stands alone (no tool counts)' : 'a tool name is at most 200 characters'}`, ['ATTEMPT_TOOLS']);
  }
  if (names.length > 100) throw new ConfigError('ATTEMPT_TOOLS: at most 100 tool names', ['ATTEMPT_TOOLS']);
  return new Set(names);
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
