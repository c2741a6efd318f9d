/**
 * GET /api/openapi.json describes every endpoint, and real responses — successes and problems —
 * validate against the schemas it publishes.
 */
import Ajv2020 from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { memoryRateLimiter } from '../../lib/ratelimit/memory.js';
import type { Sql } from '../../lib/storage/sql.js';
import { admin, makeDeps, memoryPglite, testConfig, uniqueToken } from '../helpers/deps.js';

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
  components: { schemas: Record<string, unknown> };
};

let sql: Sql;
let app: ReturnType<typeof createApp>;
let doc: Doc;
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
const service = { authorization: 'Bearer svc-token-123' };
const cron = { authorization: 'Bearer cron-secret-123' };
const checked = new Set<string>();

beforeAll(async () => {
  sql = await memoryPglite();
  app = createApp(makeDeps({ sql, config: testConfig({ SERVICE_TOKEN: 'svc-token-123', CRON_SECRET: 'cron-secret-123', WEBHOOK_TOKEN: 'hook-123' }) }), allFamilies);
  doc = (await (await app.request('/api/openapi.json')).json()) as Doc;
  ajv.addSchema({ $id: 'problem', ...(doc.components.schemas.Problem as object) });
});
afterAll(() => sql.close());

/** Send a request and validate the answer against the documented schema for its status. */
async function call(method: string, template: string, path: string, headers: Record<string, string> = {}, body?: unknown) {
  const res = await app.request(path, { method, headers: { 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const op = doc.paths[template]?.[method.toLowerCase()];
  expect(op, `${method} ${template} is documented`).toBeDefined();
  const documented = op?.responses[String(res.status)];
  expect(documented, `${method} ${template} documents status ${res.status}`).toBeDefined();
  const type = (res.headers.get('content-type') ?? '').split(';')[0] ?? '';
  const media = documented?.content?.[type];
  expect(media, `${method} ${template} ${res.status} documents ${type}`).toBeDefined();
  const json = (await res.json()) as unknown;
  const documentedSchema = (media?.schema ?? {}) as { $ref?: string };
  const schema = documentedSchema.$ref === '#/components/schemas/Problem' ? { $ref: 'problem' } : documentedSchema;
  const validate = ajv.compile(schema);
  expect(validate(json), `${method} ${path} ${res.status}: ${ajv.errorsText(validate.errors)}`).toBe(true);
  checked.add(`${method} ${template} ${res.status}`);
  return json as Record<string, unknown>;
}

describe('GET /api/openapi.json', () => {
  it('is an OpenAPI 3.1 document covering every route, each with its errors', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).length).toBeGreaterThanOrEqual(24);
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const statuses = Object.keys(op.responses).map(Number);
        expect(statuses.some((s) => s < 300), `${method} ${path} has a success`).toBe(true);
        // The health check and this document answer no 4xx at all; documenting one would be a lie.
        if (path !== '/api/health' && path !== '/api/openapi.json') expect(statuses.some((s) => s >= 400), `${method} ${path} has errors`).toBe(true);
      }
    }
    // The event log's filters, the Now view's top-errors links among them.
    const log = doc.paths['/api/session-log']?.get as unknown as { parameters: Array<{ name: string; in: string }> };
    expect(log.parameters.filter((p) => p.in === 'query').map((p) => p.name)).toEqual(expect.arrayContaining(['sessionToken', 'studentEmail', 'eventType', 'errorType', 'workshop']));
    // The session lists take one workshop's prefix too (sessionlog sessions --workshop, with --active or not).
    for (const path of ['/api/sessions', '/api/sessions/active']) {
      const list = doc.paths[path]?.get as unknown as { parameters: Array<{ name: string; in: string }> };
      expect(list.parameters.filter((p) => p.in === 'query').map((p) => p.name), path).toContain('workshop');
    }
  });

  it('real responses validate against the published schemas', async () => {
    const token = uniqueToken();
    const student = `stu_${crypto.randomUUID().slice(0, 8)}`;
    await call('GET', '/api/health', '/api/health');
    await call('POST', '/api/session-log', '/api/session-log', {}, { sessionToken: token, eventType: 'error', eventData: { errorType: 'E' }, studentEmail: `${student}@example.com` });
    await call('POST', '/api/session-log', '/api/session-log', {}, { events: [{ sessionToken: token, eventType: 'action' }, { sessionToken: token, eventType: 'BAD' }] });
    await call('POST', '/api/session-log', '/api/session-log', {}, { sessionToken: 'bad token', eventType: 'action' });
    await call('GET', '/api/session-log', `/api/session-log?sessionToken=${token}`, admin);
    const oneError = await call('GET', '/api/session-log', `/api/session-log?workshop=${token.slice(0, 12)}&errorType=E`, admin);
    expect(oneError.count).toBe(1);
    await call('GET', '/api/session-log', '/api/session-log', {});
    await call('GET', '/api/session-log/stats', '/api/session-log/stats', admin);
    const s = await call('POST', '/api/sessions/interactions', '/api/sessions/interactions', service, { student_id: student, function: 'f', data_provided: ['p'] });
    const id = String(s.session_id);
    await call('GET', '/api/sessions', '/api/sessions', admin);
    await call('GET', '/api/sessions/active', '/api/sessions/active', admin);
    await call('GET', '/api/sessions/{id}', `/api/sessions/${id}`, admin);
    await call('GET', '/api/sessions/{id}', '/api/sessions/nope_nope', admin);
    await call('GET', '/api/sessions/{id}/transcript', `/api/sessions/${id}/transcript`, admin);
    await call('GET', '/api/sessions/{id}/events', `/api/sessions/${id}/events`, admin);
    await call('GET', '/api/sessions/{id}/summary', `/api/sessions/${id}/summary`, admin);
    await call('GET', '/api/stats', '/api/stats', service);
    await call('GET', '/api/stats', '/api/stats', admin);
    const created = await call('POST', '/api/sessions', '/api/sessions', service, { participant: 'a', student_id: `${student}_x` });
    const sid = String(created.session_id);
    await call('GET', '/api/sessions/waiting', '/api/sessions/waiting', service);
    await call('POST', '/api/sessions/{id}/join', `/api/sessions/${sid}/join`, service, { participant: 'b' });
    await call('POST', '/api/sessions/{id}/join', `/api/sessions/${sid}/join`, service, { participant: 'c' });
    await call('POST', '/api/sessions/{id}/transcript', `/api/sessions/${sid}/transcript`, service, { speaker: 'A', text: 'hi' });
    await call('POST', '/api/sessions/{id}/phase', `/api/sessions/${sid}/phase`, service, { phase: 'p2' });
    await call('PUT', '/api/sessions/{id}/summary', `/api/sessions/${sid}/summary`, service, { summary: 'ok' });
    await call('POST', '/api/sessions/{id}/end', `/api/sessions/${sid}/end`, service);
    await call('POST', '/api/sessions/close', '/api/sessions/close', service, { session_id: sid });
    await call('POST', '/api/sessions/{id}/assign', `/api/sessions/${sid}/assign`, admin, { student_id: student });
    await call('POST', '/api/sessions/{id}/analysis', `/api/sessions/${sid}/analysis`, admin, {});
    await call('GET', '/api/sessions/{id}/analysis', `/api/sessions/${sid}/analysis`, admin);
    await call('POST', '/api/cron/sweep', '/api/cron/sweep', cron);
    await call('POST', '/api/cron/retention', '/api/cron/retention', cron);
    await call('GET', '/api/audit', '/api/audit', admin);
    await call('GET', '/api/attention', '/api/attention', admin);
    await call('GET', '/api/attention', '/api/attention?since=soon', admin);
    await call('GET', '/api/alerts', '/api/alerts', admin);
    await call('GET', '/api/alerts', '/api/alerts?limit=0', admin);
    await call('PUT', '/api/students/{student_id}', `/api/students/${student}`, admin, { phone_numbers: ['+15550100000'] });
    await call('GET', '/api/students/{student_id}', `/api/students/${student}`, admin);
    await call('POST', '/api/webhooks/vapi', '/api/webhooks/vapi', {}, { message: { type: 'tool-calls', call: { id: `c-${student}` }, toolCallList: [{ id: 't1', type: 'function', function: { name: 'f', arguments: {} } }] } });
    await call('POST', '/api/webhooks/vapi', '/api/webhooks/vapi', {}, { nope: 1 });
    await call('POST', '/api/webhooks/session-data', '/api/webhooks/session-data', { authorization: 'Bearer hook-123' }, { platform: 'generic', student_id: student, started_at: '2026-01-01T00:00:00Z' });
    await call('DELETE', '/api/students/{student_id}', `/api/students/${student}`, admin);
    expect(checked.size).toBeGreaterThanOrEqual(35);
  });
});

describe('an address locked out by failed authentications', () => {
  it('gets a 429 the document names on every route that takes a token, the right token included', async () => {
    const t = Date.parse('2026-08-01T12:00:30Z');
    const locked = createApp(
      makeDeps({
        sql,
        config: testConfig({ RATE_LIMITS: 'on', RATE_LIMIT_AUTH_FAIL_IP: '2', TRUST_PROXY: 'true', SERVICE_TOKEN: 'svc-token-123', CRON_SECRET: 'cron-secret-123', WEBHOOK_TOKEN: 'hook-123' }),
        rateLimiter: memoryRateLimiter(() => t),
      }),
      allFamilies,
    );
    const from = { 'x-forwarded-for': '198.51.100.90' };
    for (let i = 0; i < 3; i++) await locked.request('/api/sessions', { headers: { authorization: `Bearer wrong-${i}`, ...from } });
    // The credential each security scheme is answered with (the Vapi webhooks take none locally).
    const credential: Record<string, Record<string, string>> = { adminToken: admin, serviceToken: service, cronSecret: cron, webhookToken: { authorization: 'Bearer hook-123' } };
    const refused: string[] = [];
    for (const [template, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops) as Array<[string, { security?: Array<Record<string, unknown>>; responses: Record<string, unknown> }]>) {
        const scheme = Object.keys(op.security?.[0] ?? {})[0];
        const headers = scheme ? credential[scheme] : undefined;
        if (!headers) continue;
        const path = template.replace('{id}', 'ws_locked_out').replace('{student_id}', 'stu_locked_out');
        const res = await locked.request(path, { method: method.toUpperCase(), headers: { 'content-type': 'application/json', ...headers, ...from }, ...(method === 'get' || method === 'delete' ? {} : { body: '{}' }) });
        expect(res.status, `${method.toUpperCase()} ${template}`).toBe(429);
        if (!op.responses['429']) refused.push(`${method.toUpperCase()} ${template}`);
      }
    }
    expect(refused, 'routes answering an undocumented 429').toEqual([]);
  });
});

describe('Postgres down', () => {
  it('every route answers a status its document names: the 503 of storage that does not answer among them', async () => {
    const { createPgSql } = await import('../../lib/storage/sql-pg.js');
    // Port 1 refuses connections: the same failure as a database that is down.
    const down = createPgSql({ connectionString: 'postgres://postgres@127.0.0.1:1/none' });
    const dead = createApp(makeDeps({ sql: down, config: testConfig({ SERVICE_TOKEN: 'svc-token-123', CRON_SECRET: 'cron-secret-123', WEBHOOK_TOKEN: 'hook-123' }) }), allFamilies);
    const credential: Record<string, Record<string, string>> = { adminToken: admin, serviceToken: service, cronSecret: cron, webhookToken: { authorization: 'Bearer hook-123' } };
    // A body each write accepts as far as its validation goes, so the request reaches storage.
    const bodies: Record<string, unknown> = {
      '/api/session-log': { sessionToken: 'ws_down_1', eventType: 'action' },
      '/api/sessions/interactions': { student_id: 'stu_down', function: 'f' },
      '/api/sessions': { participant: 'p' },
      '/api/sessions/close': { session_id: 'ws_down_1' },
      '/api/sessions/{id}/transcript': { speaker: 'A', text: 'hi' },
      '/api/sessions/{id}/join': { participant: 'q' },
      '/api/sessions/{id}/phase': { phase: 'p2' },
      '/api/sessions/{id}/summary': { summary: 's' },
      '/api/sessions/{id}/assign': { student_id: 'stu_down' },
      '/api/webhooks/session-data': { platform: 'generic', student_id: 'stu_down', started_at: '2026-01-01T00:00:00Z' },
      '/webhook/session-data': { platform: 'generic', student_id: 'stu_down', started_at: '2026-01-01T00:00:00Z' },
    };
    const vapi = { message: { type: 'status-update', status: 'in-progress', call: { id: 'call-down-1' } } };
    const undocumented: string[] = [];
    let unavailable = 0;
    try {
      for (const [template, ops] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(ops) as Array<[string, { security?: Array<Record<string, unknown>>; responses: Record<string, unknown> }]>) {
          const scheme = Object.keys(op.security?.[0] ?? {})[0];
          const path = template.replace('{id}', 'ws_down_1').replace('{student_id}', 'stu_down');
          const body = method === 'get' || method === 'delete' ? undefined : (bodies[template] ?? (template.includes('vapi') ? vapi : {}));
          const res = await dead.request(path, {
            method: method.toUpperCase(),
            headers: { 'content-type': 'application/json', ...(scheme ? credential[scheme] : {}) },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          });
          await res.body?.cancel();
          if (res.status === 503) unavailable++;
          if (!op.responses[String(res.status)]) undocumented.push(`${method.toUpperCase()} ${template} ${res.status}`);
        }
      }
    } finally {
      await down.close();
    }
    expect(undocumented).toEqual([]);
    expect(unavailable).toBeGreaterThanOrEqual(45);
  }, 60_000);
});
