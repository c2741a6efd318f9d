/**
 * Pause and resume with moved time: a paused session survives the inactivity timeout (sweep,
 * effective status, end), the timeout counts again from the resume, durations exclude pauses, an
 * interaction resumes a paused practice session implicitly, and the errors (404, 409).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { EndResponse, InteractionResponse, PauseResponse, ResumeResponse, SessionPage, Timeline } from '../../lib/schemas/responses.js';
import { SessionDocument } from '../../lib/schemas/session.js';
import { activeDurationMsSql } from '../../lib/sessions/duration.js';
import type { Sql } from '../../lib/storage/sql.js';
import { admin, makeDeps, memoryPglite, testConfig, uniqueToken } from '../helpers/deps.js';
import { expectProblem as problem } from '../helpers/problem.js';

const service = { authorization: 'Bearer svc-token-123' };
const cron = { authorization: 'Bearer cron-secret-123' };
const MINUTE = 60_000;
let sql: Sql;
let app: ReturnType<typeof createApp>;
let now = new Date('2026-04-01T09:00:00.000Z');
const tick = (ms: number) => {
  now = new Date(now.getTime() + ms);
};

beforeAll(async () => {
  sql = await memoryPglite();
  const config = testConfig({ SERVICE_TOKEN: 'svc-token-123', CRON_SECRET: 'cron-secret-123', SESSION_TIMEOUT_MINUTES: '30' });
  app = createApp(makeDeps({ sql, config, now: () => now }), allFamilies);
});
afterAll(() => sql.close());
// The PGlite is shared: a day between tests leaves every earlier unpaused session over.
beforeEach(() => tick(24 * 60 * MINUTE));

const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = service) =>
  app.request(path, { method, headers: { ...headers, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

async function create() {
  const res = await send('POST', '/api/sessions', { participant: uniqueToken('p'), student_id: uniqueToken('stu'), max_participants: 1 });
  expect(res.status).toBe(201);
  return SessionDocument.parse(await res.json());
}
async function doc(id: string) {
  const res = await app.request(`/api/sessions/${id}`, { headers: admin });
  expect(res.status).toBe(200);
  return SessionDocument.parse(await res.json());
}
async function pause(id: string) {
  const res = await send('POST', `/api/sessions/${id}/pause`);
  expect(res.status).toBe(200);
  return PauseResponse.parse(await res.json());
}
async function resume(id: string) {
  const res = await send('POST', `/api/sessions/${id}/resume`);
  expect(res.status).toBe(200);
  return ResumeResponse.parse(await res.json());
}
async function timeline(id: string) {
  const res = await app.request(`/api/sessions/${id}/events`, { headers: admin });
  return Timeline.parse(await res.json()).events;
}
async function sweep() {
  const res = await app.request('/api/cron/sweep', { headers: cron });
  expect(res.status).toBe(200);
  return (await res.json()) as { ended: number; ended_ids?: string[] };
}
async function activeMsInSql(id: string): Promise<number> {
  const [r] = await sql.query<{ ms: number }>(`SELECT ${activeDurationMsSql('s')} AS ms FROM sessions s WHERE s.id = $1`, [id]);
  return Number(r?.ms);
}

describe('pause and resume', () => {
  it('a paused session outlives the timeout and the sweep; after resume the timeout counts from the resume', async () => {
    const s = await create();
    const started = now.toISOString();
    tick(10 * MINUTE);
    const pausedAt = now.toISOString();
    const p = await pause(s.session_id);
    expect(p).toMatchObject({ paused_now: true, session: { status: 'paused', paused_at: pausedAt, paused_ms: 0, end_time: null } });
    expect((await pause(s.session_id)).paused_now).toBe(false); // idempotent

    tick(3 * 60 * MINUTE); // six timeouts later
    await sweep();
    const held = await doc(s.session_id);
    expect(held).toMatchObject({ status: 'paused', end_time: null, paused_at: pausedAt, duration_seconds: 600 });
    const active = (await (await app.request('/api/sessions/active', { headers: admin })).json()) as { sessions: Array<{ session_id: string }> };
    expect(active.sessions.map((x) => x.session_id)).toContain(s.session_id);
    const listed = SessionPage.parse(await (await app.request('/api/sessions?status=paused', { headers: admin })).json());
    expect(listed.sessions.map((x) => x.session_id)).toContain(s.session_id);

    const resumedAt = now.toISOString();
    const r = await resume(s.session_id);
    expect(r).toMatchObject({ resumed_now: true, session: { status: 'active', paused_at: null, paused_ms: 3 * 60 * MINUTE, last_activity: resumedAt } });
    expect((await resume(s.session_id)).resumed_now).toBe(false); // idempotent

    tick(29 * MINUTE); // inside the timeout counted from the resume
    expect((await sweep()).ended_ids ?? []).not.toContain(s.session_id);
    expect((await doc(s.session_id)).status).toBe('active');

    tick(2 * MINUTE); // 31 min after the resume: over, ended at the resume (its last activity)
    expect((await doc(s.session_id)).status).toBe('completed');
    await sweep();
    const over = await doc(s.session_id);
    expect(over).toMatchObject({ status: 'completed', end_reason: 'timeout', start_time: started, end_time: resumedAt, duration_seconds: 600 });
    expect(await activeMsInSql(s.session_id)).toBe(600_000);

    const types = (await timeline(s.session_id)).map((e) => e.event_type);
    expect(types.filter((t) => t === 'session_paused' || t === 'session_resumed')).toEqual(['session_paused', 'session_resumed']);
    const resumed = (await timeline(s.session_id)).find((e) => e.event_type === 'session_resumed');
    expect(resumed?.event_data).toMatchObject({ implicit: false, paused_ms: 3 * 60 * MINUTE });
  });

  it('the sweep run by ordinary traffic leaves a paused session alone and ends an idle one', async () => {
    const config = testConfig({ SERVICE_TOKEN: 'svc-token-123', SESSION_TIMEOUT_MINUTES: '30', TRAFFIC_SWEEP_SECONDS: '1' });
    const deps = makeDeps({ sql, config, now: () => now });
    const traffic = createApp(deps, allFamilies);
    const held = await create();
    const idle = await create();
    await pause(held.session_id);
    tick(3 * 60 * MINUTE);
    await traffic.request('/api/stats', { headers: admin }); // any request starts the sweep after answering
    await deps.settle();
    const [h, i] = await sql.query<{ id: string; status: string; ended_at: unknown }>(
      'SELECT id, status, ended_at FROM sessions WHERE id = ANY($1::text[]) ORDER BY id = $2 DESC',
      [[held.session_id, idle.session_id], held.session_id],
    );
    expect(h).toMatchObject({ id: held.session_id, status: 'active', ended_at: null }); // stored open, read as paused
    expect(i).toMatchObject({ id: idle.session_id, status: 'completed' }); // the sweep did run
    expect((await doc(held.session_id)).status).toBe('paused');
  });

  it('durations exclude every pause; ending a paused session closes the pause', async () => {
    const s = await create();
    const id = s.session_id;
    tick(10 * MINUTE);
    await send('POST', `/api/sessions/${id}/transcript`, { speaker: 'student', text: 'first try' });
    await pause(id);
    tick(60 * MINUTE);
    await resume(id);
    tick(5 * MINUTE);
    await send('POST', `/api/sessions/${id}/transcript`, { speaker: 'student', text: 'second try' });
    await pause(id);
    tick(45 * MINUTE);
    const end = EndResponse.parse(await (await send('POST', `/api/sessions/${id}/end`)).json());
    expect(end).toMatchObject({ ended_now: true, session: { status: 'completed', end_reason: 'explicit', end_time: now.toISOString(), paused_at: null } });
    // 10 + 5 minutes active; 60 + 45 paused.
    expect(end.session.duration_seconds).toBe(15 * 60);
    expect(end.session.paused_ms).toBe(105 * MINUTE);
    expect(await activeMsInSql(id)).toBe(15 * MINUTE);
    const summary = (await (await app.request(`/api/sessions/${id}/summary`, { headers: admin })).json()) as { duration_seconds: number };
    expect(summary.duration_seconds).toBe(15 * 60);
    // The student's progress reads the same duration: one rule everywhere.
    const progress = await app.request(`/api/students/${s.student_id}/progress`, { headers: admin });
    expect(progress.status).toBe(200);
    const { sessions } = (await progress.json()) as { sessions: Array<{ session_id: string; duration_seconds: number }> };
    expect(sessions.find((x) => x.session_id === id)?.duration_seconds).toBe(15 * 60);
  });

  it('activity on a paused session resumes it at the activity time (transcript)', async () => {
    const s = await create();
    tick(5 * MINUTE);
    await pause(s.session_id);
    tick(2 * 60 * MINUTE);
    const res = await send('POST', `/api/sessions/${s.session_id}/transcript`, { speaker: 'student', text: 'back again' });
    expect(res.status).toBe(201);
    const d = await doc(s.session_id);
    expect(d).toMatchObject({ status: 'active', paused_at: null, paused_ms: 2 * 60 * MINUTE, duration_seconds: 5 * 60 });
    const ev = (await timeline(s.session_id)).find((e) => e.event_type === 'session_resumed');
    expect(ev?.event_data).toMatchObject({ implicit: true, by: 'transcript', paused_ms: 2 * 60 * MINUTE });
  });

  it('a phase change, a summary and a join resume a paused session too, each with its event', async () => {
    const res = await send('POST', '/api/sessions', { participant: uniqueToken('p'), max_participants: 2 });
    const s = SessionDocument.parse(await res.json());
    expect(s.status).toBe('waiting');
    const cases: Array<[string, string, () => Response | Promise<Response>]> = [
      ['phase_changed', 'phase', () => send('POST', `/api/sessions/${s.session_id}/phase`, { phase: 'warm_up' })],
      ['summary_updated', 'summary', () => send('PUT', `/api/sessions/${s.session_id}/summary`, { summary: 'Fractions.' })],
      ['participant_joined', 'join', () => send('POST', `/api/sessions/${s.session_id}/join`, { participant: uniqueToken('q') })],
    ];
    let paused = 0;
    for (const [by, , write] of cases) {
      await pause(s.session_id);
      expect((await doc(s.session_id)).status).toBe('paused');
      tick(45 * MINUTE); // past the timeout: only the pause keeps it open
      paused += 45 * MINUTE;
      expect((await write()).status).toBeLessThan(300);
      const d = await doc(s.session_id);
      expect(d).toMatchObject({ paused_at: null, paused_ms: paused });
      const ev = (await timeline(s.session_id)).filter((e) => e.event_type === 'session_resumed').at(-1);
      expect(ev?.event_data).toMatchObject({ implicit: true, by, paused_ms: 45 * MINUTE });
    }
    expect((await doc(s.session_id)).status).toBe('active'); // the join filled it
  });

  it('an interaction for a paused practice session resumes that same session, however long the pause', async () => {
    const student = uniqueToken('stu');
    const first = InteractionResponse.parse(await (await send('POST', '/api/sessions/interactions', { student_id: student, function: 'get-problem' })).json());
    tick(8 * MINUTE);
    await pause(first.session_id);
    tick(5 * 60 * MINUTE); // far past the timeout: without the pause this would start a new session
    const next = InteractionResponse.parse(await (await send('POST', '/api/sessions/interactions', { student_id: student, function: 'check-answer' })).json());
    expect(next).toMatchObject({ session_id: first.session_id, is_new_session: false, session: { status: 'active', paused_ms: 5 * 60 * MINUTE, interaction_count: 2 } });
    expect(next.session.duration_seconds).toBe(8 * 60);
    const types = (await timeline(first.session_id)).map((e) => e.event_type);
    expect(types).toEqual(['session_started', 'interaction', 'session_paused', 'session_resumed', 'interaction']);
  });

  it('errors: 404 unknown, 409 ended or idle past the timeout, 401 without a token', async () => {
    await problem(await send('POST', '/api/sessions/no_such_session_x/pause'), 404);
    await problem(await send('POST', '/api/sessions/no_such_session_x/resume'), 404);
    const ended = await create();
    await send('POST', `/api/sessions/${ended.session_id}/end`);
    await problem(await send('POST', `/api/sessions/${ended.session_id}/pause`), 409);
    await problem(await send('POST', `/api/sessions/${ended.session_id}/resume`), 409);
    const idle = await create();
    tick(31 * MINUTE); // over by the timeout though not swept yet
    await problem(await send('POST', `/api/sessions/${idle.session_id}/pause`), 409);
    const open = await create();
    await problem(await send('POST', `/api/sessions/${open.session_id}/pause`, undefined, {}), 401);
    expect((await doc(open.session_id)).status).toBe('active');
  });
});
