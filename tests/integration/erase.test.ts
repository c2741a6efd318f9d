/**
 * Erasure on real PostgreSQL and real Redis (through the Upstash client): every platform's call
 * links go, and nothing naming the student is left in any table or under the test's KV prefix.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, it } from 'vitest';
import { loadMigrations } from '../../lib/node/migrations.js';
import { createUpstashKv } from '../../lib/storage/kv-upstash.js';
import { withPrefix } from '../../lib/storage/kv.js';
import { migrate } from '../../lib/storage/migrate.js';
import { createPgSql } from '../../lib/storage/sql-pg.js';
import type { Sql } from '../../lib/storage/sql.js';
import { erasesEveryCallLink } from '../helpers/erase-call-links.js';
import { erasesEveryTrace } from '../helpers/erase-everywhere.js';
import { describeWithBoth, TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/servers.js';
import { startUpstashBridge, type UpstashBridge } from '../helpers/upstash-bridge.js';

describeWithBoth('erasure: real PostgreSQL + real Redis', () => {
  let sql: Sql;
  let bridge: UpstashBridge;
  beforeAll(async () => {
    sql = createPgSql({ connectionString: TEST_DATABASE_URL ?? '', max: 5 });
    await migrate(sql, await loadMigrations());
    bridge = await startUpstashBridge({ redisUrl: TEST_REDIS_URL ?? '' });
  });
  afterAll(async () => {
    await bridge.close();
    await sql.close();
  });

  it('clears the cached call links of every platform (a Vapi call and a session-data call)', async () => {
    await erasesEveryCallLink(sql, withPrefix(createUpstashKv({ url: bridge.url, token: bridge.token }), `erase-test:${crypto.randomUUID()}:`));
  });

  it('leaves their id, email, name and phone in no row of any table and no Redis key, value or member', async () => {
    const prefix = `erase-all:${crypto.randomUUID()}:`;
    const redis = new Redis(TEST_REDIS_URL ?? '');
    // Every key under this test's prefix, its value (strings) or members (sorted sets), read straight from Redis.
    const dump = async () => {
      const out: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        cursor = next;
        for (const key of keys) {
          const type = await redis.type(key);
          out.push(key, ...(type === 'zset' ? await redis.zrange(key, 0, -1) : type === 'string' ? [(await redis.get(key)) ?? ''] : [type]));
        }
      } while (cursor !== '0');
      return out;
    };
    try {
      await erasesEveryTrace(sql, withPrefix(createUpstashKv({ url: bridge.url, token: bridge.token }), prefix), dump);
    } finally {
      redis.disconnect();
    }
  }, 60_000);
});
