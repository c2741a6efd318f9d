/**
 * Dashboard search (GET /api/session-log) with its CSV / JSON exports, troubleshooting
 * (GET /api/session-log/stats), and untrusted event data (XSS), in Chromium against the whole app
 * on loopback. Exports are checked against the rows on screen, and the CSV byte for byte against
 * the API's own CSV export of the same query: the client-side quoting must be the server's
 * (RFC 4180, formula cells defused).
 */
import { readFileSync } from 'node:fs';
import type { BrowserContext, Download, Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { describeWithBrowser } from '../helpers/browser.js';
import { browserWorld } from '../helpers/browser-world.js';
import { admin, uniqueToken } from '../helpers/deps.js';
import { parseCsv } from '../helpers/csv.js';

const world = browserWorld();

const ada = { token: uniqueToken('ws_ada'), email: 'ada@example.com' };
const ben = { token: uniqueToken('ws_ben'), email: 'ben@example.com' };
/** A student page that sends markup everywhere it can. */
const mallory = { token: uniqueToken('ws_xss'), email: 'mallory@example.com' };
const XSS = '<img src=x onerror=alert(1)>';
/** A cell a spreadsheet would run (a student name is whatever the page sent), and every character RFC 4180 must quote. */
const FORMULA = '=HYPERLINK("http://evil.example","click")';
const AWKWARD = 'says "hi", then\r\nleaves';

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

const post = (body: unknown) => world.post('/api/session-log', body);

beforeAll(async () => {
  await post({
    sessionToken: ada.token,
    studentEmail: ada.email,
    studentName: FORMULA,
    events: [
      { eventType: 'navigation', eventData: { from: 1, to: 2 }, timestamp: minutesAgo(30) },
      { eventType: 'action', eventData: { actionName: 'run-code', note: AWKWARD }, timestamp: minutesAgo(25) },
      { eventType: 'error', eventData: { errorType: 'TypeError', errorMessage: 'x is undefined' }, timestamp: minutesAgo(20) },
      { eventType: 'error', eventData: { errorType: 'TypeError', errorMessage: 'y is undefined' }, timestamp: minutesAgo(10) },
      // Outside the last hour: only wider windows and time ranges see it.
      { eventType: 'error', eventData: { errorType: 'SyntaxError', errorMessage: 'Unexpected token' }, timestamp: minutesAgo(180) },
    ],
  });
  await post({
    sessionToken: ben.token,
    studentEmail: ben.email,
    events: [
      { eventType: 'api_call', eventData: { endpoint: '/api/run', method: 'POST', status: 404, success: false }, timestamp: minutesAgo(15) },
      { eventType: 'error', eventData: { errorType: 'ReferenceError', errorMessage: 'fetch is not defined' }, timestamp: minutesAgo(14) },
    ],
  });
  await post({
    sessionToken: mallory.token,
    studentEmail: mallory.email,
    studentName: XSS,
    events: [
      { eventType: 'action', eventData: { actionName: XSS }, timestamp: minutesAgo(5) },
      { eventType: 'error', eventData: { errorType: 'XSSProbe', errorMessage: XSS }, timestamp: minutesAgo(5) },
    ],
  });
  // A call report whose recording "URL" would run script if it became a link.
  const report = await fetch(`${world.server.url}/api/webhooks/vapi`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      message: {
        type: 'end-of-call-report',
        call: { id: 'call-xss', type: 'webCall', assistantOverrides: { metadata: { sessionId: mallory.token } } },
        endedReason: XSS,
        cost: 0.01,
        startedAt: minutesAgo(4),
        endedAt: minutesAgo(3),
        artifact: { recordingUrl: 'javascript:alert(document.domain)', transcript: `User: ${XSS}` },
      },
    }),
  });
  expect(report.ok).toBe(true);
});

/** A signed-in tab of its own; a dialog (an alert a student's data ran) counts as a page error. */
function open(hash: string): Promise<{ context: BrowserContext; page: Page }> {
  return world.open(hash, {
    beforeGoto: (page) =>
      page.on('dialog', (d) => {
        world.pageErrors.push(`dialog: ${d.message()}`);
        void d.dismiss();
      }),
  });
}

/** The event ids of the result rows, top to bottom. */
const shownIds = (page: Page) => page.locator('#search-results tr.event-row').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.eventId));

async function saved(page: Page, button: string): Promise<{ download: Download; text: string }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  return { download, text: readFileSync(await download.path(), 'utf8') };
}


describeWithBrowser('dashboard search and troubleshooting', () => {
  it('searches by session token and exports exactly the rows shown as CSV and JSON', async () => {
    const { context, page } = await open(`#/search?sessionToken=${ada.token}`);
    await page.waitForSelector('#search-results tr.event-row');
    const ids = await shownIds(page);
    expect(ids).toHaveLength(5);
    expect(await page.textContent('#search-count')).toBe('5 events shown');

    // CSV: a header, then the shown rows in the shown order; identical to the API's own export.
    const csv = await saved(page, '#export-csv');
    expect(csv.download.suggestedFilename()).toMatch(/^session-log-.*\.csv$/);
    const records = parseCsv(csv.text);
    expect(records[0]).toEqual(['event_id', 'created_at', 'session_token', 'event_type', 'student_id', 'student_email', 'student_name', 'event_data']);
    expect(records.slice(1).map((r) => r[0])).toEqual(ids);
    const action = records.find((r) => r[3] === 'action');
    expect(JSON.parse(action?.[7] ?? '{}')).toEqual({ actionName: 'run-code', note: AWKWARD });
    // The formula-like student name is defused with a leading apostrophe.
    expect(action?.[6]).toBe(`'${FORMULA}`);
    const serverCsv = await fetch(`${world.server.url}/api/session-log?sessionToken=${ada.token}&format=csv`, { headers: admin });
    expect(csv.text).toBe(await serverCsv.text());

    // JSON: the very rows the page shows, as the API answered them.
    const json = await saved(page, '#export-json');
    expect(json.download.suggestedFilename()).toMatch(/^session-log-.*\.json$/);
    const rows = JSON.parse(json.text) as Array<{ event_id: string }>;
    expect(rows.map((r) => r.event_id)).toEqual(ids);
    const api = (await (await fetch(`${world.server.url}/api/session-log?sessionToken=${ada.token}`, { headers: admin })).json()) as { events: unknown[] };
    expect(rows).toEqual(api.events);
    await context.close();
  });

  it('exports only the rows loaded so far, and all of them after "Load more"', async () => {
    const token = uniqueToken('ws_many');
    await post({ sessionToken: token, events: Array.from({ length: 60 }, (_, i) => ({ eventType: 'action', eventData: { actionName: `step-${i}` } })) });
    const { context, page } = await open(`#/search?sessionToken=${token}&limit=50`);
    await page.waitForSelector('#search-results tr.event-row');
    expect(await page.textContent('#search-count')).toBe('50 events shown · more available');
    const first = JSON.parse((await saved(page, '#export-json')).text) as Array<{ event_id: string }>;
    expect(first.map((r) => r.event_id)).toEqual(await shownIds(page));

    await page.click('button.more');
    await expect.poll(async () => (await shownIds(page)).length).toBe(60);
    const all = parseCsv((await saved(page, '#export-csv')).text);
    expect(all.slice(1).map((r) => r[0])).toEqual(await shownIds(page));
    expect(new Set(all.slice(1).map((r) => r[0])).size).toBe(60);
    await context.close();
  });

  it('narrows by student email, event type and time range from the form, and the search is a link', async () => {
    const { context, page } = await open('#/search');
    await page.waitForSelector('#search-results tr.event-row');
    await page.fill('input[name=studentEmail]', ada.email);
    await page.fill('input[name=eventType]', 'error');
    await page.click('#search-form button[type=submit]');
    await expect.poll(async () => (await shownIds(page)).length).toBe(3);
    const hash = await page.evaluate(() => location.hash);
    expect(hash).toContain('studentEmail=ada%40example.com');
    expect(hash).toContain('eventType=error');
    expect(await page.locator('#search-results tr.event-row.is-problem').count()).toBe(3);

    // The last hour only: the 3-hour-old SyntaxError drops out.
    await page.click('button:text("Last hour")');
    await page.click('#search-form button[type=submit]');
    await expect.poll(async () => (await shownIds(page)).length).toBe(2);
    expect(await page.textContent('#search-results')).not.toContain('SyntaxError');
    expect(await page.evaluate(() => location.hash)).toMatch(/since=/);

    // Opening the same link elsewhere gives the same rows.
    const again = await open(await page.evaluate(() => location.hash));
    await again.page.waitForSelector('#search-results tr.event-row');
    expect(await shownIds(again.page)).toEqual(await shownIds(page));
    await again.context.close();
    await context.close();
  });

  it('troubleshooting lists the students who hit errors in the last hour and the most frequent error types', async () => {
    const { context, page } = await open('#/troubleshoot');
    await page.waitForSelector('#students-table');
    const students = await page.locator('#students-table tr.student-row').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.student));
    expect(students.sort()).toEqual([ada.email, ben.email, mallory.email]);
    const adaRow = page.locator(`#students-table tr[data-student="${ada.email}"] td`);
    expect(await adaRow.nth(2).textContent()).toBe('2');
    expect(await page.locator(`#students-table tr[data-student="${ada.email}"] .message`).textContent()).toBe('y is undefined');

    const types = await page.locator('#top-errors-table tr.error-type-row').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.errorType));
    expect(types).toEqual(['TypeError', 'ReferenceError', 'XSSProbe']);
    expect(await page.locator('#top-errors-table tr[data-error-type="TypeError"] .bar strong').textContent()).toBe('2');
    // An error type lists exactly its errors of the window (it listed every error).
    const search = await open((await page.getAttribute('#top-errors-table tr[data-error-type="TypeError"] a.error-type', 'href')) ?? '');
    await search.page.waitForSelector('#search-results tr.event-row');
    const found = await search.page.locator('#search-results .tl-text').allTextContents();
    expect(found).toHaveLength(2);
    expect(found.every((t) => t.startsWith('TypeError'))).toBe(true);
    await search.context.close();

    // A wider window reaches the old SyntaxError.
    await page.selectOption('#window', '24h');
    await page.waitForSelector('#top-errors-table tr[data-error-type="SyntaxError"]');
    expect(await page.textContent('#swe-title')).toBe('Students who hit errors in the last 24 hours');

    // A student's session is one click away.
    await page.click(`#students-table tr[data-student="${ben.email}"] a.mono`);
    await page.waitForSelector('#timeline li[data-type="error"].is-problem');
    expect(await page.evaluate(() => location.hash)).toBe(`#/session/${ben.token}`);
    await context.close();
  });

  it('renders an XSS payload in event data as text, never as HTML', async () => {
    const { context, page } = await open(`#/session/${mallory.token}`);
    const action = page.locator('#timeline li[data-type="action"] .tl-text');
    await action.waitFor();
    await page.waitForSelector('#call-card');
    expect(await action.textContent()).toBe(XSS);
    expect(await page.locator('#timeline li[data-type="error"] .tl-text').textContent()).toBe(`XSSProbe: ${XSS}`);
    expect(await page.locator('#timeline li[data-type="transcript"] .tl-text').textContent()).toBe(XSS);
    expect(await page.textContent('#call-ended-reason')).toBe(XSS);
    // A javascript: recording URL never becomes a link.
    expect(await page.locator('#call-card a').count()).toBe(0);
    expect(await page.textContent('#call-card')).toContain('not an http(s) link');
    expect(await page.locator('#view img').count()).toBe(0);

    // The same data in the search results and in troubleshooting (where the name shows too).
    await page.evaluate((t) => {
      location.hash = `#/search?sessionToken=${t}`;
    }, mallory.token);
    await page.waitForSelector('#search-results tr.event-row');
    expect(await page.textContent('#search-results')).toContain(XSS);
    await page.evaluate(() => {
      location.hash = '#/troubleshoot';
    });
    const row = page.locator(`#students-table tr[data-session="${mallory.token}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain(XSS);
    expect(await page.locator('#view img').count()).toBe(0);
    await context.close(); // afterEach: no dialog, no page error, no CSP violation
  });
});
