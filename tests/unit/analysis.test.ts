/**
 * Session analysis against a local OpenAI-compatible server with the real `openai` client: the
 * prompt, the stored result, retries, failures, timeouts, disabled config and the sweep retry.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_TEMPLATES } from '../../lib/analysis/templates.js';
import { createApp } from '../../lib/app.js';
import { parseConfig } from '../../lib/config.js';
import { parseConfigFile } from '../../lib/config-file.js';
import { allFamilies } from '../../lib/families.js';
import { SessionDocument } from '../../lib/schemas/session.js';
import type { Sql } from '../../lib/storage/sql.js';
import { ADMIN_TOKEN, admin, makeDeps, memoryPglite, type TestDeps } from '../helpers/deps.js';
import { startFakeOpenAI, VALID_ANALYSIS } from '../helpers/fake-openai.js';
import { AnalysisList as ListResponse, AnalysisRun as RunResponse } from '../../lib/schemas/responses.js';

const KEY = 'sk-test-secret-key-0123456789';
const SERVICE = { authorization: 'Bearer svc-token-123' };

let sql: Sql;
let fake: Awaited<ReturnType<typeof startFakeOpenAI>>;
let now = new Date('2026-06-01T10:00:00Z');

beforeAll(async () => {
  sql = await memoryPglite();
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
  await sql.close();
});
beforeEach(() => {
  fake.script.length = 0;
  now = new Date(now.getTime() + 3_600_000); // every test starts after the previous one's sessions timed out
});

function world(env: Record<string, string> = {}, file?: unknown, db: Sql = sql) {
  const config = parseConfig(
    {
      ADMIN_TOKEN,
      SERVICE_TOKEN: 'svc-token-123',
      CRON_SECRET: 'cron-secret-123',
      DATA_DIR: '/tmp/sessionlog-test',
      ANALYSIS_ENABLED: 'true',
      ANALYSIS_API_KEY: KEY,
      OPENAI_BASE_URL: fake.baseURL,
      ANALYSIS_MODEL: 'tutor-model-1',
      ...env,
    },
    'node',
    file === undefined ? undefined : parseConfigFile(file),
  );
  const deps: TestDeps = makeDeps({ sql: db, config, now: () => now });
  const app = createApp(deps, allFamilies);
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = admin) =>
    app.request(path, { method, headers: { ...headers, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  /** A finished two-person session with a transcript, an interaction and a web error. */
  const session = async (opts: { end?: boolean } = {}) => {
    const student = `stu_${crypto.randomUUID().slice(0, 8)}`;
    const res = await call('POST', '/api/sessions', { participant: 'tutor_bot', student_id: student, max_participants: 1, subject: 'Math', topic: 'Fractions' }, SERVICE);
    const { session_id, write_token } = (await res.json()) as { session_id: string; write_token: string };
    await call('POST', `/api/sessions/${session_id}/transcript`, { entries: [{ speaker: 'student', text: 'Is it 2/7 plus 3/7 equals 5/14?' }, { speaker: 'tutor', text: 'Look at the denominators again.' }] }, SERVICE);
    await call('POST', '/api/sessions/interactions', { student_id: student, function: 'get-fraction-hint', data_provided: ['hint'], subjects_accessed: ['mathematics'] }, SERVICE);
    await app.request('/api/session-log', { method: 'POST', body: JSON.stringify({ sessionToken: session_id, writeToken: write_token, eventType: 'error', eventData: { errorType: 'SyntaxError', errorMessage: 'Unexpected token in fraction input' } }) });
    if (opts.end !== false) await call('POST', `/api/sessions/${session_id}/end`, {}, SERVICE);
    return session_id;
  };
  return { deps, app, call, session };
}

const userPrompt = (i: number) => fake.requests[i]?.body.messages.find((m) => m.role === 'user')?.content ?? '';

describe('on session end', () => {
  it('analyses the session after the response and stores the result, the event and the document field', async () => {
    const w = world();
    const before = fake.requests.length;
    const id = await w.session();
    await w.deps.settle();
    expect(fake.requests.length).toBe(before + 1);
    const req = fake.requests[before]!;
    expect(req.path).toBe('/v1/chat/completions');
    expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(req.body.model).toBe('tutor-model-1');
    expect(req.body.response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'session_analysis', strict: true } });
    const prompt = userPrompt(before);
    expect(prompt).toContain('Is it 2/7 plus 3/7 equals 5/14?'); // the transcript
    expect(prompt).toContain('Summarise this tutoring session'); // the template text
    expect(prompt).toContain('get-fraction-hint');
    expect(prompt).toContain('Unexpected token in fraction input');

    const list = ListResponse.parse(await (await w.call('GET', `/api/sessions/${id}/analysis`)).json());
    expect(list).toMatchObject({ enabled: true, reason: null });
    expect(list.analyses).toHaveLength(1);
    expect(list.analyses[0]).toMatchObject({
      status: 'completed',
      template: 'session_summary',
      model: 'tutor-model-1',
      trigger: 'session_complete',
      result: VALID_ANALYSIS,
      input_tokens: 321,
      output_tokens: 54,
      attempts: 1,
      error: null,
    });
    expect(list.analyses[0]?.template_hash).toMatch(/^[0-9a-f]{64}$/);
    const doc = SessionDocument.parse(await (await w.call('GET', `/api/sessions/${id}`)).json());
    expect(doc.analysis).toMatchObject({ template: 'session_summary', result: { engagement_score: 0.8 } });
    const timeline = (await (await w.call('GET', `/api/sessions/${id}/events`)).json()) as { events: Array<{ event_type: string }> };
    expect(timeline.events.at(-1)?.event_type).toBe('analysis_completed');
  });

  it('does nothing when analysis is disabled, and answers 503 on request', async () => {
    const configs: Array<Record<string, string>> = [{ ANALYSIS_ENABLED: 'false' }, { ANALYSIS_API_KEY: '', OPENAI_API_KEY: '' }];
    for (const env of configs) {
      const w = world(env);
      const before = fake.requests.length;
      const id = await w.session();
      await w.deps.settle();
      expect(fake.requests.length).toBe(before);
      const res = await w.call('POST', `/api/sessions/${id}/analysis`, {});
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(((await res.json()) as { detail: string }).detail).toMatch(/ANALYSIS_ENABLED|API key/);
      // The list says so up front (the dashboard disables its button with the reason).
      const list = ListResponse.parse(await (await w.call('GET', `/api/sessions/${id}/analysis`)).json());
      expect(list.enabled).toBe(false);
      expect(list.reason).toMatch(/ANALYSIS_ENABLED|API key/);
    }
  });
});

describe('on request', () => {
  it('runs, reuses the stored result unless forced, and refuses an active session unless forced', async () => {
    const w = world({ ANALYSIS_TRIGGERS: 'on_request' });
    const active = await w.session({ end: false });
    expect((await w.call('POST', `/api/sessions/${active}/analysis`, {})).status).toBe(409);
    const forced = RunResponse.parse(await (await w.call('POST', `/api/sessions/${active}/analysis`, { force: true })).json());
    expect(forced.analysis.status).toBe('completed');

    const id = await w.session();
    await w.deps.settle();
    const before = fake.requests.length;
    const first = RunResponse.parse(await (await w.call('POST', `/api/sessions/${id}/analysis`, { template: 'learning_insights' })).json());
    expect(first).toMatchObject({ reused: false, analysis: { template: 'learning_insights', trigger: 'on_request', status: 'completed' } });
    expect(userPrompt(before)).toContain('Identify the learning insights');
    const again = RunResponse.parse(await (await w.call('POST', `/api/sessions/${id}/analysis`, { template: 'learning_insights' })).json());
    expect(again).toMatchObject({ reused: true, analysis: { id: first.analysis.id } });
    expect(fake.requests.length).toBe(before + 1);
    const rerun = RunResponse.parse(await (await w.call('POST', `/api/sessions/${id}/analysis`, { template: 'learning_insights', force: true })).json());
    expect(rerun.reused).toBe(false);
    expect(rerun.analysis.id).not.toBe(first.analysis.id);
    expect((await w.call('POST', '/api/sessions/no_such_session/analysis', {})).status).toBe(404);
    expect((await w.call('POST', `/api/sessions/${id}/analysis`, { template: 'poem' })).status).toBe(400);
    expect((await w.call('POST', `/api/sessions/${id}/analysis`, {}, SERVICE)).status).toBe(403); // known token, wrong role
  });

  it('runs at most one analysis per session and template at a time', async () => {
    const w = world({ ANALYSIS_TRIGGERS: 'on_request' });
    const id = await w.session();
    fake.script.push({ kind: 'delay', ms: 300 });
    const [a, b] = await Promise.all([
      w.call('POST', `/api/sessions/${id}/analysis`, { force: true }),
      new Promise((r) => setTimeout(r, 50)).then(() => w.call('POST', `/api/sessions/${id}/analysis`, { force: true })),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
  });

  it('retries a 500 and succeeds; records a malformed answer as failed without touching the session', async () => {
    const w = world({ ANALYSIS_TRIGGERS: 'on_request' });
    const id = await w.session();
    const docBefore = SessionDocument.parse(await (await w.call('GET', `/api/sessions/${id}`)).json());
    const before = fake.requests.length;
    fake.script.push({ kind: 'status', status: 500 });
    const ok = RunResponse.parse(await (await w.call('POST', `/api/sessions/${id}/analysis`, {})).json());
    expect(ok.analysis.status).toBe('completed');
    expect(fake.requests.length).toBe(before + 2);

    fake.script.push({ kind: 'answer', content: '{"session_summary": "half an obj' });
    const bad = RunResponse.parse(await (await w.call('POST', `/api/sessions/${id}/analysis`, { force: true, template: 'progress_update' })).json());
    expect(bad.analysis).toMatchObject({ status: 'failed', result: null, attempts: 1 });
    expect(bad.analysis.error).toBeTruthy();
    fake.script.push({ kind: 'answer', content: JSON.stringify({ ...VALID_ANALYSIS, engagement_score: 7 }) });
    const outOfRange = RunResponse.parse(await (await w.call('POST', `/api/sessions/${id}/analysis`, { force: true, template: 'progress_update' })).json());
    expect(outOfRange.analysis.status).toBe('failed');
    const docAfter = SessionDocument.parse(await (await w.call('GET', `/api/sessions/${id}`)).json());
    // Only the timeline grew (analysis events); the session's own data is untouched.
    expect({ ...docAfter, analysis: null, event_count: 0 }).toEqual({ ...docBefore, analysis: null, event_count: 0 });
  });

  it('records a timeout as failed, and never reveals the API key', async () => {
    const w = world({ ANALYSIS_TRIGGERS: 'on_request', ANALYSIS_TIMEOUT_MS: '200' });
    const id = await w.session();
    fake.script.push({ kind: 'delay', ms: 1500 }, { kind: 'delay', ms: 1500 }, { kind: 'delay', ms: 1500 });
    const res = await w.call('POST', `/api/sessions/${id}/analysis`, {});
    const body = await res.text();
    expect(RunResponse.parse(JSON.parse(body)).analysis).toMatchObject({ status: 'failed' });
    expect(body).toMatch(/time/i);
    fake.script.length = 0;
    fake.script.push({ kind: 'status', status: 401, body: { error: { message: `Incorrect API key provided: ${KEY}`, type: 'invalid_request_error' } } });
    const leak = await (await w.call('POST', `/api/sessions/${id}/analysis`, { force: true })).text();
    expect(leak).not.toContain(KEY);
    expect(leak).toContain('[redacted]');
  });
});

describe('the sweep retries failed analyses with backoff', () => {
  // Its own database: the sweep acts on every session and failed analysis it finds.
  let own: Sql;
  beforeAll(async () => {
    own = await memoryPglite();
  });
  afterAll(() => own.close());

  it('retries after the backoff and completes', async () => {
    const w = world({}, undefined, own);
    fake.script.push({ kind: 'answer', content: 'not json at all' });
    const id = await w.session();
    await w.deps.settle();
    const failed = ListResponse.parse(await (await w.call('GET', `/api/sessions/${id}/analysis`)).json()).analyses[0];
    expect(failed).toMatchObject({ status: 'failed', attempts: 1 });
    const sweep = (headers = { authorization: 'Bearer cron-secret-123' }) => w.call('POST', '/api/cron/sweep', undefined, headers);
    await sweep();
    await w.deps.settle();
    expect(ListResponse.parse(await (await w.call('GET', `/api/sessions/${id}/analysis`)).json()).analyses[0]?.status).toBe('failed'); // backoff not over
    now = new Date(now.getTime() + 61_000);
    await sweep();
    await w.deps.settle();
    const after = ListResponse.parse(await (await w.call('GET', `/api/sessions/${id}/analysis`)).json()).analyses;
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ status: 'completed', attempts: 2, result: VALID_ANALYSIS });
  });
});

describe('configuration', () => {
  it('takes templates from the config file, the environment overriding the file', async () => {
    const w = world({ ANALYSIS_MODEL: 'env-model' }, { analysis: { model: 'file-model', prompts: { session_summary: 'CUSTOM TEMPLATE for {{student}}:\n{{transcript}}' } } });
    const before = fake.requests.length;
    await w.session();
    await w.deps.settle();
    expect(fake.requests[before]?.body.model).toBe('env-model');
    expect(userPrompt(before)).toMatch(/^CUSTOM TEMPLATE for stu_/);
    expect(userPrompt(before)).toContain('Look at the denominators again.');
  });

  it('rejects a config file with bad keys, naming them', () => {
    expect(() => parseConfigFile({ analysis: { promts: {} } })).toThrow(/analysis.*promts/);
    expect(() => parseConfigFile({ analysis: { prompts: { session_summary: 'Hi {{studnet}}' } } })).toThrow(/analysis\.prompts\.session_summary.*studnet/);
    expect(() => parseConfigFile({ session_tracking: { timeout_minutes: 'ten' } })).toThrow(/session_tracking\.timeout_minutes/);
    expect(parseConfig({ ADMIN_TOKEN }, 'node', parseConfigFile({ session_tracking: { timeout_minutes: 2.5 } })).sessionTimeoutMs).toBe(150_000);
    expect(parseConfig({ ADMIN_TOKEN, SESSION_TIMEOUT_MINUTES: '4' }, 'node', parseConfigFile({ session_tracking: { timeout_minutes: 2.5 } })).sessionTimeoutMs).toBe(240_000);
  });

  it('trims a long transcript from the middle to fit the token budget, and says so', async () => {
    const w = world({ ANALYSIS_MAX_INPUT_TOKENS: '2000' });
    const student = `stu_${crypto.randomUUID().slice(0, 8)}`;
    const res = await w.call('POST', '/api/sessions', { participant: 'p', student_id: student, max_participants: 1 }, SERVICE);
    const { session_id } = (await res.json()) as { session_id: string };
    const entries = Array.from({ length: 200 }, (_, i) => ({ speaker: 'student', text: `line ${i} ${'word '.repeat(20)}` }));
    await w.call('POST', `/api/sessions/${session_id}/transcript`, { entries }, SERVICE);
    const before = fake.requests.length;
    await w.call('POST', `/api/sessions/${session_id}/end`, {}, SERVICE);
    await w.deps.settle();
    const prompt = userPrompt(before);
    expect(prompt).toContain('line 0 ');
    expect(prompt).toContain('line 199 ');
    expect(prompt).not.toContain('line 100 ');
    expect(prompt).toMatch(/characters omitted from the middle/);
    expect(prompt.length / 4).toBeLessThan(2000);
    expect(DEFAULT_TEMPLATES.session_summary).toContain('{{transcript}}');
  });
});

describe('a session that went on after its analysis', () => {
  // Its own database: the sweep acts on every session it finds.
  let own: Sql;
  beforeAll(async () => {
    own = await memoryPglite();
  });
  afterAll(() => own.close());

  it('is analysed again when it ends again (a page back after the idle sweep); a repeated end without new activity reuses', async () => {
    const w = world({}, undefined, own);
    const token = `ws_${crypto.randomUUID().slice(0, 8)}`;
    const post = (text: string) =>
      w.app.request('/api/session-log', { method: 'POST', body: JSON.stringify({ sessionToken: token, eventType: 'error', eventData: { errorType: 'TypeError', errorMessage: text } }) });
    const sweep = async () => {
      expect((await w.call('POST', '/api/cron/sweep', undefined, { authorization: 'Bearer cron-secret-123' })).status).toBe(200);
      await w.deps.settle();
    };
    const before = fake.requests.length;
    expect((await post('first sitting: numerator is undefined')).status).toBe(200);
    now = new Date(now.getTime() + 11 * 60_000);
    await sweep();
    expect(fake.requests.length).toBe(before + 1);

    // Nothing new: another sweep (or a repeated end) runs nothing.
    now = new Date(now.getTime() + 60_000);
    await sweep();
    expect(fake.requests.length).toBe(before + 1);

    // The student comes back to the same page: the session reopens, then times out again.
    expect((await post('second sitting: denominator is zero')).status).toBe(200);
    now = new Date(now.getTime() + 11 * 60_000);
    await sweep();
    expect(fake.requests.length).toBe(before + 2);
    expect(userPrompt(before + 1)).toContain('second sitting: denominator is zero');
    const list = ListResponse.parse(await (await w.call('GET', `/api/sessions/${token}/analysis`)).json());
    expect(list.analyses.filter((a) => a.status === 'completed')).toHaveLength(2);
  });
});
