/**
 * BENCH_KV=upstash: the server talks to Upstash's REST API, served locally by the test bridge
 * (tests/helpers/upstash-bridge.ts) on top of a real Redis, so KV round trips cost what an HTTP
 * KV costs. The bridge runs inside this process, so its CPU shows as "bench". Keys get a prefix
 * unique to the run and are deleted at the end (the active-sessions set has no TTL).
 */
import { Redis as IORedis } from 'ioredis';
import { startUpstashBridge } from '../tests/helpers/upstash-bridge.js';

export interface BenchKv {
  /** Server environment selecting this KV. */
  env: Record<string, string>;
  name: string;
  close(): Promise<void>;
}

export async function upstashKv(redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'): Promise<BenchKv> {
  const bridge = await startUpstashBridge({ redisUrl });
  const prefix = `slbench:${Date.now().toString(36)}:`;
  return {
    env: { KV_REST_API_URL: bridge.url, KV_REST_API_TOKEN: bridge.token, KV_PREFIX: prefix },
    name: 'Upstash REST (a local bridge to Redis)',
    async close() {
      await bridge.close();
      const redis = new IORedis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await redis.connect();
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          if (keys.length) await redis.del(...keys);
          cursor = next;
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
    },
  };
}
