/**
 * "Find a student or session" in the dashboard's Search view: any case-insensitive part of a
 * student's name, email, id or the session token (GET /api/sessions?q=). Workshop pages post
 * through the real API, so their tokens are sessions (platform 'web').
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { Sql } from '../../lib/storage/sql.js';
import { describeWithBrowser, launchChromium } from '../helpers/browser.js';
import { ADMIN_TOKEN, memoryPglite, testConfig, uniqueToken } from '../helpers/deps.js';
import { startTestServer } from '../helpers/http-server.js';

let sql: Sql;
let server: Awaited<ReturnType<typeof startTestServer>>;
let browser: Browser;
const pageErrors: string[] = [];

const priya = { token: uniqueToken('ws_pr'), email: 'p.raman@example.com', name: 'Priya Raman' };
const jonas = { token: uniqueToken('ws_jw'), email: 'jonas.w@example.com', name: 'Jonas Weber' };
const amara = { token: uniqueToken('ws_ao'), email: 'amara@example.com', name: 'Amara Okafor' };

beforeAll(async () => {
  sql = await memoryPglite();
  server = await startTestServer({ sql, config: testConfig() });
  browser = await launchChromium();
  for (const s of [priya, jonas, amara]) {
    const res = await fetch(`${server.url}/api/session-log`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sessionToken: s.token, studentEmail: s.email, studentName: s.name, eventType: 'action', eventData: { actionName: 'open', currentStep: 1, stepName: 'Setup' } }),
    });
    expect(res.ok).toBe(true);
  }
});

afterAll(async () => {
  await browser?.close();
  await server?.deps.settle();
  await server?.stop();
  await sql?.close();
});

afterEach(() => {
  expect(pageErrors.splice(0)).toEqual([]);
});

async function open(hash: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript((t) => sessionStorage.setItem('sessionlog.adminToken', t), ADMIN_TOKEN);
  const page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) pageErrors.push(m.text());
  });
  await page.goto(`${server.url}/dashboard/${hash}`);
  return { context, page };
}

const matches = (page: Page) => page.locator('#session-matches tr.session-row').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.sessionId));

async function find(page: Page, text: string) {
  await page.fill('#session-q', text);
  await page.click('#session-search button[type=submit]');
  await expect.poll(() => page.evaluate(() => decodeURIComponent(location.hash))).toBe(`#/search?q=${text}`);
  await page.waitForSelector('#session-matches-count');
}

describeWithBrowser('dashboard: find a student or session by any part of what you know', () => {
  it('finds by part of a name, of an email, of a token, in any case; the result opens the session', async () => {
    const { context, page } = await open('#/search');
    await find(page, 'riy');
    expect(await matches(page)).toEqual([priya.token]);
    expect(await page.textContent('#session-matches-count')).toBe('1 session matches “riy”');
    const row = page.locator(`#session-matches tr[data-session-id="${priya.token}"]`);
    expect(await row.locator('a.session-link').textContent()).toBe('Priya Raman');
    expect(await row.locator('.session-step').textContent()).toBe('Step 1 · Setup');
    expect(await row.locator('td[data-label="Platform"]').textContent()).toBe('web');

    await find(page, 'WEBER');
    expect(await matches(page)).toEqual([jonas.token]);
    await find(page, 'amara@exa');
    expect(await matches(page)).toEqual([amara.token]);
    await find(page, jonas.token.slice(3, 12));
    expect(await matches(page)).toEqual([jonas.token]);
    await find(page, 'nobody-like-this');
    expect(await page.textContent('#session-matches')).toContain('No session matches');

    // The search is a link; its result opens the student's session.
    const again = await open(`#/search?q=${encodeURIComponent('oKaF')}`);
    await again.page.waitForSelector('#session-matches tr.session-row');
    expect(await matches(again.page)).toEqual([amara.token]);
    await again.page.click(`#session-matches a[href="#/session/${amara.token}"]`);
    await again.page.waitForSelector('#timeline li.tl-item');
    expect(await again.page.textContent('#session-student')).toBe('Amara Okafor');
    expect(await again.page.textContent('#back-link')).toBe('← Search');
    await again.context.close();
    await context.close();
  });
});
