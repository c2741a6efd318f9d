import { z } from 'zod';
import { AnalysisRequest } from './analysis/schema.js';
import { AlertsQuery } from './routes/alerts.js';
import { AlertList } from './schemas/alerts.js';
import { AttentionQuery, AttentionResponse } from './schemas/attention.js';
import type { Family } from './http/env.js';
import { StatsQuery } from './routes/session-log/stats.js';
import { AuditQuery, TimelineQuery } from './routes/sessions/read.js';
import { StudentInput } from './routes/students.js';
import { SessionDataInput } from './routes/webhooks/session-data.js';
import { BatchEnvelope, BatchIngestResponse, EventInput, EventListResponse, EventQuery, SingleIngestResponse } from './schemas/event.js';
import * as R from './schemas/responses.js';
import {
  CloseInput,
  CreateSessionInput,
  GlobalStats,
  InteractionInput,
  JoinInput,
  PhaseInput,
  SessionDocument,
  SessionListQuery,
  SessionStats,
  StudentId,
  SummaryInput,
  TranscriptBatchInput,
  TranscriptEntryInput,
} from './schemas/session.js';
import { VapiEnvelope } from './vapi/message.js';

/**
 * The OpenAPI 3.1 description, generated from the same zod schemas the handlers validate with.
 * Each operation lists its auth, inputs, success bodies and error statuses (all errors are
 * RFC 9457 problem documents). tests/unit/openapi.test.ts checks real responses against it.
 */
type Auth = 'none' | 'reader' | 'writer' | 'admin' | 'cron' | 'webhook' | 'vapi';
interface Op {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  summary: string;
  tag: string;
  auth: Auth;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** status → schema, or a media type name for non-JSON bodies. */
  ok: Record<number, z.ZodType | 'csv'>;
  errors: number[];
}

const AUTH_ERRORS = [401, 403];

export const OPERATIONS: Op[] = [
  { method: 'get', path: '/api/health', summary: 'Storage health', tag: 'health', auth: 'none', ok: { 200: R.Health, 503: R.Health }, errors: [] },
  {
    method: 'post', path: '/api/session-log', summary: 'Log one workshop event or a batch of up to 500', tag: 'events', auth: 'none',
    body: z.union([EventInput, BatchEnvelope]), ok: { 200: z.union([SingleIngestResponse, BatchIngestResponse]), 207: BatchIngestResponse }, errors: [400, 413, 415, 429, 503],
  },
  { method: 'get', path: '/api/session-log', summary: 'Query or export events (json, csv, ndjson)', tag: 'events', auth: 'reader', query: EventQuery, ok: { 200: EventListResponse }, errors: [400, ...AUTH_ERRORS, 503] },
  { method: 'get', path: '/api/session-log/stats', summary: 'Counts by type, top error types, students with errors', tag: 'events', auth: 'reader', query: StatsQuery, ok: { 200: R.LogStatsResponse }, errors: [400, ...AUTH_ERRORS] },
  { method: 'post', path: '/api/sessions/interactions', summary: 'Record a tool-call interaction in the student\'s current sitting', tag: 'sessions', auth: 'writer', body: InteractionInput, ok: { 200: R.InteractionResponse }, errors: [400, ...AUTH_ERRORS, 413] },
  { method: 'post', path: '/api/sessions', summary: 'Create an explicit session', tag: 'sessions', auth: 'writer', body: CreateSessionInput, ok: { 201: SessionDocument }, errors: [400, ...AUTH_ERRORS, 409, 413] },
  { method: 'get', path: '/api/sessions', summary: 'Session history, newest first', tag: 'sessions', auth: 'reader', query: SessionListQuery, ok: { 200: R.SessionPage }, errors: [400, ...AUTH_ERRORS] },
  { method: 'get', path: '/api/sessions/active', summary: 'Open sessions', tag: 'sessions', auth: 'reader', ok: { 200: R.ActiveSessions }, errors: AUTH_ERRORS },
  { method: 'get', path: '/api/sessions/waiting', summary: 'The oldest session waiting for a participant', tag: 'sessions', auth: 'writer', ok: { 200: SessionDocument }, errors: [...AUTH_ERRORS, 404] },
  { method: 'post', path: '/api/sessions/close', summary: 'End a session by id or the student\'s open session', tag: 'sessions', auth: 'writer', body: CloseInput, ok: { 200: R.EndResponse }, errors: [400, ...AUTH_ERRORS, 404] },
  { method: 'get', path: '/api/sessions/{id}', summary: 'The whole session document', tag: 'sessions', auth: 'reader', ok: { 200: SessionDocument }, errors: [400, ...AUTH_ERRORS, 404] },
  { method: 'get', path: '/api/sessions/{id}/transcript', summary: 'The conversation', tag: 'sessions', auth: 'reader', ok: { 200: R.TranscriptResponse }, errors: [400, ...AUTH_ERRORS, 404] },
  { method: 'get', path: '/api/sessions/{id}/events', summary: 'The timeline (cursor paging, or live tail with after_seq)', tag: 'sessions', auth: 'reader', query: TimelineQuery, ok: { 200: R.Timeline }, errors: [400, ...AUTH_ERRORS, 404] },
  { method: 'get', path: '/api/sessions/{id}/summary', summary: 'Counts for the session', tag: 'sessions', auth: 'reader', ok: { 200: SessionStats }, errors: [400, ...AUTH_ERRORS, 404] },
  { method: 'post', path: '/api/sessions/{id}/join', summary: 'Join as the next participant', tag: 'sessions', auth: 'writer', body: JoinInput, ok: { 200: R.JoinResponse }, errors: [400, ...AUTH_ERRORS, 404, 409] },
  { method: 'post', path: '/api/sessions/{id}/transcript', summary: 'Append transcript entries', tag: 'sessions', auth: 'writer', body: z.union([TranscriptEntryInput, TranscriptBatchInput]), ok: { 201: R.TranscriptAppended }, errors: [400, ...AUTH_ERRORS, 404, 409, 413] },
  { method: 'post', path: '/api/sessions/{id}/phase', summary: 'Change phase', tag: 'sessions', auth: 'writer', body: PhaseInput, ok: { 200: R.PhaseResponse }, errors: [400, ...AUTH_ERRORS, 404, 409] },
  { method: 'put', path: '/api/sessions/{id}/summary', summary: 'Set the summary', tag: 'sessions', auth: 'writer', body: SummaryInput, ok: { 200: R.SummaryResponse }, errors: [400, ...AUTH_ERRORS, 404, 409, 413] },
  { method: 'post', path: '/api/sessions/{id}/end', summary: 'End a session (idempotent)', tag: 'sessions', auth: 'writer', ok: { 200: R.EndResponse }, errors: [400, ...AUTH_ERRORS, 404] },
  { method: 'post', path: '/api/sessions/{id}/assign', summary: 'Attach a session to a student', tag: 'sessions', auth: 'admin', body: z.strictObject({ student_id: StudentId }), ok: { 200: R.AssignResponse }, errors: [400, ...AUTH_ERRORS, 404] },
  { method: 'post', path: '/api/sessions/{id}/analysis', summary: 'Run an analysis now', tag: 'analysis', auth: 'reader', body: AnalysisRequest, ok: { 200: R.AnalysisRun }, errors: [400, ...AUTH_ERRORS, 404, 409, 503] },
  { method: 'get', path: '/api/sessions/{id}/analysis', summary: 'The session\'s analyses', tag: 'analysis', auth: 'reader', ok: { 200: R.AnalysisList }, errors: [400, ...AUTH_ERRORS, 404] },
  { method: 'get', path: '/api/stats', summary: 'Overall counts', tag: 'sessions', auth: 'reader', ok: { 200: GlobalStats }, errors: AUTH_ERRORS },
  { method: 'post', path: '/api/cron/sweep', summary: 'End idle sessions; retry failed analyses (also GET, as Vercel cron calls it)', tag: 'maintenance', auth: 'cron', ok: { 200: R.SweepResponse }, errors: AUTH_ERRORS },
  { method: 'post', path: '/api/cron/retention', summary: 'Delete data older than RETENTION_DAYS (also GET)', tag: 'maintenance', auth: 'cron', ok: { 200: R.RetentionResponse }, errors: AUTH_ERRORS },
  { method: 'get', path: '/api/audit', summary: 'The audit trail', tag: 'maintenance', auth: 'admin', query: AuditQuery, ok: { 200: R.AuditPage }, errors: [400, ...AUTH_ERRORS] },
  { method: 'put', path: '/api/students/{id}', summary: 'Create or update a student (phone numbers map callers)', tag: 'students', auth: 'admin', body: StudentInput, ok: { 200: R.StudentResponse }, errors: [400, ...AUTH_ERRORS, 409, 413] },
  { method: 'get', path: '/api/students/{id}', summary: 'A student', tag: 'students', auth: 'reader', ok: { 200: R.StudentResponse }, errors: [400, ...AUTH_ERRORS, 404] },
  { method: 'delete', path: '/api/students/{id}', summary: 'Erase a student and everything of theirs (by id or email)', tag: 'students', auth: 'admin', ok: { 200: R.Erased }, errors: [400, ...AUTH_ERRORS, 404] },
  { method: 'post', path: '/api/webhooks/vapi', summary: 'Vapi server messages (also /webhook/vapi/session-complete)', tag: 'webhooks', auth: 'vapi', body: VapiEnvelope, ok: { 200: R.VapiAnswer }, errors: [400, 401, 404, 413, 429, 503] },
  { method: 'post', path: '/api/webhooks/session-data', summary: 'A session from another voice platform (also /webhook/session-data)', tag: 'webhooks', auth: 'webhook', body: SessionDataInput, ok: { 200: R.SessionDataResponse }, errors: [400, ...AUTH_ERRORS, 413, 429, 503] },
  { method: 'get', path: '/api/attention', summary: 'Who needs help now: students in active workshop sessions ranked by a documented score, cohort steps, top errors', tag: 'attention', auth: 'reader', query: AttentionQuery, ok: { 200: AttentionResponse }, errors: [400, ...AUTH_ERRORS] },
  { method: 'get', path: '/api/alerts', summary: 'Alerts raised by the rules (repeated error, error spike, stuck, call error), newest first, with their delivery', tag: 'attention', auth: 'reader', query: AlertsQuery, ok: { 200: AlertList }, errors: [400, ...AUTH_ERRORS] },
];

const SECURITY: Record<Auth, Array<Record<string, string[]>>> = {
  none: [],
  reader: [{ adminToken: [] }, { instructorToken: [] }],
  writer: [{ serviceToken: [] }, { adminToken: [] }],
  admin: [{ adminToken: [] }],
  cron: [{ cronSecret: [] }],
  webhook: [{ webhookToken: [] }],
  vapi: [{ vapiSecret: [] }, { vapiBearer: [] }, { vapiSignature: [] }, {}],
};

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 201: 'Created', 207: 'Some events were rejected', 400: 'Invalid input (the problem names the fields)', 401: 'Missing or invalid credentials',
  403: 'The token may not do this', 404: 'Not found', 409: 'Conflict', 413: 'Body too large', 415: 'Unsupported content type',
  429: 'Rate limited (Retry-After)', 503: 'Storage or feature unavailable (Retry-After)',
};

function schema(s: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  return rest;
}

function queryParams(q: z.ZodObject): Array<Record<string, unknown>> {
  const js = schema(q, 'input') as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({ name, in: 'query', required: (js.required ?? []).includes(name) && !('default' in s), schema: s }));
}

let cached: Record<string, unknown> | undefined;

export function openApiDocument(): Record<string, unknown> {
  if (cached) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const responses: Record<string, unknown> = {};
    for (const [status, s] of Object.entries(op.ok)) {
      responses[status] = {
        description: STATUS_TEXT[Number(status)] ?? 'OK',
        content: s === 'csv' ? { 'text/csv': { schema: { type: 'string' } } } : { 'application/json': { schema: schema(s, 'output') } },
      };
    }
    if (op.path === '/api/session-log' && op.method === 'get') {
      (responses['200'] as { content: Record<string, unknown> }).content['text/csv'] = { schema: { type: 'string' } };
      (responses['200'] as { content: Record<string, unknown> }).content['application/x-ndjson'] = { schema: { type: 'string' } };
    }
    for (const status of op.errors) {
      responses[String(status)] = { description: STATUS_TEXT[status] ?? 'Error', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
    }
    const parameters = [
      ...(op.path.includes('{id}') ? [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }] : []),
      ...(op.query ? queryParams(op.query) : []),
    ];
    paths[op.path] ??= {};
    (paths[op.path] as Record<string, unknown>)[op.method] = {
      summary: op.summary,
      tags: [op.tag],
      operationId: `${op.method}_${op.path.replace(/[^a-z0-9]+/gi, '_').replace(/^_|_$/g, '')}`,
      ...(op.auth === 'none' ? {} : { security: SECURITY[op.auth] }),
      ...(parameters.length ? { parameters } : {}),
      ...(op.body ? { requestBody: { required: op.method !== 'post' || !op.path.endsWith('/analysis'), content: { 'application/json': { schema: schema(op.body, 'input') }, ...(op.path === '/api/session-log' ? { 'text/plain': { schema: schema(op.body, 'input') } } : {}) } } } : {}),
      responses,
    };
  }
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'Sessionlog API',
      version: '1.0.0',
      description: 'Session tracking and event logging for voice-AI tutoring and hands-on workshops. Errors are RFC 9457 problem documents.',
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      schemas: { Problem: schema(R.Problem, 'output') },
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' },
        instructorToken: { type: 'http', scheme: 'bearer', description: 'One of INSTRUCTOR_TOKENS (read-only)' },
        serviceToken: { type: 'http', scheme: 'bearer', description: 'SERVICE_TOKEN' },
        cronSecret: { type: 'http', scheme: 'bearer', description: 'CRON_SECRET' },
        webhookToken: { type: 'http', scheme: 'bearer', description: 'WEBHOOK_TOKEN' },
        vapiSecret: { type: 'apiKey', in: 'header', name: 'X-Vapi-Secret', description: 'VAPI_WEBHOOK_SECRET' },
        vapiBearer: { type: 'http', scheme: 'bearer', description: 'VAPI_WEBHOOK_SECRET as a Bearer credential' },
        vapiSignature: { type: 'apiKey', in: 'header', name: 'X-Vapi-Signature', description: 'Hex HMAC-SHA256 of the raw body with VAPI_HMAC_SECRET (header name configurable)' },
      },
    },
  };
  return cached;
}

/** GET /api/openapi.json */
export const openApiFamily: Family = (app) => {
  app.get('/api/openapi.json', (c) => {
    c.header('cache-control', 'public, max-age=300');
    return c.json(openApiDocument());
  });
};
