/**
 * Abuse limits that hold (issue 12): the per-session-token limit charges every token in a batch by
 * its events, the client address behind a trusted proxy is the one the proxy appended, and failed
 * authentication is limited per address.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { addressKey } from '../../lib/http/ratelimit.js';
import { memoryRateLimiter } from '../../lib/ratelimit/memory.js';
import type { Sql } from '../../lib/storage/sql.js';
import { makeDeps, memoryPglite, testConfig, uniqueToken } from '../helpers/deps.js';

let sql: Sql;
beforeAll(async () => {
  sql = await memoryPglite();
});
afterAll(() => sql.close());

const stored = async (token: string) =>
  Number((await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE session_token = $1', [token]))[0]?.n);

describe('per-session-token limit', () => {
  it('charges every token in a batch by its events: 120 batches of 49 no longer put 5,880 events on a victim', async () => {
    const t = Date.parse('2026-08-01T12:00:30Z');
    const app = createApp(
      makeDeps({ sql, config: testConfig({ RATE_LIMITS: 'on', RATE_LIMIT_INGEST_TOKEN: '600', RATE_LIMIT_INGEST_IP: '100000' }), rateLimiter: memoryRateLimiter(() => t) }),
      allFamilies,
    );
    const victim = uniqueToken('victim');
    const statuses: number[] = [];
    for (let i = 0; i < 120; i++) {
      // The attack that used to pass: a fresh decoy token first, 49 events on the victim after it.
      const events = [{ sessionToken: uniqueToken('decoy'), eventType: 'action' }, ...Array.from({ length: 49 }, () => ({ sessionToken: victim, eventType: 'action' }))];
      const res = await app.request('/api/session-log', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events }) });
      statuses.push(res.status);
    }
    const onVictim = await stored(victim);
    expect(onVictim).toBeLessThanOrEqual(600);
    expect(onVictim).toBe(12 * 49); // 12 batches fit in 600 events; the 13th overdraws
    expect(statuses.slice(0, 12)).toEqual(Array(12).fill(200));
    expect(statuses.slice(12).every((s) => s === 429)).toBe(true);

    // The default token of an envelope is charged the same way, and other tokens are not affected.
    const other = uniqueToken();
    const res = await app.request('/api/session-log', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sessionToken: other, events: Array.from({ length: 49 }, () => ({ eventType: 'action' })) }),
    });
    expect(res.status).toBe(200);
    expect(await stored(other)).toBe(49);
  });

  it('a single batch larger than what is left of the budget is refused whole', async () => {
    const t = Date.parse('2026-08-01T12:00:30Z');
    const app = createApp(makeDeps({ sql, config: testConfig({ RATE_LIMITS: 'on', RATE_LIMIT_INGEST_TOKEN: '10' }), rateLimiter: memoryRateLimiter(() => t) }), allFamilies);
    const token = uniqueToken();
    const post = (n: number) =>
      app.request('/api/session-log', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionToken: token, events: Array.from({ length: n }, () => ({ eventType: 'action' })) }) });
    expect((await post(8)).status).toBe(200);
    const res = await post(5);
    expect(res.status).toBe(429);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await stored(token)).toBe(8);
  });
});

describe('a session the page did not open', () => {
  it("refused posts without its writeToken do not spend the budget of the page that has it (anyone who guessed the id could lock the sitting's page out)", async () => {
    const t = Date.parse('2026-08-01T12:00:30Z');
    const service = { authorization: 'Bearer svc-abuse-limits-test-0123456789' };
    const app = createApp(
      makeDeps({
        sql,
        config: testConfig({ RATE_LIMITS: 'on', RATE_LIMIT_INGEST_TOKEN: '20', RATE_LIMIT_INGEST_IP: '100000', SERVICE_TOKEN: service.authorization.slice(7) }),
        rateLimiter: memoryRateLimiter(() => t),
      }),
      allFamilies,
    );
    const post = (body: unknown, headers: Record<string, string> = {}, path = '/api/session-log') =>
      app.request(path, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const opened = await post({ student_id: uniqueToken('leo'), function: 'start_quiz', subject: 'Math' }, service, '/api/sessions/interactions');
    const { session_id: id, write_token: writeToken } = (await opened.json()) as { session_id: string; write_token: string };
    const attempts = (n: number, extra: Record<string, unknown> = {}) => ({ sessionToken: id, ...extra, events: Array.from({ length: n }, () => ({ eventType: 'attempt', eventData: { correct: true } })) });
    const before = await stored(id);
    // The attacker's posts: refused (403), then over the budget of posts without the token (429).
    expect((await post(attempts(20))).status).toBe(403);
    expect((await post(attempts(1))).status).toBe(429);
    // The page with the token still has its own budget, and it is limited too.
    expect((await post(attempts(15, { writeToken }))).status).toBe(200);
    expect((await post(attempts(6, { writeToken }))).status).toBe(429);
    expect(await stored(id)).toBe(before + 15);
  });
});

describe('per-address event limit', () => {
  it('500-event batches on fresh tokens: the address is charged by events, not requests (the write-path audit made 10,000 sessions in 4 s)', async () => {
    const t = Date.parse('2026-08-01T12:00:30Z');
    const config = testConfig({ RATE_LIMITS: 'on', RATE_LIMIT_INGEST_IP: '100000', RATE_LIMIT_INGEST_IP_EVENTS: '1200', TRUST_PROXY: 'true' });
    const app = createApp(makeDeps({ sql, config, rateLimiter: memoryRateLimiter(() => t) }), allFamilies);
    const tag = uniqueToken('flood');
    const batch = (i: number, ip = '203.0.113.50') =>
      app.request('/api/session-log', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
        body: JSON.stringify({ events: Array.from({ length: 500 }, (_, j) => ({ sessionToken: `${tag}_${i}_${j}`, eventType: 'action' })) }),
      });
    expect([(await batch(0)).status, (await batch(1)).status, (await batch(2)).status, (await batch(3)).status]).toEqual([200, 200, 429, 429]);
    const n = Number((await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE session_token LIKE $1', [`${tag}_%`]))[0]?.n);
    expect(n).toBe(1000);
    // Another address has its own budget.
    expect((await batch(4, '203.0.113.51')).status).toBe(200);
  });

  it('IPv6 addresses count by their /64 (one host rotating through its block gets one budget); IPv4-mapped ones as IPv4', () => {
    expect(addressKey('2001:db8:85a3:12:0:8a2e:370:7334')).toBe('2001:db8:85a3:12::/64');
    expect(addressKey('2001:db8:85a3:12::1')).toBe(addressKey('2001:0db8:85a3:0012:ffff:ffff:ffff:fffe'));
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('unknown')).toBe('unknown');
    expect(addressKey('2001:db8:1:2::')).not.toBe(addressKey('2001:db8:1:3::'));
  });

  it('a client rotating IPv6 addresses within its /64 shares one request budget', async () => {
    const t = Date.parse('2026-08-01T12:00:30Z');
    const app = createApp(makeDeps({ sql, config: testConfig({ RATE_LIMITS: 'on', RATE_LIMIT_INGEST_IP: '3', TRUST_PROXY: 'true' }), rateLimiter: memoryRateLimiter(() => t) }), allFamilies);
    const statuses: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const res = await app.request('/api/session-log', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': `2001:db8:aa:bb::${i.toString(16)}` },
        body: JSON.stringify({ sessionToken: uniqueToken(), eventType: 'action' }),
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });
});

describe('client address behind a trusted proxy', () => {
  const limitedApp = (env: Record<string, string>, tweak: (c: ReturnType<typeof testConfig>) => ReturnType<typeof testConfig> = (c) => c) => {
    const t = Date.parse('2026-08-01T12:00:30Z');
    const config = tweak(testConfig({ RATE_LIMITS: 'on', RATE_LIMIT_INGEST_IP: '3', TRUST_PROXY: 'true', ...env }));
    return createApp(makeDeps({ sql, config, rateLimiter: memoryRateLimiter(() => t) }), allFamilies);
  };
  const post = (app: ReturnType<typeof createApp>, headers: Record<string, string>) =>
    app.request('/api/session-log', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ sessionToken: uniqueToken(), eventType: 'action' }) });

  it('a client sending its own X-Forwarded-For / X-Real-IP gets no fresh address per request', async () => {
    const app = limitedApp({});
    const statuses: number[] = [];
    // The proxy appends the address it saw (203.0.113.7); what the client wrote is to its left.
    for (let i = 0; i < 6; i++) statuses.push((await post(app, { 'x-forwarded-for': `198.51.100.${i}, 203.0.113.7`, 'x-real-ip': `192.0.2.${i}` })).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
    // Another real client behind the same proxy has its own budget.
    expect((await post(app, { 'x-forwarded-for': '198.51.100.1, 203.0.113.8' })).status).toBe(200);
  });

  it('with TRUST_PROXY_HOPS=2 the address is the second from the right; a shorter header is not trusted', async () => {
    const app = limitedApp({ TRUST_PROXY_HOPS: '2' });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(app, { 'x-forwarded-for': `198.51.100.${i}, 203.0.113.9, 10.0.0.1` })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect((await post(app, { 'x-forwarded-for': '203.0.113.10, 10.0.0.1' })).status).toBe(200); // a different client
    // One entry cannot have passed two proxies: it falls back to the connection (here "unknown", one bucket).
    const single: number[] = [];
    for (let i = 0; i < 4; i++) single.push((await post(app, { 'x-forwarded-for': `198.51.100.${50 + i}` })).status);
    expect(single).toEqual([200, 200, 200, 429]);
  });

  it("on Vercel the platform's own client-IP header wins over X-Forwarded-For", async () => {
    const app = limitedApp({}, (c) => ({ ...c, rateLimits: { ...c.rateLimits, platformIpHeader: 'x-vercel-forwarded-for' } }));
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(app, { 'x-vercel-forwarded-for': '203.0.113.20', 'x-forwarded-for': `198.51.100.${i}` })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect((await post(app, { 'x-forwarded-for': '203.0.113.21' })).status).toBe(200); // without it: the rightmost XFF
  });
});

describe('failed authentication', () => {
  const SERVICE = 'svc-token-0123456789abcdef0123456789';
  const VAPI = 'vapi-secret-0123456789abcdef01234567';
  const setup = () => {
    const t = Date.parse('2026-08-01T12:00:30Z');
    const deps = makeDeps({
      sql,
      config: testConfig({ RATE_LIMITS: 'on', RATE_LIMIT_AUTH_FAIL_IP: '30', TRUST_PROXY: 'true', SERVICE_TOKEN: SERVICE, VAPI_WEBHOOK_SECRET: VAPI }),
      rateLimiter: memoryRateLimiter(() => t),
    });
    const logged: Array<{ msg: string; fields?: Record<string, unknown> }> = [];
    deps.log = { info: () => {}, error: () => {}, warn: (msg, fields) => logged.push(fields ? { msg, fields } : { msg }) };
    return { app: createApp(deps, allFamilies), logged };
  };
  const read = (app: ReturnType<typeof createApp>, token: string, ip: string) =>
    app.request('/api/sessions', { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': ip } });

  it('1,500 wrong bearer tokens from one address: 30 answered 401, the rest 429, each failure logged without the token', async () => {
    const { app, logged } = setup();
    const statuses: number[] = [];
    for (let i = 0; i < 1500; i += 100) {
      const batch = await Promise.all(Array.from({ length: 100 }, (_, j) => read(app, `wrong-token-${i + j}-0123456789abcdef0123`, '198.51.100.66')));
      statuses.push(...batch.map((r) => r.status));
    }
    expect(statuses.filter((s) => s === 401)).toHaveLength(30);
    expect(statuses.filter((s) => s === 429)).toHaveLength(1470);
    const failures = logged.filter((l) => l.msg === 'failed authentication');
    expect(failures).toHaveLength(30);
    // The first burst of 100 was judged concurrently (the check before the credential saw budget
    // left for all of them); after it, refused attempts are neither judged nor logged.
    const limited = logged.filter((l) => l.msg === 'failed authentication: address now rate limited');
    expect(limited.length).toBeGreaterThanOrEqual(1);
    expect(limited.length).toBeLessThanOrEqual(70);
    expect(failures[0]?.fields).toMatchObject({ ip: '198.51.100.66', method: 'GET', path: '/api/sessions', reason: 'unknown bearer token' });
    expect(JSON.stringify(logged)).not.toContain('wrong-token-');

    // Decision: once over, the address is refused before any token is judged, the right one
    // included; otherwise a guesser would still learn which guess was right (200 vs 429).
    const right = await read(app, SERVICE, '198.51.100.66');
    expect(right.status).toBe(429);
    expect(right.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
    // Other addresses are not affected, and successes are never charged.
    for (let i = 0; i < 40; i++) expect((await read(app, SERVICE, '198.51.100.67')).status).not.toBe(429);
    expect((await read(app, 'wrong', '198.51.100.67')).status).toBe(401);
  });

  it('refused webhook credentials count the same way', async () => {
    const { app } = setup();
    const hook = (secret: string) =>
      app.request('/api/webhooks/vapi', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-vapi-secret': secret, 'x-forwarded-for': '198.51.100.77' },
        body: JSON.stringify({ message: { type: 'speech-update' } }),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 32; i++) statuses.push((await hook(`bad-secret-${i}`)).status);
    expect(statuses.slice(0, 30)).toEqual(Array(30).fill(401));
    expect(statuses.slice(30)).toEqual([429, 429]);
    expect((await hook(VAPI)).status).toBe(429);
    // The bearer routes share the budget of the address.
    expect((await read(app, SERVICE, '198.51.100.77')).status).toBe(429);
  });
});
