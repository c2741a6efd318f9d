/**
 * Abuse limits that hold (issue 12): the per-session-token limit charges every token in a batch by
 * its events, the client address behind a trusted proxy is the one the proxy appended, and failed
 * authentication is limited per address.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
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
