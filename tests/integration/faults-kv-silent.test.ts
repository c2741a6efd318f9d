/**
 * A KV that accepts connections but never answers (issue: "A Redis that accepts connections but
 * never answers"): the Upstash REST URL points at a TCP listener that takes every connection and
 * says nothing. Every KV call must give up at its deadline (KV_TIMEOUT_MS) and, after a few such
 * failures, the breaker stops waiting at all; Postgres (the real test database) decides alone, so
 * interactions, Vapi webhooks and ingest answer within 3 s and nothing is lost.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { upstashRateLimiter } from '../../lib/ratelimit/upstash.js';
import { loadMigrations } from '../../lib/node/migrations.js';
import { createUpstashKv } from '../../lib/storage/kv-upstash.js';
import { withPrefix } from '../../lib/storage/kv.js';
import { migrate } from '../../lib/storage/migrate.js';
import { createPgSql } from '../../lib/storage/sql-pg.js';
import type { Sql } from '../../lib/storage/sql.js';
import { freshStudent, tutoringTurns, webCall } from '../fixtures/vapi/calls.js';
import { makeDeps, testConfig, uniqueToken } from '../helpers/deps.js';
import { describeWithPostgres, TEST_DATABASE_URL } from '../helpers/servers.js';

const SERVICE = { authorization: 'Bearer svc-silent-kv-token-0123456789', 'content-type': 'application/json' };
const KV_TIMEOUT_MS = 400;
/** The target: with a silent KV, every request answers within 3 s. */
const MAX_MS = 3000;

describeWithPostgres('faults: a KV that never answers', () => {
  let sql: Sql;
  let silent: Server;
  const sockets = new Set<Socket>();
  let app: ReturnType<typeof createApp>;
  let accepted = 0;
  const warnings: string[] = [];

  beforeAll(async () => {
    sql = createPgSql({ connectionString: TEST_DATABASE_URL ?? '', max: 10 });
    await migrate(sql, await loadMigrations());
    silent = createServer((socket) => {
      accepted++;
      sockets.add(socket); // read nothing back, answer nothing, never close
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const upstash = createUpstashKv({ url: `http://127.0.0.1:${port}`, token: 'silent-token', timeoutMs: KV_TIMEOUT_MS });
    const deps = makeDeps({
      sql,
      kv: withPrefix(upstash, `silent:${crypto.randomUUID()}:`),
      rateLimiter: upstashRateLimiter(upstash.client, 'silent:', { timeoutMs: KV_TIMEOUT_MS, breaker: upstash.breaker }),
      config: testConfig({ SERVICE_TOKEN: 'svc-silent-kv-token-0123456789', RATE_LIMITS: 'on' }),
    });
    deps.log = { info: () => {}, warn: (msg) => warnings.push(msg), error: (msg) => warnings.push(`error: ${msg}`) };
    app = createApp(deps, allFamilies);
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => silent?.close(resolve));
    await sql?.close();
  });

  async function timed<T>(what: string, fn: () => T | Promise<T>): Promise<{ out: T; ms: number }> {
    const started = performance.now();
    const out = await fn();
    const ms = performance.now() - started;
    expect(ms, `${what} took ${Math.round(ms)} ms`).toBeLessThan(MAX_MS);
    return { out, ms };
  }
  const interact = (studentId: string) =>
    app.request('/api/sessions/interactions', { method: 'POST', headers: SERVICE, body: JSON.stringify({ student_id: studentId, function: 'get-student-context' }) });

  it('interactions answer within 3 s, the breaker then stops waiting, and every interaction is stored once in one session', async () => {
    const student = freshStudent('silent');
    const times: number[] = [];
    let sessionId: string | undefined;
    for (let i = 0; i < 8; i++) {
      const { out, ms } = await timed(`interaction ${i}`, () => interact(student));
      expect(out.status).toBe(200);
      const body = (await out.json()) as { session_id: string };
      sessionId ??= body.session_id;
      expect(body.session_id).toBe(sessionId);
      times.push(ms);
    }
    // Concurrent ones too (the Postgres advisory lock serialises them).
    const burst = await timed('10 concurrent interactions', () => Promise.all(Array.from({ length: 10 }, () => interact(student))));
    expect(burst.out.map((r) => r.status)).toEqual(burst.out.map(() => 200));

    const rows = await sql.query<{ id: string; n: number }>('SELECT id, interaction_count AS n FROM sessions WHERE student_id = $1', [student]);
    expect(rows).toEqual([{ id: sessionId, n: 18 }]);
    expect(accepted).toBeGreaterThan(0); // the KV really was asked, and really said nothing
    // Once the breaker is open a request no longer waits for the KV deadline at all.
    expect(Math.min(...times.slice(3)), `times: ${times.map(Math.round).join(', ')}`).toBeLessThan(KV_TIMEOUT_MS);
    expect(warnings).toContain('kv unavailable: session boundary decided in Postgres only');
    expect(warnings.filter((w) => w.startsWith('error:'))).toEqual([]);
  });

  it('a Vapi call and workshop ingest answer within 3 s with rate limits on, and nothing is lost', async () => {
    const student = freshStudent('silentcall');
    const call = webCall({ startedAt: new Date(Date.now() - 120_000), metadata: { student_id: student } });
    const turns = tutoringTurns();
    for (const body of [call.status('in-progress', 0), call.report({ turns })]) {
      const { out } = await timed('vapi message', () =>
        app.request('/api/webhooks/vapi', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      );
      expect(out.status).toBe(200);
    }
    const sessions = await sql.query<{ id: string; transcript_count: number }>('SELECT id, transcript_count FROM sessions WHERE student_id = $1', [student]);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.transcript_count).toBe(turns.length);

    const token = uniqueToken('silent');
    const ids = Array.from({ length: 5 }, () => crypto.randomUUID());
    for (const eventId of ids) {
      const { out } = await timed('ingest', () =>
        app.request('/api/session-log', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionToken: token, eventType: 'action', eventId }) }),
      );
      expect(out.status).toBe(200);
    }
    const stored = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE session_token = $1', [token]);
    expect(stored).toEqual([{ n: 5 }]);
  });

  it('rate limits still hold while the KV is silent: this instance decides in memory', async () => {
    const upstash = createUpstashKv({ url: `http://127.0.0.1:${(silent.address() as { port: number }).port}`, token: 'silent-token', timeoutMs: KV_TIMEOUT_MS });
    const deps = makeDeps({
      sql,
      kv: upstash,
      rateLimiter: upstashRateLimiter(upstash.client, 'silent-rl:', { timeoutMs: KV_TIMEOUT_MS, breaker: upstash.breaker }),
      config: testConfig({ RATE_LIMITS: 'on', RATE_LIMIT_INGEST_TOKEN: '3' }),
    });
    const limited = createApp(deps, allFamilies);
    const token = uniqueToken('silentrl');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const { out } = await timed('limited ingest', () =>
        limited.request('/api/session-log', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionToken: token, eventType: 'action' }) }),
      );
      statuses.push(out.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
    const stored = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE session_token = $1', [token]);
    expect(stored).toEqual([{ n: 3 }]);
  });
});
