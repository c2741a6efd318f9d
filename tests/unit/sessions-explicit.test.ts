import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { SessionDocument } from '../../lib/schemas/session.js';
import type { Sql } from '../../lib/storage/sql.js';
import { admin, makeDeps, memoryPglite, testConfig, uniqueToken } from '../helpers/deps.js';
import { EndResponse, JoinResponse, Timeline } from '../../lib/schemas/responses.js';
import { expectProblem as problem } from '../helpers/problem.js';

const service = { authorization: 'Bearer svc-token-123' };
const MINUTE = 60_000;
let sql: Sql;
let app: ReturnType<typeof createApp>;
let now = new Date('2026-03-01T09:00:00.000Z');
const tick = (ms: number) => {
  now = new Date(now.getTime() + ms);
};

beforeAll(async () => {
  sql = await memoryPglite();
  const config = testConfig({ SERVICE_TOKEN: 'svc-token-123', CRON_SECRET: 'cron-secret-123' });
  app = createApp(makeDeps({ sql, config, now: () => now }), allFamilies);
});
afterAll(() => sql.close());
// The PGlite is shared: an hour between tests leaves every earlier session idle (over).
beforeEach(() => tick(60 * MINUTE));

const send = (method: string, path: string, body: unknown, headers: Record<string, string> = service) =>
  app.request(path, { method, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function create(body: Record<string, unknown> = {}) {
  const res = await send('POST', '/api/sessions', { participant: uniqueToken('p'), ...body });
  expect(res.status).toBe(201);
  return SessionDocument.parse(await res.json());
}

async function getDoc(id: string) {
  const res = await app.request(`/api/sessions/${id}`, { headers: admin });
  expect(res.status).toBe(200);
  return SessionDocument.parse(await res.json());
}

async function timeline(id: string) {
  const res = await app.request(`/api/sessions/${id}/events`, { headers: admin });
  expect(res.status).toBe(200);
  return Timeline.parse(await res.json()).events;
}

const join = (id: string, participant: string) => send('POST', `/api/sessions/${id}/join`, { participant });

describe('POST /api/sessions', () => {
  it('creates a waiting session (2 seats by default) with the creator as role A', async () => {
    const doc = await create({ participant: 'ada', platform: 'vapi', subject: 'math', metadata: { room: 7 } });
    expect(doc).toMatchObject({ kind: 'explicit', status: 'waiting', max_participants: 2, platform: 'vapi', subject: 'math', metadata: { room: 7 } });
    expect(doc.participants).toEqual([{ id: 'ada', role: 'A', joined_at: now.toISOString() }]);
    expect(doc).toMatchObject({ start_time: now.toISOString(), end_time: null, summary: null, mcp_interactions: [] });
  });

  it('is active at once when max_participants is 1', async () => {
    expect((await create({ max_participants: 1 })).status).toBe('active');
  });

  it('refuses a session_id a sessions route lists under (active, waiting): that session could not be read by its id', async () => {
    for (const session_id of ['active', 'waiting']) {
      const p = await problem(await send('POST', '/api/sessions', { participant: 'bob', session_id }), 400);
      expect(p.detail).toContain('must not be active or waiting');
    }
  });

  it('honours an explicit session_id and refuses it a second time with 409', async () => {
    const id = uniqueToken('sess');
    expect((await create({ session_id: id })).session_id).toBe(id);
    const p = await problem(await send('POST', '/api/sessions', { participant: 'bob', session_id: id }), 409);
    expect(p.errors?.[0]?.path).toBe('session_id');
  });
});

describe('GET /api/sessions/waiting', () => {
  it('answers 404 when nothing waits, then the oldest waiting session', async () => {
    // Every session of earlier tests is idle by now (beforeEach), so none of them waits.
    await problem(await app.request('/api/sessions/waiting', { headers: service }), 404);
    const first = await create();
    tick(1000);
    const second = await create();
    await create({ max_participants: 1 }); // active, not waiting
    const oldest = async () => SessionDocument.parse(await (await app.request('/api/sessions/waiting', { headers: service })).json());
    expect((await oldest()).session_id).toBe(first.session_id);
    expect((await join(first.session_id, 'matcher')).status).toBe(200);
    expect((await oldest()).session_id).toBe(second.session_id);
  });
});

describe('POST /api/sessions/{id}/join', () => {
  it('gives role B, activates the session, and is idempotent', async () => {
    const { session_id: id } = await create({ participant: 'amy' });
    const first = JoinResponse.parse(await (await join(id, 'ben')).json());
    expect(first).toMatchObject({ session_id: id, participant: 'ben', role: 'B' });
    expect(first.session.status).toBe('active');
    const again = await join(id, 'ben');
    expect(again.status).toBe(200);
    expect(JoinResponse.parse(await again.json()).role).toBe('B');
    expect(JoinResponse.parse(await (await join(id, 'amy')).json()).role).toBe('A');
    expect((await getDoc(id)).participants.map((p) => [p.id, p.role])).toEqual([['amy', 'A'], ['ben', 'B']]);
  });

  it('refuses a third participant with 409 and an unknown session with 404', async () => {
    const { session_id: id } = await create();
    await join(id, 'second');
    expect((await problem(await join(id, 'third'), 409)).detail).toContain('full');
    await problem(await join(uniqueToken('nope'), 'x'), 404);
  });

  it('10 concurrent joins on a 3-seat session: exactly 2 succeed, as B and C', async () => {
    const { session_id: id } = await create({ max_participants: 3 });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => join(id, `racer_${i}`)));
    const ok = results.filter((r) => r.status === 200);
    expect(results.filter((r) => r.status === 409)).toHaveLength(8);
    const roles = await Promise.all(ok.map(async (r) => JoinResponse.parse(await r.json()).role));
    expect(roles.sort()).toEqual(['B', 'C']);
    const doc = await getDoc(id);
    expect(doc.participants.map((p) => p.role)).toEqual(['A', 'B', 'C']);
    expect(doc.status).toBe('active');
  });
});

describe('writes: transcript, phase, summary, end', () => {
  it('appends single and batched transcript entries in order', async () => {
    const { session_id: id } = await create({ max_participants: 1 });
    const one = await send('POST', `/api/sessions/${id}/transcript`, { speaker: 'A', text: 'Hello there' });
    expect(one.status).toBe(201);
    expect(await one.json()).toEqual({ success: true, session_id: id, appended: 1 });
    tick(1000);
    const batch = { entries: [{ speaker: 'B', text: 'Hi, how are you?' }, { speaker: 'A', text: 'Fine  thanks' }] };
    expect((await send('POST', `/api/sessions/${id}/transcript`, batch)).status).toBe(201);
    const doc = await getDoc(id);
    expect(doc.conversation.entries.map((e) => [e.speaker, e.text])).toEqual([['A', 'Hello there'], ['B', 'Hi, how are you?'], ['A', 'Fine  thanks']]);
    expect(doc.conversation.transcript).toBe('A: Hello there\nB: Hi, how are you?\nA: Fine  thanks');
    expect(doc.conversation.word_count).toBe(8);
    expect(doc).toMatchObject({ transcript_count: 3, last_activity: now.toISOString() });
  });

  it('sets the phase and records phase_changed {from, to}', async () => {
    const { session_id: id } = await create({ max_participants: 1 });
    for (const phase of ['warmup', 'practice']) {
      const res = await send('POST', `/api/sessions/${id}/phase`, { phase });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ session_id: id, phase });
    }
    expect((await getDoc(id)).phase).toBe('practice');
    const changes = (await timeline(id)).filter((e) => e.event_type === 'phase_changed').map((e) => e.event_data);
    expect(changes).toEqual([{ from: null, to: 'warmup' }, { from: 'warmup', to: 'practice' }]);
  });

  it('PUT summary stores the summary', async () => {
    const { session_id: id } = await create({ max_participants: 1 });
    const res = await send('PUT', `/api/sessions/${id}/summary`, { summary: 'Covered fractions.' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ session_id: id, summary: 'Covered fractions.' });
    expect((await getDoc(id)).summary).toBe('Covered fractions.');
  });

  it('ending twice answers 200 both times with the same end_time', async () => {
    const { session_id: id } = await create({ max_participants: 1 });
    tick(MINUTE);
    const first = EndResponse.parse(await (await send('POST', `/api/sessions/${id}/end`, {})).json());
    expect(first).toMatchObject({ ended_now: true, session: { status: 'completed', end_time: now.toISOString(), end_reason: 'explicit' } });
    tick(MINUTE);
    const res = await send('POST', `/api/sessions/${id}/end`, {});
    expect(res.status).toBe(200);
    const second = EndResponse.parse(await res.json());
    expect(second.ended_now).toBe(false);
    expect(second.session.end_time).toBe(first.session.end_time);
  });

  const writes: Array<[string, string, string, unknown]> = [
    ['transcript', 'POST', 'transcript', { speaker: 'A', text: 'late' }],
    ['phase', 'POST', 'phase', { phase: 'late' }],
    ['summary', 'PUT', 'summary', { summary: 'late' }],
    ['join', 'POST', 'join', { participant: 'latecomer' }],
  ];

  it.each(writes)('%s on an ended session → 409, on an unknown id → 404', async (_name, method, path, body) => {
    const { session_id: id } = await create();
    expect((await send('POST', `/api/sessions/${id}/end`, {})).status).toBe(200);
    expect((await problem(await send(method, `/api/sessions/${id}/${path}`, body), 409)).code).toBe('CONFLICT');
    expect((await problem(await send(method, `/api/sessions/${uniqueToken('nope')}/${path}`, body), 404)).code).toBe('NOT_FOUND');
  });

  it('a session idle past the timeout reads as over, ended at its last activity, and refuses writes', async () => {
    const active = await create({ max_participants: 1 });
    const waiting = await create();
    tick(2 * MINUTE);
    await send('POST', `/api/sessions/${active.session_id}/phase`, { phase: 'last' });
    const lastActivity = now.toISOString();
    tick(11 * MINUTE);
    expect(await getDoc(active.session_id)).toMatchObject({ status: 'completed', end_time: lastActivity, end_reason: 'timeout', duration_seconds: 120 });
    expect(await getDoc(waiting.session_id)).toMatchObject({ status: 'abandoned', end_time: waiting.start_time });
    for (const [, method, path, body] of writes) await problem(await send(method, `/api/sessions/${active.session_id}/${path}`, body), 409);
  });

  // Regression (fixed in 93594db): endSession used to turn this `abandoned` into `completed`.
  it('ending a timed-out waiting session keeps it abandoned', async () => {
    const { session_id: id } = await create();
    tick(11 * MINUTE);
    expect((await getDoc(id)).status).toBe('abandoned');
    const end = EndResponse.parse(await (await send('POST', `/api/sessions/${id}/end`, {})).json());
    expect(end.session).toMatchObject({ end_reason: 'timeout', status: 'abandoned' });
  });
});

describe('POST /api/sessions/close', () => {
  it('closes by session_id and by student_id; 404 when the student has no open session', async () => {
    const bySession = await create({ max_participants: 1 });
    const close = (body: unknown) => send('POST', '/api/sessions/close', body);
    const a = EndResponse.parse(await (await close({ session_id: bySession.session_id })).json());
    expect(a).toMatchObject({ session_id: bySession.session_id, ended_now: true, session: { status: 'completed' } });
    const student = uniqueToken('stu');
    const byStudent = await create({ student_id: student, max_participants: 1 });
    const res = await close({ student_id: student });
    expect(res.status).toBe(200);
    expect(EndResponse.parse(await res.json())).toMatchObject({ session_id: byStudent.session_id, ended_now: true });
    expect((await getDoc(byStudent.session_id)).status).toBe('completed');
    await problem(await close({ student_id: student }), 404);
    await problem(await close({ student_id: uniqueToken('ghost') }), 404);
  });

  it('by student_id closes the tutoring session, never the workshop page the student is on', async () => {
    const email = `${uniqueToken('stu')}@example.com`;
    const token = uniqueToken('ws');
    const close = (body: unknown) => send('POST', '/api/sessions/close', body);
    expect((await send('POST', '/api/session-log', { sessionToken: token, studentEmail: email, eventType: 'action', eventData: { actionName: 'open' } })).status).toBe(200);
    expect((await getDoc(token)).student_id).toBe(email);
    await problem(await close({ student_id: email }), 404);
    const tutoring = await create({ student_id: email, max_participants: 1 });
    expect(EndResponse.parse(await (await close({ student_id: email })).json())).toMatchObject({ session_id: tutoring.session_id, ended_now: true });
    expect((await getDoc(token)).status).toBe('active');
  });
});

describe('bad bodies are 400 problems naming the field', () => {
  it.each([
    ['missing participant', 'participant', '/api/sessions', {}],
    ['max_participants 0', 'max_participants', '/api/sessions', { participant: 'a', max_participants: 0 }],
    ['empty entries array', 'entries', '/api/sessions/s_x/transcript', { entries: [] }],
    ['bad participant in join', 'participant', '/api/sessions/s_x/join', { participant: 'has space' }],
  ])('%s → 400 naming %s', async (_name, field, url, body) => {
    const p = await problem(await send('POST', url, body), 400);
    expect(p.errors?.map((e) => e.path)).toContain(field);
  });

  it('an unknown field → 400 naming it', async () => {
    const p = await problem(await send('POST', '/api/sessions', { participant: 'a', colour: 'red' }), 400);
    expect(p.errors?.[0]?.message).toContain('colour');
  });

  // Regression (fixed in 93594db): a z.union used to answer "(body): Invalid input" here.
  it('transcript text not a string → 400 naming text', async () => {
    const p = await problem(await send('POST', '/api/sessions/s_x/transcript', { speaker: 'A', text: 42 }), 400);
    expect(p.errors?.map((e) => e.path)).toContain('text');
  });
});

describe('auth', () => {
  it('writes need the service or admin token; reads need the admin token', async () => {
    const body = { participant: 'a' };
    const none = await app.request('/api/sessions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await problem(none, 401)).code).toBe('UNAUTHORIZED');
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    await problem(await send('POST', '/api/sessions', body, { authorization: 'Bearer wrong-token' }), 401);
    const bySvc = await send('POST', '/api/sessions', body);
    expect(bySvc.status).toBe(201);
    const id = SessionDocument.parse(await bySvc.json()).session_id;
    // A known token without the role is 403, not 401.
    await problem(await app.request(`/api/sessions/${id}`, { headers: service }), 403);
    await problem(await app.request(`/api/sessions/${id}/events`, { headers: service }), 403);
    expect((await send('POST', '/api/sessions', body, admin)).status).toBe(201);
    expect((await getDoc(id)).session_id).toBe(id);
  });
});

describe('every change is an event', () => {
  it('the timeline lists each change in time order', async () => {
    const { session_id: id } = await create({ participant: 'ann' });
    const steps: Array<[string, string, unknown]> = [
      ['POST', 'join', { participant: 'bo' }],
      ['POST', 'transcript', { speaker: 'A', text: 'hi' }],
      ['POST', 'phase', { phase: 'main' }],
      ['PUT', 'summary', { summary: 'done' }],
      ['POST', 'end', {}],
    ];
    for (const [method, path, body] of steps) {
      tick(1000);
      expect((await send(method, `/api/sessions/${id}/${path}`, body)).status).toBeLessThan(300);
    }
    const events = await timeline(id);
    expect(events.map((e) => e.event_type)).toEqual([
      'session_started', 'participant_joined', 'participant_joined', 'transcript', 'phase_changed', 'summary_updated', 'session_ended',
    ]);
    expect(events.map((e) => e.event_data).slice(1, 3)).toEqual([{ participant: 'ann', role: 'A' }, { participant: 'bo', role: 'B' }]);
    expect(events.at(-1)?.event_data).toEqual({ reason: 'explicit' });
    const times = events.map((e) => Date.parse(e.created_at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(events.at(-1)?.created_at).toBe(now.toISOString());
  });
});
