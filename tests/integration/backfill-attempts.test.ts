/**
 * `npm run backfill:attempts` (lib/sessions/backfill-attempts.ts, ADR 0031) on PGlite and on real
 * PostgreSQL: graded tool calls stored before ADR 0030 — by Vapi's live messages and report, the
 * session-data webhook, a legacy function-call, the tool server (retried copies included) — get
 * their attempts, the ones that have one get none, a second run writes nothing, and a redelivery
 * after the backfill adds nothing either.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { loadMigrations } from '../../lib/node/migrations.js';
import { SessionStats } from '../../lib/schemas/session.js';
import { backfillAttempts } from '../../lib/sessions/backfill-attempts.js';
import { migrate } from '../../lib/storage/migrate.js';
import { createPgSql } from '../../lib/storage/sql-pg.js';
import type { Sql } from '../../lib/storage/sql.js';
import { freshStudent, toolUse, webCall } from '../fixtures/vapi/calls.js';
import { client } from '../fixtures/vapi/http.js';
import { admin, makeDeps, memoryPglite, testConfig } from '../helpers/deps.js';
import { describeWithPostgres, TEST_DATABASE_URL } from '../helpers/servers.js';

const WEBHOOK_TOKEN = 'webhook-token-backfill';

function backfillSuite(open: () => Promise<Sql>) {
  let sql: Sql;
  beforeAll(async () => {
    sql = await open();
  });
  afterAll(() => sql.close());

  it('writes the attempts calls stored before ADR 0030 lack, once, with the ids the live path gives them', async () => {
    // A tool name of this run only: the backfill reads the whole database, other files' calls are not this test's.
    const tool = `grade_${crypto.randomUUID().slice(0, 8)}`;
    const tools = new Set([tool]);
    let now = new Date('2026-05-04T10:00:00Z');
    const app = createApp(makeDeps({ sql, config: testConfig({ WEBHOOK_TOKEN, ATTEMPT_TOOLS: tool }), now: () => now }), allFamilies);
    const api = client(app);
    const student = freshStudent('bf');
    const post = async (body: Record<string, unknown>) => {
      const res = await api.post('/api/sessions/interactions', body, admin);
      expect(res.status).toBe(200);
      return ((await res.json()) as { session_id: string }).session_id;
    };
    const summary = async (id: string) => SessionStats.parse(await (await app.request(`/api/sessions/${id}/summary`, { headers: admin })).json());

    // The tool server's sitting: graded, ungraded, a retried post stored twice (as before ADR 0031), and a post without a time.
    const sitting = await post({ student_id: student, function: tool, parameters: { answer: '5/6', correct: true, timeMs: 8000 }, subject: 'Math', topic: 'Fractions', timestamp: '2026-05-04T09:01:00Z' });
    await post({ student_id: student, function: tool, parameters: { answer: '1/2', correct: false }, timestamp: '2026-05-04T09:02:00Z' });
    await post({ student_id: student, function: tool, parameters: { answer: '1/2', correct: 'no' }, timestamp: '2026-05-04T09:03:00Z' });
    await post({ student_id: student, function: tool, parameters: { answer: '3/4', correct: true }, tool_call_id: 'call_bf_1' });
    // A Vapi call hours later: live tool-calls, a report with one more, a legacy function-call.
    const c = webCall({ startedAt: new Date('2026-05-04T14:00:00Z'), overridesMetadata: { studentId: student } });
    const live = toolUse(tool, { answer: '2/3', correct: false }, 20);
    const reported = toolUse(tool, { answer: '7/8', correct: true, topic: 'Eighths' }, 50);
    now = c.at(30);
    await api.vapi(c.toolCalls([live]));
    await api.vapi(c.functionCall(tool, { correct: true }, 40));
    now = c.at(90);
    const report = c.report({ tools: [live, reported] });
    await api.vapi(report);
    const call = (await api.sessionOfCall(c.id, { student_id: student })).session_id;
    // Another platform through the session-data webhook.
    const retell = { platform: 'retell', student_id: student, call_id: `rc_${crypto.randomUUID()}`, started_at: '2026-05-04T16:00:00Z', ended_at: '2026-05-04T16:05:00Z',
      tool_calls: [{ id: 'tc_1', name: tool, arguments: { correct: true }, timestamp: '2026-05-04T16:01:00Z' }] };
    now = new Date('2026-05-04T16:10:00Z');
    expect((await api.post('/api/webhooks/session-data', retell, { authorization: `Bearer ${WEBHOOK_TOKEN}` })).status).toBe(200);

    const sessions = [sitting, call];
    const attempts = async () =>
      (await sql.query<{ event_uuid: string; session_token: string; event_data: Record<string, unknown> }>(
        `SELECT event_uuid::text, session_token, event_data FROM events WHERE student_id = $1 AND event_type = 'attempt' ORDER BY created_at, event_data->>'tool_call_id'`,
        [student],
      ));
    const before = await attempts();
    const graded = async () =>
      (await Promise.all(sessions.map(summary))).map(({ attempts, correct, accuracy, total_time_ms, avg_time_per_question_ms, subjects_practiced }) => ({
        attempts, correct, accuracy, total_time_ms, avg_time_per_question_ms, subjects_practiced,
      }));
    const summaries = await graded();
    expect(before).toHaveLength(7); // 09:01, 09:02, call_bf_1; live, function-call, reported; tc_1

    // As stored before ADR 0030: no attempts; and the retried 09:01 post stored twice (ADR 0031 stores it once).
    await sql.query(`DELETE FROM events WHERE student_id = $1 AND event_type = 'attempt' AND NOT (event_data->>'tool_call_id' IS NOT DISTINCT FROM 'call_bf_1')`, [student]);
    await sql.query(
      `INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, created_at)
       SELECT gen_random_uuid(), session_token, student_id, event_type, event_data, created_at FROM events
       WHERE student_id = $1 AND event_type = 'interaction' AND created_at = '2026-05-04T09:01:00Z'`,
      [student],
    );
    expect(await attempts()).toHaveLength(1); // the one ADR 0030 wrote under its own id stays

    const first = await backfillAttempts(sql, tools);
    expect(first).toEqual({ scanned: 8, written: 6 });
    const after = await attempts();
    // The same attempts as the live path wrote, the webhooks' under the same ids; the sitting's summary and the call's as they were.
    // A tool server's post without a subject or topic of its own takes the session's: its own fields are not on the event.
    const sessionLabels = (d: Record<string, unknown>, i: number) => (i === 1 ? { ...d, subject: 'Math', topic: 'Fractions' } : d);
    expect(after.map((a) => a.event_data)).toEqual(before.map((a, i) => sessionLabels(a.event_data, i)));
    const live0 = new Set(before.filter((a) => a.event_data.source !== 'mcp' && a.event_data.tool_call_id).map((a) => a.event_uuid));
    expect(after.filter((a) => live0.has(a.event_uuid))).toHaveLength(3);
    expect(await graded()).toEqual(summaries);

    // Again, a few rows a statement: the copies of the 09:01 call are in different pages now.
    expect(await backfillAttempts(sql, tools, { batch: 2 })).toEqual({ scanned: 8, written: 0 });
    // Vapi redelivers its report, the tool server its post: nothing more.
    now = c.at(120);
    await api.vapi(report);
    await post({ student_id: student, function: tool, parameters: { answer: '3/4', correct: true }, tool_call_id: 'call_bf_1' });
    expect(await attempts()).toHaveLength(7);
    expect(await backfillAttempts(sql, new Set(['none_of_these']))).toEqual({ scanned: 0, written: 0 });
  });
}

describe('backfill of attempts (PGlite)', () => backfillSuite(memoryPglite));

describeWithPostgres('backfill of attempts (PostgreSQL)', () =>
  backfillSuite(async () => {
    const sql = createPgSql({ connectionString: TEST_DATABASE_URL ?? '', max: 4 });
    await migrate(sql, await loadMigrations());
    return sql;
  }),
);
