import { Redis } from '@upstash/redis/cloudflare';
import { StorageUnavailableError } from '../errors.js';
import type { Kv } from './kv.js';

export interface UpstashOptions {
  url: string;
  token: string;
}

/**
 * Upstash Redis over its REST API (what Vercel's KV integration provisions). We import the
 * fetch-only build so the same adapter runs on Node, Vercel and edge workers. The client holds no
 * connection, so one per process is fine.
 */
export function createUpstashKv(opts: UpstashOptions): Kv & { readonly client: Redis } {
  const client = new Redis({
    url: opts.url,
    token: opts.token,
    // Values are plain strings we encode ourselves; auto-JSON would turn "123" into 123.
    automaticDeserialization: false,
    // KV is optional hot state: fail fast and let callers degrade to Postgres instead of waiting
    // through the default five retries (~4 s) when Redis is down.
    retry: { retries: 1, backoff: () => 50 },
    enableTelemetry: false,
  });

  const guard = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      // A Redis-level error (WRONGTYPE, NOSCRIPT, ERR ...) arrives as an UpstashError carrying the
      // server's message. A failed fetch is a plain TypeError/Error, and an unreachable Redis
      // behind the REST endpoint is an UpstashError saying so: both mean "KV unavailable".
      // (The message also quotes the command and its arguments, so match only known prefixes.)
      const message = err instanceof Error ? err.message : '';
      const upstash = err instanceof Error && err.name === 'UpstashError';
      if (upstash && !/^(Service Unavailable|Unauthorized|Server error)/i.test(message)) throw err;
      throw new StorageUnavailableError('kv', 'request failed', err);
    }
  };

  return {
    driver: 'upstash',
    client,
    get: (key) => guard(async () => ((await client.get<string>(key)) ?? null)),
    set: (key, value, o = {}) =>
      guard(async () => {
        const base = o.ttlMs ? { px: o.ttlMs } : {};
        const res = o.nx ? await client.set(key, value, { ...base, nx: true }) : await client.set(key, value, base);
        return res === 'OK';
      }),
    del: (...keys) => guard(() => (keys.length ? client.del(...keys) : Promise.resolve(0))),
    incr: (key, ttlMs) =>
      guard(async () => {
        if (!ttlMs) return client.incr(key);
        // INCR then PEXPIRE NX in one script: the window starts with the first hit, atomically.
        const n = await client.eval<[string], number>(
          "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return n",
          [key],
          [String(ttlMs)],
        );
        return Number(n);
      }),
    pttl: (key) => guard(() => client.pttl(key)),
    zadd: (key, score, member) =>
      guard(async () => {
        await client.zadd(key, { score, member });
      }),
    zrem: (key, ...members) => guard(() => (members.length ? client.zrem(key, ...members) : Promise.resolve(0))),
    zrangeByScore: (key, min, max, limit) =>
      guard(async () => {
        const flat = (
          limit === undefined
            ? await client.zrange(key, min, max, { byScore: true, withScores: true })
            : await client.zrange(key, min, max, { byScore: true, withScores: true, offset: 0, count: limit })
        ) as Array<string | number>;
        const out: Array<{ member: string; score: number }> = [];
        for (let i = 0; i + 1 < flat.length; i += 2) out.push({ member: String(flat[i]), score: Number(flat[i + 1]) });
        return out;
      }),
    ping: () =>
      guard(async () => {
        await client.ping();
      }),
  };
}
