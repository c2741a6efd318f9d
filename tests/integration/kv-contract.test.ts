/**
 * The KV port's contract, the same cases against the in-memory adapter and against a real Redis
 * through the real @upstash/redis client (via the local REST bridge).
 */
import { Redis as IORedis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageUnavailableError } from '../../lib/errors.js';
import { createMemoryKv } from '../../lib/storage/kv-memory.js';
import { createUpstashKv } from '../../lib/storage/kv-upstash.js';
import { type Kv, withPrefix } from '../../lib/storage/kv.js';
import { startUpstashBridge } from '../helpers/upstash-bridge.js';
import { describeWithRedis, TEST_REDIS_URL } from '../helpers/servers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Does `key` (unprefixed, as the port sees it) still live `lo` ms from now and is it gone by `hi`?
 * The port has no TTL read (nothing in the app needs one), so each adapter's world answers this
 * from outside the port: Redis through PTTL, memory by moving its clock.
 */
type TtlProbe = (at: { kv: Kv; key: string; redisKey: string }, lo: number, hi: number) => Promise<boolean>;

function contract(make: () => Promise<{ kv: Kv; stop(): Promise<void>; ttlBetween: TtlProbe }>, unreachable?: () => Promise<Kv>) {
  let kv: Kv;
  let stop: () => Promise<void>;
  let ttlBetween: (key: string, lo: number, hi: number) => Promise<boolean>;
  // A fresh namespace per run: the real Redis is shared with other test files.
  const ns = `contract:${crypto.randomUUID()}:`;

  beforeAll(async () => {
    const made = await make();
    kv = withPrefix(made.kv, ns);
    stop = made.stop;
    ttlBetween = (key, lo, hi) => made.ttlBetween({ kv, key, redisKey: ns + key }, lo, hi);
  });
  afterAll(() => stop());

  it('get/set round-trips strings exactly (no JSON coercion)', async () => {
    expect(await kv.get('missing')).toBeNull();
    for (const v of ['123', '{"a":1}', 'true', 'ünï 🎓', '']) {
      expect(await kv.set('s', v)).toBe(true);
      expect(await kv.get('s')).toBe(v);
    }
  });

  it('set with nx only writes a missing key', async () => {
    expect(await kv.set('nx', 'first', { nx: true })).toBe(true);
    expect(await kv.set('nx', 'second', { nx: true })).toBe(false);
    expect(await kv.get('nx')).toBe('first');
  });

  it('ttl: a key set with a TTL expires, one without stays', async () => {
    await kv.set('ttl', 'v', { ttlMs: 150 });
    await kv.set('forever', 'v');
    await sleep(250);
    expect(await kv.get('ttl')).toBeNull();
    expect(await kv.get('forever')).toBe('v');
  });

  it('del removes keys and counts them', async () => {
    await kv.set('d1', 'a');
    await kv.set('d2', 'b');
    expect(await kv.del('d1', 'd2', 'd3')).toBe(2);
    expect(await kv.get('d1')).toBeNull();
  });

  it('sorted sets: add (through setActive), range by score with limit, remove', async () => {
    // now: 0 keeps every pointer alive for the timeout whatever its score, so each member is added.
    const add = (score: number, id: string) => kv.setActive({ key: `zp:${id}`, setKey: 'z', id, start: score, last: score, timeoutMs: 60_000, now: 0 });
    await add(30, 'c');
    await add(10, 'a');
    await add(20, 'b');
    await add(5, 'a'); // re-adding updates the score
    expect(await kv.zrangeByScore('z', 0, 25)).toEqual([
      { member: 'a', score: 5 },
      { member: 'b', score: 20 },
    ]);
    expect(await kv.zrangeByScore('z', 0, 100, 1)).toEqual([{ member: 'a', score: 5 }]);
    expect(await kv.zrem('z', 'a', 'zz')).toBe(1);
    expect((await kv.zrangeByScore('z', 0, 100)).map((m) => m.member)).toEqual(['b', 'c']);
  });

  it('prefixes isolate namespaces', async () => {
    const other = withPrefix(kv, 'other:');
    await kv.set('shared-name', 'mine');
    expect(await other.get('shared-name')).toBeNull();
  });

  it('ping answers', async () => {
    await expect(kv.ping()).resolves.toBeUndefined();
  });

  it('claimActive: starts, continues, widens and refuses out-of-order times atomically', async () => {
    const T = 600_000;
    const now = Date.now();
    const args = { key: 'ptr:a', setKey: 'active', timeoutMs: T, now };
    expect(await kv.claimActive({ ...args, candidate: 'S1', at: now })).toEqual({ id: 'S1', created: true });
    expect(await kv.claimActive({ ...args, candidate: 'S2', at: now + 60_000 })).toEqual({ id: 'S1', created: false });
    // An earlier time within the timeout widens the sitting to the left.
    expect(await kv.claimActive({ ...args, candidate: 'S3', at: now - 300_000 })).toEqual({ id: 'S1', created: false });
    // Before the sitting's start minus the timeout: not this sitting, ask Postgres.
    expect(await kv.claimActive({ ...args, candidate: 'S4', at: now - 300_000 - T - 1 })).toBeNull();
    // After its last activity plus the timeout: a new sitting.
    expect(await kv.claimActive({ ...args, candidate: 'S5', at: now + 60_000 + T + 1 })).toEqual({ id: 'S5', created: true });
    // The pointer lives T after the sitting's last activity (now + 60 s + T + 1).
    expect(await ttlBetween('ptr:a', T, 2 * T + 60_001)).toBe(true);
    expect((await kv.zrangeByScore('active', 0, Number.MAX_SAFE_INTEGER)).map((m) => m.member)).toContain('S5');
  });

  it('claimActive under 50 concurrent callers yields one created sitting', async () => {
    const now = Date.now();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => kv.claimActive({ key: 'ptr:race', setKey: 'active', candidate: `C${i}`, at: now, timeoutMs: 60_000, now })),
    );
    expect(results.filter((r) => r?.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r?.id)).size).toBe(1);
  });

  it('a sitting already past its timeout keeps no pointer', async () => {
    const now = Date.now();
    expect(await kv.claimActive({ key: 'ptr:old', setKey: 'active', candidate: 'OLD', at: now - 120_000, timeoutMs: 60_000, now })).toEqual({ id: 'OLD', created: true });
    expect(await kv.get('ptr:old')).toBeNull();
  });

  it('setActive points a student at a sitting; releaseActive only deletes its own pointer', async () => {
    const now = Date.now();
    await kv.setActive({ key: 'ptr:b', setKey: 'active', id: 'B1', start: now, last: now, timeoutMs: 60_000, now });
    expect(await kv.claimActive({ key: 'ptr:b', setKey: 'active', candidate: 'X', at: now + 1000, timeoutMs: 60_000, now })).toEqual({ id: 'B1', created: false });
    await kv.releaseActive({ key: 'ptr:b', setKey: 'active', id: 'OTHER' });
    expect(await kv.get('ptr:b')).not.toBeNull();
    await kv.releaseActive({ key: 'ptr:b', setKey: 'active', id: 'B1' });
    expect(await kv.get('ptr:b')).toBeNull();
    expect((await kv.zrangeByScore('active', 0, Number.MAX_SAFE_INTEGER)).map((m) => m.member)).not.toContain('B1');
  });

  if (unreachable) {
    it('an unreachable store surfaces as StorageUnavailableError', async () => {
      const down = await unreachable();
      await expect(down.get('x')).rejects.toBeInstanceOf(StorageUnavailableError);
      await expect(down.set('x', 'y')).rejects.toBeInstanceOf(StorageUnavailableError);
    });
  }
}

describe('KV contract: memory', () => {
  let shift = 0;
  contract(async () => ({
    kv: createMemoryKv(() => Date.now() + shift),
    stop: async () => {},
    // Move the clock: alive at +lo, gone at +hi (reading an expired key drops it, as Redis would).
    ttlBetween: async ({ kv, key }, lo, hi) => {
      try {
        shift = lo;
        const alive = (await kv.get(key)) !== null;
        shift = hi;
        const gone = (await kv.get(key)) === null;
        return alive && gone;
      } finally {
        shift = 0;
      }
    },
  }));
});

describeWithRedis('KV contract: @upstash/redis against real Redis (REST bridge)', () =>
  contract(
    async () => {
      const bridge = await startUpstashBridge({ redisUrl: TEST_REDIS_URL ?? '' });
      const redis = new IORedis(TEST_REDIS_URL ?? '', { lazyConnect: true, maxRetriesPerRequest: 1 });
      return {
        kv: createUpstashKv({ url: bridge.url, token: bridge.token }),
        stop: async () => {
          redis.disconnect();
          await bridge.close();
        },
        ttlBetween: async ({ redisKey }, lo, hi) => {
          const ttl = await redis.pttl(redisKey);
          return ttl > lo && ttl <= hi;
        },
      };
    },
    async () => {
      const bridge = await startUpstashBridge({ redisUrl: TEST_REDIS_URL ?? '' });
      await bridge.close();
      return createUpstashKv({ url: bridge.url, token: bridge.token });
    },
  ));

describeWithRedis('KV contract: a wrong Upstash token is "unavailable", not a crash', () => {
  let bridge: Awaited<ReturnType<typeof startUpstashBridge>>;
  beforeAll(async () => {
    bridge = await startUpstashBridge({ redisUrl: TEST_REDIS_URL ?? '' });
  });
  afterAll(() => bridge.close());
  it('rejects with StorageUnavailableError', async () => {
    const kv = createUpstashKv({ url: bridge.url, token: 'wrong-token' });
    await expect(kv.get('x')).rejects.toBeInstanceOf(StorageUnavailableError);
  });
});
