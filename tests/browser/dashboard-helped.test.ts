/**
 * Marking a student helped from the dashboard, against the real POST/DELETE
 * /api/attention/{id}/helped and GET /api/attention (and its stream): a Now view row's Helped
 * button takes the student off the list at once and every instructor sees them under "Being
 * helped"; Undo brings them back; something new after the mark lists them again, saying so; a
 * failed mark puts the row back and says why; the session page's flag card marks too. Two
 * instructors (INSTRUCTOR_TOKENS) in two browser contexts, as two people in one room.
 */
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { describeWithBrowser } from '../helpers/browser.js';
import { browserWorld } from '../helpers/browser-world.js';
import { admin, testConfig } from '../helpers/deps.js';
import { workshopRoom } from '../helpers/workshop-room.js';

const LEE = 'ta-token-ms-lee-0123456789';
const KIM = 'ta-token-mr-kim-0123456789';
const world = browserWorld({ config: testConfig({ INSTRUCTOR_TOKENS: `ms_lee:${LEE},mr_kim:${KIM}` }) });

/** The Now view of a room as one instructor (their token in this tab's sessionStorage). */
async function openAs(token: string, hash: string, beforeGoto?: (p: Page) => unknown) {
  return world.open(hash, {
    signedIn: false,
    beforeGoto: async (p) => {
      await p.addInitScript((t) => sessionStorage.setItem('sessionlog.adminToken', t), token);
      await beforeGoto?.(p);
    },
  });
}

const ranked = (page: Page) => page.locator('#needs-help-list li.help-row').evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.sessionId));
const beingHelped = (page: Page) =>
  page.locator('#being-helped-list li.helped-row').evaluateAll((lis) =>
    lis.map((li) => ({ id: (li as HTMLElement).dataset.sessionId, name: li.querySelector('.helped-name')?.textContent, by: li.querySelector('.helped-by')?.textContent, note: li.querySelector('.helped-note')?.textContent ?? null })),
  );
const focusKey = (page: Page) => page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.focusKey ?? document.activeElement?.id);

async function attention(prefix: string) {
  const res = await fetch(`${world.server.url}/api/attention?workshop=${prefix}`, { headers: admin });
  expect(res.status).toBe(200);
  return (await res.json()) as { students: { session_id: string; helped?: { by: string } | null }[]; helped: { session_id: string; by: string; note: string | null }[] };
}

/** Rita repeats one error on step 2; Sam had one error on step 3. Both are listed, Rita first. */
async function room() {
  const r = workshopRoom(world.server.url);
  const rita = r.student('Rita Moreno');
  const sam = r.student('Sam Obi');
  await r.post([
    ...rita.walk(2, 2, 6),
    rita.error(3, 2),
    rita.error(2, 2),
    rita.error(1, 2),
    ...sam.walk(3, 2, 8),
    sam.error(1, 3, 'SyntaxError', 'Unexpected token'),
  ]);
  return { room: r, rita, sam };
}

describeWithBrowser('dashboard: marking a student helped', () => {
  it('Helped takes the row off at once; another instructor sees the student under Being helped; Undo lists them again', async () => {
    const { room: r, rita, sam } = await room();
    const lee = await openAs(LEE, `#/now?workshop=${r.prefix}`);
    const kim = await openAs(KIM, `#/now?workshop=${r.prefix}`);
    for (const { page } of [lee, kim]) await expect.poll(() => ranked(page)).toEqual([rita.token, sam.token]);
    expect(await lee.page.locator('#being-helped').count()).toBe(0);

    // The POST is held until released: the row must leave before the server has answered.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    await lee.page.route('**/api/attention/*/helped', async (route) => {
      await held;
      await route.continue();
    });
    const button = lee.page.locator(`#needs-help-list li[data-session-id="${rita.token}"] button.help-done`);
    expect(await button.textContent()).toBe('Helped');
    expect(await button.getAttribute('aria-label')).toBe('Mark Rita Moreno helped');
    // By keyboard: focus it and press Enter.
    await button.focus();
    await lee.page.keyboard.press('Enter');
    expect(await ranked(lee.page)).toEqual([sam.token]);
    expect(await lee.page.textContent('#stat-help .stat-value')).toBe('1');
    expect(await beingHelped(lee.page)).toEqual([{ id: rita.token, name: 'Rita Moreno', by: 'marking…', note: null }]);
    // The keyboard moves on to the next student's button.
    expect(await focusKey(lee.page)).toBe(`helped:${sam.token}`);
    release();

    // The server has it, by this instructor.
    await expect.poll(async () => (await attention(r.prefix)).helped.map((h) => [h.session_id, h.by])).toEqual([[rita.token, 'instructor:ms_lee']]);
    await expect.poll(() => beingHelped(lee.page)).toEqual([{ id: rita.token, name: 'Rita Moreno', by: 'by ms_lee · just now', note: null }]);
    expect(await lee.page.textContent('#being-helped-title')).toBe('Being helped (1)');
    expect(await ranked(lee.page)).toEqual([sam.token]);
    // The other instructor's tab, pushed by the stream: Rita is being helped, Sam is next.
    await expect.poll(() => beingHelped(kim.page), { timeout: 20_000 }).toEqual([{ id: rita.token, name: 'Rita Moreno', by: 'by ms_lee · just now', note: null }]);
    expect(await ranked(kim.page)).toEqual([sam.token]);
    expect(await kim.page.title()).toBe('(1) Sessionlog · Now');

    // Undo (a mark made by mistake), from the other tab: Rita is back on both lists.
    const undo = kim.page.locator(`#being-helped-list li[data-session-id="${rita.token}"] button.helped-undo`);
    expect(await undo.getAttribute('aria-label')).toBe('Undo the helped mark for Rita Moreno');
    await undo.click();
    expect(await kim.page.locator('#being-helped').count()).toBe(0);
    for (const { page } of [kim, lee]) {
      await expect.poll(() => ranked(page), { timeout: 20_000 }).toEqual([rita.token, sam.token]);
      expect(await page.locator('#being-helped').count()).toBe(0);
    }
    expect((await attention(r.prefix)).helped).toEqual([]);
    await lee.context.close();
    await kim.context.close();
  });

  it('something new after the mark lists the student again with "Helped … by … — new since", and notifies; the mark and its undo do not', async () => {
    const { room: r, rita, sam } = await room();
    // Notifications allowed, another window has the focus; each notification made is recorded.
    const { context, page } = await openAs(LEE, `#/now?workshop=${r.prefix}`, (p) =>
      p.addInitScript(() => {
        const made: string[] = [];
        (window as unknown as { made: string[] }).made = made;
        class FakeNotification extends EventTarget {
          static permission = 'granted';
          static async requestPermission() {
            return 'granted';
          }
          constructor(title: string) {
            super();
            made.push(title);
          }
          close() {}
        }
        Object.defineProperty(window, 'Notification', { value: FakeNotification });
        document.hasFocus = () => false;
      }),
    );
    const made = () => page.evaluate(() => (window as unknown as { made: string[] }).made.slice());
    await expect.poll(() => ranked(page)).toEqual([rita.token, sam.token]);
    await page.click('#notify-toggle');
    await expect.poll(() => page.textContent('#notify-toggle')).toBe('Notifying · turn off');

    // Marked, then undone (by mistake): she comes back to the list, and that is no news.
    await page.click(`#needs-help-list li[data-session-id="${rita.token}"] button.help-done`);
    await expect.poll(() => beingHelped(page)).toEqual([expect.objectContaining({ id: rita.token, by: 'by ms_lee · just now' })]);
    // The view's next update (the stream computes at most every 2 s) has her off the list.
    await page.waitForTimeout(3_500);
    await page.click(`#being-helped-list li[data-session-id="${rita.token}"] button.helped-undo`);
    await expect.poll(async () => (await attention(r.prefix)).students.map((s) => s.session_id)).toEqual([rita.token, sam.token]);
    await expect.poll(() => ranked(page), { timeout: 20_000 }).toEqual([rita.token, sam.token]);
    // The view's next update has her listed again (no longer being helped): still no notification.
    await expect.poll(() => page.locator('#being-helped').count(), { timeout: 20_000 }).toBe(0);
    await page.waitForTimeout(3_500);
    expect(await made()).toEqual([]);
    // Marked again, for real: she leaves the list.
    await page.click(`#needs-help-list li[data-session-id="${rita.token}"] button.help-done`);
    await expect.poll(async () => (await attention(r.prefix)).helped.map((h) => h.session_id)).toEqual([rita.token]);
    await expect.poll(() => beingHelped(page)).toEqual([expect.objectContaining({ id: rita.token, by: 'by ms_lee · just now' })]);
    expect(await made()).toEqual([]);

    // A new error after the mark: listed again, with the mark beside the reasons, and a notification.
    await r.post([rita.error(0, 2, 'ImportError', 'cannot import name Vapi')]);
    const row = page.locator(`#needs-help-list li[data-session-id="${rita.token}"]`);
    await row.waitFor({ timeout: 20_000 });
    expect(await row.locator('.help-again').textContent()).toBe('Helped just now by ms_lee — new since');
    expect(await row.getAttribute('class')).toContain('helped-again');
    expect(await page.locator('#being-helped').count()).toBe(0);
    await expect.poll(made, { timeout: 20_000 }).toEqual(['Rita Moreno needs help']);
    // Sam, listed all along, never notified.
    await context.close();
  });

  it('a mark the server refuses puts the row back and says why', async () => {
    const { room: r, rita, sam } = await room();
    const { context, page } = await openAs(LEE, `#/now?workshop=${r.prefix}`);
    await expect.poll(() => ranked(page)).toEqual([rita.token, sam.token]);
    await page.route('**/api/attention/*/helped', (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/problem+json',
        body: JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'the database is not reachable; try again shortly' }),
      }),
    );
    await page.click(`#needs-help-list li[data-session-id="${rita.token}"] button.help-done`);
    await page.waitForSelector('#help-problem .notice-error');
    expect(await page.textContent('#help-problem .notice-error')).toBe('Could not mark Rita Moreno helped: the database is not reachable; try again shortly');
    expect(await ranked(page)).toEqual([rita.token, sam.token]);
    expect(await page.locator('#being-helped').count()).toBe(0);
    // Nothing was marked.
    expect((await attention(r.prefix)).helped).toEqual([]);
    await context.close();
  });

  it('the session page\'s flag card marks the student helped, then says so; the Now view agrees', async () => {
    const { room: r, rita, sam } = await room();
    const { context, page } = await openAs(KIM, `#/now?workshop=${r.prefix}`);
    await expect.poll(() => ranked(page)).toEqual([rita.token, sam.token]);
    await page.click(`#needs-help-list li[data-session-id="${rita.token}"] a.help-link`);
    await page.waitForSelector('#session-flag:not([hidden]) #mark-helped');
    expect(await page.textContent('#mark-helped')).toBe('Mark helped');
    // After the mark, the flag is read again (the live tail brings the mark's event): it must keep the card.
    const reread = page.waitForResponse((res) => res.url().includes('/api/attention?') && res.request().method() === 'GET', { timeout: 30_000 });
    await page.click('#mark-helped');
    await page.waitForSelector('#session-flag #flag-helped');
    expect(await page.textContent('#flag-helped strong')).toBe('Being helped');
    expect(await page.textContent('#flag-helped .muted')).toBe('marked by mr_kim · just now');
    expect(await page.locator('#session-flag #mark-helped').count()).toBe(0);
    expect((await attention(r.prefix)).helped.map((h) => [h.session_id, h.by])).toEqual([[rita.token, 'instructor:mr_kim']]);
    // The mark is a line in her timeline (pushed by the live tail), and re-reading the flag keeps the card.
    await page.waitForSelector('#timeline li[data-type="attention_helped"]', { timeout: 20_000 });
    await reread;
    await page.waitForTimeout(300);
    expect(await page.locator('#session-flag:not([hidden]) #flag-helped').count()).toBe(1);
    await page.click('#back-link');
    await expect.poll(() => ranked(page)).toEqual([sam.token]);
    expect(await beingHelped(page)).toEqual([expect.objectContaining({ id: rita.token, by: 'by mr_kim · just now' })]);
    await context.close();
  });

  it('"Being helped" stays compact: five entries, then "Show N more"', async () => {
    const r = workshopRoom(world.server.url);
    const students = Array.from({ length: 7 }, (_, i) => r.student(`Helped ${i + 1}`));
    await r.post(students.flatMap((s) => [s.action(4, 1), s.error(1, 1), s.error(0.8, 1), s.error(0.6, 1)]));
    for (const s of students) {
      const res = await fetch(`${world.server.url}/api/attention/${s.token}/helped`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ note: `fixed ${s.name}` }) });
      expect(res.status).toBe(200);
      // Marks a few milliseconds apart, so "newest first" has one order.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const { context, page } = await openAs(LEE, `#/now?workshop=${r.prefix}`);
    await page.waitForSelector('#being-helped');
    expect(await page.textContent('#being-helped-title')).toBe('Being helped (7)');
    const shown = await beingHelped(page);
    // Newest mark first, each with who marked it and the note.
    expect(shown.map((e) => e.name)).toEqual(['Helped 7', 'Helped 6', 'Helped 5', 'Helped 4', 'Helped 3']);
    expect(shown[0]).toEqual({ id: students[6]?.token, name: 'Helped 7', by: 'by admin · just now', note: 'fixed Helped 7' });
    // One line each: five fit in well under a laptop's third.
    expect(await page.locator('#being-helped').evaluate((el) => el.getBoundingClientRect().height)).toBeLessThan(260);
    expect(await page.textContent('#being-helped-more')).toBe('Show 2 more');
    await page.click('#being-helped-more');
    await expect.poll(() => beingHelped(page).then((e) => e.length)).toBe(7);
    expect(await page.textContent('#being-helped-more')).toBe('Show fewer');
    expect(await page.getAttribute('#being-helped-more', 'aria-expanded')).toBe('true');
    expect(await page.textContent('#needs-help .help-body')).toBe('Nobody needs help right now.');
    await context.close();
  });
});
