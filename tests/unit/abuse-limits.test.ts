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
