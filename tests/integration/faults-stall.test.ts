/**
 * Postgres that stops answering instead of refusing (a network partition, a frozen server): the
 * proxy black-holes the traffic (tcp-proxy.ts `stall()`), nothing is ever reset, so only the app's
 * own timeouts can turn the outage into a 503. Each test builds its own pool so the number of idle
 * pooled connections at the moment of the stall is known.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { loadMigrations } from '../../lib/node/migrations.js';
import { migrate } from '../../lib/storage/migrate.js';
import { createPgSql } from '../../lib/storage/sql-pg.js';
import type { Sql } from '../../lib/storage/sql.js';
import { storedCount } from '../fixtures/faults.js';
import { makeDeps, uniqueToken } from '../helpers/deps.js';
import { describeWithBoth, TEST_DATABASE_URL } from '../helpers/servers.js';
import { hostPortOf, rewriteUrl, startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

describeWithBoth('faults: Postgres stalled (black hole)', () => {
  let direct: Sql;
  let proxy: TcpProxy;
  const pools: Sql[] = [];

  beforeAll(async () => {
    direct = createPgSql({ connectionString: TEST_DATABASE_URL ?? '', max: 2 });
    await migrate(direct, await loadMigrations());
    proxy = await startTcpProxy(hostPortOf(TEST_DATABASE_URL ?? ''));
  });
  afterEach(() => proxy.up()); // resets the stalled connections: hung requests end (503) here
  afterAll(async () => {
    for (const p of pools) await p.close().catch(() => {});
    await proxy?.close();
    await direct?.close();
  });

  function freshApp() {
    const sql = createPgSql({ connectionString: rewriteUrl(TEST_DATABASE_URL ?? '', proxy.host, proxy.port), max: 5 });
    pools.push(sql);
    return createApp(makeDeps({ sql }), allFamilies);
  }
  /** Status and time of a request, or 'no answer' if it takes longer than `limitMs`. */
  async function within(limitMs: number, res: Response | Promise<Response>) {
    const started = performance.now();
    const status = await Promise.race([
      Promise.resolve(res).then((r) => r.status),
      new Promise<'no answer'>((r) => setTimeout(() => r('no answer'), limitMs)),
    ]);
    return { status, ms: Math.round(performance.now() - started) };
  }
  const event = (token: string) => ({ sessionToken: token, eventType: 'action', eventData: {}, eventId: crypto.randomUUID() });

  it('stalled, cold pool: health answers 503 within ~3 s, a POST 503 after the 5 s connect timeout', async () => {
    const app = freshApp();
    proxy.stall();
    const e = event(uniqueToken('fault_stall'));
    const [health, post] = await Promise.all([
      within(4500, app.request('/api/health')),
      within(7000, app.request('/api/session-log', { method: 'POST', body: JSON.stringify(e) })),
    ]);
    expect(health.status).toBe(503);
    expect(post.status).toBe(503);
    console.info(`[faults-stall] cold pool: health ${health.status} in ${health.ms} ms, POST ${post.status} in ${post.ms} ms`);
    proxy.up();
    expect(await storedCount(direct, [e.eventId])).toBe(0);
  });

  // A query on an already-open pooled connection must not wait for TCP to notice a silent server
  // (~15 min on a real partition): the pool's query_timeout turns it into 503 + Retry-After.
  it('stalled, warm pool: a POST on a pooled connection answers 503 within 8 s', async () => {
    const app = freshApp();
    const token = uniqueToken('fault_stall');
    expect((await app.request('/api/session-log', { method: 'POST', body: JSON.stringify(event(token)) })).status).toBe(200);
    proxy.stall();
    const post = await within(8000, app.request('/api/session-log', { method: 'POST', body: JSON.stringify(event(token)) }));
    console.info(`[faults-stall] warm pool: POST ${post.status} after ${post.ms} ms`);
    expect(post.status).toBe(503);
  });
});
