/**
 * Audit gaps (issue 12): every refused attempt on a protected route (401/403) and every change,
 * whoever made it (service and cron tokens too), is in the trail; values of parameters that look
 * like secrets never are.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSecretParam } from '../../lib/audit/trail.js';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import type { Sql } from '../../lib/storage/sql.js';
import { admin, makeDeps, memoryPglite, testConfig, uniqueToken } from '../helpers/deps.js';

const SERVICE = 'svc-token-0123456789abcdef0123456789';
const CRON = 'cron-secret-0123456789abcdef01234567';
const LEE = 'instr-token-lee-0123456789abcdef0123';
const VAPI = 'vapi-secret-0123456789abcdef01234567';

let sql: Sql;
let app: ReturnType<typeof createApp>;
let deps: ReturnType<typeof makeDeps>;
beforeAll(async () => {
  sql = await memoryPglite();
  deps = makeDeps({ sql, config: testConfig({ SERVICE_TOKEN: SERVICE, CRON_SECRET: CRON, INSTRUCTOR_TOKENS: `ms_lee:${LEE}`, VAPI_WEBHOOK_SECRET: VAPI }) });
  app = createApp(deps, allFamilies);
});
afterAll(() => sql.close());

interface Entry {
  actor: string;
  action: string;
  method: string;
  path: string;
  status: number;
  detail: { query?: Record<string, string> };
}
const trail = async (): Promise<Entry[]> => {
  await deps.settle();
  return (await sql.query<Entry>('SELECT actor, action, method, path, status, detail FROM audit_log ORDER BY id')).map((e) => ({ ...e }));
};

describe('audit trail gaps', () => {
  it('records 401 and 403 on protected routes, without the token tried', async () => {
    const marker = uniqueToken('probe');
    await app.request(`/api/audit?probe=${marker}`, { headers: { authorization: 'Bearer not-a-token-0123456789abcdef0123456' } });
    await app.request(`/api/audit?probe=${marker}`);
    await app.request(`/api/audit?probe=${marker}`, { headers: { authorization: `Bearer ${LEE}` } });
    const mine = (await trail()).filter((e) => e.detail.query?.probe === marker);
    expect(mine.map((e) => [e.actor, e.method, e.path, e.status])).toEqual([
      ['anonymous', 'GET', '/api/audit', 401],
      ['anonymous', 'GET', '/api/audit', 401],
      ['instructor:ms_lee', 'GET', '/api/audit', 403],
    ]);
    const raw = JSON.stringify(await trail());
    expect(raw).not.toContain('not-a-token-0123456789abcdef0123456');
    expect(raw).not.toContain(LEE);
  });

  it('records changes made with service and cron tokens (retention by cron included)', async () => {
    const student = `stu_${crypto.randomUUID().slice(0, 8)}`;
    const write = await app.request('/api/sessions/interactions', {
      method: 'POST',
      headers: { authorization: `Bearer ${SERVICE}`, 'content-type': 'application/json' },
      body: JSON.stringify({ student_id: student, function: 'f' }),
    });
    expect(write.status).toBe(200);
    const retention = await app.request('/api/cron/retention', { headers: { authorization: `Bearer ${CRON}` } });
    expect(retention.status).toBe(200);
    const entries = await trail();
    expect(entries.some((e) => e.actor === 'service' && e.method === 'POST' && e.path === '/api/sessions/interactions' && e.status === 200)).toBe(true);
    expect(entries.some((e) => e.actor === 'cron' && e.method === 'GET' && e.path === '/api/cron/retention' && e.status === 200)).toBe(true);
    const raw = JSON.stringify(entries);
    expect(raw).not.toContain(SERVICE);
    expect(raw).not.toContain(CRON);
  });

  it('records refused webhook credentials', async () => {
    const res = await app.request('/api/webhooks/vapi', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-vapi-secret': 'wrong-secret-0123456789abcdef012345' },
      body: JSON.stringify({ message: { type: 'speech-update' } }),
    });
    expect(res.status).toBe(401);
    const entries = await trail();
    expect(entries.some((e) => e.actor === 'anonymous' && e.method === 'POST' && e.path === '/api/webhooks/vapi' && e.status === 401)).toBe(true);
    expect(JSON.stringify(entries)).not.toContain('wrong-secret-0123456789abcdef012345');
  });

  it('never stores the values of parameters that look like secrets', async () => {
    const token = uniqueToken();
    const leaked = 'leaked-credential-0123456789abcdef0123';
    const q = `sessionToken=${token}&access_token=${leaked}&apiKey=${leaked}&client_secret=${leaked}&sig=${leaked}&eventType=action`;
    expect((await app.request(`/api/sessions?${q}`, { headers: admin })).status).toBe(200);
    expect((await app.request(`/api/sessions?${q}`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    const entries = await trail();
    const mine = entries.filter((e) => e.detail.query?.sessionToken === token);
    expect(mine.map((e) => [e.actor, e.status])).toEqual([
      ['admin', 200],
      ['anonymous', 401],
    ]);
    for (const e of mine) {
      expect(e.detail.query).toEqual({ sessionToken: token, access_token: '[redacted]', apiKey: '[redacted]', client_secret: '[redacted]', sig: '[redacted]', eventType: 'action' });
    }
    expect(JSON.stringify(entries)).not.toContain(leaked);
  });

  // A token sent where none belongs, under a name that does not look like a secret, or as a path
  // segment: the configured secrets are found by value. (Found by trying it as an attacker would.)
  it('never stores a configured secret, whatever the parameter is called or when it is part of the path', async () => {
    const mark = uniqueToken();
    expect((await app.request(`/api/stats?admin_token=${SERVICE}&t=${CRON}&q=${encodeURIComponent(LEE)}&mark=${mark}`)).status).toBe(401);
    expect((await app.request(`/api/sessions/${SERVICE}?mark=${mark}`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await app.request(`/api/sessions/${CRON}?mark=${mark}`, { headers: admin })).status).toBe(404);
    const mine = (await trail()).filter((e) => e.detail.query?.mark === mark);
    expect(mine.map((e) => [e.path, e.status, e.detail.query])).toEqual([
      ['/api/stats', 401, { admin_token: '[redacted]', t: '[redacted]', q: '[redacted]', mark }],
      ['/api/sessions/[redacted]', 401, { mark }],
      ['/api/sessions/[redacted]', 404, { mark }],
    ]);
    const stored = JSON.stringify(await trail());
    for (const secret of [SERVICE, CRON, LEE]) expect(stored).not.toContain(secret);

    // The failed-authentication log line names the path: the secret in it is redacted there too.
    const lines: string[] = [];
    const capture = (msg: string, fields?: Record<string, unknown>) => lines.push(`${msg} ${JSON.stringify(fields ?? {})}`);
    const logged = createApp({ ...deps, log: { info: capture, warn: capture, error: capture } }, allFamilies);
    expect((await logged.request(`/api/sessions/${SERVICE}`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    await deps.settle();
    expect(lines.join('\n')).toContain('"path":"/api/sessions/[redacted]"');
    expect(lines.join('\n')).not.toContain(SERVICE);
  });

  it('names that look like secrets, and names that do not', () => {
    for (const n of ['access_token', 'accessToken', 'token', 'id_token', 'api_key', 'x-api-key', 'secret', 'client_secret', 'password', 'signature', 'sig', 'Authorization', 'key', 'code']) {
      expect(isSecretParam(n), n).toBe(true);
    }
    for (const n of ['sessionToken', 'session_token', 'studentEmail', 'eventType', 'limit', 'before', 'keyword', 'monkey']) expect(isSecretParam(n), n).toBe(false);
  });
  it('names what a reader token does when it writes: a helped mark and a run analysis, in the 403 and in the trail', async () => {
    // Both routes take the reader tokens (they only add a line or an analysis); the default action,
    // "read", answered a service token's mark with "may not read" and audited the marks as reads.
    const token = uniqueToken('ws_audit');
    const posted = await app.request('/api/session-log', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionToken: token, eventType: 'action' }) });
    expect(posted.status).toBe(200);
    const service = { authorization: `Bearer ${SERVICE}` };
    const refused = [
      await app.request(`/api/attention/${token}/helped`, { method: 'POST', headers: service }),
      await app.request(`/api/attention/${token}/helped`, { method: 'DELETE', headers: service }),
      await app.request(`/api/sessions/${token}/analysis`, { method: 'POST', headers: service }),
    ];
    expect(await Promise.all(refused.map(async (r) => [r.status, ((await r.json()) as { detail: string }).detail]))).toEqual([
      [403, 'the service token may not mark students helped'],
      [403, 'the service token may not mark students helped'],
      [403, 'the service token may not run analyses'],
    ]);
    expect((await app.request(`/api/attention/${token}/helped`, { method: 'POST', headers: admin })).status).toBe(200);
    expect((await app.request(`/api/attention/${token}/helped`, { method: 'DELETE', headers: admin })).status).toBe(200);
    expect((await app.request(`/api/sessions/${token}/analysis`, { method: 'POST', headers: admin })).status).toBe(503); // analysis is off here
    const mine = (await trail()).filter((e) => e.path.includes(token));
    expect(mine.map((e) => [e.actor, e.action, e.method, e.status])).toEqual([
      ['service', 'mark students helped', 'POST', 403],
      ['service', 'mark students helped', 'DELETE', 403],
      ['service', 'run analyses', 'POST', 403],
      ['admin', 'mark students helped', 'POST', 200],
      ['admin', 'mark students helped', 'DELETE', 200],
      ['admin', 'run analyses', 'POST', 503],
    ]);
  });
});
