/**
 * The daily token budget (ANALYSIS_DAILY_TOKEN_BUDGET) against the fake OpenAI server reporting
 * known usage: usage recorded per UTC day, analyses past the budget deferred with the reason and
 * run by the sweep on the next UTC day, reservations bounding concurrent runs, and
 * GET /api/analysis/usage.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { estimateTokens, SYSTEM_PROMPT } from '../../lib/analysis/prompt.js';
import { OUTPUT_ALLOWANCE } from '../../lib/analysis/budget.js';
import { createApp } from '../../lib/app.js';
import { parseConfig } from '../../lib/config.js';
import { allFamilies } from '../../lib/families.js';
import { AnalysisUsage } from '../../lib/schemas/analysis-usage.js';
import { AnalysisList, AnalysisRun } from '../../lib/schemas/responses.js';
import { SessionDocument } from '../../lib/schemas/session.js';
import type { Sql } from '../../lib/storage/sql.js';
import { ADMIN_TOKEN, admin, makeDeps, memoryPglite } from '../helpers/deps.js';
import { startFakeOpenAI } from '../helpers/fake-openai.js';
import { expectProblem } from '../helpers/problem.js';

const SERVICE = { authorization: 'Bearer svc-token-123' };
let sql: Sql;
let fake: Awaited<ReturnType<typeof startFakeOpenAI>>;
let now = new Date('2026-07-01T10:00:00Z');

beforeAll(async () => {
  sql = await memoryPglite();
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
  await sql.close();
});
// Usage is per UTC day: every test starts on a day of its own, at 10:00.
beforeEach(() => {
  fake.script.length = 0;
  now = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 3, 10));
});

function world(env: Record<string, string> = {}) {
  const config = parseConfig({
    ADMIN_TOKEN,
    SERVICE_TOKEN: 'svc-token-123',
    CRON_SECRET: 'cron-secret-123',
    DATA_DIR: '/tmp/sessionlog-test',
    RATE_LIMITS: 'off',
    TRAFFIC_SWEEP_SECONDS: '0',
    ANALYSIS_ENABLED: 'true',
    ANALYSIS_API_KEY: 'sk-test-budget-0123456789',
    OPENAI_BASE_URL: fake.baseURL,
    ...env,
  });
  const deps = makeDeps({ sql, config, now: () => now });
  const app = createApp(deps, allFamilies);
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = admin) =>
    app.request(path, { method, headers: { ...headers, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  /** An ended session with a short transcript (its analysis runs on end, after the response). */
  const session = async (end = true) => {
    const res = await call('POST', '/api/sessions', { participant: 'tutor_bot', student_id: `stu_${crypto.randomUUID().slice(0, 8)}`, max_participants: 1 }, SERVICE);
    const { session_id } = SessionDocument.parse(await res.json());
    await call('POST', `/api/sessions/${session_id}/transcript`, { speaker: 'student', text: 'Is 2/7 + 3/7 = 5/14?' }, SERVICE);
    if (end) await call('POST', `/api/sessions/${session_id}/end`, {}, SERVICE);
    return session_id;
  };
  const usage = async (days = 3) => AnalysisUsage.parse(await (await call('GET', `/api/analysis/usage?days=${days}`)).json());
  const analyses = async (id: string) => AnalysisList.parse(await (await call('GET', `/api/sessions/${id}/analysis`)).json()).analyses;
  const sweep = () => call('POST', '/api/cron/sweep', undefined, { authorization: 'Bearer cron-secret-123' });
  return { deps, call, session, usage, analyses, sweep };
}

/** The estimate a run reserved for request `i` of the fake (same formula as the run). */
const estimateOf = (i: number) => estimateTokens(SYSTEM_PROMPT + (fake.requests[i]?.body.messages.find((m) => m.role === 'user')?.content ?? '')) + OUTPUT_ALLOWANCE;

describe('usage per UTC day', () => {
  it('records the usage the provider reports, per day, and shows it with the remaining budget', async () => {
    const w = world({ ANALYSIS_DAILY_TOKEN_BUDGET: '100000' });
    fake.script.push({ kind: 'answer', usage: { prompt_tokens: 1000, completion_tokens: 200 } }, { kind: 'answer', usage: { prompt_tokens: 700, completion_tokens: 100 } });
    await w.session();
    await w.session();
    await w.deps.settle();
    const u = await w.usage(3);
    const today = now.toISOString().slice(0, 10);
    expect(u).toMatchObject({ daily_token_budget: 100_000, today, remaining_today: 100_000 - 2000 });
    expect(u.resets_at).toBe(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)).toISOString());
    expect(u.days).toHaveLength(3);
    expect(u.days[0]).toEqual({ day: today, input_tokens: 1700, output_tokens: 300, total_tokens: 2000, reserved_tokens: 0, analyses: 2, deferred: 0 });
    expect(u.days[1]).toMatchObject({ total_tokens: 0, analyses: 0 }); // yesterday: listed, empty
  });

  it('records usage without a budget too (remaining is null)', async () => {
    const w = world();
    fake.script.push({ kind: 'answer', usage: { prompt_tokens: 400, completion_tokens: 40 } });
    await w.session();
    await w.deps.settle();
    const u = await w.usage(1);
    expect(u).toMatchObject({ daily_token_budget: null, remaining_today: null });
    expect(u.days[0]).toMatchObject({ total_tokens: 440, analyses: 1 });
  });

  it('validates days and needs a token', async () => {
    const w = world();
    await expectProblem(await w.call('GET', '/api/analysis/usage?days=0'), 400);
    await expectProblem(await w.call('GET', '/api/analysis/usage?days=91'), 400);
    await expectProblem(await w.call('GET', '/api/analysis/usage', undefined, {}), 401);
  });
});

describe('past the budget', () => {
  it('an analysis waits for the next UTC day with the reason on the session, and the sweep runs it then', async () => {
    const w = world({ ANALYSIS_DAILY_TOKEN_BUDGET: '6000' });
    // The first analysis spends 5,000 of 6,000: the second's estimate no longer fits.
    fake.script.push({ kind: 'answer', usage: { prompt_tokens: 4500, completion_tokens: 500 } });
    await w.session();
    await w.deps.settle();
    const before = fake.requests.length;
    const id = await w.session();
    await w.deps.settle();
    expect(fake.requests.length).toBe(before); // the model was not called
    const [deferred] = await w.analyses(id);
    const midnight = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)).toISOString();
    expect(deferred).toMatchObject({ status: 'deferred', attempts: 0, next_attempt_at: midnight, result: null });
    expect(deferred?.error).toMatch(/^daily token budget reached: 5000 of 6000 tokens used on \d{4}-\d\d-\d\d; it runs after /);
    expect((await w.usage(1)).days[0]).toMatchObject({ total_tokens: 5000, analyses: 1, deferred: 1 });
    expect((await w.usage(1)).remaining_today).toBe(1000);

    // A run on request the same day is deferred the same way (and answers what happened).
    const run = AnalysisRun.parse(await (await w.call('POST', `/api/sessions/${id}/analysis`, { force: true })).json());
    expect(run.analysis).toMatchObject({ status: 'deferred', next_attempt_at: midnight });
    expect(fake.requests.length).toBe(before);

    await w.sweep(); // same day: nothing runs
    await w.deps.settle();
    expect(fake.requests.length).toBe(before);

    now = new Date(Date.parse(midnight) + 5 * 60_000);
    fake.script.push({ kind: 'answer', usage: { prompt_tokens: 800, completion_tokens: 90 } });
    await w.sweep();
    await w.deps.settle();
    expect(fake.requests.length).toBe(before + 1); // one run: the older deferral stopped retrying
    const after = await w.analyses(id);
    expect(after.filter((a) => a.status === 'completed')).toHaveLength(1);
    expect(after.filter((a) => a.next_attempt_at !== null)).toHaveLength(0);
    expect((await w.usage(2)).days.map((d) => d.total_tokens)).toEqual([890, 5000]);
    const doc = SessionDocument.parse(await (await w.call('GET', `/api/sessions/${id}`)).json());
    expect(doc.analysis).not.toBeNull();
  });

  it('an analysis whose estimate exceeds a whole day fails for good instead of waiting forever', async () => {
    const w = world({ ANALYSIS_DAILY_TOKEN_BUDGET: '1000' });
    const before = fake.requests.length;
    const id = await w.session();
    await w.deps.settle();
    expect(fake.requests.length).toBe(before);
    const [a] = await w.analyses(id);
    expect(a).toMatchObject({ status: 'failed', next_attempt_at: null });
    expect(a?.error).toContain('more than the whole daily token budget');
  });

  it('a run that died mid-flight has its reservation released by the sweep', async () => {
    const w = world({ ANALYSIS_DAILY_TOKEN_BUDGET: '10000' });
    const id = await w.session(false);
    const day = now.toISOString().slice(0, 10);
    // What a run leaves behind when its instance dies between reserving and settling.
    const [row] = await sql.query<{ id: string }>(
      `INSERT INTO analyses (session_id, template, template_hash, model, trigger, status, reserved_tokens, reserved_day, created_at, updated_at)
       VALUES ($1, 'session_summary', 'h', 'm', 'on_request', 'pending', 4000, $2::date, $3, $3) RETURNING id::text AS id`,
      [id, day, now.toISOString()],
    );
    await sql.query('INSERT INTO analysis_usage (day, reserved_tokens) VALUES ($1::date, 4000)', [day]);
    expect((await w.usage(1)).remaining_today).toBe(6000);
    now = new Date(now.getTime() + 16 * 60_000);
    fake.script.push({ kind: 'answer', usage: { prompt_tokens: 500, completion_tokens: 60 } });
    await w.sweep();
    await w.deps.settle();
    const after = (await w.analyses(id)).find((a) => a.id === row?.id);
    expect(after).toMatchObject({ status: 'completed', attempts: 2 }); // marked interrupted, then retried by the same sweep
    expect((await w.usage(1)).days[0]).toMatchObject({ reserved_tokens: 0, total_tokens: 560 });
  });

  it('two due retries of the same analysis are retried one at a time, and do not hold up other sessions', async () => {
    const w = world();
    const [a, b] = [await w.session(false), await w.session(false)];
    const past = new Date(now.getTime() - 60_000).toISOString();
    // An on-request run and the on-end run of session a both failed; session b has one failed run.
    for (const [sid, trigger] of [[a, 'on_request'], [a, 'on_complete'], [b, 'on_complete']] as const) {
      await sql.query(
        `INSERT INTO analyses (session_id, template, template_hash, model, trigger, status, error, attempts, next_attempt_at, created_at, updated_at)
         VALUES ($1, 'session_summary', 'h', 'm', $2, 'failed', 'model timed out', 1, $3, $3, $3)`,
        [sid, trigger, past],
      );
    }
    fake.script.push({ kind: 'answer', usage: { prompt_tokens: 500, completion_tokens: 60 } }, { kind: 'answer', usage: { prompt_tokens: 500, completion_tokens: 60 } });
    await w.sweep();
    await w.deps.settle();
    const ofA = await w.analyses(a);
    expect(ofA.filter((x) => x.status === 'completed')).toHaveLength(1);
    // The other run of the same analysis stops retrying once one succeeded: paid for once.
    expect(ofA.find((x) => x.status === 'failed')).toMatchObject({ next_attempt_at: null });
    expect((await w.analyses(b)).map((x) => x.status)).toEqual(['completed']);
  });

  it('concurrent runs reserve before calling: no more start than the budget holds', async () => {
    const w = world({ ANALYSIS_DAILY_TOKEN_BUDGET: '10000' });
    const ids = [];
    for (let i = 0; i < 8; i++) ids.push(await w.session(false));
    const before = fake.requests.length;
    // Every call is held 300 ms, so all eight reserve before any settles.
    for (let i = 0; i < 8; i++) fake.script.push({ kind: 'delay', ms: 300 });
    const runs = await Promise.all(ids.map(async (id) => AnalysisRun.parse(await (await w.call('POST', `/api/sessions/${id}/analysis`, { force: true })).json())));
    const called = fake.requests.length - before;
    const estimates = Array.from({ length: called }, (_, i) => estimateOf(before + i));
    expect(called).toBeGreaterThanOrEqual(1);
    // Reservations only: the calls that started fit the budget together.
    expect(estimates.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(10_000);
    expect(runs.filter((r) => r.analysis.status === 'completed')).toHaveLength(called);
    expect(runs.filter((r) => r.analysis.status === 'deferred')).toHaveLength(8 - called);
    // One more estimate would not have fitted: the budget, not something else, stopped them.
    expect(estimates.reduce((a, b) => a + b, 0) + Math.min(...estimates)).toBeGreaterThan(10_000);
    const day = (await w.usage(1)).days[0];
    // Settled to the fake's reported usage (321 + 54 per call); nothing left reserved.
    expect(day).toMatchObject({ total_tokens: called * 375, reserved_tokens: 0, analyses: called, deferred: 8 - called });
  });
});
