/**
 * End-of-call reports in every shape Vapi has sent them: the current layout (artifact), the 2024
 * layout (top-level messages/transcript/recordingUrl, ISO timestamps), phone calls, reports that
 * carry the call's tool calls, and a 2 MB transcript.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { sessionsFamily } from '../../lib/routes/sessions/index.js';
import { studentsFamily } from '../../lib/routes/students.js';
import { webhooksFamily } from '../../lib/routes/webhooks/index.js';
import type { Sql } from '../../lib/storage/sql.js';
import { call2024, expectedEntries, freshStudent, phoneCall, type Turn, transcriptText, tutoringTools, tutoringTurns, webCall } from '../fixtures/vapi/calls.js';
import { client } from '../fixtures/vapi/http.js';
import { ADMIN_TOKEN, makeDeps, memoryPglite, tapSql, testConfig } from '../helpers/deps.js';

let sql: Sql;
let now: Date;
const appWith = (env: Record<string, string> = {}) => client(createApp(makeDeps({ sql, config: testConfig(env), now: () => now }), [webhooksFamily(), sessionsFamily]));

let api: ReturnType<typeof appWith>;
beforeAll(async () => {
  sql = await memoryPglite();
  api = appWith();
});
afterAll(() => sql.close());

const words = (s: string) => s.split(/\s+/).filter(Boolean).length;

async function onlySession(student: string) {
  const sessions = await api.sessions({ student_id: student });
  expect(sessions).toHaveLength(1);
  return api.doc(sessions[0]!.session_id);
}

describe('the 2024 layout', () => {
  it('reads messages, transcript and recording from the top level (artifact.messages is empty) and ISO timestamps', async () => {
    const student = freshStudent();
    const c = call2024({ startedAt: new Date('2024-06-11T17:20:00Z'), metadata: { studentId: student } });
    const turns = tutoringTurns();
    const status = c.status('in-progress', 0.5);
    expect(typeof status.message.timestamp).toBe('string');
    now = c.at(1);
    expect(await api.vapi(status)).toEqual({});
    const report = c.report({ turns });
    expect(report.message).toMatchObject({ artifact: { messages: [] }, timestamp: c.at(96.9).toISOString() });
    now = c.at(97.5);
    expect(await api.vapi(report)).toEqual({});

    const d = await onlySession(student);
    const text = transcriptText(turns);
    expect(d).toMatchObject({ status: 'completed', platform: 'vapi', end_time: c.at(95.4).toISOString() });
    expect(d.conversation).toEqual({ transcript: text, entries: expectedEntries(turns, c.start), source: 'vapi', word_count: words(text), duration_seconds: 95 });
    expect(d.platform_metadata).toMatchObject({
      call_id: c.id,
      recording_url: report.message.recordingUrl,
      vapi_summary: report.message.analysis.summary,
      success_evaluation: 'true',
      cost: 0.1342,
      ended_reason: 'assistant-ended-call',
    });
  });
});

describe('the current layout', () => {
  it('a phone call: the caller’s number, call type and reason are kept; cost comes from the report, not the snapshot', async () => {
    const student = freshStudent();
    const c = phoneCall({ startedAt: new Date('2025-05-02T18:00:00Z'), externalId: student });
    const report = c.report({ cost: 0.27 });
    expect(report.message.call).toMatchObject({ status: 'queued', cost: 0 });
    now = c.at(98);
    await api.vapi(report);
    const d = await onlySession(student);
    expect(d.platform_metadata).toMatchObject({
      call_id: c.id,
      call_type: 'inboundPhoneCall',
      phone_number: c.customer?.number,
      cost: 0.27,
      ended_reason: 'customer-ended-call',
      recording_url: report.message.artifact.recordingUrl,
    });
    expect(d.conversation.entries).toEqual(expectedEntries(tutoringTurns(), c.start));
  });

  it('system prompts and tool plumbing (tool_calls, tool_call_result) are not conversation entries', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-05-02T19:00:00Z'), metadata: { studentId: student } });
    now = c.at(98);
    await api.vapi(c.report({ tools: tutoringTools() }));
    const d = await onlySession(student);
    expect(d.conversation.entries.map((e) => e.speaker)).toEqual(['assistant', 'user', 'assistant', 'user', 'assistant', 'user']);
  });

  // Tool calls recorded only in the report (tools served elsewhere, or only the report subscribed) still count.
  it('a report alone yields the interactions of the call’s tool calls', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-05-02T20:00:00Z'), metadata: { studentId: student } });
    now = c.at(98);
    await api.vapi(c.report({ tools: tutoringTools() }));
    const d = await onlySession(student);
    expect(d.mcp_interactions).toEqual([
      { timestamp: c.at(31).toISOString(), function: 'get_next_problem', parameters: { topic: 'fractions', difficulty: 2 }, data_provided: [], subjects_accessed: [] },
    ]);
  });
});

describe('the report decides when the call ran', () => {
  // The session was opened by a message we received after the call had ended (delivered late, or
  // without a timestamp, so dated on arrival): the report's startedAt and endedAt still decide. The
  // end used to be clamped to the start as it was before the report moved it: a session that "ran"
  // from the report's start to the late message's arrival.
  it('a status-update received after the call: completed at endedAt, started at startedAt, the report\'s duration', async () => {
    const student = freshStudent();
    const id = `late-${student}`;
    now = new Date('2026-03-02T09:00:00Z');
    expect(await api.vapi({ message: { type: 'status-update', status: 'in-progress', call: { id, metadata: { studentId: student } } } })).toEqual({});
    now = new Date('2026-03-02T09:00:05Z');
    expect(
      await api.vapi({
        message: {
          type: 'end-of-call-report', timestamp: Date.parse('2026-03-01T14:42:11Z'), endedReason: 'customer-ended-call',
          startedAt: '2026-03-01T14:30:00Z', endedAt: '2026-03-01T14:42:10Z',
          call: { id, type: 'webCall', metadata: { studentId: student } },
          artifact: { messages: [{ role: 'bot', message: 'Hi', time: Date.parse('2026-03-01T14:30:01Z') }] },
        },
      }),
    ).toEqual({});
    const d = await onlySession(student);
    expect(d).toMatchObject({ status: 'completed', start_time: '2026-03-01T14:30:00.000Z', end_time: '2026-03-01T14:42:10.000Z', duration_seconds: 730 });
    expect(d.platform_metadata).toMatchObject({ duration_seconds: 730 });
  });

  // Vapi's `call` in a message is a snapshot from its creation; the SDK's call.startedAt is optional.
  it('a conversation-update whose call has no startedAt leaves the start at the moment talking began (in-progress)', async () => {
    const student = freshStudent();
    const T = Date.parse('2026-03-04T11:00:00Z');
    const call = { id: `snap-${student}`, orgId: 'org_1', createdAt: new Date(T).toISOString(), updatedAt: new Date(T).toISOString(), assistantOverrides: { variableValues: { studentId: student } } };
    now = new Date(T + 4_500);
    await api.vapi({ message: { type: 'status-update', status: 'in-progress', timestamp: T + 4_000, call } });
    now = new Date(T + 6_500);
    await api.vapi({ message: { type: 'conversation-update', timestamp: T + 6_000, call, messages: [{ role: 'bot', message: 'Hi there', time: T + 5_000 }] } });
    const d = await onlySession(student);
    expect(d.start_time).toBe(new Date(T + 4_000).toISOString());
    expect(d.conversation.entries.map((e) => e.text)).toEqual(['Hi there']);
  });

  it('once the report is in, later messages do not move the start: snapshots without startedAt, a late in-progress', async () => {
    const student = freshStudent();
    const S = Date.parse('2026-03-05T11:00:04Z');
    const E = S + 420_000;
    const call = { id: `after-${student}`, createdAt: new Date(S - 4_000).toISOString(), metadata: { studentId: student } };
    now = new Date(E + 2_000);
    await api.vapi({ message: { type: 'end-of-call-report', timestamp: E + 1_000, startedAt: new Date(S).toISOString(), endedAt: new Date(E).toISOString(), endedReason: 'customer-ended-call', call, artifact: { messages: [{ role: 'bot', message: 'Bye', time: E - 1_000 }] } } });
    now = new Date(E + 3_000);
    await api.vapi({ message: { type: 'conversation-update', timestamp: E + 150, call, messages: [{ role: 'bot', message: 'Bye', time: E - 1_000 }] } });
    await api.vapi({ message: { type: 'status-update', status: 'ended', endedReason: 'customer-ended-call', timestamp: E + 150, call } });
    // A late in-progress, dated by Vapi a moment before the report's startedAt: metadata only.
    await api.vapi({ message: { type: 'status-update', status: 'in-progress', timestamp: S - 3_000, call } });
    const d = await onlySession(student);
    expect(d).toMatchObject({ status: 'completed', start_time: new Date(S).toISOString(), end_time: new Date(E).toISOString(), duration_seconds: 420 });
  });

  it('a report whose artifact holds no transcript keeps the lines the conversation-updates stored', async () => {
    const student = freshStudent();
    const T = Date.parse('2026-03-06T11:00:00Z');
    const call = { id: `empty-${student}`, startedAt: new Date(T).toISOString(), metadata: { studentId: student } };
    now = new Date(T + 10_000);
    await api.vapi({ message: { type: 'conversation-update', timestamp: T + 9_000, call, messages: [{ role: 'bot', message: 'Hello', time: T + 1_000 }, { role: 'user', message: 'Hi, this is me', time: T + 3_000 }] } });
    now = new Date(T + 70_000);
    await api.vapi({ message: { type: 'end-of-call-report', timestamp: T + 61_000, endedReason: 'customer-ended-call', call, artifact: {}, analysis: {} } });
    const d = await onlySession(student);
    expect(d.status).toBe('completed');
    expect(d.transcript_count).toBe(2);
    expect(d.conversation.entries.map((e) => e.text)).toEqual(['Hello', 'Hi, this is me']);
  });

  it('a stale conversation-update delivered after a newer one, with as many lines, does not undo the revised line', async () => {
    const student = freshStudent();
    const t = Date.parse('2026-03-08T11:00:00Z');
    const call = { id: `stale-${student}`, startedAt: new Date(t).toISOString(), metadata: { studentId: student } };
    const update = (at: number, user: string) => ({
      message: { type: 'conversation-update', timestamp: at, call, artifact: { messages: [{ role: 'bot', message: "Hello! Who's this?", time: t + 1_000 }, { role: 'user', message: user, time: t + 3_000 }] } },
    });
    now = new Date(t + 6_000);
    await api.vapi(update(t + 5_200, 'Hi, this is Zoe'));
    await api.vapi(update(t + 3_600, 'Hi'));
    let d = await onlySession(student);
    expect(d.conversation.entries.map((e) => e.text)).toEqual(["Hello! Who's this?", 'Hi, this is Zoe']);
    expect(d.transcript_count).toBe(2);
    expect(d.platform_metadata).toMatchObject({ conversation_at: new Date(t + 5_200).toISOString() });
    // The newer one again (a redelivery) and a newer still: applied.
    await api.vapi(update(t + 5_200, 'Hi, this is Zoe'));
    await api.vapi(update(t + 5_900, 'Hi, this is Zoe Martin'));
    d = await onlySession(student);
    expect(d.conversation.entries.map((e) => e.text)).toEqual(["Hello! Who's this?", 'Hi, this is Zoe Martin']);
    expect(d.transcript_count).toBe(2);
  });

  it('a legacy function-call with its parameters as JSON text: parsed, as a tool call\'s are', async () => {
    const student = freshStudent();
    now = new Date('2026-03-07T11:00:05Z');
    await api.vapi({ message: { type: 'function-call', timestamp: Date.parse('2026-03-07T11:00:04Z'), call: { id: `fn-${student}`, metadata: { studentId: student } }, functionCall: { name: 'legacyFn', parameters: '{"a":1}' } } });
    const d = await onlySession(student);
    expect(d.mcp_interactions).toEqual([expect.objectContaining({ function: 'legacyFn', parameters: { a: 1 } })]);
  });

  it('a report alone: completed at endedAt, not at the report\'s own timestamp', async () => {
    const student = freshStudent();
    now = new Date('2026-03-03T10:13:00Z');
    await api.vapi({
      message: {
        type: 'end-of-call-report', timestamp: Date.parse('2026-03-03T10:12:40Z'), endedReason: 'assistant-ended-call',
        startedAt: '2026-03-03T10:00:00Z', endedAt: '2026-03-03T10:12:30Z',
        call: { id: `alone-${student}`, type: 'webCall', metadata: { studentId: student } },
      },
    });
    const d = await onlySession(student);
    expect(d).toMatchObject({ status: 'completed', start_time: '2026-03-03T10:00:00.000Z', end_time: '2026-03-03T10:12:30.000Z', duration_seconds: 750 });
  });
});

describe('a long call', () => {
  // ~2.4 MB of transcript (1000 turns of 200 words); the body carries it three times (~7.5 MB).
  const turns: Turn[] = Array.from({ length: 1000 }, (_, i) => ({
    role: i % 2 ? 'user' : 'bot',
    text: Array.from({ length: 200 }, (_, j) => `fraction${(i * 7 + j) % 997}`).join(' '),
    at: 1 + i * 2,
  }));

  it('a 2 MB transcript is stored whole, with the right word count', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-05-03T08:00:00Z'), metadata: { studentId: student } });
    const report = c.report({ turns, endAt: 2005 });
    const text = transcriptText(turns);
    expect(text.length).toBeGreaterThan(2 * 1024 * 1024);
    now = c.at(2010);
    expect(await api.vapi(report)).toEqual({});
    const d = await onlySession(student);
    expect(d.conversation.transcript).toBe(text);
    expect(d.conversation.word_count).toBe(words(text));
    expect(d.conversation.duration_seconds).toBe(2005);
    expect(d.conversation.entries).toHaveLength(1000);
    expect(d.conversation.entries[999]).toEqual(expectedEntries(turns, c.start)[999]);
    expect(d.transcript_count).toBe(1000);
  });

  it('lists, the open sessions and the student\'s progress do not read the transcript from the database', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-05-04T08:00:00Z'), metadata: { studentId: student } });
    now = c.at(2010);
    expect(await api.vapi(c.report({ turns, endAt: 2005 }))).toEqual({});
    // A second, still open call of the same student: the open sessions list shows it.
    const open = webCall({ startedAt: c.at(3000), metadata: { studentId: student } });
    now = open.at(600);
    expect(await api.vapi(open.conversationUpdate(turns.slice(0, 300), 599))).toEqual({});

    // The same app on a handle that counts what each query brings back.
    let bytes = 0;
    const counting = tapSql(sql, () => {}, (rows) => {
      bytes += JSON.stringify(rows).length;
    });
    const app = createApp(makeDeps({ sql: counting, config: testConfig(), now: () => now }), [sessionsFamily, studentsFamily]);
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const read = async (path: string) => {
      bytes = 0;
      const res = await app.request(path, { headers: admin });
      expect(res.status, path).toBe(200);
      const body = await res.text();
      return { body, bytes };
    };

    const list = await read(`/api/sessions?student_id=${student}`);
    expect(JSON.parse(list.body).sessions).toHaveLength(2);
    const active = await read('/api/sessions/active');
    expect(JSON.parse(active.body).sessions.map((s: { student_id: string }) => s.student_id)).toContain(student);
    const progress = await read(`/api/students/${student}/progress`);
    expect(JSON.parse(progress.body).sessions).toHaveLength(2);
    // The finished call's transcript alone is 2.4 MB and the open one's ~0.7 MB; each read brings back a few KB.
    for (const r of [list, active, progress]) expect(r.bytes).toBeLessThan(64 * 1024);
    // ...while the session document, which shows the transcript, still reads it whole.
    expect((await read(`/api/sessions/${encodeURIComponent(JSON.parse(list.body).sessions[1].session_id)}`)).bytes).toBeGreaterThan(2 * 1024 * 1024);
  });

  it('a body over WEBHOOK_MAX_BODY_MB → 413 problem+json, nothing stored', async () => {
    const small = appWith({ WEBHOOK_MAX_BODY_MB: '1' });
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-05-03T09:00:00Z'), metadata: { studentId: student } });
    now = c.at(2010);
    const p = await small.problem(await small.vapiRaw(c.report({ turns, endAt: 2005 })), 413);
    expect(p.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await small.sessions({ student_id: student })).toEqual([]);
  });
});
