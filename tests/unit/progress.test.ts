import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { names } from '../../lib/progress/coverage.js';
import { leastSquaresSlope } from '../../lib/progress/trends.js';
import { StudentProgress } from '../../lib/schemas/progress.js';
import { InteractionResponse } from '../../lib/schemas/responses.js';
import { SessionDocument, SessionStats } from '../../lib/schemas/session.js';
import type { Sql } from '../../lib/storage/sql.js';
import { admin, makeDeps, memoryPglite, testConfig, uniqueToken, writeTokenFor } from '../helpers/deps.js';
import { expectProblem as problem } from '../helpers/problem.js';

const service = { authorization: 'Bearer svc-token-123' };
const SECOND = 1000;
const MINUTE = 60_000;
// A 30-minute timeout: a page's attempts do not keep a tool-call sitting open, and one sitting below spans 16 minutes.
const config = testConfig({ SERVICE_TOKEN: 'svc-token-123', WEBHOOK_TOKEN: 'hook-token-123', SESSION_TIMEOUT_MINUTES: '30' });

let sql: Sql;
let now = new Date('2026-03-02T09:00:00.000Z');
let app: ReturnType<typeof createApp>;
beforeAll(async () => {
  sql = await memoryPglite();
  app = createApp(makeDeps({ sql, config, now: () => now }), allFamilies);
});
afterAll(() => sql.close());
// One PGlite for the file: an hour between tests leaves every earlier sitting over.
beforeEach(() => tick(60 * MINUTE));

const tick = (ms: number) => {
  now = new Date(now.getTime() + ms);
};
const send = (method: string, path: string, body: unknown, headers: Record<string, string> = service) =>
  app.request(path, { method, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
const post = async (path: string, body: unknown, status = 200, headers = service) => {
  const res = await send('POST', path, body, headers);
  expect(res.status, await res.clone().text()).toBe(status);
  return res.json();
};
const attempt = async (sessionToken: string, eventData: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  post('/api/session-log', { sessionToken, writeToken: await writeTokenFor(sessionToken), eventType: 'attempt', eventData, ...extra });
const getJson = async (path: string) => {
  const res = await app.request(path, { headers: admin });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
};
const progress = async (student: string, query = '') => StudentProgress.parse(await getJson(`/api/students/${encodeURIComponent(student)}/progress${query}`));

/**
 * A tool-call sitting: one interaction, the attempts `gapMs` apart, a closing interaction (a page's
 * events do not move a tool-call sitting's last activity; its tool calls do); idle past the timeout after.
 */
async function sitting(student: string, opts: { results: boolean[]; timeMs?: number; gapMs?: number; subject?: string; topic?: string }) {
  const res = InteractionResponse.parse(
    await post('/api/sessions/interactions', { student_id: student, function: 'start_practice', subject: opts.subject ?? 'Math', topic: opts.topic ?? 'Fractions' }),
  );
  for (const correct of opts.results) {
    tick(opts.gapMs ?? MINUTE);
    await attempt(res.session_id, { correct, ...(opts.timeMs !== undefined ? { timeMs: opts.timeMs } : {}) });
  }
  await post('/api/sessions/interactions', { student_id: student, function: 'end_practice' });
  tick(60 * MINUTE);
  return res.session_id;
}

/** A completed analysis, as the model would have stored it (the model is a third party; its output is data here). */
async function analysed(sessionId: string, result: { engagement_score?: number; next_steps?: string[]; concepts_covered?: string[] }) {
  const full = { session_summary: 's', learning_outcomes: [], engagement_score: 0.5, next_steps: [], concepts_covered: [], struggles: [], progress_change: null, ...result };
  await sql.query(
    `INSERT INTO analyses (session_id, template, template_hash, model, trigger, status, result, attempts, completed_at)
     VALUES ($1, 'session_summary', 'h', 'm', 'on_request', 'completed', $2::jsonb, 1, $3)`,
    [sessionId, JSON.stringify(full), now.toISOString()],
  );
}

describe('GET /api/sessions/{id}/summary: the practice-session fields', () => {
  it('times attempts by timeMs when they carry it', async () => {
    const { session_id: id } = InteractionResponse.parse(await post('/api/sessions/interactions', { student_id: uniqueToken('stu'), function: 'quiz', subject: 'Math' }));
    await attempt(id, { correct: true, timeMs: 4000, subject: 'algebra' });
    tick(MINUTE); // event gaps are ignored when timeMs is there
    await attempt(id, { correct: false, timeMs: 6000, subject: 'geometry' });
    await attempt(id, { correct: true, timeMs: 5500, subject: 'algebra' });
    const stats = SessionStats.parse(await getJson(`/api/sessions/${id}/summary`));
    expect(stats).toMatchObject({ attempts: 3, correct: 2, accuracy: 0.667, total_time_ms: 15_500, avg_time_per_question_ms: 5167, subjects_practiced: ['algebra', 'geometry'] });
  });

  it('without timeMs, times each attempt from the previous one (the first has no time)', async () => {
    const { session_id: id } = InteractionResponse.parse(await post('/api/sessions/interactions', { student_id: uniqueToken('stu'), function: 'quiz', subject: 'Spanish' }));
    await attempt(id, { correct: true });
    tick(30 * SECOND);
    await attempt(id, { correct: true });
    tick(90 * SECOND);
    await attempt(id, { correct: false });
    tick(10 * SECOND);
    await attempt(id, { correct: false, timeMs: 2000 }); // mixed: its own time wins over the 10 s gap
    const stats = SessionStats.parse(await getJson(`/api/sessions/${id}/summary`));
    // 30 s + 90 s + 2 s over the three timed attempts; no subject on the attempts: the session's.
    expect(stats).toMatchObject({ attempts: 4, correct: 2, accuracy: 0.5, total_time_ms: 122_000, avg_time_per_question_ms: 40_667, subjects_practiced: ['Spanish'] });
  });

  it('a session without attempts has zero time and no average', async () => {
    const { session_id: id } = InteractionResponse.parse(await post('/api/sessions/interactions', { student_id: uniqueToken('stu'), function: 'hello' }));
    expect(SessionStats.parse(await getJson(`/api/sessions/${id}/summary`))).toMatchObject({ attempts: 0, accuracy: null, total_time_ms: 0, avg_time_per_question_ms: null, subjects_practiced: [] });
  });

  it('refuses a timeMs that is not a duration, naming the field', async () => {
    const token = uniqueToken();
    for (const timeMs of [-1, 'fast', 90_000_000]) {
      const res = await send('POST', '/api/session-log', { sessionToken: token, eventType: 'attempt', eventData: { correct: true, timeMs } });
      const body = await problem(res, 400);
      expect(JSON.stringify(body)).toContain('timeMs');
    }
  });
});

describe('GET /api/students/{id}/progress', () => {
  it('trends over the last sessions have the slopes of the data (accuracy up, time down, duration up, engagement down)', async () => {
    const student = uniqueToken('stu');
    const ids: string[] = [];
    // Session i: i+1 of 4 correct, timeMs 8 s → 2 s, attempts (i+1) minutes apart (duration 4(i+1) min), engagement 0.9 → 0.3.
    for (let i = 0; i < 4; i++) {
      const id = await sitting(student, { results: [0, 1, 2, 3].map((k) => k <= i), timeMs: 8000 - 2000 * i, gapMs: (i + 1) * MINUTE });
      await analysed(id, { engagement_score: 0.9 - 0.2 * i });
      ids.push(id);
    }
    const p = await progress(student);
    expect(p.session_count).toBe(4);
    expect(p.sessions.map((s) => s.session_id)).toEqual(ids);
    expect(p.sessions.map((s) => [s.accuracy, s.avg_time_per_attempt_ms, s.duration_seconds])).toEqual([
      [0.25, 8000, 240], [0.5, 6000, 480], [0.75, 4000, 720], [1, 2000, 960],
    ]);
    const { accuracy, time_per_attempt_ms: time, duration_seconds: duration, engagement } = p.trends;
    expect(accuracy).toMatchObject({ points: 4, slope: 0.25, direction: 'up', improving: true });
    expect(time).toMatchObject({ points: 4, slope: -2000, direction: 'down', improving: true });
    expect(duration).toMatchObject({ points: 4, slope: 240, direction: 'up', improving: null });
    expect(engagement).toMatchObject({ points: 4, slope: -0.2, direction: 'down', improving: false });
    expect(accuracy.values.map((v) => v.value)).toEqual([0.25, 0.5, 0.75, 1]);

    // ?last=3: only the latest three sessions; a session without attempts is a gap, not a zero.
    const noAttempts = await sitting(student, { results: [] });
    const last3 = await progress(student, '?last=3');
    expect(last3.trends.accuracy.values.map((v) => [v.session_id, v.value])).toEqual([[ids[2], 0.75], [ids[3], 1], [noAttempts, null]]);
    expect(last3.trends.accuracy).toMatchObject({ points: 2, slope: 0.25, direction: 'up' });
    expect(last3.trends.engagement).toMatchObject({ points: 2, slope: -0.2 }); // the unanalysed session has no engagement
    expect(last3.sessions).toHaveLength(5); // the list is the whole history; the window is for trends
  });

  it('equal values are flat, and one point has no slope', async () => {
    const student = uniqueToken('stu');
    await sitting(student, { results: [true, false], timeMs: 3000 });
    let p = await progress(student);
    expect(p.trends.accuracy).toMatchObject({ points: 1, slope: null, direction: null, improving: null });
    await sitting(student, { results: [false, true], timeMs: 3000 });
    p = await progress(student);
    expect(p.trends.accuracy).toMatchObject({ points: 2, slope: 0, direction: 'flat', improving: null });
    expect(p.trends.time_per_attempt_ms).toMatchObject({ slope: 0, direction: 'flat' });
  });

  it('outstanding next steps: a later session that practises what a step names addresses it', async () => {
    const student = uniqueToken('stu');
    const s1 = await sitting(student, { results: [true], topic: 'Fractions' });
    await analysed(s1, { next_steps: ['Practise decimals with money examples', 'Review long division'] });
    const s2 = await sitting(student, { results: [true], topic: 'Decimals' }); // addresses "decimals"
    await analysed(s2, { next_steps: ['Review long division', 'Try word problems'] });
    const s3 = await sitting(student, { results: [true], topic: 'Geometry' });
    await analysed(s3, { next_steps: ['Measure angles at home', 'Try Word-Problems again'], concepts_covered: ['word problems'] });

    const p = await progress(student);
    expect(p.outstanding_next_steps).toEqual([
      // "word problems" (s3's concept) does not address s3's own step: only a later session can.
      { step: 'Measure angles at home', suggested_in: s3, suggested_at: p.sessions[2]!.start_time, times_suggested: 1 },
      { step: 'Try Word-Problems again', suggested_in: s3, suggested_at: p.sessions[2]!.start_time, times_suggested: 1 },
      { step: 'Review long division', suggested_in: s2, suggested_at: p.sessions[1]!.start_time, times_suggested: 2 },
    ]);
    // s2's "Try word problems" was addressed by s3's concepts_covered.
    expect(p.outstanding_next_steps.map((s) => s.step)).not.toContain('Try word problems');
    expect(p.sessions[1]).toMatchObject({ next_steps: ['Review long division', 'Try word problems'], engagement_score: 0.5 });
  });

  it('topics covered, and those not revisited in the last K sessions', async () => {
    const student = uniqueToken('stu');
    await sitting(student, { results: [true], topic: 'Fractions', subject: 'Math' });
    await sitting(student, { results: [true], topic: 'decimals ', subject: 'Math' });
    await sitting(student, { results: [true], topic: 'Fractions', subject: 'Math' });
    await sitting(student, { results: [true], topic: 'Verbs', subject: 'Spanish' });
    const p = await progress(student, '?recent=2');
    expect(p.topics.recent).toBe(2);
    const covered = Object.fromEntries(p.topics.covered.map((t) => [t.name, [t.kind, t.sessions]]));
    expect(covered).toEqual({ Fractions: ['topic', 2], decimals: ['topic', 1], Math: ['subject', 3], Verbs: ['topic', 1], Spanish: ['subject', 1] });
    expect(p.topics.not_revisited.map((t) => t.name)).toEqual(['decimals']);
    expect((await progress(student, '?recent=1')).topics.not_revisited.map((t) => t.name).sort()).toEqual(['Fractions', 'Math', 'decimals']);
    expect((await progress(student)).topics.not_revisited).toEqual([]); // default K = 3: decimals was 3 sessions ago
  });

  it('brings workshop pages, tool-call sittings, voice calls and explicit sessions of one student together, in time order', async () => {
    const email = `${uniqueToken('ann')}@example.com`;
    // The workshop page comes first: it names the student (email, name); the tool calls then join her.
    const ws = uniqueToken('ws');
    await post('/api/session-log', { sessionToken: ws, studentEmail: email, studentName: 'Ann Lee', eventType: 'attempt', eventData: { correct: true, topic: 'Loops' } });
    tick(20 * SECOND);
    await attempt(ws, { correct: true });
    await post('/api/session-log', { sessionToken: ws, eventType: 'error', eventData: { errorMessage: 'boom' } });
    tick(60 * MINUTE);
    const mcp = await sitting(email, { results: [true, false], timeMs: 1000 });
    // A voice call from another platform, 20 minutes long, reported after it ended.
    const callStart = new Date(now.getTime() - 40 * MINUTE);
    const call = (await post('/api/webhooks/session-data', {
      platform: 'retell', student_id: email, call_id: uniqueToken('call'), started_at: callStart.toISOString(),
      ended_at: new Date(callStart.getTime() + 20 * MINUTE).toISOString(), transcript: [{ speaker: 'user', text: 'Can we do loops again?' }],
    }, 200, { authorization: 'Bearer hook-token-123' })) as { session_id: string };
    tick(60 * MINUTE);
    const explicit = SessionDocument.parse(await post('/api/sessions', { participant: 'tutor_bot', student_id: email, platform: 'superinterface', subject: 'Physics', max_participants: 1 }, 201));
    const p = await progress(email);
    expect(p.student).toEqual({ id: email, name: 'Ann Lee', email });
    expect(p.sessions.map((s) => [s.session_id, s.platform, s.attempts, s.accuracy])).toEqual([
      [ws, 'web', 2, 1],
      [mcp, 'mcp', 2, 0.5],
      [call.session_id, 'retell', 0, null],
      [explicit.session_id, 'superinterface', 0, null],
    ]);
    expect(p.sessions[0]).toMatchObject({ topics: ['Loops'], errors: 1, events: 3, avg_time_per_attempt_ms: 20_000 });
    expect(p.sessions[2]).toMatchObject({ duration_seconds: 1200, status: 'completed' });
    expect(p.sessions[3]).toMatchObject({ subjects: ['Physics'], status: 'active', end_time: null });
  });

  it('names a student by the email an instructor knows, when their id is another (any case); an unknown email is 404', async () => {
    const id = uniqueToken('emma');
    const email = `${id}@Example.com`;
    const put = await app.request(`/api/students/${id}`, { method: 'PUT', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Emma Smith', email }) });
    expect(put.status, await put.clone().text()).toBe(200);
    const sid = await sitting(id, { results: [true, false] });
    const byEmail = await progress(email.toUpperCase());
    expect(byEmail.student).toEqual({ id, name: 'Emma Smith', email: email.toLowerCase() });
    expect(byEmail.sessions.map((s) => [s.session_id, s.attempts, s.accuracy])).toEqual([[sid, 2, 0.5]]);
    expect(byEmail).toEqual(await progress(id));
    const none = await problem(await app.request(`/api/students/${encodeURIComponent(`x${email}`)}/progress`, { headers: admin }), 404);
    expect(none.detail).toBe(`student x${email} does not exist`);
  });

  it('404 for a student nobody knows; 400 for a bad window; 401 without a token', async () => {
    await problem(await app.request(`/api/students/${uniqueToken('nobody')}/progress`, { headers: admin }), 404);
    const student = uniqueToken('stu');
    await sitting(student, { results: [true] });
    for (const q of ['last=1', 'last=abc', 'last=101', 'recent=0']) {
      const body = await problem(await app.request(`/api/students/${student}/progress?${q}`, { headers: admin }), 400);
      expect(JSON.stringify(body)).toContain(q.split('=')[0]);
    }
    await problem(await app.request(`/api/students/${student}/progress`), 401);
  });
});

describe('the rules underneath', () => {
  it('least squares on scattered values, not the end points: 1, 3, 2, 5 rise 1.1 per session', () => {
    expect(leastSquaresSlope([1, 3, 2, 5].map((y, x) => ({ x, y })))).toBeCloseTo(1.1, 12);
    expect(leastSquaresSlope([{ x: 0, y: 4 }, { x: 3, y: 1 }])).toBe(-1); // gaps keep their positions
    expect(leastSquaresSlope([{ x: 2, y: 4 }])).toBeNull();
  });

  it('a step names a topic as whole words, case-insensitively, whatever characters the topic has', () => {
    expect(names('Practise C++ pointers', 'c++')).toBe(true);
    expect(names('Review FRACTIONS daily', 'Fractions ')).toBe(true);
    expect(names('Review fractional parts', 'fraction')).toBe(false);
    expect(names('Look at the (a+b)^2 identity', '(a+b)^2')).toBe(true);
    expect(names('Do it', 'it')).toBe(false); // under three characters: too short to mean anything
  });
});
