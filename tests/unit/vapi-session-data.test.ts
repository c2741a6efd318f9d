/**
 * POST /api/webhooks/session-data (and /webhook/session-data): finished or ongoing sessions from
 * any voice platform, behind WEBHOOK_TOKEN; a body carrying a Vapi `message` is handled as the
 * Vapi webhook would handle it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { createApp } from '../../lib/app.js';
import { sessionsFamily } from '../../lib/routes/sessions/index.js';
import { webhooksFamily } from '../../lib/routes/webhooks/index.js';
import type { Sql } from '../../lib/storage/sql.js';
import { expectedEntries, freshStudent, transcriptText, tutoringTurns, vapiId, webCall } from '../fixtures/vapi/calls.js';
import { client } from '../fixtures/vapi/http.js';
import { makeDeps, memoryPglite, testConfig, uniqueToken } from '../helpers/deps.js';

const TOKEN = 'webhook-token-7c1d';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const Accepted = z.object({ success: z.literal(true), session_id: z.string() });

let sql: Sql;
let now: Date;
const completions: string[] = [];
let deps: ReturnType<typeof makeDeps>;
let api: ReturnType<typeof client>;
beforeAll(async () => {
  sql = await memoryPglite();
  deps = makeDeps({ sql, config: testConfig({ WEBHOOK_TOKEN: TOKEN }), now: () => now });
  api = client(createApp(deps, [webhooksFamily(async (_d, id) => completions.push(id)), sessionsFamily]));
});
afterAll(() => sql.close());

const words = (s: string) => s.split(/\s+/).filter(Boolean).length;
async function send(body: unknown, path = '/api/webhooks/session-data') {
  const res = await api.post(path, body, AUTH);
  expect(res.status, await res.clone().text()).toBe(200);
  return Accepted.parse(await res.json()).session_id;
}
const eventIds = async (id: string) => (await api.timeline(id)).events.map((e) => e.event_id).sort();

describe('session data from another platform', () => {
  it('a text transcript with ended_at → a completed session of that platform and student', async () => {
    const student = freshStudent();
    const text = 'Agent: Hello Sam, shall we review decimals?\nUser: Yes please.\nAgent: What is 0.5 plus 0.25?\nUser: 0.75!';
    now = new Date('2025-09-01T10:10:00Z');
    const body = { platform: 'retell', student_id: student, call_id: `rc_${vapiId()}`, started_at: '2025-09-01T10:00:00Z', ended_at: '2025-09-01T10:04:30Z', transcript: text, metadata: { agent_id: 'agent_42', cost: 0.05 } };
    const id = await send(body);
    const d = await api.doc(id);
    expect(d).toMatchObject({ session_id: id, student_id: student, platform: 'retell', status: 'completed', start_time: '2025-09-01T10:00:00.000Z', end_time: '2025-09-01T10:04:30.000Z' });
    expect(d.conversation).toMatchObject({ transcript: text, source: 'retell', word_count: words(text), duration_seconds: 270 });
    expect(d.platform_metadata).toMatchObject({ agent_id: 'agent_42', cost: 0.05, call_id: body.call_id });

    const before = await eventIds(id);
    now = new Date('2025-09-01T10:20:00Z');
    expect(await send(body, '/webhook/session-data')).toBe(id);
    expect(await api.doc(id)).toEqual(d);
    expect(await eventIds(id)).toEqual(before);
    await deps.settle();
    expect(completions.filter((c) => c === id)).toHaveLength(1);
  });

  it('an entries array → conversation entries; the same call later with ended_at completes it without duplicates', async () => {
    const student = freshStudent();
    const callId = `bl_${vapiId()}`;
    const entries = [
      { speaker: 'agent', text: 'Welcome back! Ready for fractions?', timestamp: '2025-09-02T09:00:03Z' },
      { speaker: 'user', text: 'Ready.', timestamp: '2025-09-02T09:00:07Z' },
    ];
    now = new Date('2025-09-02T09:01:00Z');
    const id = await send({ platform: 'bland', student_id: student, call_id: callId, started_at: '2025-09-02T09:00:00Z', transcript: entries });
    const live = await api.doc(id);
    expect(live).toMatchObject({ status: 'active', platform: 'bland', transcript_count: 2 });
    expect(live.conversation).toMatchObject({ source: 'bland', entries: entries.map((e) => ({ ...e, timestamp: new Date(e.timestamp).toISOString() })) });
    expect(live.conversation.word_count).toBeGreaterThanOrEqual(words(entries.map((e) => e.text).join(' ')));

    now = new Date('2025-09-02T09:06:00Z');
    expect(await send({ platform: 'bland', student_id: student, call_id: callId, started_at: '2025-09-02T09:00:00Z', ended_at: '2025-09-02T09:05:00Z', transcript: entries })).toBe(id);
    const done = await api.doc(id);
    expect(done).toMatchObject({ status: 'completed', end_time: '2025-09-02T09:05:00.000Z', transcript_count: 2 });
    expect(done.conversation.entries).toEqual(live.conversation.entries);
  });

  it('metadata only (no transcript) → the session exists with its metadata, exactly under the given session id', async () => {
    const sid = uniqueToken('call');
    now = new Date('2025-09-03T12:00:30Z');
    expect(await send({ platform: 'generic', session_id: sid, started_at: '2025-09-03T12:00:00Z', metadata: { campaign: 'spring-review', room: 'B12' } })).toBe(sid);
    const d = await api.doc(sid);
    expect(d).toMatchObject({ session_id: sid, platform: 'generic', status: 'active', platform_metadata: { campaign: 'spring-review', room: 'B12' } });
    expect(d.conversation).toMatchObject({ transcript: '', entries: [] });
  });

  it("the platform's metadata cannot set what the server decides: suggested students, how the caller was identified", async () => {
    const sid = uniqueToken('call');
    now = new Date('2025-09-03T13:00:30Z');
    const metadata = { room: 'B12', suggested_student_ids: ['victim_student'], identified_by: 'transcript' };
    expect(await send({ platform: 'generic', session_id: sid, started_at: '2025-09-03T13:00:00Z', metadata })).toBe(sid);
    const d = await api.doc(sid);
    expect(d.platform_metadata).toMatchObject({ room: 'B12', platform: 'generic' });
    expect(d.platform_metadata).not.toHaveProperty('suggested_student_ids');
    expect(d.platform_metadata).not.toHaveProperty('identified_by');
  });
});

describe('a Vapi body on the session-data webhook', () => {
  it('is handled as the Vapi webhook would: one completed vapi session, completed once', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-09-04T15:00:00Z'), metadata: { studentId: student } });
    now = c.at(98);
    const id = await send(c.report());
    const again = await api.post('/api/webhooks/session-data', c.report(), AUTH);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ success: true });
    const turns = tutoringTurns();
    const d = await api.doc(id);
    expect(d).toMatchObject({ student_id: student, platform: 'vapi', status: 'completed', platform_metadata: { call_id: c.id, success_evaluation: 'true' } });
    expect(d.conversation).toMatchObject({ transcript: transcriptText(turns), entries: expectedEntries(turns, c.start), source: 'vapi' });
    expect(await api.sessions({ student_id: student })).toHaveLength(1);
    await deps.settle();
    expect(completions.filter((x) => x === id)).toHaveLength(1);
  });
});

describe('auth and input', () => {
  const body = () => ({ platform: 'retell', student_id: freshStudent(), started_at: '2025-09-05T08:00:00Z' });

  it.each([
    ['no token', {}],
    ['a wrong token', { authorization: 'Bearer nope' }],
    ['the token without the Bearer scheme', { authorization: TOKEN }],
    ['a Vapi secret header', { 'x-vapi-secret': TOKEN }],
  ])('%s → 401', async (_n, headers) => {
    now = new Date('2025-09-05T08:01:00Z');
    const b = body();
    const p = await api.problem(await api.post('/api/webhooks/session-data', b, headers), 401);
    expect(p.code).toBe('UNAUTHORIZED');
    expect(await api.sessions({ student_id: b.student_id })).toEqual([]);
  });

  it('with WEBHOOK_TOKEN unset every request is refused → 401', async () => {
    const open = client(createApp(makeDeps({ sql, config: testConfig(), now: () => now }), [webhooksFamily()]));
    await open.problem(await open.post('/api/webhooks/session-data', body(), AUTH), 401);
    await open.problem(await open.post('/webhook/session-data', body(), { authorization: 'Bearer undefined' }), 401);
  });

  it.each([
    ['missing platform', 'platform', { student_id: 's1', started_at: '2025-09-05T08:00:00Z' }],
    ['a platform with spaces', 'platform', { platform: 'Retell AI', started_at: '2025-09-05T08:00:00Z' }],
    ['missing started_at', 'started_at', { platform: 'retell' }],
    ['started_at not ISO', 'started_at', { platform: 'retell', started_at: 'yesterday' }],
    ['ended_at not ISO', 'ended_at', { platform: 'retell', started_at: '2025-09-05T08:00:00Z', ended_at: 1757000000 }],
    ['student_id with spaces', 'student_id', { platform: 'retell', student_id: 'sam smith', started_at: '2025-09-05T08:00:00Z' }],
    ['a transcript entry without speaker', 'transcript', { platform: 'retell', started_at: '2025-09-05T08:00:00Z', transcript: [{ text: 'hi' }] }],
    ['a transcript that is a number', 'transcript', { platform: 'retell', started_at: '2025-09-05T08:00:00Z', transcript: 42 }],
    ['metadata that is a list', 'metadata', { platform: 'retell', started_at: '2025-09-05T08:00:00Z', metadata: [1] }],
    ['an unknown field', '', { platform: 'retell', started_at: '2025-09-05T08:00:00Z', transcrpt: 'typo' }],
  ])('%s → 400 naming "%s"', async (_n, field, b) => {
    const p = await api.problem(await api.post('/api/webhooks/session-data', b, AUTH), 400);
    expect(p.code).toBe('BAD_REQUEST');
    if (field) expect(p.errors?.some((e) => e.path.startsWith(field)), JSON.stringify(p.errors)).toBe(true);
    else expect(JSON.stringify(p)).toMatch(/transcrpt|unrecognized/i);
  });

  it('malformed JSON → 400 problem+json', async () => {
    const p = await api.problem(await api.post('/api/webhooks/session-data', '{"platform": "retell",', AUTH), 400);
    expect(p.detail).toMatch(/json/i);
  });
});
