/**
 * Automatic sessions through POST /api/sessions/interactions: boundaries by inactivity, readable
 * ids, out-of-order times, concurrency, and KV loss — on PGlite with the memory KV.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { SessionDocument } from '../../lib/schemas/session.js';
import { createMemoryKv } from '../../lib/storage/kv-memory.js';
import type { Kv } from '../../lib/storage/kv.js';
import type { Sql } from '../../lib/storage/sql.js';
import { admin, makeDeps, memoryPglite, testConfig } from '../helpers/deps.js';
import { unreachableKv } from '../helpers/failing-kv.js';
import { InteractionResponse } from '../../lib/schemas/responses.js';

const SERVICE = { authorization: 'Bearer svc-token-123' };

let sql: Sql;
let now: Date;
const kv = createMemoryKv(() => now.getTime());

function appWith(opts: { kv?: Kv; timeoutMinutes?: string } = {}) {
  const config = testConfig({ SERVICE_TOKEN: 'svc-token-123', SESSION_TIMEOUT_MINUTES: opts.timeoutMinutes ?? '10' });
  return createApp(makeDeps({ sql, kv: opts.kv ?? kv, config, now: () => now }), allFamilies);
}

let app: ReturnType<typeof appWith>;
beforeAll(async () => {
  sql = await memoryPglite();
  app = appWith();
});
afterAll(() => sql.close());

const student = () => `stu_${crypto.randomUUID().slice(0, 8)}`;
const minutes = (n: number) => n * 60_000;

async function interact(body: Record<string, unknown>, on = app, headers: Record<string, string> = SERVICE) {
  const res = await on.request('/api/sessions/interactions', {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ function: 'get-student-context', ...body }),
  });
  if (res.status !== 200) throw new Error(`${res.status} ${await res.text()}`);
  return InteractionResponse.parse(await res.json());
}

async function doc(id: string) {
  const res = await app.request(`/api/sessions/${id}`, { headers: admin });
  expect(res.status).toBe(200);
  return SessionDocument.parse(await res.json());
}

describe('boundaries by inactivity', () => {
  it('starts a readable session on first activity and continues it within the timeout', async () => {
    now = new Date('2025-01-17T14:30:05Z');
    const id = student();
    const first = await interact({
      student_id: id,
      parameters: { grade: 5 },
      data_provided: ['profile', 'progress'],
      subjects_accessed: ['mathematics'],
      platform: 'mcp',
      subject: 'Math',
      topic: 'Fractions',
    });
    expect(first).toMatchObject({ session_id: `${id}_20250117_1430`, is_new_session: true });
    expect(first.session).toMatchObject({ student_id: id, platform: 'mcp', status: 'active', subject: 'Math', topic: 'Fractions' });

    now = new Date(now.getTime() + minutes(9));
    const second = await interact({ student_id: id, function: 'get-next-problem' });
    expect(second).toMatchObject({ session_id: first.session_id, is_new_session: false });
    expect(second.session.interaction_count).toBe(2);

    const d = await doc(first.session_id);
    expect(d.mcp_interactions).toEqual([
      { timestamp: '2025-01-17T14:30:05.000Z', function: 'get-student-context', parameters: { grade: 5 }, data_provided: ['profile', 'progress'], subjects_accessed: ['mathematics'] },
      { timestamp: '2025-01-17T14:39:05.000Z', function: 'get-next-problem', parameters: {}, data_provided: [], subjects_accessed: [] },
    ]);
  });

  it('starts a new session after the inactivity gap, and the old one reads as completed', async () => {
    now = new Date('2025-01-18T09:00:00Z');
    const id = student();
    const first = await interact({ student_id: id });
    now = new Date(now.getTime() + minutes(10) + 1000);
    const second = await interact({ student_id: id });
    expect(second.is_new_session).toBe(true);
    expect(second.session_id).toBe(`${id}_20250118_0910`);
    const old = await doc(first.session_id);
    expect(old).toMatchObject({ status: 'completed', end_time: '2025-01-18T09:00:00.000Z', end_reason: 'timeout' });
  });

  it('honours fractional SESSION_TIMEOUT_MINUTES', async () => {
    const fast = appWith({ timeoutMinutes: '0.5' });
    now = new Date('2025-01-19T08:00:00Z');
    const id = student();
    const a = await interact({ student_id: id }, fast);
    now = new Date(now.getTime() + 25_000);
    expect((await interact({ student_id: id }, fast)).session_id).toBe(a.session_id);
    now = new Date(now.getTime() + 31_000);
    expect((await interact({ student_id: id }, fast)).is_new_session).toBe(true);
  });
});

describe('explicit timestamps', () => {
  it('uses the event time for boundaries and puts out-of-order interactions in the session covering them', async () => {
    now = new Date('2025-02-01T12:00:00Z');
    const id = student();
    const t = (m: number) => new Date(Date.parse('2025-02-01T10:00:00Z') + minutes(m)).toISOString();
    const s1 = await interact({ student_id: id, timestamp: t(0) });
    expect(s1.session_id).toBe(`${id}_20250201_1000`);
    expect((await interact({ student_id: id, timestamp: t(5) })).session_id).toBe(s1.session_id);
    const s2 = await interact({ student_id: id, timestamp: t(30) });
    expect(s2).toMatchObject({ session_id: `${id}_20250201_1030`, is_new_session: true });
    // Late arrival from the first sitting.
    const late = await interact({ student_id: id, timestamp: t(7), function: 'late-call' });
    expect(late).toMatchObject({ session_id: s1.session_id, is_new_session: false });
    // Arrival before any known sitting: a sitting of its own.
    const early = await interact({ student_id: id, timestamp: t(-60) });
    expect(early).toMatchObject({ session_id: `${id}_20250201_0900`, is_new_session: true });
    const d1 = await doc(s1.session_id);
    expect(d1.mcp_interactions.map((i) => i.timestamp)).toEqual([t(0), t(5), t(7)]);
    expect(d1).toMatchObject({ start_time: t(0), last_activity: t(7), status: 'completed' });
  });

  it('refuses a timestamp more than 5 minutes in the future with a 400 naming it', async () => {
    now = new Date('2025-02-02T12:00:00Z');
    const res = await app.request('/api/sessions/interactions', {
      method: 'POST',
      headers: { ...SERVICE, 'content-type': 'application/json' },
      body: JSON.stringify({ student_id: student(), function: 'f', timestamp: '2025-02-02T12:06:00Z' }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(((await res.json()) as { errors: Array<{ path: string }> }).errors[0]?.path).toBe('timestamp');
    expect((await interact({ student_id: student(), timestamp: '2025-02-02T12:04:00Z' })).is_new_session).toBe(true);
  });

  it('adds a short suffix when the readable id is taken by another session', async () => {
    now = new Date('2025-02-03T15:45:10Z');
    const id = student();
    const taken = `${id}_20250203_1545`;
    const created = await app.request('/api/sessions', {
      method: 'POST',
      headers: { ...SERVICE, 'content-type': 'application/json' },
      body: JSON.stringify({ participant: 'someone_else', session_id: taken, max_participants: 1 }),
    });
    expect(created.status).toBe(201);
    const r = await interact({ student_id: id });
    expect(r).toMatchObject({ session_id: `${taken}_2`, is_new_session: true });
    expect((await interact({ student_id: id })).session_id).toBe(`${taken}_2`);
  });
});

describe('atomic boundaries and KV loss', () => {
  it('50 simultaneous first interactions create exactly one session', async () => {
    now = new Date('2025-03-01T10:00:00Z');
    const id = student();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => interact({ student_id: id, parameters: { i } })));
    expect(new Set(results.map((r) => r.session_id)).size).toBe(1);
    expect(results.filter((r) => r.is_new_session)).toHaveLength(1);
    const d = await doc(results[0]!.session_id);
    expect(d.interaction_count).toBe(50);
    expect(d.mcp_interactions).toHaveLength(50);
    const [count] = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions WHERE student_id = $1', [id]);
    expect(count?.n).toBe(1);
  });

  it('losing KV mid-session loses nothing: the next interaction lands in the same session', async () => {
    now = new Date('2025-03-02T10:00:00Z');
    const id = student();
    const first = await interact({ student_id: id });
    kv.clear();
    now = new Date(now.getTime() + minutes(3));
    const after = await interact({ student_id: id });
    expect(after).toMatchObject({ session_id: first.session_id, is_new_session: false });
    // ...and the pointer was rebuilt from Postgres, so later interactions keep agreeing.
    now = new Date(now.getTime() + minutes(3));
    expect((await interact({ student_id: id })).session_id).toBe(first.session_id);
  });

  it('with Redis unreachable, boundaries are decided in Postgres alone, still atomically', async () => {
    const noKv = appWith({ kv: unreachableKv() });
    now = new Date('2025-03-03T10:00:00Z');
    const id = student();
    const results = await Promise.all(Array.from({ length: 20 }, () => interact({ student_id: id }, noKv)));
    expect(new Set(results.map((r) => r.session_id)).size).toBe(1);
    expect(results.filter((r) => r.is_new_session)).toHaveLength(1);
    now = new Date(now.getTime() + minutes(11));
    expect((await interact({ student_id: id }, noKv)).is_new_session).toBe(true);
  });
});

describe('input and auth', () => {
  it.each([
    ['missing student_id', { function: 'f' }, 'student_id'],
    ['missing function', { student_id: 'a', function: undefined }, 'function'],
    ['student_id with spaces', { student_id: 'a b', function: 'f' }, 'student_id'],
    ['data_provided not a list', { student_id: 'a', function: 'f', data_provided: 'profile' }, 'data_provided'],
    ['unknown field', { student_id: 'a', function: 'f', extra: 1 }, ''],
  ])('%s → 400', async (_n, body, field) => {
    const res = await app.request('/api/sessions/interactions', {
      method: 'POST',
      headers: { ...SERVICE, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { errors: Array<{ path: string }> };
    if (field) expect(problem.errors.map((e) => e.path)).toContain(field);
  });

  it('requires the service or admin token', async () => {
    const body = JSON.stringify({ student_id: student(), function: 'f' });
    const headers = { 'content-type': 'application/json' };
    expect((await app.request('/api/sessions/interactions', { method: 'POST', headers, body })).status).toBe(401);
    expect((await app.request('/api/sessions/interactions', { method: 'POST', headers: { ...headers, authorization: 'Bearer wrong' }, body })).status).toBe(401);
    expect((await app.request('/api/sessions/interactions', { method: 'POST', headers: { ...headers, ...admin }, body })).status).toBe(200);
  });
});

describe('a student on a workshop page and in tutoring', () => {
  it('a tool call for a student whose id is the email a workshop page gave starts a tutoring sitting, not the page session', async () => {
    now = new Date('2025-03-04T10:00:00Z');
    const email = `${student()}@example.com`;
    const token = `ws_${crypto.randomUUID()}`;
    // The page names its student by email: the students row's id is that email (ingest's by_email).
    const posted = await app.request('/api/session-log', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sessionToken: token, studentEmail: email, eventType: 'navigation', eventData: { from: 1, to: 2 } }),
    });
    expect(posted.status).toBe(200);
    const page = await doc(token);
    expect(page).toMatchObject({ student_id: email, platform: 'web', status: 'active' });

    now = new Date(now.getTime() + minutes(1));
    const call = await interact({ student_id: email, function: 'get-student-context', platform: 'mcp' });
    expect(call.is_new_session).toBe(true);
    expect(call.session_id).not.toBe(token);
    expect(call.session).toMatchObject({ student_id: email, platform: 'mcp', interaction_count: 1 });

    // A second call continues the tutoring sitting; the page session took none of them.
    now = new Date(now.getTime() + minutes(1));
    const again = await interact({ student_id: email, function: 'get-next-problem' });
    expect(again).toMatchObject({ session_id: call.session_id, is_new_session: false });
    const after = await doc(token);
    expect(after.interaction_count ?? 0).toBe(0);
    expect(after.mcp_interactions ?? []).toEqual([]);
    expect(after.event_count).toBe(1);
  });

  it('a page that took the sitting\'s readable id as its token does not receive the tutoring sitting', async () => {
    now = new Date('2025-03-04T11:00:00Z');
    const email = `${student()}@example.com`;
    const readable = `${email.replace('@', '_')}_20250304_1100`;
    const posted = await app.request('/api/session-log', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sessionToken: readable, studentEmail: email, eventType: 'action', eventData: { actionName: 'x' } }),
    });
    expect(posted.status).toBe(200);
    const call = await interact({ student_id: email, function: 'get-student-context' });
    expect(call.is_new_session).toBe(true);
    expect(call.session_id).toBe(`${readable}_2`);
    expect(call.session).toMatchObject({ student_id: email, platform: 'mcp', interaction_count: 1 });
    expect((await doc(readable)).interaction_count ?? 0).toBe(0);
  });
});

describe('tool-call parameters are stored as sent', () => {
  it('an integer JSON.parse would round is refused naming parameters.<key>, and the interaction is not stored', async () => {
    now = new Date('2025-02-01T10:00:00Z');
    const id = student();
    const res = await app.request('/api/sessions/interactions', {
      method: 'POST',
      headers: { ...SERVICE, 'content-type': 'application/json' },
      body: `{"function":"lookup","student_id":"${id}","parameters":{"order":{"id":12345678901234567890},"exact":9007199254740992}}`,
    });
    expect(res.status).toBe(400);
    const p = (await res.json()) as { detail: string };
    expect(p.detail).toMatch(/parameters\.order\.id: 12345678901234567890 is an integer beyond ±2\^53/);
    expect((await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE student_id = $1', [id]))[0]?.n).toBe(0);
    // The exact one alone is stored, as sent.
    const ok = await interact({ student_id: id, parameters: { exact: 2 ** 53 } });
    expect((await doc(ok.session_id)).mcp_interactions[0]?.parameters).toEqual({ exact: 2 ** 53 });
  });
});
