/**
 * The analysis card's "Run analysis" button (against a local OpenAI-compatible server), and the
 * dashboard's screenshots for docs/screenshots/ (laptop 1280×800 and phone 390×844; rewritten on
 * every run so they follow the page). The data is a small workshop afternoon posted through the
 * real API: a student who hit errors and then called the voice tutor, a tool-server session in
 * progress, an explicit two-person session and another student with an error.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { describeWithBrowser } from '../helpers/browser.js';
import { browserWorld } from '../helpers/browser-world.js';
import { ADMIN_TOKEN, testConfig, uniqueToken } from '../helpers/deps.js';
import { startFakeOpenAI, VALID_ANALYSIS } from '../helpers/fake-openai.js';

const SERVICE_TOKEN = 'svc';
const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const emma = uniqueToken('ws_emma');

let fake: Awaited<ReturnType<typeof startFakeOpenAI>>;
const world = browserWorld({
  config: async () => {
    fake = await startFakeOpenAI();
    // Analysis only on request, so the button is what creates it.
    return testConfig({ ANALYSIS_ENABLED: 'true', ANALYSIS_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.baseURL, ANALYSIS_TRIGGERS: 'on_request', SERVICE_TOKEN });
  },
  close: async () => {
    await fake?.close();
  },
});

async function api(path: string, body: unknown, token = SERVICE_TOKEN) {
  const res = await fetch(`${world.server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000);

async function seed() {
  const t0 = ago(25);
  const at = (s: number) => new Date(t0.getTime() + s * 1000).toISOString();
  await api('/api/session-log', {
    sessionToken: emma,
    studentEmail: 'emma@example.com',
    studentName: 'Emma Stone',
    events: [
      { eventType: 'navigation', eventData: { from: 1, to: 2, fromStepName: 'Setup', toStepName: 'Install the SDK' }, timestamp: at(0) },
      { eventType: 'action', eventData: { actionName: 'copy-command' }, timestamp: at(40) },
      { eventType: 'api_call', eventData: { endpoint: '/api/chat', method: 'POST', status: 500, success: false }, timestamp: at(95) },
      { eventType: 'error', eventData: { errorType: 'TypeError', errorMessage: "Cannot read properties of undefined (reading 'map')" }, timestamp: at(96) },
      { eventType: 'navigation', eventData: { from: 2, to: 3, fromStepName: 'Install the SDK', toStepName: 'First request' }, timestamp: at(200) },
    ],
  });
  const call = { id: 'call-shots', type: 'webCall', assistantOverrides: { metadata: { sessionId: emma } } };
  await api('/api/webhooks/vapi', {
    message: {
      type: 'end-of-call-report',
      call,
      endedReason: 'customer-ended-call',
      cost: 0.12,
      costBreakdown: { transport: 0, stt: 0.02, llm: 0.03, tts: 0.03, vapi: 0.04, total: 0.12, llmPromptTokens: 1840, llmCompletionTokens: 152, ttsCharacters: 860 },
      startedAt: at(300),
      endedAt: at(540),
      artifact: {
        recordingUrl: 'https://example.com/rec.wav',
        messages: [
          { role: 'user', message: 'Hi, my code crashes with a TypeError.', secondsFromStart: 2 },
          { role: 'bot', message: 'Let us look at it together. What does the error say?', secondsFromStart: 6 },
          { role: 'user', message: 'It cannot read map of undefined.', secondsFromStart: 14 },
          { role: 'bot', message: 'The response has no items yet: check it before calling map.', secondsFromStart: 25 },
        ],
      },
    },
  });
  for (const [i, fn] of ['get-student-context', 'get-next-problem'].entries()) {
    await api('/api/sessions/interactions', { student_id: 'liam_k', function: fn, parameters: { grade: 5 }, data_provided: ['profile'], platform: 'mcp', subject: 'Math', timestamp: ago(2 - i).toISOString() });
  }
  const alice = (await api('/api/sessions', { participant: 'user_alice', platform: 'superinterface', subject: 'Physics', topic: 'Vectors' })).session_id as string;
  await api(`/api/sessions/${alice}/join`, { participant: 'user_bob' });
  await api(`/api/sessions/${alice}/transcript`, { entries: [{ speaker: 'A', text: 'What is a unit vector?' }, { speaker: 'agent', text: 'A vector of length one.' }] });
  await api(`/api/sessions/${alice}/end`, {});
  await api('/api/session-log', {
    sessionToken: uniqueToken('ws_noah'),
    studentEmail: 'noah@example.com',
    events: [
      { eventType: 'error', eventData: { errorType: 'TypeError', errorMessage: 'response.json is not a function' }, timestamp: ago(6).toISOString() },
      { eventType: 'error', eventData: { errorType: 'ReferenceError', errorMessage: 'fetch is not defined' } },
    ],
  });
}

beforeAll(async () => {
  await seed();
  mkdirSync(SHOTS, { recursive: true });
});

const open = (hash: string, viewport = { width: 1280, height: 800 }): Promise<{ context: BrowserContext; page: Page }> => world.open(hash, { viewport });

const go = (page: Page, hash: string) =>
  page.evaluate((h) => {
    location.hash = h;
  }, hash);

describeWithBrowser('dashboard analysis and screenshots', () => {
  it('"Run analysis" runs one and shows the analysis card (summary, outcomes, engagement, next steps)', async () => {
    const { context, page } = await open(`#/session/${emma}`);
    await page.waitForSelector('#analysis-empty');
    const before = fake.requests.length;
    await page.click('#run-analysis');
    await page.waitForSelector('#analysis-summary');
    expect(await page.textContent('#analysis-summary')).toBe(VALID_ANALYSIS.session_summary);
    expect(await page.locator('#analysis-outcomes li').allTextContents()).toEqual(VALID_ANALYSIS.learning_outcomes);
    expect(await page.locator('#analysis-next-steps li').allTextContents()).toEqual(VALID_ANALYSIS.next_steps);
    expect(await page.textContent('#analysis-engagement strong')).toBe('80%');
    expect(fake.requests.length).toBe(before + 1);
    // The run is also an event: the live tail brings it into the timeline.
    await page.waitForSelector('#timeline li[data-type="analysis_completed"]');
    expect(await page.textContent('#run-analysis')).toBe('Run again');
    await context.close();
  });

  it('looks right on a laptop and a phone (docs/screenshots/*.png)', async () => {
    // The session shot shows an analysis card: reuse the one the button made, or make it now.
    await api(`/api/sessions/${emma}/analysis`, {}, ADMIN_TOKEN);
    for (const [device, viewport] of [
      ['desktop', { width: 1280, height: 800 }],
      ['phone', { width: 390, height: 844 }],
    ] as const) {
      const { context, page } = await open('#/sessions', viewport);
      await page.waitForSelector('#active-sessions tr.session-row');
      await page.waitForSelector('#recent-sessions tr.session-row');
      await page.waitForSelector('.stat');
      await page.screenshot({ path: `${SHOTS}sessions-${device}.png`, fullPage: true });

      await go(page, `#/session/${emma}`);
      await page.waitForSelector('#analysis-summary');
      // The call is over: the session is not live (no pulsing indicator over an ended session).
      await page.waitForSelector('.live[data-state="ended"]');
      await page.screenshot({ path: `${SHOTS}session-${device}.png`, fullPage: true });

      await go(page, '#/troubleshoot');
      await page.waitForSelector('#top-errors-table');
      await page.screenshot({ path: `${SHOTS}troubleshoot-${device}.png`, fullPage: true });

      // Found by part of her name, with her page's events below.
      await go(page, `#/search?q=stone&sessionToken=${emma}`);
      await page.waitForSelector('#session-matches tr.session-row');
      await page.waitForSelector('#search-results tr.event-row');
      await page.screenshot({ path: `${SHOTS}search-${device}.png`, fullPage: true });
      await context.close();
    }
  });
});
