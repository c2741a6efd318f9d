import * as z from './util/zod.js';

/**
 * The environment, parsed once at the door (server.ts, worker.ts, api/*). Nothing else reads
 * process.env: derived config is passed in, which keeps routes testable with any config.
 */
const bool = z.pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no', '']), z.transform((v) => v === 'true' || v === '1' || v === 'yes'));

const optionalUrl = z.optional(z.url());

export const EnvSchema = z.object({
  /** `production` turns off local conveniences (generated admin token, `*` CORS). */
  NODE_ENV: z.optional(z.string()),
  /** Set by Vercel on its functions; any value means production. */
  VERCEL: z.optional(z.string()),
  /** Local server port. @default 3000 */
  PORT: z._default(z.coerce.number().check(z.int(), z.minimum(0), z.maximum(65535)), 3000),
  /** Local server bind address. @default all interfaces */
  HOST: z.optional(z.string()),
  /**
   * Local server: a request whose headers and body have not all arrived within this many seconds is
   * answered 408 and its connection closed (Node's own default is 300). Vercel and Cloudflare apply
   * their own limits. @default 60
   */
  REQUEST_TIMEOUT_SECONDS: z._default(z.coerce.number().check(z.minimum(1), z.maximum(3600)), 60),
  /** Where the embedded database and the generated admin token live. @default .data */
  DATA_DIR: z._default(z.string(), '.data'),
  /** Postgres connection string. Unset: embedded PGlite in DATA_DIR (local only). */
  DATABASE_URL: z.optional(z.string()),
  /** Which driver talks to DATABASE_URL. `auto`: neon for *.neon.tech and on edge, pg otherwise. @default auto */
  DATABASE_DRIVER: z._default(z.enum(['auto', 'pg', 'neon', 'pglite']), 'auto'),
  /** Connections per process for the pg driver. @default 10 */
  DATABASE_POOL_MAX: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(200)), 10),
  /** Longest a single query may take with the pg driver before the request answers 503. @default 5000 */
  DATABASE_QUERY_TIMEOUT_MS: z._default(z.coerce.number().check(z.int(), z.minimum(100), z.maximum(600_000)), 5000),
  /** Override of Neon's HTTP /sql endpoint, e.g. a local Neon HTTP proxy. */
  DATABASE_HTTP_URL: optionalUrl,
  /** Upstash REST URL as Vercel's KV integration names it. */
  KV_REST_API_URL: optionalUrl,
  /** Upstash REST token as Vercel's KV integration names it. */
  KV_REST_API_TOKEN: z.optional(z.string()),
  /** Upstash REST URL under Upstash's own name (used when KV_REST_API_URL is unset). */
  UPSTASH_REDIS_REST_URL: optionalUrl,
  /** Upstash REST token under Upstash's own name. */
  UPSTASH_REDIS_REST_TOKEN: z.optional(z.string()),
  /**
   * Deadline of one KV request in ms. A KV that accepts connections but never answers costs at most
   * this per call (and, after three such failures, nothing until the next probe): Postgres decides
   * alone meanwhile. Raise it only for a KV far from the functions. @default 1000
   */
  KV_TIMEOUT_MS: z._default(z.coerce.number().check(z.int(), z.minimum(50), z.maximum(30_000)), 1000),
  /** Prefix of every KV key, so several deployments can share one Redis. @default sl: */
  KV_PREFIX: z._default(z.string().check(z.maxLength(64)), 'sl:'),
  /** Bearer token for instructor/admin reads. Required in production; generated locally. */
  ADMIN_TOKEN: z.optional(z.string().check(z.minLength(1))),
  /** Read-only instructor tokens: comma list of name:token. They read (and run analyses) but cannot delete or reconfigure. */
  INSTRUCTOR_TOKENS: z.optional(z.string()),
  /** Days to keep events and ended sessions (POST /api/cron/retention). @default 90 */
  RETENTION_DAYS: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(3650)), 90),
  /** Rate limits on ingestion and webhooks: on or off. @default on */
  RATE_LIMITS: z._default(z.enum(['on', 'off']), 'on'),
  /** Ingestion requests per minute per client IP. @default 1200 */
  RATE_LIMIT_INGEST_IP: z._default(z.coerce.number().check(z.int(), z.minimum(1)), 1200),
  /** Ingested events per minute per session token (a batch costs one per event, every token in it charged). @default 600 */
  RATE_LIMIT_INGEST_TOKEN: z._default(z.coerce.number().check(z.int(), z.minimum(1)), 600),
  RATE_LIMIT_INGEST_IP_EVENTS: z._default(z.coerce.number().check(z.int(), z.minimum(1)), 12_000),
  /** Webhook requests per minute per client IP. @default 1200 */
  RATE_LIMIT_WEBHOOK_IP: z._default(z.coerce.number().check(z.int(), z.minimum(1)), 1200),
  /**
   * Failed authentications (unknown bearer token, bad webhook credential) per minute per client IP;
   * past it the address gets 429 on every protected route, right token or not, until the window
   * slides. Raise it only if many clients share one address. @default 30
   */
  RATE_LIMIT_AUTH_FAIL_IP: z._default(z.coerce.number().check(z.int(), z.minimum(1)), 30),
  /** Trust X-Forwarded-For for the client IP (set on Vercel automatically; behind your own proxy set true). @default false */
  TRUST_PROXY: z.optional(bool),
  /**
   * With TRUST_PROXY: how many trusted proxies append to X-Forwarded-For. The client address is the
   * n-th entry from the right (what the outermost trusted proxy saw); entries left of it were sent
   * by the client and are never trusted. Raise it for a chain (CDN + load balancer = 2). @default 1
   */
  TRUST_PROXY_HOPS: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(10)), 1),
  /** Bearer token for server-to-server writers (the tool server, an agent platform). */
  SERVICE_TOKEN: z.optional(z.string().check(z.minLength(1))),
  /** Bearer secret Vercel cron sends to /api/cron/*. Unset: cron endpoints answer 401. */
  CRON_SECRET: z.optional(z.string().check(z.minLength(1))),
  /**
   * Ordinary requests sweep idle sessions (end and analyse them) in the background at most this
   * often, once per deployment (a lease in Postgres). 0 turns it off: then schedule
   * /api/cron/sweep yourself. @default 60
   */
  TRAFFIC_SWEEP_SECONDS: z._default(z.coerce.number().check(z.int(), z.minimum(0), z.maximum(86_400)), 60),
  /** Inactivity that ends a session, in minutes (fractions allowed). @default 10 */
  SESSION_TIMEOUT_MINUTES: z._default(z.coerce.number().check(z.positive(), z.maximum(24 * 60)), 10),
  /** Shared secret Vapi sends as `X-Vapi-Secret` (legacy) or as a Bearer credential (see VAPI_BEARER_HEADER). */
  VAPI_WEBHOOK_SECRET: z.optional(z.string().check(z.minLength(1))),
  /** Header of Vapi's Bearer credential (its `headerName`); the value is read with or without `Bearer `. @default authorization */
  VAPI_BEARER_HEADER: z._default(z.string().check(z.minLength(1)), 'authorization'),
  /** HMAC key of Vapi's HMAC credential (its `secretKey`). */
  VAPI_HMAC_SECRET: z.optional(z.string().check(z.minLength(1))),
  /** The HMAC credential's `algorithm`. @default sha256 */
  VAPI_HMAC_ALGORITHM: z._default(z.enum(['sha256', 'sha512', 'sha1']), 'sha256'),
  /** Header carrying the HMAC signature (hex or base64). @default x-signature (Vapi's default; x-vapi-signature is also read) */
  VAPI_SIGNATURE_HEADER: z._default(z.string().check(z.minLength(1)), 'x-signature'),
  /** The HMAC credential's `signaturePrefix`, stripped before comparing (e.g. `sha256=`). @default none */
  VAPI_SIGNATURE_PREFIX: z.optional(z.string().check(z.minLength(1), z.maxLength(40))),
  /** Header carrying the signed timestamp (seconds or ms); the signature covers `{timestamp}.{body}`. @default x-timestamp */
  VAPI_TIMESTAMP_HEADER: z._default(z.string().check(z.minLength(1)), 'x-timestamp'),
  /**
   * A signature counts only over `{timestamp}.{body}` with a fresh timestamp, as Vapi's default HMAC
   * plan signs. Set false only for integrations that sign the body alone (weaker: such a signature
   * can be replayed for ever). @default true
   */
  VAPI_HMAC_REQUIRE_TIMESTAMP: z._default(bool, true),
  /** The HMAC plan's `secretIsBase64`: the key is base64 and is decoded before use. @default false */
  VAPI_HMAC_SECRET_IS_BASE64: z._default(bool, false),
  /**
   * The HMAC plan's `payloadFormat`: what is signed, from {timestamp}, {body}, {method}, {url} (the
   * URL the request arrived at) and {svix-id} (VAPI_MESSAGE_ID_HEADER's value). @default {timestamp}.{body}
   */
  VAPI_HMAC_PAYLOAD_FORMAT: z._default(
    z.string().check(z.maxLength(200), z.refine((f) => f.includes('{body}'), 'must contain {body}')),
    '{timestamp}.{body}',
  ),
  /** The HMAC plan's `messageIdHeader`, read for {svix-id}. @default none */
  VAPI_MESSAGE_ID_HEADER: z.optional(z.string().check(z.minLength(1), z.maxLength(100))),
  /**
   * Bytes of not-yet-verified HMAC bodies this process buffers at once, in MB: a flood of large
   * posts with forged signatures costs at most this much memory (beyond it: 503 + Retry-After).
   * A body being verified is held about three times (chunks, buffer, text), so 16 MB keeps a flood
   * of forged 15 MB posts near +75 MB of peak RSS (32 MB measured +97–99 MB, at the 100 MB target).
   * One client address holds at most half of it (lib/routes/webhooks/vapi.ts).
   * @default 16
   */
  VAPI_UNVERIFIED_BUDGET_MB: z._default(z.coerce.number().check(z.minimum(1), z.maximum(1024)), 16),
  /** Oldest signed timestamp accepted, in seconds (replay window). @default 300 */
  VAPI_HMAC_TOLERANCE_SECONDS: z._default(z.coerce.number().check(z.int(), z.minimum(1)), 300),
  /** A student's session active within ± this many minutes of a call's start joins the call. @default 5 */
  VAPI_MATCH_WINDOW_MINUTES: z._default(z.coerce.number().check(z.minimum(0), z.maximum(24 * 60)), 5),
  /** Largest webhook body, in MB (end-of-call reports carry whole transcripts). @default 16 */
  WEBHOOK_MAX_BODY_MB: z._default(z.coerce.number().check(z.minimum(1), z.maximum(100)), 16),
  /** Where Vapi tool calls are forwarded (the tutoring tool server). Unset: answered "not configured". */
  TOOL_SERVER_URL: optionalUrl,
  /** Bearer token sent to TOOL_SERVER_URL. */
  TOOL_SERVER_TOKEN: z.optional(z.string().check(z.minLength(1))),
  /** How long to wait for the tool server, in ms (Vapi gives up after ~20 s). @default 15000 */
  TOOL_SERVER_TIMEOUT_MS: z._default(z.coerce.number().check(z.int(), z.minimum(100), z.maximum(60_000)), 15_000),
  /**
   * Comma list of tool (function) names whose calls grade an answer: a call of one of them whose
   * arguments carry a boolean `correct` also counts as an attempt (ADR 0030), wherever it arrives
   * (POST /api/sessions/interactions, Vapi, the session-data webhook). Names compare exactly.
   * `none`: no tool call counts (e.g. when the practice page already posts the attempt itself).
   * @default record_attempt (session.config: session_tracking.attempt_tools)
   */
  ATTEMPT_TOOLS: z._default(z.string(), 'record_attempt'),
  /**
   * The customer's own Vapi server URL: every Vapi message is forwarded there unchanged, and the
   * answers of messages Vapi reads (assistant-request, destination requests...) come from it.
   * Unset: Sessionlog answers alone. @default none
   */
  VAPI_UPSTREAM_URL: optionalUrl,
  /** Sent to VAPI_UPSTREAM_URL as `X-Vapi-Secret` and `Authorization: Bearer` (what the upstream checked before). */
  VAPI_UPSTREAM_SECRET: z.optional(z.string().check(z.minLength(1))),
  /** How long to wait for the upstream's answer, in ms (Vapi gives an assistant-request 7.5 s). @default 7000 */
  VAPI_UPSTREAM_TIMEOUT_MS: z._default(z.coerce.number().check(z.int(), z.minimum(100), z.maximum(60_000)), 7000),
  /**
   * An assistant-request is answered `{"assistantId": VAPI_ASSISTANT_ID}` without an upstream, and
   * when the upstream gives no answer (down, too slow, a 2xx that is not a JSON object) — its error
   * statuses are relayed. Unset: an error Vapi speaks, and the call ends.
   */
  VAPI_ASSISTANT_ID: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
  /** Bearer token for POST /api/webhooks/session-data (other voice platforms). */
  WEBHOOK_TOKEN: z.optional(z.string().check(z.minLength(1))),
  /** Accept Vapi webhooks at all. @default true (session.config: webhooks.vapi.enabled) */
  VAPI_WEBHOOK_ENABLED: z._default(bool, true),
  /** Turn on OpenAI session analysis (also needs a key). @default false (session.config: analysis.enabled) */
  ANALYSIS_ENABLED: z._default(bool, false),
  /** API key for analysis only; falls back to OPENAI_API_KEY. */
  ANALYSIS_API_KEY: z.optional(z.string().check(z.minLength(1))),
  /** Fallback API key for analysis. */
  OPENAI_API_KEY: z.optional(z.string().check(z.minLength(1))),
  /** Any OpenAI-compatible endpoint. @default https://api.openai.com/v1 */
  OPENAI_BASE_URL: optionalUrl,
  /** Model for analysis (must support structured outputs). @default gpt-4o-mini */
  ANALYSIS_MODEL: z._default(z.string().check(z.minLength(1)), 'gpt-4o-mini'),
  /** When analysis runs: session_complete, on_request (comma list). @default both */
  ANALYSIS_TRIGGERS: z._default(z.string(), 'session_complete,on_request'),
  /** Input budget in tokens; long transcripts are trimmed from the middle. @default 16000 */
  ANALYSIS_MAX_INPUT_TOKENS: z._default(z.coerce.number().check(z.int(), z.minimum(500), z.maximum(2_000_000)), 16_000),
  /**
   * Tokens (input + output, as the provider reports them) analyses may use per UTC day; past it
   * analyses are deferred to the next UTC day. Set it to cap the model bill. @default unset (no cap)
   */
  ANALYSIS_DAILY_TOKEN_BUDGET: z.optional(z.coerce.number().check(z.int(), z.minimum(1000), z.maximum(1_000_000_000))),
  /** Give up on one model call after this many ms. @default 60000 */
  ANALYSIS_TIMEOUT_MS: z._default(z.coerce.number().check(z.int(), z.minimum(100), z.maximum(600_000)), 60_000),
  /** JSON of session.config (edge runtimes, where there is no file to read). */
  SESSION_CONFIG: z.optional(z.string()),
  /** Comma list of origins allowed to call the API from browsers; `*` only locally. @default * locally, none in production */
  ALLOWED_ORIGINS: z.optional(z.string()),
  /** Where alerts are POSTed (a Slack incoming webhook, or any JSON receiver). Unset: alerts are only recorded (GET /api/alerts). Never logged. */
  ALERT_WEBHOOK_URL: optionalUrl,
  /** `json`: a structured body; `slack`: a Slack incoming-webhook body (`text` + `blocks`). @default json */
  ALERT_WEBHOOK_FORMAT: z._default(z.enum(['json', 'slack']), 'json'),
  /** When set, each delivery carries `X-Sessionlog-Signature`: hex HMAC-SHA256 of the body with this key. */
  ALERT_WEBHOOK_SECRET: z.optional(z.string().check(z.minLength(1))),
  /**
   * Whether posted events run the cohort-wide alert pass (stuck students, due delivery retries),
   * at most once a minute per deployment. Off: only the cron does (the sweep, and on Cloudflare a
   * trigger every minute). @default true (false on Cloudflare)
   */
  ALERT_PASS_ON_INGEST: z.optional(bool),
  /** Log every request line to stdout (never bodies or tokens). @default false */
  LOG_REQUESTS: z._default(bool, false),
});

export type Env = z.input<typeof EnvSchema>;
