/**
 * What later Vapi messages may change, and what they may not: a conversation-update whose history
 * revised a line replaces it; a call the idle sweep ended while it went on is reopened by its own
 * later messages; after the end-of-call report, later messages only add metadata. Payloads follow
 * the server SDK's ServerMessage* types (tests/fixtures/vapi/calls.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { cronFamily } from '../../lib/routes/cron.js';
import { sessionsFamily } from '../../lib/routes/sessions/index.js';
import { webhooksFamily } from '../../lib/routes/webhooks/index.js';
import type { Sql } from '../../lib/storage/sql.js';
import { freshStudent, type Turn, webCall } from '../fixtures/vapi/calls.js';
import { client } from '../fixtures/vapi/http.js';
import { makeDeps, memoryPglite, testConfig } from '../helpers/deps.js';

const CRON = 'cron-secret-revisions-0123456789abcdef';
let sql: Sql;
let now: Date;
let api: ReturnType<typeof client>;
let app: ReturnType<typeof createApp>;
const completions: string[] = [];

beforeAll(async () => {
  sql = await memoryPglite();
  const deps = makeDeps({ sql, config: testConfig({ CRON_SECRET: CRON, SESSION_TIMEOUT_MINUTES: '1' }), now: () => now });
  app = createApp(deps, [webhooksFamily(async (_d, id) => completions.push(id)), sessionsFamily, cronFamily]);
  api = client(app);
});
afterAll(() => sql.close());

type Call = ReturnType<typeof webCall>;
const deliver = (c: Call, at: number, body: unknown) => {
  now = c.at(at + 0.4);
  return api.vapi(body);
};
async function onlySession(student: string) {
  const sessions = await api.sessions({ student_id: student });
  expect(sessions).toHaveLength(1);
  return api.doc(sessions[0]!.session_id);
}
const transcriptEvents = async (id: string) => (await api.timeline(id)).events.filter((e) => e.event_type === 'transcript');

describe('conversation-update', () => {
  it('a history that revised a line replaces it (entries, events and count agree); an older history changes nothing', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-10-02T09:00:00Z'), metadata: { studentId: student } });
    const first: Turn[] = [
      { role: 'bot', text: 'Hi there, who is this?', at: 1 },
      { role: 'user', text: 'Hi', at: 4 },
    ];
    // The transcriber finished the caller's turn: the same line, longer, then the tutor's answer.
    const second: Turn[] = [first[0]!, { role: 'user', text: 'Hi, this is Zoe, I need help with fractions', at: 4 }, { role: 'bot', text: 'Sure Zoe', at: 9 }];
    await deliver(c, 0, c.status('in-progress', 0));
    await deliver(c, 5, c.conversationUpdate(first, 5));
    await deliver(c, 10, c.conversationUpdate(second, 10));
    let d = await onlySession(student);
    expect(d.conversation.entries.map((e) => e.text)).toEqual(second.map((t) => t.text));
    expect((await transcriptEvents(d.session_id)).map((e) => e.event_data.text)).toEqual(second.map((t) => t.text));
    expect(d.transcript_count).toBe(3);

    // The first history, delivered again late: older than what is stored, so it revises nothing back.
    await deliver(c, 11, c.conversationUpdate(first, 5));
    d = await onlySession(student);
    expect(d.conversation.entries.map((e) => e.text)).toEqual(second.map((t) => t.text));
    expect((await transcriptEvents(d.session_id)).map((e) => e.event_data.text)).toEqual(second.map((t) => t.text));
    expect(d.transcript_count).toBe(3);

    // The same history again (a redelivery) changes nothing either.
    await deliver(c, 12, c.conversationUpdate(second, 10));
    expect((await onlySession(student)).transcript_count).toBe(3);
  });
});

describe('a call the idle sweep ended while it went on', () => {
  it('is reopened by the call’s later messages, then ends with the call’s own end; end-of-call work runs again for it', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-10-03T09:00:00Z'), metadata: { studentId: student } });
    const turns: Turn[] = [
      { role: 'bot', text: 'Take your time with this one.', at: 2 },
      { role: 'user', text: 'OK, I think it is three quarters', at: 150 },
    ];
    await deliver(c, 0, c.status('in-progress', 0));
    await deliver(c, 2, c.conversationUpdate(turns.slice(0, 1), 2));
    // Two silent minutes: the sweep (timeout 1 minute) ends the session.
    now = c.at(140);
    const swept = await app.request('/api/cron/sweep', { method: 'POST', headers: { authorization: `Bearer ${CRON}` } });
    expect(swept.status).toBe(200);
    let d = await onlySession(student);
    expect(d).toMatchObject({ status: 'completed', end_reason: 'timeout' });

    // The caller speaks again: the call was not over.
    await deliver(c, 151, c.conversationUpdate(turns, 151));
    d = await onlySession(student);
    expect(d).toMatchObject({ status: 'active', end_time: null, end_reason: null });
    expect(d.conversation.entries.map((e) => e.text)).toEqual(turns.map((t) => t.text));

    await deliver(c, 180, c.report({ turns, endAt: 179.5 }));
    d = await onlySession(student);
    expect(d).toMatchObject({ status: 'completed', end_time: c.at(179.5).toISOString() });
    expect(d.end_reason).not.toBe('timeout');
    expect(completions).toContain(d.session_id);
  });

  it('a call ended by Vapi stays ended: a late message after its end does not reopen it', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-10-04T09:00:00Z'), metadata: { studentId: student } });
    await deliver(c, 0, c.status('in-progress', 0));
    await deliver(c, 30, c.statusEnded(30, 'customer-ended-call'));
    await deliver(c, 31, c.conversationUpdate([{ role: 'bot', text: 'Bye!', at: 29 }], 31));
    expect(await onlySession(student)).toMatchObject({ status: 'completed', end_time: c.at(30).toISOString() });
  });
});

describe('after the end-of-call report', () => {
  it('later messages add metadata but do not overwrite the report’s status, ended reason or end', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-10-05T09:00:00Z'), metadata: { studentId: student } });
    await deliver(c, 0, c.status('in-progress', 0));
    await deliver(c, 60, c.report({ endAt: 59.5, endedReason: 'assistant-ended-call' }));
    const before = await onlySession(student);
    expect(before.platform_metadata).toMatchObject({ status: 'ended', ended_reason: 'assistant-ended-call' });

    // Deliveries that lost the race: an `ended` from the other side, then a stray `ringing`.
    await deliver(c, 61, c.statusEnded(59.6, 'customer-ended-call'));
    await deliver(c, 62, c.status('ringing', 62));
    const after = await onlySession(student);
    expect(after.platform_metadata).toMatchObject({ status: 'ended', ended_reason: 'assistant-ended-call' });
    expect(after.platform_metadata.ended_at).toBe(before.platform_metadata.ended_at);
    expect(after).toMatchObject({ status: 'completed', end_time: c.at(59.5).toISOString(), end_reason: before.end_reason });
  });
});

describe('what Vapi relays from callers and chats', () => {
  it('the messages of a Vapi chat (no call, `chat` per the SDK) are one session, not one per message', async () => {
    const student = freshStudent();
    const chat = { id: crypto.randomUUID(), orgId: crypto.randomUUID(), createdAt: '2025-10-06T09:00:00.000Z', updatedAt: '2025-10-06T09:00:00.000Z', assistantOverrides: { variableValues: { studentId: student } } };
    const msg = (at: number, text: string) => ({
      message: { type: 'conversation-update', timestamp: Date.parse(chat.createdAt) + at * 1000, chat, messages: [{ role: 'user', message: text, time: Date.parse(chat.createdAt) + at * 1000, secondsFromStart: at }] },
    });
    now = new Date(Date.parse(chat.createdAt) + 2_000);
    await api.vapi(msg(1, 'Can you check my answer?'));
    now = new Date(Date.parse(chat.createdAt) + 12_000);
    await api.vapi(msg(11, 'It is 3/4'));
    const d = await onlySession(student);
    expect(d.conversation.entries.map((e) => e.text)).toEqual(['It is 3/4']);
  });

  it('a NUL in an id from the caller’s metadata does not lose the report: it is stored without it', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-10-07T09:00:00Z'), metadata: { studentId: `${student}\u0000` } });
    await deliver(c, 60, c.report({ turns: [{ role: 'user', text: 'Hello\u0000 there', at: 2 }], endAt: 59 }));
    const d = await onlySession(student);
    expect(d.conversation.entries.map((e) => e.text)).toEqual(['Hello there']);
  });
});

describe('the assistant a call used', () => {
  it('is the call’s assistantId (the message’s `assistant` is a CreateAssistantDto, which has no id)', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-10-08T09:00:00Z'), metadata: { studentId: student } });
    const body = c.status('in-progress', 0) as { message: Record<string, unknown> };
    const { id: _dropped, ...assistant } = c.assistant;
    await deliver(c, 0, { message: { ...body.message, assistant } });
    expect((await onlySession(student)).platform_metadata.assistant_id).toBe(c.call.assistantId);
  });
});

describe('a report after the status-update `ended`', () => {
  it('gives the session_ended event the report’s cost, ended reason and end time', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-10-09T09:00:00Z'), metadata: { studentId: student } });
    await deliver(c, 0, c.status('in-progress', 0));
    await deliver(c, 70, c.statusEnded(70, 'customer-ended-call'));
    let d = await onlySession(student);
    const endedEvent = async (id: string) => (await api.timeline(id)).events.filter((e) => e.event_type === 'session_ended');
    expect((await endedEvent(d.session_id))[0]?.event_data).toMatchObject({ ended_reason: 'customer-ended-call', cost: null });
    await deliver(c, 75, c.report({ endAt: 69.2, endedReason: 'customer-ended-call', cost: 0.2871 }));
    d = await onlySession(student);
    const ended = await endedEvent(d.session_id);
    expect(ended).toHaveLength(1);
    expect(ended[0]?.event_data).toMatchObject({ ended_reason: 'customer-ended-call', cost: 0.2871 });
    expect(ended[0]?.created_at).toBe(c.at(69.2).toISOString());
    expect(d.end_time).toBe(c.at(69.2).toISOString());
  });
});

describe('a call whose clock is ahead', () => {
  it('an in-progress with a startedAt in the future starts the session no later than its arrival', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-10-10T09:00:00Z'), metadata: { studentId: student } });
    const body = c.status('in-progress', 0) as { message: Record<string, unknown> };
    now = c.at(1);
    await api.vapi({ message: { ...body.message, startedAt: '2025-10-10T10:00:00.000Z' } });
    const d = await onlySession(student);
    expect(Date.parse(d.start_time)).toBeLessThanOrEqual(now.getTime());
  });
});
