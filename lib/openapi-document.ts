import * as z from './util/zod.js';
import { errorStatuses, type RouteDef, statusText } from './http/route.js';
import { ROUTES } from './routes/inventory.js';
import { Problem } from './schemas/responses.js';

/**
 * The OpenAPI 3.1 description, generated from the route definitions (lib/routes/inventory.ts)
 * and the same zod schemas the handlers validate with. Each operation lists its auth, inputs,
 * success bodies and error statuses (all errors are RFC 9457 problem documents).
 * tests/unit/openapi.test.ts checks real responses against it and lints it.
 *
 * Schemas are converted with zod's own `z.toJSONSchema` (input side for requests, output side for
 * responses, so defaults and transforms read right), and assembled here. (It used to be assembled by
 * @hono/zod-openapi's registry, which brought the classic `zod` into every Vercel function's shared
 * chunk: ADR 0026. The document is the same, byte for byte.)
 */
function schema(s: z.ZodMiniType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  return simplify(rest) as Record<string, unknown>;
}

/**
 * `z.unknown().nullable()` converts to `anyOf: [{}, {type: "null"}]`: a branch that accepts
 * anything makes the whole anyOf accept anything, and linters reject the empty member. Say `{}`.
 */
function simplify(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(simplify);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = simplify(v);
  const anyOf = out.anyOf;
  if (Array.isArray(anyOf) && anyOf.some((b) => b !== null && typeof b === 'object' && Object.keys(b).length === 0)) {
    const { anyOf: _always, ...rest } = out;
    return rest;
  }
  return out;
}

function parameters(q: z.ZodMiniObject, where: 'query' | 'path'): Array<Record<string, unknown>> {
  const js = schema(q, 'input') as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || ((js.required ?? []).includes(name) && !('default' in s)),
    schema: s,
  }));
}

const PROBLEM = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };

function operation(def: RouteDef) {
  const responses: Record<string, unknown> = {};
  for (const [status, s] of Object.entries(def.ok)) {
    // An event stream answers with nothing but the stream: its `ok` schema describes each message's data.
    const sse = def.media?.includes('text/event-stream');
    const content: Record<string, unknown> = sse
      ? { 'text/event-stream': { schema: { type: 'string', description: 'Server-Sent Events; each `data:` line is JSON', 'x-sse-data': schema(s, 'output') } } }
      : { 'application/json': { schema: schema(s, 'output') } };
    if (!sse && status === Object.keys(def.ok)[0]) for (const media of def.media ?? []) content[media] = { schema: { type: 'string' } };
    responses[status] = { description: statusText(Number(status)), content };
  }
  for (const status of errorStatuses(def)) responses[String(status)] = { description: statusText(status), content: PROBLEM };
  const params = [...(def.params ? parameters(def.params, 'path') : []), ...(def.query ? parameters(def.query, 'query') : [])];
  const body = def.body;
  // The document gets JSON Schema parameters, body and responses below.
  const { request: _validated, responses: _outline, ...route } = def.route;
  return {
    ...route,
    ...(def.description ? { description: def.description } : {}),
    ...(def.deprecated ? { deprecated: true } : {}),
    ...(def.rateLimit ? { 'x-rate-limit': def.rateLimit } : {}),
    ...(params.length ? { parameters: params } : {}),
    ...(body
      ? {
          requestBody: {
            required: body.required ?? true,
            content: Object.fromEntries((body.media ?? ['application/json']).map((m) => [m, { schema: schema(body.schema, 'input') }])),
          },
        }
      : {}),
    responses,
  };
}

let cached: Record<string, unknown> | undefined;
let builds = 0;

/** How many times this instance built the document: tests check a non-OpenAPI request builds none. */
export const openApiBuilds = (): number => builds;

/** Built on first request (the schema conversion costs ~80 ms), then kept for the instance. */
export function openApiDocument(): Record<string, unknown> {
  if (cached) return cached;
  builds++;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const def of ROUTES) {
    const { method, path, ...op } = operation(def);
    paths[path] = { ...paths[path], [method]: op };
  }
  const bearer = (description: string) => ({ type: 'http', scheme: 'bearer', description }) as const;
  const securitySchemes = {
    adminToken: bearer('ADMIN_TOKEN'),
    instructorToken: bearer('One of INSTRUCTOR_TOKENS (read-only)'),
    serviceToken: bearer('SERVICE_TOKEN'),
    cronSecret: bearer('CRON_SECRET'),
    webhookToken: bearer('WEBHOOK_TOKEN'),
    streamToken: { type: 'apiKey', in: 'query', name: 'token', description: 'A stream token from POST /api/sessions/{id}/stream-token (60 s, that session only)' },
    vapiSecret: { type: 'apiKey', in: 'header', name: 'X-Vapi-Secret', description: 'VAPI_WEBHOOK_SECRET' },
    vapiBearer: bearer('VAPI_WEBHOOK_SECRET as a Bearer credential'),
    vapiSignature: { type: 'apiKey', in: 'header', name: 'X-Vapi-Signature', description: 'Hex HMAC-SHA256 of the raw body with VAPI_HMAC_SECRET (header name configurable)' },
  } as const;
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'Sessionlog API',
      version: '1.0.0',
      description: 'Session tracking and event logging for voice-AI tutoring and hands-on workshops. Errors are RFC 9457 problem documents.',
    },
    servers: [{ url: '/' }],
    components: { schemas: { Problem: schema(Problem, 'output') }, securitySchemes, parameters: {} },
    paths,
    webhooks: {},
  };
  return cached;
}

