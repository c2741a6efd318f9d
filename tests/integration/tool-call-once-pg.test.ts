/**
 * A tool call is stored once (ADR 0031), on real PostgreSQL through the production `pg` client:
 * the tool server's POST /api/sessions/interactions posted again (a retry after a timeout, at once
 * or later) answers `duplicate: true` and adds no interaction, attempt or count; and a call Vapi
 * records (live `tool-calls`, the end-of-call report) that the tool server also logs with the same
 * tool call id is one interaction and one attempt, whichever arrives first.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { loadMigrations } from '../../lib/node/migrations.js';
import { InteractionResponse } from '../../lib/schemas/session-responses.js';
import { SessionStats } from '../../lib/schemas/session.js';
import { migrate } from '../../lib/storage/migrate.js';
import { createPgSql } from '../../lib/storage/sql-pg.js';
import type { Sql } from '../../lib/storage/sql.js';
import { freshStudent, toolUse, webCall } from '../fixtures/vapi/calls.js';
import { client } from '../fixtures/vapi/http.js';
import { admin, makeDeps, testConfig } from '../helpers/deps.js';
import { describeWithPostgres, TEST_DATABASE_URL } from '../helpers/servers.js';

describeWithPostgres('a tool call is stored once (PostgreSQL)', () => {
  const WEBHOOK_TOKEN = 'webhook-token-once';
  let sql: Sql;
  let app: ReturnType<typeof createApp>;
  let api: ReturnType<typeof client>;
  let now = new Date();
  beforeAll(async () => {
    sql = createPgSql({ connectionString: TEST_DATABASE_URL ?? '', max: 8 });
    await migrate(sql, await loadMigrations());
    app = createApp(makeDeps({ sql, config: testConfig({ WEBHOOK_TOKEN }), now: () => now }), allFamilies);
    api = client(app);
  });
  afterAll(() => sql.close());

  const sessionData = async (body: unknown) => {
    const res = await api.post('/api/webhooks/session-data', body, { authorization: `Bearer ${WEBHOOK_TOKEN}` });
    expect(res.status, await res.clone().text()).toBe(200);
  };
  const post = async (body: Record<string, unknown>) => {
    const res = await api.post('/api/sessions/interactions', body, admin);
    expect(res.status, await res.clone().text()).toBe(200);
    return InteractionResponse.parse(await res.json());
  };
  const summary = async (id: string) => {
    const res = await app.request(`/api/sessions/${id}/summary`, { headers: admin });
    expect(res.status).toBe(200);
    return SessionStats.parse(await res.json());
  };
  /** The student's stored events by type, and the sum of their sessions' interaction counts. */
  const stored = async (student: string) => {
    const rows = await sql.query<{ event_type: string; n: number }>(
      `SELECT event_type, count(*)::int AS n FROM events WHERE student_id = $1 AND event_type IN ('interaction', 'attempt') GROUP BY 1`,
      [student],
    );
    const [counted] = await sql.query<{ n: number }>('SELECT COALESCE(sum(interaction_count), 0)::int AS n FROM sessions WHERE student_id = $1', [student]);
    return { ...Object.fromEntries(rows.map((r) => [r.event_type, r.n])), counted: counted?.n };
  };

  it('a retried post with a tool_call_id answers duplicate: true and stores nothing more, without a timestamp too', async () => {
    const student = freshStudent('retry');
    now = new Date('2026-04-01T10:00:00Z');
    const body = { student_id: student, function: 'record_attempt', parameters: { answer: '5/6', correct: true }, tool_call_id: 'call_Qx81bd0Lr2' };
    const first = await post(body);
    expect(first).toMatchObject({ is_new_session: true });
    expect(first.duplicate).toBeUndefined();
    now = new Date('2026-04-01T10:00:12Z'); // the tool server timed out and sent it again
    const again = await post(body);
    expect(again).toMatchObject({ session_id: first.session_id, is_new_session: false, duplicate: true });
    expect(again.session.interaction_count).toBe(1);
    expect(await stored(student)).toEqual({ interaction: 1, attempt: 1, counted: 1 });
    // Another call with the same content is another call: its own id.
    await post({ ...body, tool_call_id: 'call_9vTn3mPzK1' });
    expect(await stored(student)).toEqual({ interaction: 2, attempt: 2, counted: 2 });
    const timeline = await api.timeline(first.session_id);
    expect(timeline.events.filter((e) => e.event_type === 'attempt').map((e) => e.event_data.tool_call_id)).toEqual(['call_Qx81bd0Lr2', 'call_9vTn3mPzK1']);
  });

  it('without a tool_call_id: the same body at the same stated time is one call (keys in any order); another time, or no time, is another', async () => {
    const student = freshStudent('content');
    now = new Date('2026-04-01T11:00:30Z');
    const at = '2026-04-01T11:00:05.250Z';
    const first = await post({ student_id: student, function: 'get_hint', parameters: { level: 1, problem: '2/3' }, subject: 'Math', timestamp: at });
    const again = await post({ timestamp: at, subject: 'Math', parameters: { problem: '2/3', level: 1 }, function: 'get_hint', student_id: student });
    expect(again).toMatchObject({ session_id: first.session_id, duplicate: true });
    // Two identical hints a millisecond apart are two calls; so are any two without a time (nothing tells them from a retry).
    const later = await post({ student_id: student, function: 'get_hint', parameters: { level: 1, problem: '2/3' }, subject: 'Math', timestamp: '2026-04-01T11:00:05.251Z' });
    expect(later.duplicate).toBeUndefined();
    // A field that differs makes another call, at the same time.
    expect((await post({ student_id: student, function: 'get_hint', parameters: { level: 1, problem: '2/3' }, subject: 'Math', topic: 'Fractions', timestamp: at })).duplicate).toBeUndefined();
    await post({ student_id: student, function: 'get_hint', parameters: { level: 2 } });
    await post({ student_id: student, function: 'get_hint', parameters: { level: 2 } });
    expect(await stored(student)).toEqual({ interaction: 5, counted: 5 });
    expect(await summary(first.session_id)).toMatchObject({ interactions: 5 });
  });

  it('deliveries of one call at the same moment store and count it once, and none fails', async () => {
    const student = freshStudent('race');
    now = new Date('2026-04-01T12:00:00Z');
    await post({ student_id: student, function: 'start_practice' });
    const body = { student_id: student, function: 'record_attempt', parameters: { correct: false }, tool_call_id: 'call_race_1' };
    const answers = await Promise.all(Array.from({ length: 6 }, () => post(body)));
    expect(new Set(answers.map((a) => a.session_id)).size).toBe(1);
    expect(answers.filter((a) => !a.duplicate)).toHaveLength(1);
    expect(await stored(student)).toEqual({ interaction: 2, attempt: 1, counted: 2 });
  });

  it('Vapi first: the tool server logging the same call (with the call id, or the tool call id alone) is a duplicate of it', async () => {
    const student = freshStudent('vapi1');
    const c = webCall({ startedAt: new Date('2026-04-02T15:00:00Z'), overridesMetadata: { studentId: student } });
    const graded = toolUse('record_attempt', { problem: '1/2 + 1/3', answer: '5/6', correct: true }, 30);
    const other = toolUse('record_attempt', { problem: '1/4 + 1/4', answer: '1/2', correct: false }, 50);
    now = c.at(31);
    await api.vapi(c.status('in-progress', 0.5));
    await api.vapi(c.toolCalls([graded]));
    await api.vapi(c.toolCalls([other], 50));
    const call = await api.sessionOfCall(c.id, { student_id: student });
    // What a Vapi function tool's server is sent: message.call.id and toolCallList[].id.
    const withCall = await post({ student_id: student, function: 'record_attempt', parameters: graded.args as Record<string, unknown>, tool_call_id: graded.id, call_id: c.id, platform: 'vapi' });
    expect(withCall).toMatchObject({ session_id: call.session_id, duplicate: true });
    const idOnly = await post({ student_id: student, function: 'record_attempt', parameters: other.args as Record<string, unknown>, tool_call_id: other.id });
    expect(idOnly).toMatchObject({ session_id: call.session_id, duplicate: true });
    now = c.at(100);
    await api.vapi(c.report({ tools: [graded, other] }));
    expect(await stored(student)).toEqual({ interaction: 2, attempt: 2, counted: 2 });
    expect(await summary(call.session_id)).toMatchObject({ interactions: 2, attempts: 2, correct: 1 });
  });

  it('the tool server first: the end-of-call report that records the same calls adds neither interactions nor attempts', async () => {
    const student = freshStudent('mcp1');
    const c = webCall({ startedAt: new Date('2026-04-03T15:00:00Z'), overridesMetadata: { studentId: student } });
    const a = toolUse('record_attempt', { answer: '3/4', correct: true }, 20);
    const b = toolUse('record_attempt', { answer: '1/3', correct: false }, 40);
    const d = toolUse('record_attempt', { answer: '2/3', correct: true }, 60);
    // The tool has its own server URL: only the tool server's posts and the report tell of the calls.
    now = c.at(20);
    await post({ student_id: student, function: 'record_attempt', parameters: a.args as Record<string, unknown>, tool_call_id: a.id, call_id: c.id });
    now = c.at(40);
    await post({ student_id: student, function: 'record_attempt', parameters: b.args as Record<string, unknown>, tool_call_id: b.id });
    now = c.at(100);
    const report = c.report({ tools: [a, b, d] });
    await api.vapi(report);
    await api.vapi(report);
    // a, b once each (from the tool server), d from the report: three calls, three attempts.
    expect(await stored(student)).toEqual({ interaction: 3, attempt: 3, counted: 3 });
    const call = await api.sessionOfCall(c.id, { student_id: student });
    const calls = await sql.query<{ tool_call_id: string; n: number }>(
      `SELECT event_data->>'tool_call_id' AS tool_call_id, count(*)::int AS n FROM events WHERE student_id = $1 AND event_type = 'attempt' GROUP BY 1 ORDER BY 1`,
      [student],
    );
    expect(calls).toEqual([a.id, b.id, d.id].sort().map((id) => ({ tool_call_id: id, n: 1 })));
    expect(call.session_id).toBeTruthy();
  });

  it('a platform that numbers each call’s tool calls (tc_1, tc_2): with the call id, another call’s tc_1 is another tool call', async () => {
    const student = freshStudent('reuse');
    const [first, next] = [`rc_${crypto.randomUUID()}`, `rc_${crypto.randomUUID()}`];
    const webhook = (callId: string, start: string) => ({
      platform: 'retell', student_id: student, call_id: callId, started_at: `${start}:00Z`, ended_at: `${start}:50Z`,
      tool_calls: [{ id: 'tc_1', name: 'record_attempt', arguments: { correct: true }, timestamp: `${start}:30Z` }],
    });
    now = new Date('2026-04-04T09:00:30Z');
    const mcp = await post({ student_id: student, function: 'record_attempt', parameters: { correct: true }, tool_call_id: 'tc_1', call_id: first, platform: 'retell' });
    now = new Date('2026-04-04T10:00:00Z');
    // The webhook keys the call as the tool server's post did (platform, call id, tool call id): one row.
    await sessionData(webhook(first, '2026-04-04T09:00'));
    expect(await stored(student)).toMatchObject({ interaction: 1, attempt: 1 });
    // A later call's tc_1, from the webhook and from the tool server: one more call, not the first one again.
    await sessionData(webhook(next, '2026-04-04T09:30'));
    now = new Date('2026-04-04T10:01:00Z');
    const second = await post({ student_id: student, function: 'record_attempt', parameters: { correct: true }, tool_call_id: 'tc_1', call_id: next, platform: 'retell' });
    expect(second.duplicate).toBe(true);
    expect(second.session_id).not.toBe(mcp.session_id);
    expect(await stored(student)).toMatchObject({ interaction: 2, attempt: 2 });
  });
});
