/** Scoped tokens, the audit trail, rate limits, security headers and body limits. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_SCRIPTS, createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { memoryRateLimiter } from '../../lib/ratelimit/memory.js';
import { erasureHash } from '../../lib/lifecycle/erasure-hash.js';
import { sha256Hex } from '../../lib/util/stable-uuid.js';
import type { Sql } from '../../lib/storage/sql.js';
import { ADMIN_TOKEN, admin, makeDeps, memoryPglite, testConfig, uniqueToken } from '../helpers/deps.js';

let sql: Sql;
const now = new Date('2026-08-01T10:00:00Z');
const env = {
  INSTRUCTOR_TOKENS: 'ms_lee:instr-token-lee-1234, mr_kay:instr-token-kay-5678',
  SERVICE_TOKEN: 'svc-token-123',
  CRON_SECRET: 'cron-secret-123',
};
const lee = { authorization: 'Bearer instr-token-lee-1234' };
const service = { authorization: 'Bearer svc-token-123' };
let app: ReturnType<typeof createApp>;
let deps: ReturnType<typeof makeDeps>;

beforeAll(async () => {
  sql = await memoryPglite();
  deps = makeDeps({ sql, config: testConfig(env), now: () => now });
  app = createApp(deps, allFamilies);
});
afterAll(() => sql.close());

const json = (method: string, path: string, headers: Record<string, string>, body?: unknown) =>
  app.request(path, { method, headers: { ...headers, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

describe('scoped tokens', () => {
  it('instructors read; only admins delete or reconfigure; a known token of the wrong role is 403', async () => {
    const student = `stu_${crypto.randomUUID().slice(0, 8)}`;
    const { session_id } = (await (await json('POST', '/api/sessions/interactions', service, { student_id: student, function: 'f' })).json()) as { session_id: string };
    for (const path of ['/api/session-log', '/api/session-log/stats', '/api/sessions', '/api/sessions/active', `/api/sessions/${session_id}`, `/api/sessions/${session_id}/events`, '/api/stats']) {
      expect((await app.request(path, { headers: lee })).status, path).toBe(200);
    }
    const forbidden = [
      ['PUT', `/api/students/${student}`, { name: 'X' }],
      ['DELETE', `/api/students/${student}`, undefined],
      ['POST', `/api/sessions/${session_id}/assign`, { student_id: 'someone' }],
      ['POST', '/api/sessions/interactions', { student_id: student, function: 'f' }],
      ['GET', '/api/audit', undefined],
      ['POST', '/api/cron/sweep', undefined],
    ] as const;
    for (const [method, path, body] of forbidden) {
      const res = await json(method, path, lee, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(((await res.json()) as { code: string }).code).toBe('FORBIDDEN');
    }
    expect((await app.request('/api/session-log', { headers: { authorization: 'Bearer instr-token-lee-12345' } })).status).toBe(401);
    expect((await app.request('/api/session-log', { headers: { authorization: 'Bearer ms_lee' } })).status).toBe(401);
  });
});

describe('audit trail', () => {
  it('records who read and deleted what, by token id (never the token), redacting an erased student', async () => {
    const email = `${uniqueToken('erase')}@example.com`.toLowerCase();
    const token = uniqueToken();
    await json('POST', '/api/session-log', {}, { sessionToken: token, studentEmail: email, eventType: 'error', eventData: { errorMessage: 'x' } });
    await app.request(`/api/session-log?studentEmail=${encodeURIComponent(email)}`, { headers: lee });
    await app.request(`/api/session-log?sessionToken=${token}`, { headers: admin });
    await deps.settle();
    const page = (await (await app.request('/api/audit?limit=50', { headers: admin })).json()) as {
      entries: Array<{ actor: string; action: string; method: string; path: string; status: number; detail: { query?: Record<string, string> } }>;
    };
    const mine = page.entries.filter((e) => e.detail.query?.sessionToken === token || e.detail.query?.studentEmail === email);
    expect(mine.map((e) => [e.actor, e.method, e.path, e.status])).toEqual([
      ['admin', 'GET', '/api/session-log', 200],
      ['instructor:ms_lee', 'GET', '/api/session-log', 200],
    ]);
    const raw = JSON.stringify(page);
    expect(raw).not.toContain('instr-token-lee-1234');
    expect(raw).not.toContain(ADMIN_TOKEN);

    const erased = await json('DELETE', `/api/students/${encodeURIComponent(email)}`, admin);
    expect(erased.status).toBe(200);
    await deps.settle();
    const after = JSON.stringify(await (await app.request('/api/audit?limit=100', { headers: admin })).json());
    expect(after).not.toContain(email);
    expect(after).not.toContain(encodeURIComponent(email));
    // Keyed (HMAC with a key derived from the admin token): guessing the id and hashing it confirms nothing.
    const keyed = await erasureHash(ADMIN_TOKEN, email);
    expect(keyed).toMatch(/^hmac:[0-9a-f]{32}$/);
    expect(after).toContain(`"method":"DELETE","path":"/api/students/${keyed}"`);
    expect(after).not.toContain((await sha256Hex(email)).slice(0, 16));
    expect(await erasureHash('another-admin-token-0123456789abcdef', email)).not.toBe(keyed);
  });
});

describe('rate limits', () => {
  it('429 with Retry-After past the per-IP and per-token ingestion limits, and on webhooks', async () => {
    let t = Date.parse('2026-08-01T12:00:00Z');
    const limited = createApp(
      makeDeps({
        sql,
        config: testConfig({ RATE_LIMITS: 'on', RATE_LIMIT_INGEST_IP: '5', RATE_LIMIT_INGEST_TOKEN: '3', RATE_LIMIT_WEBHOOK_IP: '2', TRUST_PROXY: 'true' }),
        rateLimiter: memoryRateLimiter(() => t),
      }),
      allFamilies,
    );
    const post = (token: string, ip: string) =>
      limited.request('/api/session-log', { method: 'POST', headers: { 'x-forwarded-for': ip }, body: JSON.stringify({ sessionToken: token, eventType: 'action' }) });
    const a = uniqueToken();
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(a, '10.0.0.1')).status);
    expect(statuses).toEqual([200, 200, 200, 429]); // per token: 3
    const res = await post(a, '10.0.0.2');
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect((await post(uniqueToken(), '10.0.0.1')).status).toBe(200); // IP 10.0.0.1: 5th request
    expect((await post(uniqueToken(), '10.0.0.1')).status).toBe(429); // per IP: 5
    expect((await post(uniqueToken(), '10.0.0.3')).status).toBe(200); // other IPs are not affected
    t += 2 * 60_000; // two windows later everything is allowed again
    expect((await post(a, '10.0.0.1')).status).toBe(200);

    const hook = () => limited.request('/api/webhooks/vapi', { method: 'POST', headers: { 'x-forwarded-for': '10.9.9.9' }, body: JSON.stringify({ message: { type: 'speech-update' } }) });
    expect([(await hook()).status, (await hook()).status, (await hook()).status]).toEqual([200, 200, 429]);
  });
});

describe('headers and limits', () => {
  it('pages get a strict CSP and may not be framed; API answers are not cached', async () => {
    const { startTestServer } = await import('../helpers/http-server.js');
    const server = await startTestServer({ sql });
    try {
      const page = await fetch(`${server.url}/dashboard/`);
      const csp = page.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain("frame-ancestors 'none'");
      expect(page.headers.get('x-frame-options')).toBe('DENY');
      const api = await fetch(`${server.url}/api/health`);
      expect(api.headers.get('cache-control')).toBe('no-store');
      expect(api.headers.get('x-content-type-options')).toBe('nosniff');
    } finally {
      await server.stop();
    }
  });

  it("the logging client's files are cached briefly and revalidated by ETag (304), with their CORS and CORP headers either way", async () => {
    const { startTestServer, PUBLIC_DIR } = await import('../helpers/http-server.js');
    const server = await startTestServer({ sql });
    try {
      for (const file of CLIENT_SCRIPTS) {
        const first = await fetch(`${server.url}${file}`);
        expect(first.status, file).toBe(200);
        const bytes = Buffer.from(await first.arrayBuffer());
        expect(bytes.equals(readFileSync(join(PUBLIC_DIR, file))), file).toBe(true);
        expect(first.headers.get('content-type'), file).toBe('text/javascript; charset=utf-8');
        const etag = first.headers.get('etag') ?? '';
        // Strong, and of the bytes: the same file gives the same tag on every server and checkout.
        expect(etag, file).toBe(`"${createHash('sha256').update(bytes).digest('base64url')}"`);
        expectClientScriptHeaders(first, file);

        const again = await fetch(`${server.url}${file}`, { headers: { 'if-none-match': etag } });
        expect(again.status, file).toBe(304);
        expect(await again.text(), file).toBe('');
        expect(again.headers.get('etag'), file).toBe(etag);
        expectClientScriptHeaders(again, file);
        // A browser holding a weak copy of the tag, or several tags, is answered the same.
        expect((await fetch(`${server.url}${file}`, { headers: { 'if-none-match': `"old", W/${etag}` } })).status, file).toBe(304);

        const stale = await fetch(`${server.url}${file}`, { headers: { 'if-none-match': '"an-older-deploy"' } });
        expect(stale.status, file).toBe(200);
        expect(Buffer.from(await stale.arrayBuffer()).equals(bytes), file).toBe(true);
        expectClientScriptHeaders(stale, file);

        const head = await fetch(`${server.url}${file}`, { method: 'HEAD' });
        expect([head.status, head.headers.get('etag'), head.headers.get('content-length')], file).toEqual([200, etag, String(bytes.length)]);
      }
    } finally {
      await server.stop();
    }
  });

  it('every JSON endpoint has a body limit (413)', async () => {
    const big = JSON.stringify({ participant: 'p', metadata: { blob: 'x'.repeat(300 * 1024) } });
    expect((await app.request('/api/sessions', { method: 'POST', headers: { ...service, 'content-type': 'application/json' }, body: big })).status).toBe(413);
    expect((await app.request('/api/sessions/interactions', { method: 'POST', headers: { ...service, 'content-type': 'application/json' }, body: big })).status).toBe(413);
    expect((await app.request('/api/students/x', { method: 'PUT', headers: { ...admin, 'content-type': 'application/json' }, body: big })).status).toBe(413);
  });
});

/** Short-lived public caching, and the headers that let pages on any origin (and COEP pages) load the file. */
function expectClientScriptHeaders(res: Response, file: string) {
  expect(res.headers.get('cache-control'), file).toBe('public, max-age=300');
  expect(res.headers.get('access-control-allow-origin'), file).toBe('*');
  expect(res.headers.get('cross-origin-resource-policy'), file).toBe('cross-origin');
}
