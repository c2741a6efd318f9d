/**
 * Who is calling, from the conversation (issue 13): when metadata, the phone map and call links all
 * fail, a name or alias the caller says in their first turns identifies them — exactly one student
 * assigns the call, several are suggested and the call stays unknown.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { match, nameSpots, type NamedStudent } from '../../lib/calls/identify.js';
import { allFamilies } from '../../lib/families.js';
import { StudentResponse } from '../../lib/schemas/responses.js';
import { createMemoryKv } from '../../lib/storage/kv-memory.js';
import type { Sql } from '../../lib/storage/sql.js';
import { phoneCall, randomPhone, type Turn, webCall } from '../fixtures/vapi/calls.js';
import { client } from '../fixtures/vapi/http.js';
import { startFakeOpenAI, VALID_ANALYSIS } from '../helpers/fake-openai.js';
import { admin, makeDeps, memoryPglite, testConfig } from '../helpers/deps.js';

const WEBHOOK_TOKEN = 'webhook-token-0123456789abcdef-0123456789';
let sql: Sql;
let now = new Date('2026-05-01T09:00:00Z');
const kv = createMemoryKv(() => now.getTime());
let app: ReturnType<typeof createApp>;
let api: ReturnType<typeof client>;
let fake: Awaited<ReturnType<typeof startFakeOpenAI>>;

beforeAll(async () => {
  sql = await memoryPglite();
  fake = await startFakeOpenAI();
  app = createApp(makeDeps({ sql, kv, config: testConfig({ WEBHOOK_TOKEN }), now: () => now }), allFamilies);
  api = client(app);
});
afterAll(async () => {
  await fake.close();
  await sql.close();
});

/** A name nobody else in this database has (students of other tests share it). */
const LETTERS = 'bcdfghjklmnprstvz';
const freshName = () => {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  const s = Array.from(bytes, (b, i) => (i % 2 ? 'aeiou'[b % 5] : LETTERS[b % LETTERS.length])).join('');
  return s.charAt(0).toUpperCase() + s.slice(1);
};
const freshId = () => `stu_${crypto.randomUUID().slice(0, 8)}`;

async function student(name: string, extra: Record<string, unknown> = {}) {
  const id = freshId();
  const res = await api.put(`/api/students/${id}`, { name, ...extra }, admin);
  expect(res.status).toBe(200);
  return id;
}

/** A call that ends with a report holding these turns; nothing else says who is calling. */
async function reportOnlyCall(turns: Turn[], spec: Parameters<typeof webCall>[0] = { startedAt: new Date(now.getTime() + 60_000) }) {
  const c = webCall(spec);
  now = c.at(98);
  expect(await api.vapi(c.report({ turns }))).toEqual({});
  return c;
}
const said = (...user: string[]): Turn[] =>
  user.flatMap((text, i) => [
    { role: 'bot' as const, text: i === 0 ? 'Hi! Who am I talking to?' : 'Go on.', at: i * 10 + 1 },
    { role: 'user' as const, text, at: i * 10 + 5 },
  ]);
const callSession = (callId: string) => api.sessionOfCall(callId, { since: new Date(now.getTime() - 3_600_000).toISOString() });

describe('the rule (names as words, first turns, introductions only)', () => {
  const roster: NamedStudent[] = [
    { id: 'ann', name: 'Ann Lee', aliases: [] },
    { id: 'anna', name: 'Anna Berg', aliases: [] },
    { id: 'emma_s', name: 'Emma Smith', aliases: ['Em'] },
    { id: 'emma_j', name: 'Emma Jones', aliases: [] },
    { id: 'zoe', name: 'Zoë Dupré', aliases: [] },
    { id: 'jose', name: 'José', aliases: [] },
  ];
  const who = (...turns: string[]) => match(nameSpots(turns), roster);

  it('names nobody when no student is introduced', () => {
    expect(who('Can we do fractions today?', 'I think the answer is five sixths')).toEqual([]);
    // A name inside a sentence is not an introduction.
    expect(who('Can we read the chapter where Anna Berg meets Ann Lee and everyone else?')).toEqual([]);
  });

  it('names one student by full name, first name, or alias; case-insensitive', () => {
    expect(who('hi, this is Ann')).toEqual(['ann']);
    expect(who('MY NAME IS EMMA SMITH')).toEqual(['emma_s']);
    expect(who("Hey it's em, can we start?")).toEqual(['emma_s']);
    expect(who('Anna.')).toEqual(['anna']);
    expect(who('hello, Anna Berg here')).toEqual(['anna']);
  });

  it('is ambiguous between two students who share what was said', () => {
    expect(who('Hi, this is Emma')).toEqual(['emma_j', 'emma_s']);
    // The full name settles it.
    expect(who("Hi, I'm Emma Jones")).toEqual(['emma_j']);
  });

  it('never takes a name that is only part of another word ("Ann" is not "Anna")', () => {
    expect(who("I'm Anna")).toEqual(['anna']);
    expect(who("I'm Annabel")).toEqual([]);
    expect(who('this is Joseph')).toEqual([]);
  });

  it('folds diacritics both ways', () => {
    expect(who('this is Zoe Dupre')).toEqual(['zoe']);
    expect(who('my name is Jose')).toEqual(['jose']);
    expect(who('my name is JOSÉ')).toEqual(['jose']);
  });

  it('reads only the first three turns of the caller', () => {
    expect(who('hello', 'um', 'can we start', 'by the way this is Ann')).toEqual([]);
    expect(who('hello', 'um', 'by the way this is Ann')).toEqual(['ann']);
  });
});

describe('a Vapi call nobody else identifies', () => {
  it('names nobody: stays unknown, without suggestions', async () => {
    const c = await reportOnlyCall(said('Can we do fractions today please?'));
    const d = await callSession(c.id);
    expect(d.student_id).toBe('unknown');
    expect(d.platform_metadata.identified_by).toBeUndefined();
    expect(d.platform_metadata.suggested_student_ids).toBeUndefined();
  });

  it('names one student in the report: the call is theirs, identified_by transcript', async () => {
    const name = freshName();
    const id = await student(`${name} Smith`);
    const c = await reportOnlyCall(said(`Hi, this is ${name}!`, 'Can we do fractions?'));
    const d = await callSession(c.id);
    expect(d).toMatchObject({ student_id: id, platform_metadata: { call_id: c.id, identified_by: 'transcript' } });
    expect(d.platform_metadata.suggested_student_ids).toBeUndefined();
  });

  it('names two students: suggested_student_ids, the session stays unknown', async () => {
    const first = freshName();
    const a = await student(`${first} Smith`);
    const b = await student(`${first} Jones`);
    const c = await reportOnlyCall(said(`hi this is ${first.toLowerCase()}`));
    const d = await callSession(c.id);
    expect(d.student_id).toBe('unknown');
    expect(d.platform_metadata.suggested_student_ids).toEqual([a, b].sort());
    expect(d.platform_metadata.identified_by).toBeUndefined();
    // Erasing one of them leaves no trace of them in the suggestion.
    expect((await app.request(`/api/students/${a}`, { method: 'DELETE', headers: admin })).status).toBe(200);
    expect((await api.doc(d.session_id)).platform_metadata.suggested_student_ids).toEqual([b]);
  });

  it('a name that is only a substring of another picks the right one', async () => {
    const short = freshName();
    const ann = await student(short);
    const anna = await student(`${short}a`);
    const c1 = await reportOnlyCall(said(`I'm ${short}a`));
    expect((await callSession(c1.id)).student_id).toBe(anna);
    const c2 = await reportOnlyCall(said(`I'm ${short}`));
    expect((await callSession(c2.id)).student_id).toBe(ann);
  });

  it('an alias set with PUT /api/students identifies, and the diacritics of the name do not matter', async () => {
    const nick = freshName();
    const id = freshId();
    const put = await api.put(`/api/students/${id}`, { name: `Zoë ${freshName()}`, aliases: [` ${nick} `, nick] }, admin);
    expect(put.status).toBe(200);
    expect(StudentResponse.parse(await put.json()).student.aliases).toEqual([nick]);
    const c = await reportOnlyCall(said(`hey, ${nick} here`));
    expect((await callSession(c.id)).student_id).toBe(id);
    const bad = await api.put(`/api/students/${id}`, { aliases: ['  '] }, admin);
    expect(bad.status).toBe(400);
  });

  it('live turns: an unknown session made by the first status update is assigned when the caller says their name', async () => {
    const name = freshName();
    const id = await student(`${name} Okafor`);
    const c = webCall({ startedAt: new Date(now.getTime() + 60_000) });
    now = c.at(1);
    await api.vapi(c.status('in-progress', 0.5));
    const sessionId = (await callSession(c.id)).session_id;
    expect((await api.doc(sessionId)).student_id).toBe('unknown');
    now = c.at(4);
    await api.vapi(c.transcript('assistant', 'Hi! Who is this?', 2));
    await api.vapi(c.transcript('user', `My name is ${name} Okafor.`, 4));
    let d = await api.doc(sessionId);
    expect(d).toMatchObject({ student_id: id, platform_metadata: { identified_by: 'transcript' } });
    // Later deliveries of the call stay in that session (the cached link said unknown).
    now = c.at(98);
    await api.vapi(c.report({ turns: said(`My name is ${name} Okafor.`) }));
    d = await api.doc(sessionId);
    expect(d).toMatchObject({ student_id: id, status: 'completed' });
    const assigned = (await api.timeline(sessionId)).events.filter((e) => e.event_type === 'session_assigned');
    expect(assigned).toHaveLength(1);
    expect(assigned[0]?.event_data).toMatchObject({ student_id: id, previous_student_id: 'unknown', identified_by: 'transcript' });
  });

  it('never overrides an earlier step: a phone-mapped caller who says another name stays theirs', async () => {
    const phone = randomPhone();
    const owner = await student(freshName(), { phone_numbers: [phone] });
    const other = freshName();
    await student(other);
    const c = phoneCall({ startedAt: new Date(now.getTime() + 60_000), from: phone });
    now = c.at(98);
    await api.vapi(c.report({ turns: said(`this is ${other}`) }));
    const d = await api.sessionOfCall(c.id, { student_id: owner });
    expect(d.student_id).toBe(owner);
    expect(d.platform_metadata.identified_by).toBeUndefined();
  });
});

describe('the generic session-data webhook', () => {
  const post = (body: unknown) => api.post('/api/webhooks/session-data', body, { authorization: `Bearer ${WEBHOOK_TOKEN}` });

  it('matches by transcript at the end of the chain (entries)', async () => {
    const name = freshName();
    const id = await student(`${name} Haddad`);
    now = new Date(now.getTime() + 3_600_000);
    const res = await post({
      platform: 'superinterface', call_id: `si-${crypto.randomUUID()}`, started_at: new Date(now.getTime() - 60_000).toISOString(),
      transcript: [{ speaker: 'assistant', text: 'Hello, who is this?' }, { speaker: 'user', text: `Hi, it's ${name} Haddad` }],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { session_id: string; matched_by: string };
    expect(body.matched_by).toBe('transcript');
    expect(await api.doc(body.session_id)).toMatchObject({ student_id: id, platform_metadata: { identified_by: 'transcript' } });
  });

  it('reads a plain-text transcript too, and suggests when ambiguous', async () => {
    const first = freshName();
    const a = await student(`${first} One`);
    const b = await student(`${first} Two`);
    now = new Date(now.getTime() + 3_600_000);
    const res = await post({
      platform: 'retell', call_id: `rt-${crypto.randomUUID()}`, started_at: new Date(now.getTime() - 60_000).toISOString(),
      transcript: `Agent: Hello!\nUser: this is ${first}`,
    });
    const body = (await res.json()) as { session_id: string; matched_by: string };
    expect(body.matched_by).toBe('unknown');
    expect(await api.doc(body.session_id)).toMatchObject({ student_id: 'unknown', platform_metadata: { suggested_student_ids: [a, b].sort() } });
  });
});

describe('analysis may name the student', () => {
  const KEY = 'sk-test-identify-0123456789abcdef';
  const analysed = () => {
    const deps = makeDeps({ sql, kv, config: testConfig({ WEBHOOK_TOKEN, ANALYSIS_ENABLED: 'true', ANALYSIS_API_KEY: KEY, OPENAI_BASE_URL: fake.baseURL }), now: () => now });
    return { ...client(createApp(deps, allFamilies)), settle: deps.settle };
  };

  it('an unknown call is assigned when the model names exactly one student, and only then', async () => {
    const w = analysed();
    const name = freshName();
    const id = await student(`${name} Castillo`);
    const c = webCall({ startedAt: new Date(now.getTime() + 3_600_000) });
    now = c.at(98);
    // The transcript never introduces anyone; the model heard the name anyway (e.g. spelled out).
    await w.vapi(c.report({ turns: said('can we do fractions today please') }));
    await w.settle(); // the analysis the report started (a default answer without a name)
    const sessionId = (await callSession(c.id)).session_id;
    expect((await api.doc(sessionId)).student_id).toBe('unknown');
    fake.script.push({ kind: 'answer', content: JSON.stringify({ ...VALID_ANALYSIS, student_name: `${name} Castillo` }) });
    const res = await w.post(`/api/sessions/${sessionId}/analysis`, { force: true }, admin);
    expect(res.status).toBe(200);
    expect(await api.doc(sessionId)).toMatchObject({ student_id: id, platform_metadata: { identified_by: 'analysis' } });

    // A known session is never re-assigned by a name the model gives.
    const other = freshName();
    await student(other);
    fake.script.push({ kind: 'answer', content: JSON.stringify({ ...VALID_ANALYSIS, student_name: other }) });
    expect((await w.post(`/api/sessions/${sessionId}/analysis`, { force: true }, admin)).status).toBe(200);
    expect((await api.doc(sessionId)).student_id).toBe(id);
  });

  it('sends student_name as a required-nullable field of the strict schema', async () => {
    const w = analysed();
    const c = await reportOnlyCall(said('hello there'));
    const sessionId = (await callSession(c.id)).session_id;
    const before = fake.requests.length;
    expect((await w.post(`/api/sessions/${sessionId}/analysis`, { force: true }, admin)).status).toBe(200);
    const schema = fake.requests[before]?.body.response_format?.json_schema?.schema as { required: string[]; properties: Record<string, { type: unknown }> };
    expect(schema.required).toContain('student_name');
    expect(schema.properties.student_name?.type).toEqual(['string', 'null']);
  });
});
