/**
 * Graded tool calls count as attempts (ADR 0030), on real PostgreSQL through the production `pg`
 * client: a call of an ATTEMPT_TOOLS tool whose arguments carry a boolean `correct` is an attempt in
 * the session summary and in the student's progress, wherever the call arrives — the tool server's
 * POST /api/sessions/interactions, Vapi `tool-calls` and end-of-call reports, the session-data
 * webhook — and counts once however often it is delivered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { ConfigError, parseConfig } from '../../lib/config.js';
import { parseConfigFile } from '../../lib/config-file.js';
import { allFamilies } from '../../lib/families.js';
import { loadMigrations } from '../../lib/node/migrations.js';
import { StudentProgress } from '../../lib/schemas/progress.js';
import { SessionStats } from '../../lib/schemas/session.js';
import { migrate } from '../../lib/storage/migrate.js';
import { createPgSql } from '../../lib/storage/sql-pg.js';
import type { Sql } from '../../lib/storage/sql.js';
import { freshStudent, toolUse, tutoringTools, webCall } from '../fixtures/vapi/calls.js';
import { client } from '../fixtures/vapi/http.js';
import { ADMIN_TOKEN, admin, makeDeps, testConfig } from '../helpers/deps.js';
import { describeWithPostgres, TEST_DATABASE_URL } from '../helpers/servers.js';

const WEBHOOK_TOKEN = 'webhook-token-attempts';

describe('ATTEMPT_TOOLS', () => {
  const tools = (env: Record<string, string>, file?: unknown) => [...parseConfig({ ADMIN_TOKEN, ...env }, 'node', file ? parseConfigFile(file) : undefined).attemptTools];

  it('is record_attempt by default, a comma list of exact names when set, none with `none`', () => {
    expect(tools({})).toEqual(['record_attempt']);
    expect(tools({ ATTEMPT_TOOLS: '' })).toEqual(['record_attempt']); // empty is unset, as for every variable
    expect(tools({ ATTEMPT_TOOLS: ' grade_answer , record_attempt,,Check ' })).toEqual(['grade_answer', 'record_attempt', 'Check']);
    expect(tools({ ATTEMPT_TOOLS: 'none' })).toEqual([]);
    expect(() => tools({ ATTEMPT_TOOLS: 'none,record_attempt' })).toThrow(ConfigError);
    expect(() => tools({ ATTEMPT_TOOLS: 'x'.repeat(201) })).toThrow(/ATTEMPT_TOOLS/);
  });

  it('comes from session.config (session_tracking.attempt_tools, [] for none); the environment wins', () => {
    expect(tools({}, { session_tracking: { attempt_tools: ['grade'] } })).toEqual(['grade']);
    expect(tools({}, { session_tracking: { attempt_tools: [] } })).toEqual([]);
    expect(tools({ ATTEMPT_TOOLS: 'record_attempt' }, { session_tracking: { attempt_tools: [] } })).toEqual(['record_attempt']);
    expect(() => parseConfigFile({ session_tracking: { attempt_tools: ['a,b'] } })).toThrow(/attempt_tools/);
  });
});

describeWithPostgres('graded tool calls are attempts (PostgreSQL)', () => {
  let sql: Sql;
  let now = new Date();
  beforeAll(async () => {
    sql = createPgSql({ connectionString: TEST_DATABASE_URL ?? '', max: 5 });
    await migrate(sql, await loadMigrations());
  });
  afterAll(() => sql.close());

  const appWith = (env: Record<string, string> = {}) => {
    const app = createApp(makeDeps({ sql, config: testConfig({ WEBHOOK_TOKEN, ...env }), now: () => now }), allFamilies);
    const api = client(app);
    const json = async (path: string, body: unknown, headers: Record<string, string> = admin) => {
      const res = await api.post(path, body, headers);
      expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
      return (await res.json()) as Record<string, unknown>;
    };
    return {
      api,
      interaction: async (body: Record<string, unknown>) => (await json('/api/sessions/interactions', body)).session_id as string,
      sessionData: (body: unknown) => json('/api/webhooks/session-data', body, { authorization: `Bearer ${WEBHOOK_TOKEN}` }),
      async summary(id: string) {
        const res = await app.request(`/api/sessions/${id}/summary`, { headers: admin });
        expect(res.status).toBe(200);
        return SessionStats.parse(await res.json());
      },
      async progress(student: string) {
        const res = await app.request(`/api/students/${student}/progress`, { headers: admin });
        expect(res.status).toBe(200);
        return StudentProgress.parse(await res.json());
      },
      async attempts(id: string) {
        return (await api.timeline(id)).events.filter((e) => e.event_type === 'attempt').map((e) => e.event_data);
      },
    };
  };

  it('the tool server: a record_attempt interaction with a boolean `correct` is an attempt; a repeated delivery counts once', async () => {
    const s = appWith();
    const student = freshStudent('mcp');
    now = new Date('2026-03-02T16:10:00Z');
    const at = (m: number, sec = 0) => new Date(Date.UTC(2026, 2, 2, 16, m, sec)).toISOString();
    const base = { student_id: student, subject: 'Math', topic: 'Fractions' };
    const id = await s.interaction({ ...base, function: 'start_practice', timestamp: at(0) });
    const graded = { ...base, function: 'record_attempt', parameters: { problem: '1/2 + 1/3', answer: '5/6', correct: true, timeMs: 12_000 }, timestamp: at(1) };
    expect(await s.interaction(graded)).toBe(id);
    expect(await s.interaction(graded)).toBe(id); // the tool server retried: nothing more is stored (ADR 0031)
    await s.interaction({ ...base, function: 'record_attempt', parameters: { problem: '2/3 + 1/6', answer: '3/9', correct: false, topic: 'Adding fractions' }, timestamp: at(2) });
    // Not attempts: `correct` as text, as a number, missing; a tool not in ATTEMPT_TOOLS.
    await s.interaction({ ...base, function: 'record_attempt', parameters: { answer: '5/6', correct: 'true' }, timestamp: at(3) });
    await s.interaction({ ...base, function: 'record_attempt', parameters: { answer: '5/6', correct: 1 }, timestamp: at(3, 10) });
    await s.interaction({ ...base, function: 'record_attempt', parameters: { answer: '5/6' }, timestamp: at(3, 20) });
    await s.interaction({ ...base, function: 'grade_answer', parameters: { answer: '5/6', correct: true }, timestamp: at(3, 30) });
    await s.interaction({ ...base, function: 'end_practice', timestamp: at(5) });

    const summary = await s.summary(id);
    expect(summary).toMatchObject({ interactions: 8, attempts: 2, correct: 1, accuracy: 0.5, subjects_practiced: ['Math'] });
    // The first attempt's own timeMs; the second has none: the minute since the first.
    expect(summary).toMatchObject({ total_time_ms: 72_000, avg_time_per_question_ms: 36_000 });
    expect(summary.events_by_type).toMatchObject({ interaction: 8, attempt: 2 });
    expect(await s.attempts(id)).toEqual([
      { correct: true, subject: 'Math', topic: 'Fractions', timeMs: 12_000, tool: 'record_attempt', source: 'mcp' },
      { correct: false, subject: 'Math', topic: 'Adding fractions', tool: 'record_attempt', source: 'mcp' },
    ]);
    const p = await s.progress(student);
    expect(p.sessions).toHaveLength(1);
    expect(p.sessions[0]).toMatchObject({ session_id: id, attempts: 2, correct: 1, accuracy: 0.5, avg_time_per_attempt_ms: 36_000, topics: ['Fractions', 'Adding fractions'] });
  });

  it('a Vapi call: live tool-calls and the end-of-call report that repeats them count each graded call once, redeliveries too', async () => {
    const s = appWith();
    const student = freshStudent('voice');
    const c = webCall({ startedAt: new Date('2026-03-03T15:00:00Z'), overridesMetadata: { studentId: student } });
    const live = [toolUse('record_attempt', '{"problem":"1/2 + 1/3","answer":"2/5","correct":false}', 49), toolUse('get_next_problem', { topic: 'fractions' }, 49)];
    const later = toolUse('record_attempt', { problem: '1/2 + 1/3', answer: '5/6', correct: true, subject: 'Math', topic: 'Fractions' }, 80);
    const textual = toolUse('record_attempt', { answer: '5/6', correct: 'yes' }, 85);
    now = c.at(49.5);
    await s.api.vapi(c.status('in-progress', 0.5));
    await s.api.vapi(c.toolCalls(live));
    await s.api.vapi(c.toolCalls(live)); // Vapi redelivered it
    now = c.at(100);
    // The report records every tool call: the live ones again, the ones only it knows (a tool with its own server URL).
    const report = c.report({ tools: [...tutoringTools(), ...live, later, textual] });
    await s.api.vapi(report);
    await s.api.vapi(report);

    const session = await s.api.sessionOfCall(c.id, { student_id: student });
    const summary = await s.summary(session.session_id);
    expect(summary).toMatchObject({ attempts: 2, correct: 1, accuracy: 0.5, interactions: 5, subjects_practiced: ['Math'] });
    // No timeMs in the arguments: the second attempt took the 31 s since the first.
    expect(summary).toMatchObject({ total_time_ms: 31_000, avg_time_per_question_ms: 31_000 });
    expect(await s.attempts(session.session_id)).toEqual([
      { correct: false, tool: 'record_attempt', tool_call_id: live[0]!.id, call_id: c.id, source: 'vapi' },
      { correct: true, subject: 'Math', topic: 'Fractions', tool: 'record_attempt', tool_call_id: later.id, call_id: c.id, source: 'vapi' },
    ]);

    const p = await s.progress(student);
    expect(p.sessions).toEqual([expect.objectContaining({ session_id: session.session_id, platform: 'vapi', attempts: 2, correct: 1, accuracy: 0.5, topics: ['Fractions'] })]);
  });

  it('a tutoring student across calls: accuracy per call and its trend on the progress page, with a legacy function-call too', async () => {
    const s = appWith();
    const student = freshStudent('trend');
    const calls = [0.25, 0.5, 1].map((rate, n) => ({ rate, c: webCall({ startedAt: new Date(Date.UTC(2026, 2, 10 + n, 17)), overridesMetadata: { studentId: student } }) }));
    for (const { rate, c } of calls) {
      const uses = [0, 1, 2, 3].map((k) => toolUse('record_attempt', { question: k + 1, correct: k < rate * 4 }, 20 + 10 * k));
      now = c.at(90);
      await s.api.vapi(c.report({ tools: uses }));
    }
    // A legacy function-call (no tool call id) on the last call: one more correct attempt, once.
    const last = calls[2]!.c;
    await s.api.vapi(last.functionCall('record_attempt', { correct: true }, 70));
    await s.api.vapi(last.functionCall('record_attempt', { correct: true }, 70));

    const p = await s.progress(student);
    expect(p.sessions.map((x) => [x.platform, x.attempts, x.correct])).toEqual([['vapi', 4, 1], ['vapi', 4, 2], ['vapi', 5, 5]]);
    expect(p.trends.accuracy).toMatchObject({ points: 3, direction: 'up', improving: true });
    expect(p.trends.time_per_attempt_ms.points).toBe(3);
  });

  it('the session-data webhook: a Vapi message it carries counts its graded calls once', async () => {
    const s = appWith();
    const student = freshStudent('sd');
    const c = webCall({ startedAt: new Date('2026-03-04T09:00:00Z'), overridesMetadata: { studentId: student } });
    now = c.at(120);
    const body = c.report({ tools: [toolUse('record_attempt', { correct: true }, 30), toolUse('record_attempt', { correct: false }, 60)] });
    const first = await s.sessionData(body);
    await s.sessionData(body);
    const summary = await s.summary(first.session_id as string);
    expect(summary).toMatchObject({ attempts: 2, correct: 1, accuracy: 0.5 });
  });

  it('the session-data webhook: another platform’s tool_calls are the call’s interactions, its graded ones attempts, once per id', async () => {
    const s = appWith();
    const student = freshStudent('retell');
    now = new Date('2026-03-04T11:30:00Z');
    const body = {
      platform: 'retell', student_id: student, call_id: `rc_${crypto.randomUUID()}`, started_at: '2026-03-04T11:00:00Z', ended_at: '2026-03-04T11:10:00Z',
      transcript: 'Agent: What is 0.5 + 0.25?\nUser: 0.75',
      tool_calls: [
        { id: 'tc_1', name: 'get_next_problem', arguments: { topic: 'decimals' }, timestamp: '2026-03-04T11:01:00Z' },
        { id: 'tc_2', name: 'record_attempt', arguments: { problem: '0.5 + 0.25', answer: '0.75', correct: true, topic: 'Decimals', timeMs: 9000 }, timestamp: '2026-03-04T11:02:00Z' },
        { id: 'tc_3', name: 'record_attempt', arguments: { problem: '0.2 × 3', answer: '0.5', correct: false }, timestamp: '2026-03-04T11:04:00Z' },
        { id: 'tc_4', name: 'record_attempt', arguments: { problem: '0.2 × 3', answer: '0.6', correct: null }, timestamp: '2026-03-04T11:05:00Z' },
      ],
    };
    const first = await s.sessionData(body);
    expect((await s.sessionData(body)).session_id).toBe(first.session_id);
    const id = first.session_id as string;
    expect(await s.summary(id)).toMatchObject({ interactions: 4, attempts: 2, correct: 1, accuracy: 0.5, total_time_ms: 9000 + 120_000 });
    expect(await s.attempts(id)).toEqual([
      { correct: true, topic: 'Decimals', timeMs: 9000, tool: 'record_attempt', tool_call_id: 'tc_2', call_id: body.call_id, source: 'retell' },
      { correct: false, tool: 'record_attempt', tool_call_id: 'tc_3', call_id: body.call_id, source: 'retell' },
    ]);
    expect((await s.api.doc(id)).mcp_interactions.map((i) => i.function)).toEqual(['get_next_problem', 'record_attempt', 'record_attempt', 'record_attempt']);
    expect((await s.progress(student)).sessions).toEqual([expect.objectContaining({ session_id: id, platform: 'retell', attempts: 2, accuracy: 0.5, topics: ['Decimals'] })]);
    // A tool call without an id cannot be told from its redelivery: refused, naming the field.
    const res = await s.api.post('/api/webhooks/session-data', { ...body, tool_calls: [{ name: 'record_attempt', arguments: { correct: true } }] }, { authorization: `Bearer ${WEBHOOK_TOKEN}` });
    expect((await s.api.problem(res, 400)).errors?.map((e) => e.path)).toContain('tool_calls[0].id');
  });

  it('honours ATTEMPT_TOOLS: only the tools it names count, and `none` counts none', async () => {
    const grade = appWith({ ATTEMPT_TOOLS: 'grade_answer,check_work' });
    const student = freshStudent('cfg');
    now = new Date('2026-03-05T11:10:00Z');
    const at = (m: number) => new Date(Date.UTC(2026, 2, 5, 11, m)).toISOString();
    const id = await grade.interaction({ student_id: student, function: 'record_attempt', parameters: { correct: true }, timestamp: at(0) });
    await grade.interaction({ student_id: student, function: 'grade_answer', parameters: { correct: true }, timestamp: at(1) });
    await grade.interaction({ student_id: student, function: 'check_work', parameters: { correct: false }, timestamp: at(2) });
    await grade.interaction({ student_id: student, function: 'Grade_Answer', parameters: { correct: true }, timestamp: at(3) }); // names compare exactly
    expect(await grade.summary(id)).toMatchObject({ interactions: 4, attempts: 2, correct: 1 });
    const c = webCall({ startedAt: new Date('2026-03-05T14:00:00Z'), overridesMetadata: { studentId: student } });
    now = c.at(60);
    await grade.api.vapi(c.toolCalls([toolUse('record_attempt', { correct: true }, 10), toolUse('check_work', { correct: true }, 10)]));
    const call = await grade.api.sessionOfCall(c.id, { student_id: student });
    expect(await grade.summary(call.session_id)).toMatchObject({ attempts: 1, correct: 1 });

    const off = appWith({ ATTEMPT_TOOLS: 'none' });
    const other = freshStudent('off');
    now = new Date('2026-03-05T13:10:00Z');
    const none = await off.interaction({ student_id: other, function: 'record_attempt', parameters: { correct: true }, timestamp: '2026-03-05T13:00:00Z' });
    // Hours later: the call does not join the sitting above (VAPI_MATCH_WINDOW_MINUTES).
    const d = webCall({ startedAt: new Date('2026-03-05T16:00:00Z'), overridesMetadata: { studentId: other } });
    now = d.at(60);
    await off.api.vapi(d.report({ tools: [toolUse('record_attempt', { correct: true }, 10)] }));
    expect(await off.summary(none)).toMatchObject({ interactions: 1, attempts: 0, accuracy: null });
    const voice = await off.api.sessionOfCall(d.id, { student_id: other });
    expect(await off.summary(voice.session_id)).toMatchObject({ interactions: 1, attempts: 0 });
    expect((await off.progress(other)).sessions.every((x) => x.attempts === 0)).toBe(true);
  });
});
