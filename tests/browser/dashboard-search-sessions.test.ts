/**
 * "Find a student or session" in the dashboard's Search view: any case-insensitive part of a
 * student's name, email, id or the session token (GET /api/sessions?q=). Workshop pages post
 * through the real API, so their tokens are sessions (platform 'web').
 */
import type { Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { describeWithBrowser } from '../helpers/browser.js';
import { browserWorld } from '../helpers/browser-world.js';
import { uniqueToken } from '../helpers/deps.js';

const world = browserWorld();

const priya = { token: uniqueToken('ws_pr'), email: 'p.raman@example.com', name: 'Priya Raman' };
const jonas = { token: uniqueToken('ws_jw'), email: 'jonas.w@example.com', name: 'Jonas Weber' };
const amara = { token: uniqueToken('ws_ao'), email: 'amara@example.com', name: 'Amara Okafor' };

beforeAll(async () => {
  for (const s of [priya, jonas, amara]) {
    await world.post('/api/session-log', { sessionToken: s.token, studentEmail: s.email, studentName: s.name, eventType: 'action', eventData: { actionName: 'open', currentStep: 1, stepName: 'Setup' } });
  }
});

const open = (hash: string) => world.open(hash);

const matches = (page: Page) => page.locator('#session-matches tr.session-row').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.sessionId));

async function find(page: Page, text: string) {
  await page.fill('#session-q', text);
  await page.click('#session-search button[type=submit]');
  await expect.poll(() => page.evaluate(() => decodeURIComponent(location.hash))).toBe(`#/search?q=${text}`);
  // The previous search's results stay on the page until this one's arrive: wait for the count
  // that names this query, not for any count.
  await page.waitForFunction((q) => document.querySelector('#session-matches-count')?.textContent?.endsWith(`“${q}”`), text);
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
