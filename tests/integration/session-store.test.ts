/**
 * The session store on real PostgreSQL, with the memory KV and with real Redis through the
 * Upstash REST client: the concurrency case, losing KV mid-session, out-of-order times,
 * timeouts (explicit timestamps, never sleeping), and the 404/409 cases.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../lib/deps.js';
import { loadMigrations } from '../../lib/node/migrations.js';
import type { SessionCtx } from '../../lib/sessions/context.js';
import { DomainError } from '../../lib/sessions/errors.js';
import { appendTranscript, createSession, endSession, joinSession } from '../../lib/sessions/explicit.js';
import { recordInteraction } from '../../lib/sessions/interactions.js';
import { getDocument } from '../../lib/sessions/read.js';
import { sweep } from '../../lib/sessions/sweep.js';
import { createMemoryKv } from '../../lib/storage/kv-memory.js';
import { createUpstashKv } from '../../lib/storage/kv-upstash.js';
import { type Kv, withPrefix } from '../../lib/storage/kv.js';
import { migrate } from '../../lib/storage/migrate.js';
import { createPgSql } from '../../lib/storage/sql-pg.js';
import type { Sql } from '../../lib/storage/sql.js';
import { describeWithBoth, TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/servers.js';
import { startUpstashBridge } from '../helpers/upstash-bridge.js';

const T = 10 * 60_000;
const at = (base: string, minutes: number) => new Date(Date.parse(base) + minutes * 60_000).toISOString();

function store(name: string, makeKv: () => Promise<{ kv: Kv; fresh(): Kv; stop(): Promise<void> }>) {
  let sql: Sql;
  let kv: Kv;
  let fresh: () => Kv;
  let stopKv: () => Promise<void>;
  let now = new Date('2026-05-01T12:00:00Z');
  const ctx = (over: Partial<SessionCtx> = {}): SessionCtx => ({ sql, kv, timeoutMs: T, now: () => now, log: silentLogger, ...over });
  const student = () => `${name}_${crypto.randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    sql = createPgSql({ connectionString: TEST_DATABASE_URL ?? '', max: 20 });
    await migrate(sql, await loadMigrations());
    ({ kv, fresh, stop: stopKv } = await makeKv());
  });
  afterAll(async () => {
    await stopKv();
    await sql.close();
  });

  it('50 simultaneous first interactions create exactly one session', async () => {
    now = new Date('2026-05-01T12:00:00Z');
    const id = student();
    const results = await Promise.all(Array.from({ length: 50 }, () => recordInteraction(ctx(), { student_id: id, function: 'f' })));
    expect(new Set(results.map((r) => r.row.id)).size).toBe(1);
    expect(results.filter((r) => r.isNew)).toHaveLength(1);
    const rows = await sql.query<{ n: number; i: number }>(
      'SELECT count(*)::int AS n, max(interaction_count)::int AS i FROM sessions WHERE student_id = $1',
      [id],
    );
    expect(rows[0]).toEqual({ n: 1, i: 50 });
  });

  it('wiping KV mid-session: the next interaction lands in the same session', async () => {
    now = new Date('2026-05-02T12:00:00Z');
    const id = student();
    const first = await recordInteraction(ctx(), { student_id: id, function: 'f' });
    now = new Date(now.getTime() + 4 * 60_000);
    const wiped = fresh(); // an empty namespace: everything KV knew is gone
    const next = await recordInteraction(ctx({ kv: wiped }), { student_id: id, function: 'g' });
    expect(next).toMatchObject({ isNew: false, row: { id: first.row.id } });
    // The pointer was rebuilt: concurrent calls on the wiped KV still agree.
    const more = await Promise.all(Array.from({ length: 10 }, () => recordInteraction(ctx({ kv: wiped }), { student_id: id, function: 'h' })));
    expect(new Set(more.map((r) => r.row.id))).toEqual(new Set([first.row.id]));
  });

  it('out-of-order interactions land in the session covering their time; gaps start new ones', async () => {
    now = new Date('2026-05-03T18:00:00Z');
    const id = student();
    const base = '2026-05-03T10:00:00Z';
    const s1 = await recordInteraction(ctx(), { student_id: id, function: 'a', timestamp: at(base, 0) });
    const s2 = await recordInteraction(ctx(), { student_id: id, function: 'b', timestamp: at(base, 45) });
    expect(s2.isNew).toBe(true);
    const late = await recordInteraction(ctx(), { student_id: id, function: 'late', timestamp: at(base, 8) });
    expect(late).toMatchObject({ isNew: false, row: { id: s1.row.id } });
    const doc = await getDocument(ctx(), s1.row.id);
    expect(doc.mcp_interactions.map((i) => i.function)).toEqual(['a', 'late']);
    expect(doc.status).toBe('completed');
  });

  it('the sweep ends idle sessions once, and reads agree before it runs', async () => {
    now = new Date('2026-05-04T09:00:00Z');
    const id = student();
    const s = await recordInteraction(ctx(), { student_id: id, function: 'f' });
    now = new Date(now.getTime() + T + 1000);
    expect((await getDocument(ctx(), s.row.id)).status).toBe('completed');
    const first = await sweep(ctx());
    expect(first.ended_ids).toContain(s.row.id);
    const second = await sweep(ctx());
    expect(second.ended_ids).not.toContain(s.row.id);
    const ended = await sql.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM events WHERE session_token = $1 AND event_type = 'session_ended'",
      [s.row.id],
    );
    expect(ended[0]?.n).toBe(1);
    expect(await kv.get(`active:${id}`)).toBeNull();
  });

  it('a session whose student no longer exists does not stop the sweep: it ends with the others', async () => {
    now = new Date('2026-05-04T15:00:00Z');
    const kept = await recordInteraction(ctx(), { student_id: student(), function: 'f' });
    const ghost = student();
    const orphan = await recordInteraction(ctx(), { student_id: ghost, function: 'f' });
    // Out of band (no product path writes this): the student row goes, the session stays.
    await sql.query('DELETE FROM students WHERE id = $1', [ghost]);
    now = new Date(now.getTime() + T + 1000);
    const run = await sweep(ctx());
    expect(run.ended_ids).toEqual(expect.arrayContaining([kept.row.id, orphan.row.id]));
    const ended = await sql.query<{ session_token: string; student_id: string | null }>(
      "SELECT session_token, student_id FROM events WHERE session_token = ANY($1::text[]) AND event_type = 'session_ended' ORDER BY session_token",
      [[kept.row.id, orphan.row.id]],
    );
    expect(ended).toHaveLength(2);
    expect(ended.find((e) => e.session_token === orphan.row.id)?.student_id).toBeNull();
    expect(ended.find((e) => e.session_token === kept.row.id)?.student_id).toBe(kept.row.student_id);
  });

  it('404 for unknown sessions, 409 for writes to ended or full ones', async () => {
    now = new Date('2026-05-05T09:00:00Z');
    const unknown = `nope_${crypto.randomUUID().slice(0, 8)}`;
    await expect(appendTranscript(ctx(), unknown, [{ speaker: 'A', text: 'x' }])).rejects.toMatchObject({ kind: 'not_found' });
    const row = await createSession(ctx(), { participant: `p_${crypto.randomUUID().slice(0, 6)}`, max_participants: 2 });
    await joinSession(ctx(), row.id, 'second');
    await expect(joinSession(ctx(), row.id, 'third')).rejects.toMatchObject({ kind: 'conflict' });
    const endA = await endSession(ctx(), row.id);
    const endB = await endSession(ctx(), row.id);
    expect([endA.endedNow, endB.endedNow]).toEqual([true, false]);
    expect(new Date(endB.row.ended_at ?? 0).getTime()).toBe(new Date(endA.row.ended_at ?? 1).getTime());
    await expect(appendTranscript(ctx(), row.id, [{ speaker: 'A', text: 'x' }])).rejects.toBeInstanceOf(DomainError);
    await expect(appendTranscript(ctx(), row.id, [{ speaker: 'A', text: 'x' }])).rejects.toMatchObject({ kind: 'conflict' });
  });
}

describeWithBoth('session store: real PostgreSQL + memory KV', () =>
  store('mem', async () => {
    const kv = createMemoryKv();
    return { kv, fresh: () => createMemoryKv(), stop: async () => {} };
  }));

describeWithBoth('session store: real PostgreSQL + real Redis (Upstash REST client)', () =>
  store('ups', async () => {
    const bridge = await startUpstashBridge({ redisUrl: TEST_REDIS_URL ?? '' });
    const client = createUpstashKv({ url: bridge.url, token: bridge.token });
    const ns = () => `store-test:${crypto.randomUUID()}:`;
    return { kv: withPrefix(client, ns()), fresh: () => withPrefix(client, ns()), stop: () => bridge.close() };
  }));
