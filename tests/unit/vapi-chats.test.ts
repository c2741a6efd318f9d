/**
 * Vapi chats (text, no call) and Vapi sessions: which sitting a chat's messages land in. A chat
 * continued by `previousChatId`, or one of a Vapi session (`sessionId`), is the sitting it
 * continues; the student is whoever the chat, its session (`session.created`) or a later message
 * names. Payloads follow the server SDK's types (tests/fixtures/vapi/chats.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { sessionsFamily } from '../../lib/routes/sessions/index.js';
import { webhooksFamily } from '../../lib/routes/webhooks/index.js';
import type { Sql } from '../../lib/storage/sql.js';
import { vapiChat, vapiSession } from '../fixtures/vapi/chats.js';
import { freshStudent, webCall } from '../fixtures/vapi/calls.js';
import { client, ToolResults } from '../fixtures/vapi/http.js';
import { makeDeps, memoryPglite, type TestDeps, testConfig } from '../helpers/deps.js';

let sql: Sql;
let now: Date;
let deps: TestDeps;
let api: ReturnType<typeof client>;
beforeAll(async () => {
  sql = await memoryPglite();
  deps = makeDeps({ sql, config: testConfig(), now: () => now });
  api = client(createApp(deps, [webhooksFamily(), sessionsFamily]));
});
afterAll(() => sql.close());

const minutes = (n: number) => n * 60_000;
const later = (d: Date, min: number) => new Date(d.getTime() + minutes(min));
/** Deliver at `at` (plus a second): the clock just after the message; work deferred past the answer done. */
const deliverAt = async (at: Date, body: unknown) => {
  now = new Date(at.getTime() + 1000);
  const answer = await api.vapi(body);
  await deps.settle();
  return answer;
};
/** The sessions of `student` (or `unknown`) started within a few minutes of `at`. */
const sessionsAround = (student: string, at: Date) =>
  api.sessions({ student_id: student, since: new Date(at.getTime() - minutes(1)).toISOString(), until: later(at, 30).toISOString() });

describe('a chat continued by previousChatId', () => {
  it('is the sitting of the chat it continues, the follow-up naming no student as Vapi lets it', async () => {
    const student = freshStudent();
    const t0 = new Date('2025-11-03T09:00:00Z');
    const first = vapiChat({ at: t0, variableValues: { studentId: student } });
    // A follow-up request carries previousChatId and the new input; the context is the earlier chat's.
    const second = vapiChat({ at: later(t0, 2), previousChatId: first.id, input: 'And 1/4 + 1/4?' });
    const third = vapiChat({ at: later(t0, 4), previousChatId: second.id, input: 'Thanks!' });
    for (const [c, at] of [[first, t0], [second, later(t0, 2)], [third, later(t0, 4)]] as const) {
      const { call, body } = c.toolCalls('record_attempt', { problem: '1/2 + 1/3', correct: true });
      const { results } = ToolResults.parse(await deliverAt(at, body));
      expect(results.map((r) => r.toolCallId)).toEqual([call.id]);
    }
    const sessions = await sessionsAround(student, t0);
    expect(sessions).toHaveLength(1);
    expect(await sessionsAround('unknown', t0)).toEqual([]);
    const d = await api.doc(sessions[0]!.session_id);
    expect(d.interaction_count).toBe(3);
  });

  it('a chain nobody names is one `unknown` sitting, not one per chat', async () => {
    const t0 = new Date('2025-11-04T09:00:00Z');
    const first = vapiChat({ at: t0 });
    const second = vapiChat({ at: later(t0, 1), previousChatId: first.id });
    await deliverAt(t0, first.toolCalls('get_next_problem', { topic: 'fractions' }).body);
    await deliverAt(later(t0, 1), second.toolCalls('get_next_problem', { topic: 'fractions' }).body);
    const sessions = await sessionsAround('unknown', t0);
    expect(sessions).toHaveLength(1);
    expect((await api.doc(sessions[0]!.session_id)).interaction_count).toBe(2);
  });

  it('a chat continuing one of a Vapi session joins that session’s sitting', async () => {
    const student = freshStudent();
    const t0 = new Date('2025-11-05T09:00:00Z');
    const sessionId = crypto.randomUUID();
    const inSession = vapiChat({ at: t0, sessionId, variableValues: { studentId: student } });
    const followUp = vapiChat({ at: later(t0, 3), previousChatId: inSession.id });
    await deliverAt(t0, inSession.toolCalls('record_attempt', { correct: false }).body);
    await deliverAt(later(t0, 3), followUp.toolCalls('record_attempt', { correct: true }).body);
    const sessions = await sessionsAround(student, t0);
    expect(sessions).toHaveLength(1);
    expect(await sessionsAround('unknown', t0)).toEqual([]);
    expect((await api.doc(sessions[0]!.session_id)).interaction_count).toBe(2);
  });
});

describe('a Vapi session', () => {
  it('a chat continuing a chat of a session its session.created already linked joins that sitting', async () => {
    const student = freshStudent();
    const t0 = new Date('2025-11-05T10:00:00Z');
    const session = vapiSession({ at: t0, variableValues: { studentId: student } });
    await deliverAt(t0, session.message('session.created'));
    const inSession = vapiChat({ at: t0, sessionId: session.id });
    const followUp = vapiChat({ at: later(t0, 2), previousChatId: inSession.id });
    await deliverAt(t0, inSession.toolCalls('record_attempt', { correct: false }).body);
    await deliverAt(later(t0, 2), followUp.created());
    await deliverAt(later(t0, 2), followUp.toolCalls('record_attempt', { correct: true }).body);
    const sessions = await sessionsAround(student, t0);
    expect(sessions).toHaveLength(1);
    expect(await sessionsAround('unknown', t0)).toEqual([]);
    expect((await api.doc(sessions[0]!.session_id)).interaction_count).toBe(2);
  });

  it('session.created names the student (its assistantOverrides or customer): the chats of that session are theirs', async () => {
    for (const [n, spec] of [
      ['variableValues', (s: string) => ({ variableValues: { studentId: s } })],
      ['customer.externalId', (s: string) => ({ customer: { externalId: s } })],
    ] as const) {
      const student = freshStudent();
      const t0 = new Date(`2025-11-06T0${n === 'variableValues' ? 9 : 8}:00:00Z`);
      const session = vapiSession({ at: t0, ...spec(student) });
      expect(await deliverAt(t0, session.message('session.created'))).toEqual({});
      const chat = vapiChat({ at: later(t0, 1), sessionId: session.id });
      await deliverAt(later(t0, 1), chat.toolCalls('record_attempt', { correct: true }).body);
      const sessions = await sessionsAround(student, t0);
      expect(sessions, n).toHaveLength(1);
      expect((await api.doc(sessions[0]!.session_id)).interaction_count, n).toBe(1);
      expect(await sessionsAround('unknown', t0), n).toEqual([]);
    }
  });

  it('a session.created that arrives after the chat’s first message still gives the sitting its student', async () => {
    const student = freshStudent();
    const t0 = new Date('2025-11-07T09:00:00Z');
    const session = vapiSession({ at: t0, variableValues: { studentId: student } });
    const chat = vapiChat({ at: t0, sessionId: session.id });
    await deliverAt(t0, chat.toolCalls('record_attempt', { correct: true }).body);
    expect(await sessionsAround('unknown', t0)).toHaveLength(1);
    await deliverAt(t0, session.message('session.created'));
    const sessions = await sessionsAround(student, t0);
    expect(sessions).toHaveLength(1);
    expect(await sessionsAround('unknown', t0)).toEqual([]);
    const d = await api.doc(sessions[0]!.session_id);
    expect(d.platform_metadata.identified_by).toBe('metadata');
    expect(d.interaction_count).toBe(1);
  });

  it('session and chat messages that name nobody and continue nothing are acknowledged and make no session', async () => {
    const t0 = new Date('2025-11-08T09:00:00Z');
    const session = vapiSession({ at: t0 });
    for (const type of ['session.created', 'session.updated', 'session.deleted'] as const) expect(await deliverAt(t0, session.message(type))).toEqual({});
    expect(await deliverAt(t0, vapiChat({ at: t0 }).created())).toEqual({});
    expect(await sessionsAround('unknown', t0)).toEqual([]);
  });
});

describe('a call whose student is named after its first message', () => {
  it('an assistant-request makes an `unknown` session; the assistant it chose names the student, and the call becomes theirs', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-11-09T09:00:00Z') });
    const first = c.message('assistant-request', 0) as { message: Record<string, unknown> };
    const { assistant: _none, ...request } = first.message;
    await deliverAt(c.at(0), { message: request });
    expect(await sessionsAround('unknown', c.start)).toHaveLength(1);
    // The answer's assistant carried the student in its metadata: every later message has it.
    const status = c.status('in-progress', 1) as { message: Record<string, unknown> };
    await deliverAt(c.at(1), { message: { ...status.message, assistant: { ...c.assistant, metadata: { studentId: student } } } });
    const sessions = await sessionsAround(student, c.start);
    expect(sessions).toHaveLength(1);
    expect(await sessionsAround('unknown', c.start)).toEqual([]);
    expect((await api.doc(sessions[0]!.session_id)).platform_metadata).toMatchObject({ call_id: c.id, identified_by: 'metadata', status: 'in-progress' });
  });
});
