import type * as z from '../util/zod.js';

/**
 * One endpoint, defined once: method, path, who may call it, its rate-limit class, and its request
 * and response schemas. The router (lib/http/register.ts), the OpenAPI document (lib/openapi.ts)
 * and the tests' route lists (lib/routes/inventory.ts) are all derived from these definitions.
 *
 * Definition files (`*.routes.ts`, `routes.ts`) import only schemas, never handlers or storage:
 * every Vercel function serves /api/openapi.json, so whatever they import is bundled into all of
 * them (api/health.ts included).
 */

/**
 * Who may call: `public` (no credential); `reader` (admin or instructor token); `writer` (service
 * or admin token); `listen` (admin, instructor or service token: who may follow a session live);
 * `admin`; `cron` (CRON_SECRET); `webhook` (WEBHOOK_TOKEN); `vapi` (the handler
 * checks Vapi's secret, bearer or HMAC itself, because the HMAC covers the raw body).
 */
export type Auth = 'public' | 'reader' | 'writer' | 'listen' | 'admin' | 'cron' | 'webhook' | 'vapi';

/** Per-IP rate-limit buckets, each with its own limit in config.rateLimits. */
export type RateLimitClass = 'ingest-ip' | 'webhook-ip';

/** A non-JSON success body (exports). */
export type Media = 'text/csv' | 'application/x-ndjson' | 'text/event-stream';

export interface RouteSpec {
  method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI form: `/api/sessions/{id}` (mounted as `/api/sessions/:id`). */
  path: string;
  summary: string;
  tag: string;
  auth: Auth;
  /** What the caller is doing, in the 403 message and the audit trail ("the instructor token may not …"). */
  action?: string;
  rateLimit?: RateLimitClass;
  /** Also accept a short-lived stream token as `?token=` (lib/http/stream-token.ts), for EventSource. */
  streamToken?: boolean;
  /** Validated before the handler runs, through the app's one validation hook (400 naming the parameter). */
  params?: z.ZodMiniObject;
  /**
   * Documented here; validated by the handler (parseQuery), which reads the first value of a
   * repeated parameter where hono's validator would make it an array.
   */
  query?: z.ZodMiniObject;
  /**
   * Documented here; read and validated by the handler (readJson / readText), which enforces the
   * body limit, accepts `text/plain` beacons and, for webhooks, authenticates the raw bytes first.
   */
  body?: { schema: z.ZodMiniType; required?: boolean; media?: readonly string[] };
  /** Success statuses → JSON body schema. */
  ok: Record<number, z.ZodMiniType>;
  /** Other media types the first success status can answer with (exports). */
  media?: readonly Media[];
  /** Error statuses beyond those implied by auth, rate limit, params and body (see errorStatuses). */
  errors?: readonly number[];
  /** `false`: answers without Postgres or the KV, so never 503 (this document). */
  storage?: false;
  description?: string;
  deprecated?: boolean;
}

const DEFAULT_ACTION: Partial<Record<Auth, string>> = { reader: 'read', writer: 'write sessions', listen: 'follow sessions live', cron: 'run maintenance', webhook: 'post session data' };

/** Credentials that map to a role, checked by the `allow` middleware (vapi and public are not). */
export const ROLES = {
  reader: ['admin', 'instructor'],
  writer: ['service', 'admin'],
  listen: ['admin', 'instructor', 'service'],
  admin: ['admin'],
  cron: ['cron'],
  webhook: ['webhook'],
} as const;

/** OpenAPI security requirements per auth class; `[]` says "no credential" explicitly. */
export const SECURITY: Record<Auth, Array<Record<string, string[]>>> = {
  public: [],
  reader: [{ adminToken: [] }, { instructorToken: [] }],
  writer: [{ serviceToken: [] }, { adminToken: [] }],
  listen: [{ adminToken: [] }, { instructorToken: [] }, { serviceToken: [] }],
  admin: [{ adminToken: [] }],
  cron: [{ cronSecret: [] }],
  webhook: [{ webhookToken: [] }],
  vapi: [{ vapiSecret: [] }, { vapiBearer: [] }, { vapiSignature: [] }, {}],
};

/**
 * Every error status a route can answer: its own, plus 401/403 for token roles and 429 for an
 * address past RATE_LIMIT_AUTH_FAIL_IP (every token route refuses it before judging the token), 429
 * for a rate limit, 503 for storage that does not answer, 400 for validated path parameters, 413/415 for a JSON body read by readJson,
 * and 403 for a write from an origin outside ALLOWED_ORIGINS (lib/app.ts refuses those on /api/*).
 */
export function errorStatuses(spec: RouteSpec): number[] {
  const s = new Set(spec.errors ?? []);
  if (spec.auth in ROLES) {
    s.add(401);
    s.add(403);
    s.add(429);
  }
  if (spec.rateLimit) s.add(429);
  // Postgres unreachable or too slow (DATABASE_QUERY_TIMEOUT_MS): 503 with Retry-After, never a
  // hang or a success (lib/app.ts). Health answers its own 503 body, documented as a success is.
  if (spec.storage !== false && !(503 in spec.ok)) s.add(503);
  if (spec.params || spec.query) s.add(400);
  if (spec.body) {
    s.add(400);
    s.add(413);
    // readJson refuses other content types; the webhooks (readText, raw bytes for the HMAC) and
    // optional bodies (parseOptionalBody) read any.
    if (spec.auth !== 'vapi' && spec.auth !== 'webhook' && spec.body.required !== false) s.add(415);
  }
  if (spec.method !== 'get' && spec.path.startsWith('/api/')) s.add(403);
  return [...s].sort((a, b) => a - b);
}

export type RouteDef = ReturnType<typeof defineRoute>;

/**
 * Define an endpoint. `route` is the operation's OpenAPI outline (lib/openapi-document.ts adds the
 * schemas); the spec keeps the schemas as zod so the (slow, ~80 ms) JSON Schema conversion only
 * happens when someone asks for /api/openapi.json, not on every cold start. A plain object, not
 * @hono/zod-openapi's createRoute: the runtime (lib/http/register.ts) mounts routes on plain hono,
 * so zod-to-openapi is loaded only with the document (ADR 0020).
 */
export function defineRoute(spec: RouteSpec) {
  const route = {
    method: spec.method,
    path: spec.path,
    summary: spec.summary,
    tags: [spec.tag],
    operationId: operationId(spec.method, spec.path),
    security: spec.streamToken ? [...SECURITY[spec.auth], { streamToken: [] }] : SECURITY[spec.auth],
    ...(spec.params ? { request: { params: spec.params } } : {}),
    // Documentation only: responses are never validated at run time. lib/openapi-document.ts
    // fills in the schemas when it builds the document.
    responses: Object.fromEntries([...Object.keys(spec.ok), ...errorStatuses(spec)].map((status) => [status, { description: statusText(Number(status)) }])),
  };
  return { ...spec, action: spec.action ?? DEFAULT_ACTION[spec.auth], route };
}

export const operationId = (method: string, path: string) => `${method}_${path.replace(/[^a-z0-9]+/gi, '_').replace(/^_|_$/g, '')}`;

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 201: 'Created', 207: 'Some events were rejected', 400: 'Invalid input (the problem names the fields)', 401: 'Missing or invalid credentials',
  403: 'The token may not do this, or the origin is not allowed', 404: 'Not found', 409: 'Conflict', 413: 'Body too large', 415: 'Unsupported content type',
  429: 'Rate limited (Retry-After)', 503: 'Storage or feature unavailable (Retry-After)',
};
export const statusText = (status: number) => STATUS_TEXT[status] ?? (status < 400 ? 'OK' : 'Error');
