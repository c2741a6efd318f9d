/**
 * The dashboard updating by itself: the open session's live tail (GET /api/sessions/{id}/stream;
 * polling …/events?after_seq= only when the stream fails) with its pause button, and the "Active now" list's refresh. Events are posted
 * through the API while the page is open.
 *
 * Proving that a PAUSED page does not update needs time to pass without a fixed sleep: the page
 * runs on Playwright's clock, which flows normally until `runFor` fast-forwards it, firing every
 * timer that would have fired in that span at once.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { describeWithBrowser } from '../helpers/browser.js';
import { browserWorld } from '../helpers/browser-world.js';
import { admin, testConfig } from '../helpers/deps.js';
import { freshStudent, webCall } from '../fixtures/vapi/calls.js';

const SERVICE_TOKEN = 'svc';
const world = browserWorld({ config: testConfig({ SERVICE_TOKEN }) });
const call = (path: string, body: unknown, auth = true) => world.post(path, body, auth ? SERVICE_TOKEN : null);

/** The write token each sitting was opened with: a page needs it to post into the sitting. */
const writeTokens = new Map<string, string>();

/** A page's event in the session's log (the session id doubles as the event log's token). */
const logEvent = async (sessionToken: string, actionName: string, timestamp?: string) =>
  (await call('/api/session-log', { sessionToken, writeToken: writeTokens.get(sessionToken), eventType: 'action', eventData: { actionName }, ...(timestamp ? { timestamp } : {}) }, false))
    .eventId as string;

const startSession = async (student: string) => {
  const opened = await call('/api/sessions/interactions', { student_id: student, function: 'get-student-context', platform: 'mcp' });
  writeTokens.set(String(opened.session_id), String(opened.write_token));
  return opened.session_id as string;
};

/** A signed-in tab on Playwright's clock; `tails` counts the live-tail requests it made. */
async function open(hash: string): Promise<{ context: BrowserContext; page: Page; tails: string[] }> {
  const tab = await world.open(hash, { csp: false, clock: true, record: (url) => url.includes('/api/') && (url.includes('after_seq=') || url.includes('/stream')) });
  return { ...tab, tails: tab.requests };
}

const item = (page: Page, eventId: string) => page.locator(`#timeline li[data-event-id="${eventId}"]`);
/** The timeline's event ids in DOM order (what screen readers read and Tab follows). */
const order = (page: Page) => page.locator('#timeline li.tl-item').evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.eventId));
const polls = async (page: Page) => Number(await page.getAttribute('.live', 'data-polls'));

describeWithBrowser('dashboard live updates', () => {
  it('the open session shows events posted after it opened, in time order; "Pause" stops updates and "Resume" catches up', async () => {
    const id = await startSession('tail_student');
    const first = await logEvent(id, 'opened-the-editor');
    const { context, page, tails } = await open(`#/session/${id}`);
    await item(page, first).waitFor();
    await page.waitForSelector('.live[data-state="live"]');

    // Posted after the page opened: it appears by itself, marked new, on top (a live session
    // reads newest first), in the DOM too: screen readers and Tab read it first.
    expect(await page.getAttribute('#newest-first', 'aria-pressed')).toBe('true');
    const live = await logEvent(id, 'ran-the-tests');
    await item(page, live).waitFor();
    expect(await item(page, live).getAttribute('class')).toContain('tl-new');
    expect((await order(page))[0]).toBe(live);
    // Pushed through the session's stream: no polling request at all.
    expect(tails.filter((u) => !u.includes(`/api/sessions/${id}/stream`))).toEqual([]);

    // A late event (the page's clock was behind) arrives last but belongs earlier: it is placed
    // by its time, not on top.
    const late = await logEvent(id, 'late-arrival', new Date(Date.now() - 60_000).toISOString());
    await page.clock.runFor(3_000);
    await item(page, late).waitFor();
    const newestFirst = await order(page);
    expect(newestFirst[0]).toBe(live);
    expect(newestFirst.indexOf(late)).toBeGreaterThan(newestFirst.indexOf(first));
    const times = await page.locator('#timeline time').evaluateAll((ts) => ts.map((t) => Date.parse(t.getAttribute('datetime') ?? '')));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    // Oldest first: the same rows, turned round; a live event then lands at the end.
    await page.click('#newest-first');
    expect(await order(page)).toEqual([...newestFirst].reverse());
    const next = await logEvent(id, 'ran-them-again');
    await page.clock.runFor(3_000);
    await item(page, next).waitFor();
    expect(await order(page)).toEqual([...newestFirst].reverse().concat(next));
    await page.click('#newest-first');
    expect(await order(page)).toEqual([next, ...newestFirst]);

    // Paused: a minute of page time passes, no request goes out and nothing new shows.
    await page.click('#live-toggle');
    expect(await page.textContent('#live-toggle')).toBe('Resume');
    await page.waitForSelector('.live[data-state="paused"]');
    const pollsAtPause = await polls(page);
    const requestsAtPause = tails.length;
    const whilePaused = await logEvent(id, 'while-paused');
    await page.clock.runFor(60_000);
    expect(await polls(page)).toBe(pollsAtPause);
    expect(tails.length).toBe(requestsAtPause);
    expect(await item(page, whilePaused).count()).toBe(0);

    // Resume: the tail picks up from where it stopped, so nothing posted meanwhile is lost.
    await page.click('#live-toggle');
    await item(page, whilePaused).waitFor();
    expect(await page.textContent('#live-toggle')).toBe('Pause');
    expect(await page.locator('#timeline li.tl-item').count()).toBe(new Set(await page.locator('#timeline li.tl-item').evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.eventId))).size);
    await context.close();
  });

  it('a call\'s end-of-call report replaces its live transcript turns in place, newest first', async () => {
    const student = freshStudent('live_call');
    const c = webCall({ startedAt: new Date(Date.now() - 120_000), metadata: { studentId: student } });
    const vapi = (message: unknown) => call('/api/webhooks/vapi', message);
    await vapi(c.status('in-progress', 1));
    await vapi(c.transcript('user', 'hi, my code crashes', 10));
    await vapi(c.transcript('assistant', 'What does the error say?', 20));
    const listed = (await (await fetch(`${world.server.url}/api/sessions?student_id=${student}`, { headers: admin })).json()) as { sessions: Array<{ session_id: string }> };
    const id = listed.sessions[0]?.session_id ?? '';
    const { context, page } = await open(`#/session/${id}`);
    await page.waitForSelector('.live[data-state="live"]');
    const turns = () => page.locator('#timeline li[data-type="transcript"]').evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.eventId));
    const live = await turns();
    expect(live).toHaveLength(2);

    await vapi(
      c.report({
        turns: [
          { role: 'user', text: 'hi, my code crashes', at: 10 },
          { role: 'bot', text: 'What does the error say?', at: 20 },
          { role: 'user', text: 'It cannot read map of undefined', at: 30 },
        ],
        endAt: 40,
      }),
    );
    await page.clock.runFor(3_000);
    await page.waitForSelector('#timeline li[data-type="session_ended"]');
    await expect.poll(async () => (await turns()).length).toBe(3);
    expect((await turns()).filter((t) => live.includes(t))).toEqual([]);
    // Still newest first, on screen and in the DOM: the call's end on top, its turns below it.
    expect(await page.getAttribute(`#timeline li[data-event-id="${(await order(page))[0]}"]`, 'data-type')).toBe('session_ended');
    const times = await page.locator('#timeline time').evaluateAll((ts) => ts.map((t) => Date.parse(t.getAttribute('datetime') ?? '')));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    await context.close();
  });

  it('leaving the session stops its tail', async () => {
    const id = await startSession('leaver');
    const { context, page, tails } = await open(`#/session/${id}`);
    await page.waitForSelector('.live[data-state="live"]');
    await page.evaluate(() => {
      location.hash = '#/search';
    });
    await page.waitForSelector('#search-form');
    const before = tails.length;
    await page.clock.runFor(60_000);
    expect(tails.length).toBe(before);
    await context.close();
  });

  it('"Active now" refreshes by itself', async () => {
    // The page's clock stands still from the start, so its 10 s refresh fires only in runFor
    // below: on a flowing clock a slow machine could refresh before the "not listed yet" check.
    const { context, page } = await world.open('#/sessions', { csp: false, clock: true, beforeGoto: (p) => p.clock.pauseAt(Date.now() + 1_000) });
    await page.waitForSelector('#active-updated:not(:empty)');
    const id = await startSession('late_joiner');
    expect(await page.locator(`#active-sessions tr[data-session-id="${id}"]`).count()).toBe(0);
    // The next refresh (every 10 s) brings the new session in.
    await page.clock.runFor(10_000);
    await page.waitForSelector(`#active-sessions tr[data-session-id="${id}"]`);
    await context.close();
  });
});
