/**
 * Which session a Vapi call belongs to: an explicit session id in metadata, a student id from any
 * of the five places Vapi carries one, a caller's number mapped to a student, the call's own
 * earlier messages, a student's session inside the match window — or an `unknown` session that
 * an admin assigns later.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { createMemoryKv } from '../../lib/storage/kv-memory.js';
import type { Sql } from '../../lib/storage/sql.js';
import { type CallSpec, freshStudent, phoneCall, randomPhone, tutoringTurns, webCall } from '../fixtures/vapi/calls.js';
import { client } from '../fixtures/vapi/http.js';
import { admin, makeDeps, memoryPglite, testConfig, uniqueToken } from '../helpers/deps.js';

const SERVICE = { authorization: 'Bearer svc-token-123' };
let sql: Sql;
let now: Date;
const kv = createMemoryKv(() => now.getTime());
const appWith = (env: Record<string, string> = {}) =>
  client(createApp(makeDeps({ sql, kv, config: testConfig({ SERVICE_TOKEN: 'svc-token-123', ...env }), now: () => now }), allFamilies));

let api: ReturnType<typeof appWith>;
beforeAll(async () => {
  sql = await memoryPglite();
  api = appWith();
});
afterAll(() => sql.close());

type Call = ReturnType<typeof webCall>;
/** The call's end-of-call report, delivered just after the call. */
async function finish(c: Call, on = api) {
  now = c.at(98);
  expect(await on.vapi(c.report())).toEqual({});
}
const minutes = (n: number) => n * 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
/** The `unknown` sessions started around `at`, to find an unidentified call's session. */
const unknownAround = (at: Date) => ({ student_id: 'unknown', since: iso(at.getTime() - minutes(1)), until: iso(at.getTime() + minutes(1)) });

async function interact(student: string, at: Date) {
  now = at;
  const res = await api.post('/api/sessions/interactions', { student_id: student, function: 'get-student-context', platform: 'mcp' }, SERVICE);
  expect(res.status).toBe(200);
  return ((await res.json()) as { session_id: string }).session_id;
}

describe('an explicit session id in the call metadata', () => {
  it('joins the workshop session of that token (issue 11: a token that posted is a web session) and shares its timeline', async () => {
    const token = uniqueToken('ws');
    const c = webCall({ startedAt: new Date('2025-07-01T10:00:00Z'), metadata: { sessionId: token } });
    now = c.at(-30);
    expect((await api.post('/api/session-log', { sessionToken: token, eventType: 'navigation', eventData: { from: 1, to: 2 } })).status).toBe(200);
    now = c.at(1);
    await api.vapi(c.status('in-progress', 0.5));
    await finish(c);
    now = c.at(120);
    await api.post('/api/session-log', { sessionToken: token, eventType: 'action', eventData: { actionName: 'download_notes' } });

    const d = await api.doc(token);
    // The page posted after the call ended: the workshop session is active again (reopen rule).
    expect(d).toMatchObject({ session_id: token, platform: 'web', status: 'active', end_time: null, platform_metadata: { call_id: c.id } });
    expect(d.conversation.entries).toHaveLength(6);
    const types = (await api.timeline(token)).events.map((e) => e.event_type);
    expect(types).toEqual(expect.arrayContaining(['navigation', 'transcript', 'session_ended', 'action']));
    expect(types.indexOf('navigation')).toBeLessThan(types.indexOf('transcript'));
  });

  it('joins an existing session with that id (session_id in the overrides beats the student id)', async () => {
    const student = freshStudent();
    const sid = `workshop_${uniqueToken('s')}`;
    now = new Date('2025-07-01T11:00:00Z');
    const created = await api.post('/api/sessions', { participant: student, student_id: student, session_id: sid, max_participants: 1, platform: 'web' }, SERVICE);
    expect(created.status).toBe(201);
    const c = webCall({ startedAt: new Date('2025-07-01T11:02:00Z'), overridesMetadata: { session_id: sid, studentId: student } });
    await finish(c);
    expect((await api.sessions({ student_id: student })).map((s) => s.session_id)).toEqual([sid]);
    expect(await api.doc(sid)).toMatchObject({ kind: 'explicit', status: 'completed', platform_metadata: { call_id: c.id }, conversation: { source: 'vapi' } });
  });
});

describe('a student id', () => {
  it.each<[string, (s: string) => Partial<CallSpec>]>([
    ['call.assistantOverrides.metadata', (s) => ({ overridesMetadata: { studentId: s } })],
    ['call.metadata (snake_case)', (s) => ({ metadata: { student_id: s } })],
    ['assistant.metadata', (s) => ({ assistantMetadata: { studentId: s } })],
    ['call.assistantOverrides.variableValues', (s) => ({ variableValues: { studentId: s } })],
    ['customer.externalId', (s) => ({ customer: { externalId: s } })],
  ])('from %s → a vapi session of that student', async (_where, place) => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-07-02T09:00:00Z'), ...place(student) });
    await finish(c);
    const [s, ...more] = await api.sessions({ student_id: student });
    expect(more).toEqual([]);
    expect(s).toMatchObject({ student_id: student, platform: 'vapi', status: 'completed' });
    expect((await api.doc(s!.session_id)).platform_metadata.call_id).toBe(c.id);
  });

  it('the overrides’ metadata wins over the call’s metadata', async () => {
    const [a, b] = [freshStudent(), freshStudent()];
    await finish(webCall({ startedAt: new Date('2025-07-02T09:30:00Z'), overridesMetadata: { studentId: a }, metadata: { studentId: b } }));
    expect(await api.sessions({ student_id: a })).toHaveLength(1);
    expect(await api.sessions({ student_id: b })).toEqual([]);
  });
});

describe('a caller’s phone number', () => {
  const pretty = (p: string) => `+1 (${p.slice(2, 5)}) ${p.slice(5, 8)}-${p.slice(8)}`;

  it('mapped with PUT /api/students/{id} identifies the student; an unmapped number is unknown', async () => {
    const student = freshStudent();
    const phone = randomPhone();
    now = new Date('2025-07-03T08:00:00Z');
    expect((await api.put(`/api/students/${student}`, { phone_numbers: [pretty(phone)] }, SERVICE)).status).toBe(403);
    expect((await api.put(`/api/students/${student}`, { phone_numbers: [pretty(phone)] }, admin)).status).toBe(200);

    const known = phoneCall({ startedAt: new Date('2025-07-03T08:05:00Z'), from: phone });
    await finish(known);
    const [s] = await api.sessions({ student_id: student });
    expect(await api.doc(s!.session_id)).toMatchObject({ platform: 'vapi', platform_metadata: { call_id: known.id, phone_number: phone, call_type: 'inboundPhoneCall' } });

    const stranger = phoneCall({ startedAt: new Date('2025-07-03T08:30:00Z') });
    await finish(stranger);
    expect((await api.sessionOfCall(stranger.id, unknownAround(stranger.start))).student_id).toBe('unknown');
  });
});

describe('the call’s own earlier messages', () => {
  it('a later message without identity lands in the session the first one linked — even after KV is wiped', async () => {
    const student = freshStudent();
    const start = new Date('2025-07-04T10:00:00Z');
    const first = webCall({ startedAt: start, metadata: { studentId: student } });
    const bare = webCall({ startedAt: start, id: first.id });
    now = first.at(1);
    await api.vapi(first.status('in-progress', 0.5));
    kv.clear();
    await finish(bare);
    const [s, ...more] = await api.sessions({ student_id: student });
    expect(more).toEqual([]);
    expect((await api.doc(s!.session_id)).conversation.entries).toHaveLength(6);
    for (const stray of await api.sessions(unknownAround(start))) expect((await api.doc(stray.session_id)).platform_metadata.call_id).not.toBe(first.id);
  });
});

describe('the match window (VAPI_MATCH_WINDOW_MINUTES, default 5)', () => {
  it.each([
    ['a session started a minute before the call', 0, 1, true],
    ['a session the tool server opened two minutes into the call', 2, 0, true],
    ['a session last active seven minutes before the call', 0, 7, false],
  ])('%s → joined: %s', async (_n, interactAt, callAt, joins) => {
    const student = freshStudent();
    const t = Date.parse('2025-07-05T14:00:00Z');
    const c = webCall({ startedAt: new Date(t + minutes(callAt)), metadata: { studentId: student } });
    const sid = await interact(student, new Date(t + minutes(interactAt)));
    await finish(c);
    const sessions = await api.sessions({ student_id: student });
    const withCall = await api.sessionOfCall(c.id, { student_id: student });
    expect(sessions).toHaveLength(joins ? 1 : 2);
    expect(withCall.session_id === sid).toBe(joins);
    if (!joins) expect(withCall.platform).toBe('vapi');
    if (joins) expect(withCall.mcp_interactions.map((i) => i.function)).toEqual(['get-student-context']);
  });

  it('a wider window joins what the default would not', async () => {
    const wide = appWith({ VAPI_MATCH_WINDOW_MINUTES: '10' });
    const student = freshStudent();
    const sid = await interact(student, new Date('2025-07-05T15:00:00Z'));
    const c = webCall({ startedAt: new Date('2025-07-05T15:07:00Z'), metadata: { studentId: student } });
    await finish(c, wide);
    expect((await api.sessionOfCall(c.id, { student_id: student })).session_id).toBe(sid);
  });

  it('a second call a few minutes after the first gets its own session', async () => {
    const student = freshStudent();
    await finish(webCall({ startedAt: new Date('2025-07-05T16:00:00Z'), metadata: { studentId: student } }));
    await finish(webCall({ startedAt: new Date('2025-07-05T16:03:00Z'), metadata: { studentId: student } }));
    expect(await api.sessions({ student_id: student })).toHaveLength(2);
  });

  it('a second call while the first is still live gets its own session; each report ends only its own', async () => {
    const student = freshStudent();
    const first = webCall({ startedAt: new Date('2025-07-05T18:00:00Z'), metadata: { studentId: student } });
    now = first.at(5);
    expect(await api.vapi(first.status('in-progress', 0))).toEqual({});
    expect(await api.vapi(first.conversationUpdate(tutoringTurns().slice(0, 2), 5))).toEqual({});
    const second = webCall({ startedAt: new Date('2025-07-05T18:00:40Z'), metadata: { studentId: student } });
    await finish(second);
    const a = await api.sessionOfCall(first.id, { student_id: student });
    const b = await api.sessionOfCall(second.id, { student_id: student });
    expect(b.session_id).not.toBe(a.session_id);
    expect(a.status).toBe('active'); // the second call's report did not end the first call's session
    expect(b).toMatchObject({ status: 'completed', platform_metadata: { call_id: second.id } });
    await finish(first);
    const after = await api.doc(a.session_id);
    expect(after).toMatchObject({ status: 'completed', platform_metadata: { call_id: first.id } });
    expect(after.conversation.entries).toHaveLength(tutoringTurns().length);
    expect(await api.sessions({ student_id: student })).toHaveLength(2);
  });

  it('a call joins the tool server\'s sitting, but not once another call is linked to it', async () => {
    const student = freshStudent();
    const sid = await interact(student, new Date('2025-07-05T19:00:00Z'));
    const first = webCall({ startedAt: new Date('2025-07-05T19:00:30Z'), metadata: { studentId: student } });
    now = first.at(5);
    expect(await api.vapi(first.status('in-progress', 0))).toEqual({});
    expect((await api.sessionOfCall(first.id, { student_id: student })).session_id).toBe(sid);
    const second = webCall({ startedAt: new Date('2025-07-05T19:01:30Z'), metadata: { studentId: student } });
    await finish(second);
    expect((await api.sessionOfCall(second.id, { student_id: student })).session_id).not.toBe(sid);
    expect((await api.doc(sid)).status).toBe('active');
  });

  // A redial in the same UTC minute derives the same readable id; it must not reuse the first call's session.
  it('a redial within the same minute gets its own session', async () => {
    const student = freshStudent();
    const first = webCall({ startedAt: new Date('2025-07-05T17:00:05Z'), metadata: { studentId: student } });
    now = first.at(40);
    await api.vapi(first.report({ endAt: 35 }));
    const second = webCall({ startedAt: new Date('2025-07-05T17:00:50Z'), metadata: { studentId: student } });
    await finish(second);
    expect(await api.sessions({ student_id: student })).toHaveLength(2);
  });
});

describe('an unidentifiable call', () => {
  it('becomes a session of student `unknown` that POST /api/sessions/{id}/assign attaches later', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-07-06T09:00:00Z') });
    await finish(c);
    const d = await api.sessionOfCall(c.id, unknownAround(c.start));
    expect(d).toMatchObject({ student_id: 'unknown', platform: 'vapi', status: 'completed' });

    expect((await api.post(`/api/sessions/${d.session_id}/assign`, { student_id: student }, SERVICE)).status).toBe(403);
    const res = await api.post(`/api/sessions/${d.session_id}/assign`, { student_id: student }, admin);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ session_id: d.session_id, student_id: student });
    expect((await api.sessions({ student_id: student })).map((s) => s.session_id)).toEqual([d.session_id]);
    const after = await api.doc(d.session_id);
    expect(after.student_id).toBe(student);
    expect(after.conversation).toEqual(d.conversation);
    const { events } = await api.timeline(d.session_id);
    expect(events.map((e) => e.event_type)).toContain('session_assigned');
    expect(events.every((e) => e.student_id === student)).toBe(true);
  });
});

describe('a student on a workshop page', () => {
  it('a call identified by the email the page gave joins the tool server’s sitting, not the page’s session', async () => {
    const email = `${freshStudent()}@example.com`;
    const token = uniqueToken('ws');
    const c = webCall({ startedAt: new Date('2025-07-06T10:00:00Z'), metadata: { studentId: email } });
    now = c.at(-60);
    expect((await api.post('/api/session-log', { sessionToken: token, studentEmail: email, eventType: 'navigation', eventData: { from: 1, to: 2 } })).status).toBe(200);
    const sitting = await interact(email, c.at(5));
    await finish(c);
    const withCall = await api.sessionOfCall(c.id, { student_id: email });
    expect(withCall.session_id).toBe(sitting);
    expect(withCall.mcp_interactions.map((i) => i.function)).toEqual(['get-student-context']);
    const page = await api.doc(token);
    expect(page).toMatchObject({ platform: 'web', event_count: 1, transcript_count: 0, interaction_count: 0 });
    expect(page.conversation.entries).toEqual([]);
    expect(withCall.conversation.entries.length).toBeGreaterThan(0);
  });

  it('without a tool call, the call gets its own session; the page keeps its own', async () => {
    const email = `${freshStudent()}@example.com`;
    const token = uniqueToken('ws');
    const c = webCall({ startedAt: new Date('2025-07-06T11:00:00Z'), metadata: { studentId: email } });
    now = c.at(-60);
    expect((await api.post('/api/session-log', { sessionToken: token, studentEmail: email, eventType: 'navigation', eventData: { from: 1, to: 2 } })).status).toBe(200);
    await finish(c);
    const withCall = await api.sessionOfCall(c.id, { student_id: email });
    expect(withCall.session_id).not.toBe(token);
    expect(withCall.platform).toBe('vapi');
    expect(await api.sessions({ student_id: email })).toHaveLength(2);
  });
});
