/**
 * Redis going down under the API (issue: "Redis down → ingestion and reads keep working (sessions
 * degrade to Postgres-only detection) and recover when it is back"). The app's KV is the real
 * Upstash REST client → the REST bridge (tests/helpers/upstash-bridge.ts) → a TCP proxy → the real
 * Redis; taking the proxy down is Redis becoming unreachable from the REST endpoint. Postgres is
 * the real test database, directly.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { loadMigrations } from '../../lib/node/migrations.js';
import { createUpstashKv } from '../../lib/storage/kv-upstash.js';
import { type Kv, withPrefix } from '../../lib/storage/kv.js';
import { migrate } from '../../lib/storage/migrate.js';
import { createPgSql } from '../../lib/storage/sql-pg.js';
import type { Sql } from '../../lib/storage/sql.js';
import { idsOf, makeBatch, notExactlyOnce, sleep } from '../fixtures/faults.js';
import { admin, makeDeps, testConfig, uniqueToken } from '../helpers/deps.js';
import { describeWithBoth, TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/servers.js';
import { hostPortOf, rewriteUrl, startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { startUpstashBridge, type UpstashBridge } from '../helpers/upstash-bridge.js';

const SERVICE = { authorization: 'Bearer svc-faults-token-123', 'content-type': 'application/json' };
/** Each request must answer within this while Redis is down (the client retries once, 50 ms). */
const MAX_DEGRADED_MS = 2000;
/** A burst of concurrent interactions for ONE student: serialised by the advisory lock while degraded. */
const MAX_BURST_MS = 6000;

describeWithBoth('faults: Redis down', () => {
  let sql: Sql;
  let proxy: TcpProxy;
  let bridge: UpstashBridge;
  let kv: Kv;
  let app: ReturnType<typeof createApp>;
  /** Warnings the app logged: proof that a request took the degraded path. */
  const warnings: string[] = [];
  const timings: string[] = [];
  const degraded = () => warnings.filter((w) => w === 'kv unavailable: session boundary decided in Postgres only').length;

  beforeAll(async () => {
    sql = createPgSql({ connectionString: TEST_DATABASE_URL ?? '', max: 10 });
    await migrate(sql, await loadMigrations());
    const redisUrl = TEST_REDIS_URL ?? '';
    proxy = await startTcpProxy(hostPortOf(redisUrl));
    bridge = await startUpstashBridge({ redisUrl: rewriteUrl(redisUrl, proxy.host, proxy.port) });
    kv = withPrefix(createUpstashKv({ url: bridge.url, token: bridge.token }), `faults:${crypto.randomUUID()}:`);
    const deps = makeDeps({ sql, kv, config: testConfig({ SERVICE_TOKEN: 'svc-faults-token-123' }) });
    deps.log = { info: () => {}, warn: (msg) => warnings.push(msg), error: (msg) => warnings.push(`error: ${msg}`) };
    app = createApp(deps, allFamilies);
  });
  // Bring Redis back and wait for the bridge to reconnect, so a failed test cannot cascade.
  afterEach(async () => {
    proxy.up();
    await waitHealthy(10_000);
  });
  afterAll(async () => {
    await bridge?.close();
    await proxy?.close();
    await sql?.close();
  });

  /** Run `fn`, failing if it takes longer than a degraded request may. */
  async function quick<T>(what: string, fn: () => T | Promise<T>, limitMs = MAX_DEGRADED_MS): Promise<T> {
    const started = performance.now();
    const out = await fn();
    const ms = performance.now() - started;
    expect(ms, `${what} took ${Math.round(ms)} ms`).toBeLessThan(limitMs);
    timings.push(`${what} ${Math.round(ms)} ms`);
    return out;
  }
  const interact = async (studentId: string, fn = 'get-student-context') => {
    const res = await app.request('/api/sessions/interactions', {
      method: 'POST',
      headers: SERVICE,
      body: JSON.stringify({ student_id: studentId, function: fn }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { session_id: string; is_new_session: boolean };
  };
  const health = async () => {
    const res = await app.request('/api/health');
    return { status: res.status, body: (await res.json()) as { storage: { postgres: string; kv: string } } };
  };
  /** Poll until health is 200 again: ioredis in the bridge reconnects with a growing backoff. */
  async function waitHealthy(deadlineMs: number): Promise<number> {
    const started = performance.now();
    for (;;) {
      const h = await health();
      if (h.status === 200) return performance.now() - started;
      if (performance.now() - started > deadlineMs) throw new Error(`health still ${h.status} ${JSON.stringify(h.body)}`);
      await sleep(50);
    }
  }
  const sessionsOf = (studentId: string) =>
    sql.query<{ id: string; n: number }>('SELECT id, interaction_count AS n FROM sessions WHERE student_id = $1 ORDER BY id', [studentId]);

  it('down: ingestion, reads and interactions keep working on Postgres alone; health 503 names kv; all recover after up()', async () => {
    expect((await health()).status).toBe(200);
    const token = uniqueToken('fault_kv');
    const student = `fkv_${crypto.randomUUID().slice(0, 8)}`;

    proxy.down();
    const h = await quick('health', health);
    expect(h.status).toBe(503);
    expect(h.body.storage).toEqual({ postgres: 'ok', kv: 'unavailable' });

    // Ingestion never touches KV: stored as usual.
    const batch = makeBatch(token, 40);
    const res = await quick('batch POST', () =>
      app.request('/api/session-log', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true, accepted: 40, duplicates: 0 });
    const single = { sessionToken: token, eventType: 'error', eventData: { errorType: 'TypeError' }, eventId: crypto.randomUUID() };
    const one = await quick('single POST', () => app.request('/api/session-log', { method: 'POST', body: JSON.stringify(single) }));
    expect(one.status).toBe(200);
    expect(await notExactlyOnce(sql, [...idsOf(batch), single.eventId])).toEqual([]);

    // Reads too.
    const read = await quick('GET', () => app.request(`/api/session-log?sessionToken=${token}&limit=1000`, { headers: admin }));
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ success: true, count: 41 });

    // Sessions: the boundary is decided in Postgres under the advisory lock; 20 simultaneous first
    // interactions still make exactly one session.
    const degradedBefore = degraded();
    const burst = await quick('20 concurrent interactions', () => Promise.all(Array.from({ length: 20 }, () => interact(student))), MAX_BURST_MS);
    const ids = new Set(burst.map((r) => r.session_id));
    expect(ids.size).toBe(1);
    expect(burst.filter((r) => r.is_new_session)).toHaveLength(1);
    const [sessionId] = [...ids];
    expect(degraded() - degradedBefore).toBe(20); // every one of them went the Postgres-only way
    expect(await sessionsOf(student)).toEqual([{ id: sessionId, n: 20 }]);
    const next = await quick('interaction', () => interact(student));
    expect(next).toEqual({ session_id: sessionId, is_new_session: false, write_token: expect.stringMatching(/^wt1\./), session: expect.anything() });
    expect(await kv.get(`active:${student}`).catch((e: Error) => e.name)).toBe('StorageUnavailableError');

    // Back: health recovers, and the next interactions continue the same session through KV,
    // whose pointer is rebuilt from the session Postgres chose.
    proxy.up();
    const recoveredMs = await waitHealthy(5000);
    const after = await interact(student);
    expect(after).toMatchObject({ session_id: sessionId, is_new_session: false });
    expect(await kv.get(`active:${student}`)).toMatch(new RegExp(`^${sessionId}\\|\\d+\\|\\d+$`));
    const degradedAfter = degraded();
    const more = await Promise.all(Array.from({ length: 10 }, () => interact(student)));
    expect(new Set(more.map((r) => r.session_id))).toEqual(new Set([sessionId]));
    expect(degraded()).toBe(degradedAfter); // back on the KV path
    expect(await sessionsOf(student)).toEqual([{ id: sessionId, n: 32 }]);
    expect(warnings.filter((w) => w.startsWith('error:'))).toEqual([]);
    console.info(`[faults-redis] while down: ${timings.join(', ')}; health back to 200 ${Math.round(recoveredMs)} ms after up()`);
  });

  it('an outage in the middle of a session does not split it, and the old pointer is still right afterwards', async () => {
    const student = `fkv_${crypto.randomUUID().slice(0, 8)}`;
    const first = await interact(student);
    expect(first.is_new_session).toBe(true);
    expect(await kv.get(`active:${student}`)).toMatch(new RegExp(`^${first.session_id}\\|`));

    proxy.down();
    const during = await quick('10 concurrent interactions', () => Promise.all(Array.from({ length: 10 }, () => interact(student))), MAX_BURST_MS);
    expect(during.map((r) => r.session_id)).toEqual(during.map(() => first.session_id));
    expect(during.some((r) => r.is_new_session)).toBe(false);

    proxy.up();
    await waitHealthy(5000);
    const after = await Promise.all(Array.from({ length: 5 }, () => interact(student)));
    expect(after.map((r) => r.session_id)).toEqual(after.map(() => first.session_id));
    expect(await sessionsOf(student)).toEqual([{ id: first.session_id, n: 16 }]);
  });

  it('a long outage: every degraded request stays fast, and recovery after up() is bounded', async () => {
    const student = `fkv_${crypto.randomUUID().slice(0, 8)}`;
    proxy.down();
    // ~2 s of outage lets ioredis' reconnect backoff grow (50 ms more per failed attempt).
    const deadline = performance.now() + 2000;
    let sessionId: string | undefined;
    let worstMs = 0;
    while (performance.now() < deadline) {
      const started = performance.now();
      const r = await interact(student);
      worstMs = Math.max(worstMs, performance.now() - started);
      sessionId ??= r.session_id;
      expect(r.session_id).toBe(sessionId);
      await sleep(100);
    }
    expect(worstMs).toBeLessThan(MAX_DEGRADED_MS);
    proxy.up();
    const recoveredMs = await waitHealthy(5000);
    expect(recoveredMs).toBeLessThan(3000);
    expect(await interact(student)).toMatchObject({ session_id: sessionId, is_new_session: false });
    console.info(`[faults-redis] long outage: worst degraded interaction ${Math.round(worstMs)} ms, recovery ${Math.round(recoveredMs)} ms`);
  });
});
