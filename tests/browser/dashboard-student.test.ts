/**
 * The student page (#/student/<id>): reached from a session list row and from a session's header,
 * it draws the progress trends as inline-SVG charts with one point per session that has a value.
 * Data goes in through the real API (tool calls, a workshop page, attempts); the analyses are the
 * model's output, stored as the analysis run stores them. Writes docs/screenshots/student-progress-*.png.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { StudentProgress } from '../../lib/schemas/progress.js';
import { describeWithBrowser } from '../helpers/browser.js';
import { browserWorld } from '../helpers/browser-world.js';
import { ADMIN_TOKEN, testConfig } from '../helpers/deps.js';

const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const SERVICE_TOKEN = 'svc-token-student-page';
const MINUTE = 60_000;
const STUDENT = 'maya_chen';
const EMAIL = 'maya.chen@example.com';

let now = new Date('2026-11-20T15:00:00Z');
const world = browserWorld({ config: testConfig({ SERVICE_TOKEN }), now: () => now });
const ids: string[] = [];

async function api(path: string, body: unknown, token = SERVICE_TOKEN, method = 'POST') {
  const res = await fetch(`${world.server.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return res.json() as Promise<Record<string, unknown>>;
}

/** One day's practice: a tool-call sitting (or a workshop page) with attempts, then the next day. */
async function day(d: { topic: string; correct: number; of: number; timeMs: number; web?: boolean; engagement?: number; steps?: string[] }) {
  let id: string;
  let writeToken: string | undefined; // a sitting's, which the page needs to post into it
  if (d.web) {
    id = `ws_maya_${ids.length}`;
    await api('/api/session-log', { sessionToken: id, studentEmail: EMAIL, eventType: 'action', eventData: { actionName: 'open', currentStep: 1, stepName: d.topic } }, '');
  } else {
    const opened = await api('/api/sessions/interactions', { student_id: STUDENT, function: 'start_quiz', subject: 'Math', topic: d.topic });
    id = String(opened.session_id);
    writeToken = String(opened.write_token);
  }
  for (let k = 0; k < d.of; k++) {
    now = new Date(now.getTime() + MINUTE);
    await api('/api/session-log', { sessionToken: id, ...(writeToken ? { writeToken } : {}), eventType: 'attempt', eventData: { correct: k < d.correct, timeMs: d.timeMs, topic: d.topic } }, '');
  }
  if (!d.web) await api('/api/sessions/interactions', { student_id: STUDENT, function: 'end_quiz' });
  if (d.engagement !== undefined) {
    const result = { session_summary: `Practised ${d.topic}.`, learning_outcomes: [], engagement_score: d.engagement, next_steps: d.steps ?? [], concepts_covered: [d.topic.toLowerCase()], struggles: [], progress_change: null };
    await world.sql.query(
      `INSERT INTO analyses (session_id, template, template_hash, model, trigger, status, result, attempts, completed_at)
       VALUES ($1, 'session_summary', 'h', 'gpt-4o-mini', 'session_complete', 'completed', $2::jsonb, 1, $3)`,
      [id, JSON.stringify(result), now.toISOString()],
    );
  }
  ids.push(id);
  now = new Date(now.getTime() + 24 * 60 * MINUTE);
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  await api(`/api/students/${STUDENT}`, { name: 'Maya Chen', email: EMAIL }, ADMIN_TOKEN, 'PUT');
  await day({ topic: 'Fractions', correct: 2, of: 5, timeMs: 9000, engagement: 0.55, steps: ['Practise decimals with money', 'Review equivalent fractions'] });
  await day({ topic: 'Decimals', correct: 3, of: 6, timeMs: 8200, engagement: 0.6, steps: ['Try percentages next'] });
  await day({ topic: 'Decimals', correct: 0, of: 0, timeMs: 0 }); // a sitting without attempts: a gap in the charts
  await day({ topic: 'Percentages', correct: 3, of: 5, timeMs: 7000, web: true, engagement: 0.7 });
  await day({ topic: 'Percentages', correct: 6, of: 8, timeMs: 6100, engagement: 0.8, steps: ['Mix fractions and percentages in word problems'] });
  await day({ topic: 'Ratios', correct: 4, of: 5, timeMs: 5200, engagement: 0.85, steps: ['Explain ratios aloud to a friend'] });
});

const open = (hash: string, viewport = { width: 1280, height: 800 }) => world.open(hash, { viewport });

const points = (page: Page, chart: string) =>
  page.locator(`#${chart} circle.trend-point`).evaluateAll((cs) => cs.map((c) => [c.getAttribute('data-session-id'), Number(c.getAttribute('data-value')), Number(c.getAttribute('cy'))]));

describeWithBrowser('dashboard: a student over time', () => {
  it('a session row links to the student page, whose charts have one point per session with a value', async () => {
    const progress = StudentProgress.parse(
      await (await fetch(`${world.server.url}/api/students/${STUDENT}/progress`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json(),
    );
    expect(progress.sessions.map((s) => s.session_id)).toEqual(ids);
    expect(progress.sessions[3]).toMatchObject({ platform: 'web', accuracy: 0.6 }); // the workshop page, joined by email

    const { context, page } = await open('#/sessions');
    await page.locator(`tr[data-session-id="${ids[5]}"] a.student-link`).click();
    await expect.poll(() => page.evaluate(() => decodeURIComponent(location.hash))).toBe(`#/student/${STUDENT}`);
    await page.waitForSelector('#trends');
    expect(await page.textContent('#student-name')).toBe('Maya Chen');

    // Six sessions; the one without attempts has no accuracy or time, the unanalysed one no engagement.
    const acc = await points(page, 'trend-accuracy');
    expect(acc.map(([id, v]) => [id, v])).toEqual(progress.trends.accuracy.values.filter((v) => v.value !== null).map((v) => [v.session_id, v.value]));
    expect(acc).toHaveLength(5);
    expect(await points(page, 'trend-time')).toHaveLength(5);
    expect(await points(page, 'trend-engagement')).toHaveLength(5);
    expect(await page.getAttribute('#trend-accuracy', 'data-points')).toBe('5');
    // Higher accuracy is drawn higher (smaller cy), so the rising trend rises on screen.
    const cys = acc.map(([, , cy]) => cy as number);
    expect(cys).toEqual([...cys].sort((a, b) => b - a));
    expect(await page.locator('#trend-accuracy .trend-fit').count()).toBe(1);
    expect(await page.getAttribute('#trend-accuracy', 'data-direction')).toBe('up');
    expect(await page.getAttribute('#trend-time', 'data-direction')).toBe('down');
    expect(await page.locator('#trend-time.trend-better').count()).toBe(1); // faster is better

    // Open steps: "decimals" and "percentages" were practised later; the others are still open.
    expect(await page.locator('#open-steps li > span').allTextContents()).toEqual([
      'Explain ratios aloud to a friend',
      'Mix fractions and percentages in word problems',
      'Review equivalent fractions',
    ]);
    expect(await page.locator('#topics .chip-stale').allTextContents()).toEqual(['Decimals×2', 'Fractions']);
    expect(await page.locator('#student-sessions li').count()).toBe(6);
    await context.close();
  });

  it("a session's student name opens the student page, and back again", async () => {
    const { context, page } = await open(`#/session/${ids[1]}`);
    await page.locator('#session-student a.student-link').click();
    await page.waitForSelector('#trends');
    await page.locator(`#student-sessions li[data-session-id="${ids[1]}"] a.session-link`).click();
    await page.waitForSelector('#session-student a.student-link');
    expect(await page.textContent('#back-link')).toBe('← Student');
    await context.close();
  });

  it('looks right on a laptop and a phone (docs/screenshots/student-progress-*.png)', async () => {
    for (const [device, viewport] of [
      ['desktop', { width: 1280, height: 800 }],
      ['phone', { width: 390, height: 844 }],
    ] as const) {
      const { context, page } = await open(`#/student/${STUDENT}`, viewport);
      await page.waitForSelector('#student-sessions');
      // Nothing wider than the screen on a phone.
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      await page.screenshot({ path: `${SHOTS}student-progress-${device}.png`, fullPage: true });
      await context.close();
    }
  });

  it('a student whose sessions were never analysed is told why engagement has no chart, not "not enough sessions"', async () => {
    for (const topic of ['Ratios', 'Percentages', 'Ratios']) {
      await api('/api/sessions/interactions', { student_id: 'noah_unanalysed', function: 'start_quiz', subject: 'Math', topic });
      now = new Date(now.getTime() + 5 * MINUTE);
      await api('/api/sessions/interactions', { student_id: 'noah_unanalysed', function: 'end_quiz' });
      now = new Date(now.getTime() + 24 * 60 * MINUTE);
    }
    const { context, page } = await open('#/student/noah_unanalysed');
    await page.waitForSelector('#trend-engagement');
    expect(await page.textContent('#trend-engagement .trend-verdict')).toBe('no values yet');
    expect(await page.textContent('#trend-engagement .trend-empty')).toContain('none of these sessions has been analysed yet');
    expect(await page.textContent('#trend-accuracy .trend-empty')).toBe('No attempts in these sessions.');
    await context.close();
  });

  it('an unknown student is said plainly', async () => {
    const { context, page } = await open('#/student/nobody_here');
    // Not just any notice: the page opens with a "Loading…" one.
    await page.waitForSelector('#student-progress .notice-error');
    expect(await page.textContent('#student-progress')).toContain('student nobody_here does not exist');
    await context.close();
  });
});
