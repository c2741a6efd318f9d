/**
 * An unidentified call whose caller named a first name two students share (issue 13): the session
 * page offers both, and one click assigns the session (POST /api/sessions/{id}/assign).
 */
import { beforeAll, expect, it } from 'vitest';
import { describeWithBrowser } from '../helpers/browser.js';
import { browserWorld } from '../helpers/browser-world.js';
import { ADMIN_TOKEN, testConfig } from '../helpers/deps.js';

const WEBHOOK_TOKEN = 'webhook-token-0123456789abcdef-0123456789';
const world = browserWorld({ config: testConfig({ WEBHOOK_TOKEN }) });
let sessionId = '';

async function api(method: string, path: string, body: unknown, token: string) {
  const res = await fetch(`${world.server.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

beforeAll(async () => {
  await api('PUT', '/api/students/emma_stone', { name: 'Emma Stone' }, ADMIN_TOKEN);
  await api('PUT', '/api/students/emma_watson', { name: 'Emma Watson' }, ADMIN_TOKEN);
  const started = new Date(Date.now() - 10 * 60_000);
  const r = await api(
    'POST',
    '/api/webhooks/session-data',
    {
      platform: 'retell', call_id: 'rt-suggest-1', started_at: started.toISOString(), ended_at: new Date(started.getTime() + 300_000).toISOString(),
      transcript: [{ speaker: 'agent', text: 'Hello, who is this?' }, { speaker: 'user', text: 'Hi, this is Emma.' }],
    },
    WEBHOOK_TOKEN,
  );
  sessionId = String(r.session_id);
});

describeWithBrowser('suggested students of an unidentified call', () => {
  it('offers each suggested student and assigns the session with one click', async () => {
    const { context, page } = await world.open(`#/session/${encodeURIComponent(sessionId)}`, { csp: false });
    await page.waitForSelector('#suggested-students button');
    expect(await page.textContent('#session-student')).toBe('unknown');
    expect(await page.$$eval('#suggested-students button', (bs) => bs.map((b) => b.getAttribute('data-student')))).toEqual(['emma_stone', 'emma_watson']);

    await page.click('#suggested-students button[data-student="emma_watson"]');
    // The header then names the student (by name, the id under it).
    await page.waitForFunction(() => document.querySelector('#session-student')?.textContent === 'Emma Watson');
    expect(await page.$('#suggested-students')).toBeNull();
    const doc = (await (await fetch(`${world.server.url}/api/sessions/${sessionId}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as {
      student_id: string;
      platform_metadata: Record<string, unknown>;
    };
    expect(doc.student_id).toBe('emma_watson');
    expect(doc.platform_metadata.suggested_student_ids).toBeUndefined();
    await context.close(); // afterEach: no page error
  });
});
