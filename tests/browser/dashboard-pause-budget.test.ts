/**
 * The session view shows a paused session as `paused` (its own badge) and an analysis deferred by
 * the daily token budget with its reason, from the real API on loopback and the fake OpenAI server
 * reporting known usage.
 */
import { expect, it } from 'vitest';
import { describeWithBrowser } from '../helpers/browser.js';
import { browserWorld } from '../helpers/browser-world.js';
import { testConfig } from '../helpers/deps.js';
import { startFakeOpenAI } from '../helpers/fake-openai.js';

const SERVICE_TOKEN = 'svc';
let fake: Awaited<ReturnType<typeof startFakeOpenAI>>;
const world = browserWorld({
  serviceToken: SERVICE_TOKEN,
  config: async () => {
    fake = await startFakeOpenAI();
    return testConfig({
      SERVICE_TOKEN,
      ANALYSIS_ENABLED: 'true',
      ANALYSIS_API_KEY: 'sk-browser-budget-0123456789',
      OPENAI_BASE_URL: fake.baseURL,
      ANALYSIS_DAILY_TOKEN_BUDGET: '3000',
    });
  },
  close: async () => {
    await fake?.close();
  },
});
const post = (path: string, body: unknown = {}) => world.post(path, body);

async function endedSession(student: string): Promise<string> {
  const s = await post('/api/sessions', { participant: 'tutor_bot', student_id: student, max_participants: 1 });
  const id = s.session_id as string;
  await post(`/api/sessions/${id}/transcript`, { speaker: 'student', text: 'Is 2/7 + 3/7 = 5/7?' });
  await post(`/api/sessions/${id}/end`);
  await world.server.deps.settle();
  return id;
}

describeWithBrowser('pause and the token budget in the session view', () => {
  it('a paused session shows the paused badge; a deferred analysis shows the budget reason', async () => {
    fake.script.push({ kind: 'answer', usage: { prompt_tokens: 1800, completion_tokens: 250 } });
    await endedSession('stu_first');
    const deferred = await endedSession('stu_second'); // 2,050 of 3,000 used: this one does not fit
    const paused = await post('/api/sessions', { participant: 'tutor_bot', student_id: 'stu_paused', max_participants: 1 });
    await post(`/api/sessions/${paused.session_id as string}/pause`);

    const { context, page } = await world.open(`#/session/${deferred}`, { csp: false });
    await page.waitForSelector('#analysis-deferred');
    const text = await page.textContent('#analysis-deferred');
    expect(text).toContain('daily token budget reached: 2050 of 3000 tokens used on');
    expect(text).toContain('it runs after');

    await page.goto(`${world.server.url}/dashboard/#/session/${paused.session_id as string}`);
    await page.waitForSelector('.badge.status-paused');
    expect(await page.textContent('.badge.status-paused')).toBe('paused');
    await context.close(); // afterEach: no page error
  });
});
