/**
 * The session view shows a paused session as `paused` (its own badge) and an analysis deferred by
 * the daily token budget with its reason, from the real API on loopback and the fake OpenAI server
 * reporting known usage.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Sql } from '../../lib/storage/sql.js';
import { describeWithBrowser, launchChromium } from '../helpers/browser.js';
import { ADMIN_TOKEN, memoryPglite, testConfig } from '../helpers/deps.js';
import { startFakeOpenAI } from '../helpers/fake-openai.js';
import { startTestServer } from '../helpers/http-server.js';

const SERVICE_TOKEN = 'svc';
let sql: Sql;
let fake: Awaited<ReturnType<typeof startFakeOpenAI>>;
let server: Awaited<ReturnType<typeof startTestServer>>;
let browser: Browser;

async function post(path: string, body: unknown = {}) {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${SERVICE_TOKEN}` },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

async function endedSession(student: string): Promise<string> {
  const s = await post('/api/sessions', { participant: 'tutor_bot', student_id: student, max_participants: 1 });
  const id = s.session_id as string;
  await post(`/api/sessions/${id}/transcript`, { speaker: 'student', text: 'Is 2/7 + 3/7 = 5/7?' });
  await post(`/api/sessions/${id}/end`);
  await server.deps.settle();
  return id;
}

beforeAll(async () => {
  sql = await memoryPglite();
  fake = await startFakeOpenAI();
  const config = testConfig({
    SERVICE_TOKEN,
    ANALYSIS_ENABLED: 'true',
    ANALYSIS_API_KEY: 'sk-browser-budget-0123456789',
    OPENAI_BASE_URL: fake.baseURL,
    ANALYSIS_DAILY_TOKEN_BUDGET: '3000',
  });
  server = await startTestServer({ sql, config });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.deps.settle();
  await server?.stop();
  await fake?.close();
  await sql?.close();
});

describeWithBrowser('pause and the token budget in the session view', () => {
  it('a paused session shows the paused badge; a deferred analysis shows the budget reason', async () => {
    fake.script.push({ kind: 'answer', usage: { prompt_tokens: 1800, completion_tokens: 250 } });
    await endedSession('stu_first');
    const deferred = await endedSession('stu_second'); // 2,050 of 3,000 used: this one does not fit
    const paused = await post('/api/sessions', { participant: 'tutor_bot', student_id: 'stu_paused', max_participants: 1 });
    await post(`/api/sessions/${paused.session_id as string}/pause`);

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addInitScript((t) => sessionStorage.setItem('sessionlog.adminToken', t), ADMIN_TOKEN);
    const errors: string[] = [];
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));

    await page.goto(`${server.url}/dashboard/#/session/${deferred}`);
    await page.waitForSelector('#analysis-deferred');
    const text = await page.textContent('#analysis-deferred');
    expect(text).toContain('daily token budget reached: 2050 of 3000 tokens used on');
    expect(text).toContain('it runs after');

    await page.goto(`${server.url}/dashboard/#/session/${paused.session_id as string}`);
    await page.waitForSelector('.badge.status-paused');
    expect(await page.textContent('.badge.status-paused')).toBe('paused');
    expect(errors).toEqual([]);
    await context.close();
  });
});
