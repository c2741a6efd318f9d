/**
 * The session view as an instructor reads it (issue 11's fixes): the student's name in the head,
 * speakers by name or role, the newest events on top of a live session (a toggle, remembered in
 * the tab), the nav and the back link pointing where the instructor came from, a workshop page
 * without the filters that cannot apply to it, one time format, an ended session not "Live",
 * and "Run analysis" disabled with the reason when analysis is off. Real API on loopback.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { describeWithBrowser } from '../helpers/browser.js';
import { browserWorld } from '../helpers/browser-world.js';
import { testConfig, uniqueToken } from '../helpers/deps.js';

const SERVICE_TOKEN = 'svc';

const world = browserWorld({ config: testConfig({ SERVICE_TOKEN }) });

async function api(path: string, body: unknown) {
  const res = await fetch(`${world.server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${SERVICE_TOKEN}` },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

async function open(hash: string, { clock = false, viewport = { width: 1280, height: 800 } } = {}): Promise<{ context: BrowserContext; page: Page; tails: string[] }> {
  const tab = await world.open(hash, { viewport, clock, record: (url) => url.includes('after_seq=') });
  return { ...tab, tails: tab.requests };
}

const go = (page: Page, hash: string) =>
  page.evaluate((h) => {
    location.hash = h;
  }, hash);

/** Event ids of the timeline as they appear on screen, top to bottom. */
const onScreen = (page: Page) =>
  page.locator('#timeline li.tl-item:visible').evaluateAll((lis) =>
    lis
      .map((li) => ({ id: (li as HTMLElement).dataset.eventId, y: li.getBoundingClientRect().top }))
      .sort((a, b) => a.y - b.y)
      .map((x) => x.id),
  );
/** Event ids of the timeline in DOM order: what screen readers read and Tab follows. */
const inDom = (page: Page) => page.locator('#timeline li.tl-item').evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.eventId));
const nav = (page: Page) => page.locator('#nav a[aria-current="page"]').textContent();

describeWithBrowser('dashboard session view', () => {
  it('an ended explicit session: participants and the agent by name, oldest first, not live', async () => {
    const created = await api('/api/sessions', { participant: 'user_alice', platform: 'superinterface', subject: 'Physics', agent: { name: 'Ms Vector' } });
    const id = created.session_id as string;
    await api(`/api/sessions/${id}/join`, { participant: 'user_bob' });
    await api(`/api/sessions/${id}/transcript`, {
      entries: [
        { speaker: 'A', text: 'What is a unit vector?' },
        { speaker: 'B', text: 'Length one?' },
        { speaker: 'agent', text: 'Yes: a vector of length one.' },
      ],
    });
    await api(`/api/sessions/${id}/end`, {});

    const { context, page, tails } = await open(`#/session/${id}`, { clock: true });
    await page.waitForSelector('#timeline li[data-type="transcript"]');
    await page.waitForSelector('.live[data-state="ended"]');
    expect(await page.locator('#timeline li[data-type="transcript"] .tl-label').allTextContents()).toEqual(['user_alice', 'user_bob', 'Ms Vector']);
    expect(await page.textContent('#live-status')).toContain('Session ended');
    // Ended: no polling while time passes.
    const before = tails.length;
    await page.clock.runFor(60_000);
    expect(tails.length).toBe(before);
    // Ended sessions read top-down like a transcript; the toggle turns the order round, on screen
    // and in the DOM that screen readers and Tab follow (it used to turn on screen only).
    expect(await page.getAttribute('#newest-first', 'aria-pressed')).toBe('false');
    const ids = await inDom(page);
    expect(await onScreen(page)).toEqual(ids);
    await page.click('#newest-first');
    expect(await onScreen(page)).toEqual([...ids].reverse());
    expect(await inDom(page)).toEqual([...ids].reverse());
    await page.click('#newest-first');
    expect(await inDom(page)).toEqual(ids);
    expect(await onScreen(page)).toEqual(ids);
    // A voice-and-text session: every filter applies, none is hidden.
    expect(await page.locator('.timeline-filters input[data-category]:visible').count()).toBe(4);
    await context.close();

    // On a phone the timeline starts below the fold: "Latest event" brings the newest row up.
    const phone = await open(`#/session/${id}`, { viewport: { width: 390, height: 844 } });
    await phone.page.waitForSelector('.live[data-state="ended"]');
    const newest = phone.page.locator('#timeline li.tl-item').last();
    const inView = () => newest.evaluate((el) => el.getBoundingClientRect().top >= 0 && el.getBoundingClientRect().bottom <= innerHeight);
    expect(await inView()).toBe(false);
    await phone.page.click('#jump-latest');
    await expect.poll(inView).toBe(true);
    await phone.context.close();
  });

  it('a live workshop page: newest on top, only the filters that apply, the date only when not today', async () => {
    const token = uniqueToken('ws_nina');
    await api('/api/session-log', {
      sessionToken: token,
      studentEmail: 'nina@example.com',
      studentName: 'Nina Petrova',
      events: [
        { eventType: 'navigation', eventData: { from: 1, to: 2 }, timestamp: new Date(Date.now() - 2 * 86_400_000).toISOString() },
        { eventType: 'action', eventData: { actionName: 'run' }, timestamp: ago(3) },
        { eventType: 'error', eventData: { errorType: 'TypeError', errorMessage: 'boom' }, timestamp: ago(1) },
      ],
    });
    const { context, page } = await open(`#/session/${token}`);
    await page.waitForSelector('.live[data-state="live"]');
    expect(await page.textContent('#session-student')).toBe('Nina Petrova');
    expect(await page.textContent('#session-student-detail')).toBe('nina@example.com');
    // Newest first by default on a live session: the error is the first row on screen, and the
    // first a screen reader reads or Tab reaches.
    expect(await page.getAttribute('#newest-first', 'aria-pressed')).toBe('true');
    const top = (await onScreen(page))[0];
    expect(await page.getAttribute(`#timeline li[data-event-id="${top}"]`, 'data-type')).toBe('error');
    expect(await inDom(page)).toEqual(await onScreen(page));
    await page.focus('#newest-first');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (document.activeElement?.closest('li.tl-item') as HTMLElement | null)?.dataset.eventId)).toBe(top);
    // A posted event lands on top, in the DOM too.
    const fresh = (await api('/api/session-log', { sessionToken: token, eventType: 'action', eventData: { actionName: 'retry' } })).eventId as string;
    await page.waitForSelector(`#timeline li[data-event-id="${fresh}"]`);
    expect((await onScreen(page))[0]).toBe(fresh);
    expect(await inDom(page)).toEqual(await onScreen(page));
    // No tool calls or transcript on a workshop page: those filters are hidden.
    const shown = await page.locator('.timeline-filters input[data-category]:visible').evaluateAll((xs) => xs.map((x) => (x as HTMLElement).dataset.category));
    expect(shown).toEqual(['web', 'status']);
    // Today's events show a time only; the one from two days ago also shows its date.
    const texts = await page.locator('#timeline li[data-type="navigation"] time').textContent();
    const today = await page.locator('#timeline li[data-type="error"] time').textContent();
    expect(texts).toMatch(/\d/);
    expect(texts).not.toBe(today);
    const sameFormat = await page.evaluate(
      ([a, b]) => {
        const t = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });
        return { old: a !== t.format(new Date(Date.now() - 2 * 86_400_000)) && /[A-Za-z]/.test(a ?? ''), now: /^[\d:\sAPM.]+$/i.test(b ?? '') };
      },
      [texts, today],
    );
    expect(sameFormat).toEqual({ old: true, now: true });
    // The choice is remembered for the tab: oldest first now, also on the next session opened.
    await page.click('#newest-first');
    expect(await page.getAttribute('#newest-first', 'aria-pressed')).toBe('false');
    expect((await inDom(page)).at(-1)).toBe(fresh);
    expect(await inDom(page)).toEqual(await onScreen(page));
    // Each wait needs the view the hashchange renders: the session view left behind is "live"
    // and pressed "false" too (as is a new one until its timeline has loaded and set its order).
    await go(page, '#/sessions');
    await page.waitForSelector('#recent-sessions');
    await go(page, `#/session/${token}`);
    await page.waitForSelector('.live[data-state="live"]');
    expect(await page.getAttribute('#newest-first', 'aria-pressed')).toBe('false');
    await context.close();
  });

  it('the nav and the back link point where the instructor came from', async () => {
    const token = uniqueToken('ws_omar');
    await api('/api/session-log', { sessionToken: token, studentEmail: 'omar@example.com', eventType: 'error', eventData: { errorType: 'TypeError' } });
    const { context, page } = await open(`#/search?sessionToken=${token}`);
    await page.click(`#search-results a[href="#/session/${token}"]`);
    await page.waitForSelector('#timeline li.tl-item');
    expect(await nav(page)).toBe('Search');
    expect(await page.textContent('#back-link')).toBe('← Search');
    await page.click('#back-link');
    await page.waitForSelector('#search-results tr.event-row');
    expect(await page.evaluate(() => location.hash)).toBe(`#/search?sessionToken=${token}`);

    await go(page, '#/troubleshoot');
    await page.click(`#students-table a[href="#/session/${token}"]`);
    await page.waitForSelector('#timeline li.tl-item');
    expect(await nav(page)).toBe('Troubleshooting');

    // Opened straight from a link: the sessions list.
    const direct = await open(`#/session/${token}`);
    await direct.page.waitForSelector('#timeline li.tl-item');
    expect(await nav(direct.page)).toBe('Sessions');
    expect(await direct.page.getAttribute('#back-link', 'href')).toBe('#/sessions');
    await direct.context.close();
    await context.close();
  });

  it('"Run analysis" is disabled with the reason when analysis is off', async () => {
    const created = await api('/api/sessions', { participant: 'user_zoe', platform: 'superinterface' });
    const { context, page } = await open(`#/session/${created.session_id as string}`);
    await page.waitForSelector('#analysis-off');
    expect(await page.isDisabled('#run-analysis')).toBe(true);
    expect(await page.textContent('#analysis-off')).toContain('ANALYSIS_ENABLED=true');
    expect(await page.getAttribute('#run-analysis', 'title')).toContain('disabled');
    await context.close();
  });
});
