/** Rate limits on real Redis through @upstash/ratelimit (and the same rule in memory). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RateLimiter } from '../../lib/ratelimit/interface.js';
import { memoryRateLimiter } from '../../lib/ratelimit/memory.js';
import { upstashRateLimiter } from '../../lib/ratelimit/upstash.js';
import { createUpstashKv } from '../../lib/storage/kv-upstash.js';
import { describeWithRedis, TEST_REDIS_URL } from '../helpers/servers.js';
import { startUpstashBridge } from '../helpers/upstash-bridge.js';

function contract(make: () => RateLimiter) {
  it('allows `limit` requests per window per key, then refuses with a Retry-After, keys independent', async () => {
    const rl = make();
    const key = crypto.randomUUID();
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await rl.check('test', key, 3, 60_000));
    expect(results.map((r) => r.ok)).toEqual([true, true, true, false, false]);
    expect(results[3]?.retryAfter).toBeGreaterThan(0);
    expect(results[3]?.retryAfter).toBeLessThanOrEqual(60);
    expect((await rl.check('test', crypto.randomUUID(), 3, 60_000)).ok).toBe(true);
    expect((await rl.check('other-bucket', key, 3, 60_000)).ok).toBe(true);
  });

  it('charges `cost` units per call: a batch overdrawing the budget is refused and the key stays refused', async () => {
    const rl = make();
    const key = crypto.randomUUID();
    expect((await rl.check('cost', key, 10, 60_000, 8)).ok).toBe(true);
    expect((await rl.check('cost', key, 10, 60_000, 5)).ok).toBe(false); // 8 + 5 > 10
    expect((await rl.check('cost', key, 10, 60_000, 1)).ok).toBe(false); // the overdraw was charged
    const fresh = crypto.randomUUID();
    expect((await rl.check('cost', fresh, 10, 60_000, 10)).ok).toBe(true); // exactly the budget
    expect((await rl.check('cost', fresh, 10, 60_000)).ok).toBe(false);
  });

  it('peek answers whether budget is left without charging', async () => {
    const rl = make();
    const key = crypto.randomUUID();
    for (let i = 0; i < 3; i++) expect((await rl.peek('peek', key, 2, 60_000)).ok).toBe(true);
    expect((await rl.check('peek', key, 2, 60_000)).ok).toBe(true);
    expect((await rl.peek('peek', key, 2, 60_000)).ok).toBe(true);
    expect((await rl.check('peek', key, 2, 60_000)).ok).toBe(true);
    const over = await rl.peek('peek', key, 2, 60_000);
    expect(over.ok).toBe(false);
    expect(over.retryAfter).toBeGreaterThan(0);
  });
}

describe('rate limits: memory', () => contract(() => memoryRateLimiter()));

describeWithRedis('rate limits: @upstash/ratelimit on real Redis', () => {
  let bridge: Awaited<ReturnType<typeof startUpstashBridge>>;
  beforeAll(async () => {
    bridge = await startUpstashBridge({ redisUrl: TEST_REDIS_URL ?? '' });
  });
  afterAll(() => bridge.close());
  contract(() => upstashRateLimiter(createUpstashKv({ url: bridge.url, token: bridge.token }).client, `rl-test:${crypto.randomUUID()}:`));

  it('shares the count between instances (two limiters, one Redis)', async () => {
    const prefix = `rl-test:${crypto.randomUUID()}:`;
    const a = upstashRateLimiter(createUpstashKv({ url: bridge.url, token: bridge.token }).client, prefix);
    const b = upstashRateLimiter(createUpstashKv({ url: bridge.url, token: bridge.token }).client, prefix);
    const key = crypto.randomUUID();
    expect((await a.check('shared', key, 2, 60_000)).ok).toBe(true);
    expect((await b.check('shared', key, 2, 60_000)).ok).toBe(true);
    expect((await a.check('shared', key, 2, 60_000)).ok).toBe(false);
  });
});
