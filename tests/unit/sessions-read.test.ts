import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { GlobalStats, SessionDocument, SessionStats, SessionSummaryRow } from '../../lib/schemas/session.js';
import { admin, makeDeps, memoryPglite, testConfig, uniqueToken, writeTokenFor } from '../helpers/deps.js';
import { InteractionResponse, SessionPage as SessionList, SweepResponse, Timeline } from '../../lib/schemas/responses.js';
import { expectProblem as problem } from '../helpers/problem.js';

const service = { authorization: 'Bearer svc-token-123' };
const cron = { authorization: 'Bearer cron-secret-123' };
const MINUTE = 60_000;
const config = testConfig({ SERVICE_TOKEN: 'svc-token-123', CRON_SECRET: 'cron-secret-123' });

/** An app over its own PGlite and its own clock. */
async function world(start: string) {
  const w = { sql: await memoryPglite(), now: new Date(start), app: undefined as unknown as ReturnType<typeof createApp> };
  w.app = createApp(makeDeps({ sql: w.sql, config, now: () => w.now }), allFamilies);
  const tick = (ms: number) => {
    w.now = new Date(w.now.getTime() + ms);
  };
  const send = (method: string, path: string, body: unknown, headers: Record<string, string> = service) =>
    w.app.request(path, { method, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const create = async (body: Record<string, unknown> = {}) => {
    const res = await send('POST', '/api/sessions', { participant: uniqueToken('p'), ...body });
    expect(res.status).toBe(201);
    return SessionDocument.parse(await res.json());
  };
  const interact = async (body: Record<string, unknown>) => {
    const res = await send('POST', '/api/sessions/interactions', body);
    expect(res.status).toBe(200);
    return InteractionResponse.parse(await res.json());
  };
  const webEvent = async (sessionToken: string, eventType: string, eventData: Record<string, unknown> = {}, timestamp?: string) => {
    const res = await send('POST', '/api/session-log', { sessionToken, writeToken: await writeTokenFor(sessionToken), eventType, eventData, ...(timestamp ? { timestamp } : {}) }, {});
    expect(res.status).toBe(200);
  };
  const get = async <S extends z.ZodMiniType>(path: string, schema: S): Promise<z.infer<S>> => {
    const res = await w.app.request(path, { headers: admin });
    expect(res.status).toBe(200);
    return schema.parse(await res.json());
  };
  return Object.assign(w, { tick, send, create, interact, webEvent, get });
}

let w: Awaited<ReturnType<typeof world>>;
beforeAll(async () => {
  w = await world('2026-03-01T09:00:00.000Z');
});
afterAll(() => w.sql.close());
// The PGlite is shared: an hour between tests leaves every earlier session idle (over).
beforeEach(() => w.tick(60 * MINUTE));

const uniquePlatform = () => `p${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`;
const ids = (rows: Array<{ session_id: string }>) => rows.map((r) => r.session_id);
const list = (query: string) => w.get(`/api/sessions?${query}`, SessionList);

describe('GET /api/sessions', () => {
  it('lists history newest first, filtered by platform and student_id', async () => {
    const platform = uniquePlatform();
    const student = uniqueToken('stu');
    const a = await w.create({ platform });
    w.tick(1000);
    const b = await w.create({ platform, student_id: student });
    w.tick(1000);
    const c = await w.create({ platform });
    const byPlatform = await list(`platform=${platform}`);
    expect(ids(byPlatform.sessions)).toEqual([c.session_id, b.session_id, a.session_id]);
    expect(byPlatform).toMatchObject({ count: 3, next_cursor: null });
    expect(byPlatform.sessions[0]).toMatchObject({ event_count: 2, error_count: 0, kind: 'explicit' });
    expect(ids((await list(`student_id=${student}`)).sessions)).toEqual([b.session_id]);
  });

  it('filters on the effective status: an idle session is completed (or abandoned)', async () => {
    const platform = uniquePlatform();
    const idle = await w.create({ platform, max_participants: 1 });
    const idleWaiting = await w.create({ platform });
    const ended = await w.create({ platform, max_participants: 1 });
    await w.send('POST', `/api/sessions/${ended.session_id}/end`, {});
    w.tick(11 * MINUTE);
    const open = await w.create({ platform, max_participants: 1 });
    const byStatus = async (status: string) => {
      const { sessions } = await list(`platform=${platform}&status=${status}`);
      for (const s of sessions) expect(s.status).toBe(status);
      return ids(sessions).sort();
    };
    expect(await byStatus('completed')).toEqual([idle.session_id, ended.session_id].sort());
    expect(await byStatus('abandoned')).toEqual([idleWaiting.session_id]);
    expect(await byStatus('active')).toEqual([open.session_id]);
    expect(await byStatus('waiting')).toEqual([]);
  });

  it('since is inclusive and until exclusive, on start time', async () => {
    const platform = uniquePlatform();
    const id: string[] = [];
    const at: string[] = [];
    for (let i = 0; i < 3; i++) {
      at.push(w.now.toISOString());
      id.push((await w.create({ platform })).session_id);
      w.tick(10 * MINUTE);
    }
    expect(ids((await list(`platform=${platform}&since=${at[1]}`)).sessions)).toEqual([id[2], id[1]]);
    expect(ids((await list(`platform=${platform}&until=${at[2]}`)).sessions)).toEqual([id[1], id[0]]);
    expect(ids((await list(`platform=${platform}&since=${at[1]}&until=${at[2]}`)).sessions)).toEqual([id[1]]);
  });

  it('pages 25 sessions 10 at a time: 3 pages, no duplicates, no gaps', async () => {
    const platform = uniquePlatform();
    const made: Array<{ id: string; t: number }> = [];
    for (let i = 0; i < 25; i++) {
      if (i % 3 === 0) w.tick(1000); // some sessions share a start time: the id breaks the tie
      made.push({ id: (await w.create({ platform })).session_id, t: w.now.getTime() });
    }
    const expected = made.sort((x, y) => y.t - x.t || (x.id < y.id ? 1 : -1)).map((m) => m.id);
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const page: z.infer<typeof SessionList> = await list(`platform=${platform}&limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      pages.push(ids(page.sessions));
      cursor = page.next_cursor;
    } while (cursor && pages.length < 5);
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    expect(pages.flat()).toEqual(expected);
    expect(new Set(pages.flat()).size).toBe(25);
  });

  it('bad cursor, status or limit → 400 naming the parameter', async () => {
    const get = (q: string) => w.app.request(`/api/sessions?${q}`, { headers: admin });
    expect((await problem(await get('cursor=not-a-cursor'), 400)).errors?.[0]?.path).toBe('cursor');
    expect((await problem(await get(`cursor=${btoa('["yesterday", 5]')}`), 400)).errors?.[0]?.path).toBe('cursor');
    expect((await problem(await get('status=running'), 400)).errors?.[0]?.path).toBe('status');
    expect((await problem(await get('limit=0'), 400)).errors?.[0]?.path).toBe('limit');
  });
});

describe('GET /api/sessions/active', () => {
  it('lists only open sessions inside the timeout', async () => {
    const idle = await w.create({ max_participants: 1 });
    w.tick(11 * MINUTE);
    const open = await w.create({ max_participants: 1 });
    const waiting = await w.create();
    const ended = await w.create({ max_participants: 1 });
    await w.send('POST', `/api/sessions/${ended.session_id}/end`, {});
    const body = await w.get('/api/sessions/active', z.object({ count: z.number().check(z.int()), sessions: z.array(SessionSummaryRow) }));
    expect(body.count).toBe(body.sessions.length);
    expect(ids(body.sessions).sort()).toEqual([open.session_id, waiting.session_id].sort());
    expect(ids(body.sessions)).not.toContain(idle.session_id);
  });
});

/** A tutoring sitting: three tool calls, web events on the same token, two transcript lines. */
async function tutoringSitting() {
  const student = uniqueToken('stu');
  const calls = [
    { function: 'get_grades', data_provided: ['grades'], subjects_accessed: ['math', 'art'] },
    { function: 'get_schedule', subjects_accessed: ['math', 'biology'], data_provided: [] },
    { function: 'hello', parameters: { lang: 'en' } },
  ];
  const results = [];
  for (const call of calls) {
    results.push(await w.interact({ student_id: student, ...call }));
    w.tick(MINUTE);
  }
  const id = results[0]!.session_id;
  expect(results.map((r) => [r.session_id, r.is_new_session])).toEqual([[id, true], [id, false], [id, false]]);
  for (const correct of [true, false, true]) await w.webEvent(id, 'attempt', { correct });
  await w.webEvent(id, 'error', { errorMessage: 'boom' });
  w.tick(MINUTE);
  const entries = [{ speaker: 'student', text: 'one two three' }, { speaker: 'tutor', text: 'four  five' }];
  expect((await w.send('POST', `/api/sessions/${id}/transcript`, { entries })).status).toBe(201);
  return id;
}

describe('GET /api/sessions/{id}/summary', () => {
  it('counts interactions, data requests, subjects, events, attempts and words', async () => {
    const id = await tutoringSitting();
    const stats = await w.get(`/api/sessions/${id}/summary`, SessionStats);
    expect(stats).toEqual({
      duration_seconds: 4 * 60,
      interactions: 3,
      data_requests: 1,
      subjects_accessed: ['art', 'biology', 'math'],
      word_count: 5,
      events_by_type: { session_started: 1, interaction: 3, attempt: 3, error: 1, transcript: 2 },
      errors: 1,
      attempts: 3,
      correct: 2,
      accuracy: 0.667,
      // Three attempts in the same instant, no timeMs: the first is untimed, the others took 0 ms.
      total_time_ms: 0,
      avg_time_per_question_ms: 0,
      subjects_practiced: [],
    });
    await problem(await w.app.request(`/api/sessions/${uniqueToken('nope')}/summary`, { headers: admin }), 404);
  });
});

describe('GET /api/sessions/{id}/events', () => {
  it('is the whole timeline, web events included, in time order', async () => {
    const id = await tutoringSitting();
    // A back-dated web event lands where it happened, not where it arrived.
    const backdated = new Date(w.now.getTime() - 150_000).toISOString();
    await w.webEvent(id, 'navigation', { from: 1, to: 2 }, backdated);
    const { events, count } = await w.get(`/api/sessions/${id}/events`, Timeline);
    expect(count).toBe(11);
    expect(events.slice(0, 2).map((e) => e.event_type)).toEqual(['session_started', 'interaction']);
    expect(events.slice(2).map((e) => e.event_type)).toEqual([
      'interaction', 'navigation', 'interaction', 'attempt', 'attempt', 'attempt', 'error', 'transcript', 'transcript',
    ]);
    expect(events[3]?.created_at).toBe(backdated);
    expect(events.every((e) => e.session_token === id)).toBe(true);
    const times = events.map((e) => Date.parse(e.created_at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    await problem(await w.app.request(`/api/sessions/${uniqueToken('nope')}/events`, { headers: admin }), 404);
  });

  // session_started is inserted before the first interaction (same created_at; the id breaks the tie).
  it("an automatic sitting's timeline opens with session_started", async () => {
    const { session_id: id } = await w.interact({ student_id: uniqueToken('stu'), function: 'hello' });
    const { events } = await w.get(`/api/sessions/${id}/events`, Timeline);
    expect(events.map((e) => e.event_type)).toEqual(['session_started', 'interaction']);
  });
});

describe('GET /api/stats (own database, so counts are exact)', () => {
  let s: Awaited<ReturnType<typeof world>>;
  beforeAll(async () => {
    s = await world('2026-03-01T23:50:00.000Z');
  });
  afterAll(() => s.sql.close());

  it('counts open sessions, today, platforms and the average finished duration', async () => {
    expect(await s.get('/api/stats', GlobalStats)).toEqual({
      active_sessions: 0, sessions_today: 0, events_today: 0, sessions_by_platform: {}, average_duration_seconds: null,
    });
    await s.create({ platform: 'web', max_participants: 1 }); // yesterday; idle by noon: lasted 0 s
    s.now = new Date('2026-03-02T12:00:00.000Z');
    const vapi = await s.create({ platform: 'vapi', max_participants: 1 });
    await s.create({ platform: 'web' });
    await s.interact({ student_id: uniqueToken('stu'), function: 'hello' });
    await s.webEvent(vapi.session_id, 'action');
    s.tick(5 * MINUTE);
    await s.send('POST', `/api/sessions/${vapi.session_id}/end`, {});
    expect(await s.get('/api/stats', GlobalStats)).toEqual({
      active_sessions: 2, // the waiting web session and the mcp sitting
      sessions_today: 3,
      events_today: 2 + 2 + 2 + 1 + 1, // started+joined ×2, started+interaction, web event, ended
      sessions_by_platform: { web: 2, vapi: 1, mcp: 1 },
      average_duration_seconds: (0 + 300) / 2,
    });
    await problem(await s.app.request('/api/stats', { headers: service }), 403);
  });
});

describe('/api/cron/sweep', () => {
  const sweep = async (method: 'GET' | 'POST') => {
    const res = await w.app.request('/api/cron/sweep', { method, headers: cron });
    expect(res.status).toBe(200);
    return SweepResponse.parse(await res.json());
  };

  it('ends idle sessions once: completed or abandoned, with a session_ended event', async () => {
    await sweep('POST'); // drain what earlier tests left idle in the shared database
    const active = await w.create({ max_participants: 1 });
    const waiting = await w.create();
    const ended = await w.create({ max_participants: 1 });
    await w.send('POST', `/api/sessions/${ended.session_id}/end`, {});
    w.tick(11 * MINUTE);
    const fresh = await w.create({ max_participants: 1 });

    const first = await sweep('GET');
    expect(first).toMatchObject({ ended: 1, abandoned: 1, more: false });
    expect(first.ended_ids.sort()).toEqual([active.session_id, waiting.session_id].sort());
    const rows = await w.sql.query<{ id: string; status: string; end_reason: string }>(
      'SELECT id, status, end_reason FROM sessions WHERE id = ANY($1::text[]) ORDER BY id',
      [[active.session_id, waiting.session_id, fresh.session_id]],
    );
    const byId = Object.fromEntries(rows.map((r) => [r.id, [r.status, r.end_reason]]));
    expect(byId).toEqual({
      [active.session_id]: ['completed', 'timeout'],
      [waiting.session_id]: ['abandoned', 'timeout'],
      [fresh.session_id]: ['active', null],
    });
    const doc = await w.get(`/api/sessions/${active.session_id}`, SessionDocument);
    expect(doc).toMatchObject({ status: 'completed', end_time: active.start_time });
    const timeline = async (id: string) => (await w.get(`/api/sessions/${id}/events`, Timeline)).events;
    const last = (await timeline(waiting.session_id)).at(-1);
    expect(last).toMatchObject({ event_type: 'session_ended', event_data: { reason: 'timeout', status: 'abandoned' }, created_at: waiting.start_time });

    expect(await sweep('POST')).toEqual({ ended: 0, abandoned: 0, more: false, ended_ids: [] });
    expect((await timeline(active.session_id)).filter((e) => e.event_type === 'session_ended')).toHaveLength(1);
  });

  it.each([
    ['no token', {}, 401],
    ['a wrong secret', { authorization: 'Bearer nope' }, 401],
    ['the admin token', admin, 403],
    ['the service token', service, 403],
  ])('refuses %s', async (_name, headers, status) => {
    for (const method of ['GET', 'POST']) await problem(await w.app.request('/api/cron/sweep', { method, headers }), status);
  });
});
