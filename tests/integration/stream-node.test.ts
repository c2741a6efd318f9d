/**
 * GET /api/sessions/{id}/stream on the Node server over real HTTP, on real PostgreSQL: entries in
 * arrival order with their seq as `id:`, resume with Last-Event-ID (no gap, no duplicate), the
 * end of the session closing the stream, who may listen, stream tokens, the Vercel time limit,
 * and no poller left running after the client leaves.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { loadMigrations } from '../../lib/node/migrations.js';
import { StoredEvent } from '../../lib/schemas/event.js';
import { AttentionResponse } from '../../lib/schemas/attention.js';
import { StreamStatus, StreamTokenResponse } from '../../lib/schemas/stream.js';
import { migrate } from '../../lib/storage/migrate.js';
import { createPgSql } from '../../lib/storage/sql-pg.js';
import type { Sql } from '../../lib/storage/sql.js';
import { ADMIN_TOKEN, testConfig, uniqueToken } from '../helpers/deps.js';
import { startTestServer } from '../helpers/http-server.js';
import { describeWithPostgres, TEST_DATABASE_URL } from '../helpers/servers.js';
import { openSse, type SseClient } from '../helpers/sse.js';

const SERVICE = 'svc-stream-token-0123456789';
const INSTRUCTOR = 'inst-stream-token-0123456789';
const WEBHOOK = 'hook-stream-token-0123456789';
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

let sql: Sql;
/** Event reads by arrival seq (the stream's poll): counted to prove a closed stream stops polling. */
let tailReads = 0;
let clockOffsetMs = 0;
let server: Awaited<ReturnType<typeof startTestServer>>;
const open: SseClient[] = [];

async function post(path: string, body: unknown, token = SERVICE) {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(token) }, body: JSON.stringify(body) });
  expect(res.status, `${path}: ${await res.clone().text()}`).toBeLessThan(300);
  return (await res.json()) as Record<string, unknown>;
}
const newSession = async () => {
  const id = uniqueToken('st');
  await post('/api/sessions', { participant: 'alice', session_id: id });
  return id;
};
const say = (id: string, text: string) => post(`/api/sessions/${id}/transcript`, { speaker: 'alice', text });
async function listen(id: string, headers: Record<string, string> = bearer(ADMIN_TOKEN), query = '') {
  const c = await openSse(`${server.url}/api/sessions/${id}/stream${query}`, headers);
  open.push(c);
  return c;
}
const entries = (c: SseClient) => c.events.filter((e) => e.event === 'entry');
/** The transcript turns among the entries (creating and ending a session add entries of their own). */
const texts = (c: SseClient) => entries(c).flatMap((e) => ((e.json as StoredEvent).event_type === 'transcript' ? [(e.json as StoredEvent).event_data.text] : []));

describeWithPostgres('session stream on the Node server', () => {
  beforeAll(async () => {
    const pg = createPgSql({ connectionString: TEST_DATABASE_URL ?? '', max: 10 });
    await migrate(pg, await loadMigrations());
    sql = {
      driver: pg.driver,
      query: <T>(text: string, params?: readonly unknown[]) => {
        if (text.includes('e.id > $2::bigint')) tailReads++;
        return pg.query<T>(text, params);
      },
      batch: (statements) => pg.batch(statements),
      close: () => pg.close(),
    };
    server = await startTestServer({
      sql,
      config: testConfig({ SERVICE_TOKEN: SERVICE, INSTRUCTOR_TOKENS: `ann:${INSTRUCTOR}`, WEBHOOK_TOKEN: WEBHOOK }),
      now: () => new Date(Date.now() + clockOffsetMs),
    });
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });
  afterAll(async () => {
    await server?.stop();
    await sql?.close();
  });

  it('sends every entry in arrival order with its seq as id, the same JSON as the timeline, then live ones', async () => {
    const id = await newSession();
    await say(id, 'one');
    await post(`/api/sessions/${id}/phase`, { phase: 'practice' });
    await say(id, 'two');
    const c = await listen(id, bearer(ADMIN_TOKEN), '?after=0');
    expect(c.status).toBe(200);
    expect(c.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await c.until(() => texts(c).length === 2);
    expect(c.retry).toBeGreaterThan(0);
    const status = await c.until((e) => e.event === 'status');
    expect(StreamStatus.parse(status.json)).toMatchObject({ session_id: id, status: 'waiting', end_time: null });

    const timeline = (await (await fetch(`${server.url}/api/sessions/${id}/events`, { headers: bearer(ADMIN_TOKEN) })).json()) as { events: unknown[]; last_seq: string };
    expect(entries(c).map((e) => e.json)).toEqual(timeline.events);
    for (const e of entries(c)) StoredEvent.parse(e.json);
    const ids = entries(c).map((e) => BigInt(e.id ?? '0'));
    expect(ids).toEqual([...ids].sort((a, b) => (a < b ? -1 : 1)));
    expect(String(ids.at(-1))).toBe(timeline.last_seq);
    const types = entries(c).map((e) => (e.json as StoredEvent).event_type);
    expect(types.slice(types.indexOf('transcript'))).toEqual(['transcript', 'phase_changed', 'transcript']);
    const before = entries(c).length;

    // Stored while the stream is open: pushed within a poll, each once, in order.
    const t0 = Date.now();
    await say(id, 'three');
    await say(id, 'four');
    await c.until(() => texts(c).length === 4, 3_000);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(texts(c)).toEqual(['one', 'two', 'three', 'four']);
    // The same cursor as the timeline's live tail: after_seq from an id gives what follows it.
    const tail = (await (await fetch(`${server.url}/api/sessions/${id}/events?after_seq=${entries(c)[before - 1]?.id}`, { headers: bearer(ADMIN_TOKEN) })).json()) as { events: unknown[] };
    expect(tail.events).toEqual(entries(c).slice(before).map((e) => e.json));
    c.close();
  });

  it('resumes with Last-Event-ID (or ?after=) exactly after it: events posted while disconnected, no gap, no duplicate', async () => {
    const id = await newSession();
    await say(id, 'a');
    await say(id, 'b');
    const first = await listen(id, bearer(ADMIN_TOKEN), '?after=0');
    await first.until(() => texts(first).length === 2);
    await first.until((e) => e.event === 'status');
    const lastId = entries(first).at(-1)?.id ?? '';
    first.close();

    for (const t of ['c', 'd', 'e']) await say(id, t);
    const again = await listen(id, { ...bearer(ADMIN_TOKEN), 'last-event-id': lastId }, '?after=0');
    await again.until((e) => e.event === 'status');
    expect(entries(again).length).toBe(3);
    expect(texts(again)).toEqual(['c', 'd', 'e']);
    await say(id, 'f');
    await again.until(() => entries(again).length === 4);
    expect(texts(again)).toEqual(['c', 'd', 'e', 'f']);
    again.close();

    const byQuery = await listen(id, bearer(ADMIN_TOKEN), `?after=${entries(again)[2]?.id}`);
    await byQuery.until((e) => e.event === 'status');
    expect(texts(byQuery)).toEqual(['f']);
    byQuery.close();

    const bad = await listen(id, { ...bearer(ADMIN_TOKEN), 'last-event-id': 'yesterday' });
    expect(bad.status).toBe(400);
  });

  it('without a cursor sends only what is stored from now on (a first EventSource connection)', async () => {
    const id = await newSession();
    await say(id, 'old');
    const c = await listen(id);
    await c.until((e) => e.event === 'status');
    expect(entries(c)).toEqual([]);
    await say(id, 'new');
    await c.until(() => entries(c).length === 1, 3_000);
    expect(texts(c)).toEqual(['new']);
  });

  it('sends status and end when the session ends, then closes', async () => {
    const id = await newSession();
    await say(id, 'bye');
    const c = await listen(id, bearer(ADMIN_TOKEN), '?after=0');
    await c.until((e) => e.event === 'status');
    await post(`/api/sessions/${id}/end`, {});
    const end = await c.until((e) => e.event === 'end', 3_000);
    await c.closed;
    expect(StreamStatus.parse(end.json)).toMatchObject({ session_id: id, status: 'completed' });
    const kinds = c.events.map((e) => e.event);
    expect(kinds.filter((k) => k !== 'entry')).toEqual(['status', 'status', 'end']);
    expect(kinds.at(-1)).toBe('end');
    expect(c.events.at(-2)?.json).toMatchObject({ status: 'completed' });
    // A client resuming after the end gets what it missed and the end again, at once.
    const lastId = entries(c).at(-1)?.id ?? '';
    const late = await listen(id, { ...bearer(ADMIN_TOKEN), 'last-event-id': lastId });
    await late.closed;
    expect(late.events.map((e) => e.event)).toEqual(['status', 'end']);
  });

  it('lets instructors, the service token and stream tokens listen; refuses everyone else', async () => {
    const id = await newSession();
    const other = await newSession();
    expect((await listen(id, {})).status).toBe(401);
    expect((await listen(id, bearer('not-a-token'))).status).toBe(401);
    expect((await listen(id, bearer(WEBHOOK))).status).toBe(403);
    expect((await listen('st_missing_session', bearer(ADMIN_TOKEN))).status).toBe(404);
    for (const t of [INSTRUCTOR, SERVICE]) {
      const c = await listen(id, bearer(t));
      expect(c.status).toBe(200);
      await c.until((e) => e.event === 'status');
      c.close();
    }
    const issued = StreamTokenResponse.parse(await post(`/api/sessions/${id}/stream-token`, {}, INSTRUCTOR));
    expect(issued.stream_url).toBe(`/api/sessions/${id}/stream?token=${encodeURIComponent(issued.token)}`);
    expect(Date.parse(issued.expires_at) - Date.now()).toBeLessThanOrEqual(60_000);
    const ok = await openSse(`${server.url}${issued.stream_url}`);
    open.push(ok);
    expect(ok.status).toBe(200);
    await ok.until((e) => e.event === 'status');
    ok.close();
    // Scoped to its session, signed, and short-lived.
    expect((await listen(other, {}, `?token=${encodeURIComponent(issued.token)}`)).status).toBe(403);
    const forged = issued.token.replace(/.$/, (ch) => (ch === 'A' ? 'B' : 'A'));
    expect((await listen(id, {}, `?token=${encodeURIComponent(forged)}`)).status).toBe(401);
    expect((await listen(id, {}, '?token=st1.e30.AAAA')).status).toBe(401);
    clockOffsetMs = 61_000;
    try {
      const expired = await fetch(`${server.url}${issued.stream_url}`);
      expect(expired.status).toBe(401);
      expect(((await expired.json()) as { detail: string }).detail).toContain('expired');
    } finally {
      clockOffsetMs = 0;
    }
    // Refusals are audited, but never with the token.
    await server.deps.settle();
    const trail = await sql.query<{ path: string; detail: unknown }>("SELECT path, detail FROM audit_log WHERE path LIKE $1", [`/api/sessions/${id}/stream%`]);
    expect(trail.length).toBeGreaterThan(0);
    const other403 = await sql.query("SELECT 1 FROM audit_log WHERE path = $1 AND status = 403 AND actor = 'anonymous'", [`/api/sessions/${other}/stream`]);
    expect(other403).toHaveLength(1);
    expect(JSON.stringify(trail)).not.toContain('st1.');
    // Issuing needs the same right as listening.
    const refused = await fetch(`${server.url}/api/sessions/${id}/stream-token`, { method: 'POST', headers: bearer(WEBHOOK) });
    expect(refused.status).toBe(403);
  });

  it('stops polling when the client disconnects', async () => {
    const id = await newSession();
    const c = await listen(id);
    await c.until((e) => e.event === 'status');
    await new Promise((r) => setTimeout(r, 1_600));
    const reads = tailReads;
    expect(reads).toBeGreaterThan(0);
    c.close();
    await new Promise((r) => setTimeout(r, 300));
    const afterClose = tailReads;
    await new Promise((r) => setTimeout(r, 2_500));
    expect(tailReads).toBe(afterClose);
  });

  it('under a platform time limit closes with a retry hint, and the client resumes without a gap', async () => {
    const id = await newSession();
    await say(id, 'before');
    server.deps.streamLimitMs = 1_200;
    try {
      const c = await listen(id, bearer(ADMIN_TOKEN), '?after=0');
      await c.closed;
      expect(c.events.some((e) => e.event === 'end')).toBe(false);
      expect(c.comments.some((m) => m.includes('reconnect'))).toBe(true);
      expect(c.retry).toBe(2_000);
      await say(id, 'after');
      const next = await listen(id, { ...bearer(ADMIN_TOKEN), 'last-event-id': entries(c).at(-1)?.id ?? '' });
      await next.until((e) => e.event === 'status');
      expect(entries(next).length).toBe(1);
      expect(texts(next)).toEqual(['after']);
      next.close();
    } finally {
      delete server.deps.streamLimitMs;
    }
  });

  it('streams a workshop page token (events, no session record) and never ends it by itself', async () => {
    const token = uniqueToken('wsst');
    const log = (actionName: string) =>
      fetch(`${server.url}/api/session-log`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionToken: token, eventType: 'action', eventData: { actionName } }) });
    expect((await log('opened')).status).toBe(200);
    const c = await listen(token, bearer(ADMIN_TOKEN), '?after=0');
    expect(c.status).toBe(200);
    await c.until(() => entries(c).length >= 1);
    expect((await log('ran')).status).toBe(200);
    const ran = await c.until((e) => e.event === 'entry' && (e.json as StoredEvent).event_data.actionName === 'ran', 3_000);
    expect((ran.json as StoredEvent).session_token).toBe(token);
    expect(c.events.some((e) => e.event === 'end')).toBe(false);
  });

  it('pushes the workshop\'s attention document when its events move', async () => {
    const prefix = `${uniqueToken('room')}_`;
    const logAs = (who: string, eventType: string, eventData: Record<string, unknown>) =>
      fetch(`${server.url}/api/session-log`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sessionToken: `${prefix}${who}`, studentEmail: `${who}@example.com`, eventType, eventData }),
      });
    expect((await logAs('ada', 'navigation', { from: 1, to: 2 })).status).toBe(200);
    const c = await openSse(`${server.url}/api/attention/stream?workshop=${prefix}`, bearer(INSTRUCTOR));
    open.push(c);
    expect(c.status).toBe(200);
    const first = await c.until((e) => e.event === 'attention', 5_000);
    expect(AttentionResponse.parse(first.json).active_students).toBe(1);
    expect((await logAs('bob', 'navigation', { from: 1, to: 2 })).status).toBe(200);
    const second = await c.until((e) => e.event === 'attention' && (e.json as AttentionResponse).active_students === 2, 5_000);
    expect(BigInt(second.id ?? '0')).toBeGreaterThan(BigInt(first.id ?? '0'));
    // The service token follows sessions, not the room.
    expect((await openSse(`${server.url}/api/attention/stream`, bearer(SERVICE))).status).toBe(403);
  });
});
