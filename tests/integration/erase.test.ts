/** Erasure on real PostgreSQL and real Redis (through the Upstash client): every platform's call links go. */
import { afterAll, beforeAll, it } from 'vitest';
import { loadMigrations } from '../../lib/node/migrations.js';
import { createUpstashKv } from '../../lib/storage/kv-upstash.js';
import { withPrefix } from '../../lib/storage/kv.js';
import { migrate } from '../../lib/storage/migrate.js';
import { createPgSql } from '../../lib/storage/sql-pg.js';
import type { Sql } from '../../lib/storage/sql.js';
import { erasesEveryCallLink } from '../helpers/erase-call-links.js';
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
});
