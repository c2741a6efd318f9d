/**
 * The edges of the Helped mark in the dashboard, against the real POST/DELETE
 * /api/attention/{id}/helped and GET /api/attention: answers that arrive out of order (a slow
 * read, another instructor's undo), the controls while the server cannot be reached, the session
 * page's Undo, and the note sent with a mark. Two instructors (INSTRUCTOR_TOKENS) as two people in
 * one room; the browser's requests are held or answered out of order with Playwright's routes.
 */
import type { Page, Route } from 'playwright-core';
import { expect, it } from 'vitest';
import { describeWithBrowser } from '../helpers/browser.js';
import { browserWorld } from '../helpers/browser-world.js';
import { testConfig } from '../helpers/deps.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { workshopRoom } from '../helpers/workshop-room.js';

const LEE = 'ta-token-ms-lee-edges-0123456789';
const KIM = 'ta-token-mr-kim-edges-0123456789';
const world = browserWorld({ config: testConfig({ INSTRUCTOR_TOKENS: `ms_lee:${LEE},mr_kim:${KIM}` }) });

/** A tab signed in as one instructor (their token in this tab's sessionStorage). */
async function openAs(token: string, hash: string, beforeGoto?: (p: Page) => unknown, o: { clock?: boolean; base?: string } = {}) {
  return world.open(hash, {
    ...o,
    signedIn: false,
    beforeGoto: async (p) => {
      await p.addInitScript((t) => sessionStorage.setItem('sessionlog.adminToken', t), token);
      await beforeGoto?.(p);
    },
  });
}

/** The view polls: the attention stream is refused (a proxy that does not pass streams). */
const noStream = (p: Page) =>
  p.route('**/api/attention/stream*', (route) =>
    route.fulfill({ status: 503, contentType: 'application/problem+json', body: JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'no streams here' }) }),
  );
const isAttentionRead = (url: URL) => url.pathname === '/api/attention';

const ranked = (page: Page) => page.locator('#needs-help-list li.help-row').evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.sessionId));
const beingHelped = (page: Page) => page.locator('#being-helped-list li.helped-row').evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.sessionId));

async function api(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${world.server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json() as Promise<Record<string, unknown>>;
}

/** Rita repeats one error on step 2; Sam had one error on step 3. Both are listed, Rita first. */
async function room() {
  const r = workshopRoom(world.server.url);
  const rita = r.student('Rita Moreno');
  const sam = r.student('Sam Obi');
  await r.post([...rita.walk(2, 2, 6), rita.error(3, 2), rita.error(2, 2), rita.error(1, 2), ...sam.walk(3, 2, 8), sam.error(1, 3, 'SyntaxError', 'Unexpected token')]);
  return { room: r, rita, sam };
}

describeWithBrowser('dashboard: the Helped mark at its edges', () => {
  it('Undo re-reads the list at once, and a slower read sent before the undo cannot bring back the old state', async () => {
    const { room: r, rita, sam } = await room();
    await api('POST', `/api/attention/${rita.token}/helped`, LEE);
    const { context, page } = await openAs(LEE, `#/now?workshop=${r.prefix}`, noStream);
    await expect.poll(() => beingHelped(page)).toEqual([rita.token]);
    expect(await ranked(page)).toEqual([sam.token]);

    // The next poll is read from the server now (Rita being helped) and answered only when released.
    let held!: () => void;
    const caught = new Promise<void>((resolve) => {
      held = resolve;
    });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let delivered!: () => void;
    const staleDelivered = new Promise<void>((resolve) => {
      delivered = resolve;
    });
    let holding = true;
    await page.route(isAttentionRead, async (route: Route) => {
      if (!holding) return route.continue();
      holding = false;
      const old = await route.fetch();
      held();
      await gate;
      await route.fulfill({ response: old });
      delivered();
    });
    await caught;

    // Undo while that poll is out: the answer to it must not be what the view ends with.
    await page.click(`#being-helped-list li[data-session-id="${rita.token}"] button.helped-undo`);
    // The undo's own re-read lists her again, without waiting for the held poll (or the next one).
    await expect.poll(() => ranked(page), { timeout: 4_000 }).toEqual([rita.token, sam.token]);
    expect(await beingHelped(page)).toEqual([]);

    // The held answer (Rita being helped, read before the undo) arrives last: it is older, ignored.
    release();
    await staleDelivered;
    await page.waitForTimeout(300);
    expect(await ranked(page)).toEqual([rita.token, sam.token]);
    expect(await beingHelped(page)).toEqual([]);
    expect(await page.textContent('#stat-help .stat-value')).toBe('2');
    await context.close();
  });

  it('another instructor undoes the mark while it is on its way: the re-read after the mark shows the student listed again', async () => {
    const { room: r, rita, sam } = await room();
    // Polling, with the page's clock stopped: no poll comes after the first unless the view asks.
    const { context, page } = await openAs(LEE, `#/now?workshop=${r.prefix}`, async (p) => {
      await p.clock.install();
      await noStream(p);
    });
    await expect.poll(() => ranked(page)).toEqual([rita.token, sam.token]);
    // Lee's mark reaches the server; before its answer reaches Lee's tab, Kim undoes it.
    await page.route('**/api/attention/*/helped', async (route) => {
      const answer = await route.fetch();
      await api('DELETE', `/api/attention/${rita.token}/helped`, KIM);
      await route.fulfill({ response: answer });
    });
    await page.click(`#needs-help-list li[data-session-id="${rita.token}"] button.help-done`);
    // The server's truth: Rita needs help, nobody is with her. Lee's tab must say so, and soon
    // (not after the 15 s a mark is held waiting for the server's document to show it).
    await expect.poll(() => ranked(page), { timeout: 4_000 }).toEqual([rita.token, sam.token]);
    expect(await beingHelped(page)).toEqual([]);
    await context.close();
  });

  it('"+ note" opens a small dialog: the note is sent with the mark, and one over the API\'s 500 characters says so and is not sent', async () => {
    const { room: r, rita, sam } = await room();
    const { context, page } = await openAs(LEE, `#/now?workshop=${r.prefix}`);
    await expect.poll(() => ranked(page)).toEqual([rita.token, sam.token]);
    const posts: string[] = [];
    page.on('request', (req) => {
      if (req.method() === 'POST' && req.url().includes('/helped')) posts.push(req.postData() ?? '');
    });
    const noteButton = page.locator(`#needs-help-list li[data-session-id="${rita.token}"] button.help-note`);
    expect(await noteButton.textContent()).toBe('+ note');
    expect(await noteButton.getAttribute('aria-label')).toBe('Mark Rita Moreno helped, with a note');
    expect(await noteButton.getAttribute('aria-haspopup')).toBe('dialog');

    // Opened: a modal dialog named for the student, the focus in its text box; Escape closes it, marking nobody.
    await noteButton.click();
    const dialog = page.getByRole('dialog', { name: 'Mark Rita Moreno helped' });
    await dialog.waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('note-text');
    expect(await page.textContent('#note-count')).toBe('0 / 500 characters');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.focusKey)).toBe(`note:${rita.token}`);
    expect(await ranked(page)).toEqual([rita.token, sam.token]);

    // Over the limit, counted as the server counts (an emoji is two): said, and not sent.
    await noteButton.click();
    await dialog.waitFor();
    await page.fill('#note-text', `${'x'.repeat(499)}😀`);
    expect(await page.textContent('#note-count')).toBe('501 / 500 characters');
    expect(await page.textContent('#note-error')).toBe('Too long by 1 character: the server keeps at most 500. Shorten it to send.');
    expect(await page.getAttribute('#note-text', 'aria-invalid')).toBe('true');
    expect(await page.getAttribute('#note-send', 'aria-disabled')).toBe('true');
    // aria-disabled keeps it focusable and clickable (Playwright's force: no actionability wait).
    await page.click('#note-send', { force: true });
    expect(await dialog.isVisible()).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('note-text');
    await page.fill('#note-text', 'x'.repeat(520));
    expect(await page.textContent('#note-error')).toBe('Too long by 20 characters: the server keeps at most 500. Shorten it to send.');
    expect(posts).toEqual([]);

    // Exactly the limit (498 letters and an emoji): sent with the mark, stored, and shown to everyone.
    const note = `${'x'.repeat(498)}😀`;
    await page.fill('#note-text', note);
    expect(await page.textContent('#note-count')).toBe('500 / 500 characters');
    expect(await page.textContent('#note-error')).toBe('');
    expect(await page.getAttribute('#note-send', 'aria-disabled')).toBe('false');
    await page.click('#note-send');
    await dialog.waitFor({ state: 'hidden' });
    expect(await ranked(page)).toEqual([sam.token]);
    await expect.poll(() => posts.length).toBe(1);
    expect(JSON.parse(posts[0] ?? '')).toEqual({ note });
    const a = (await (await fetch(`${world.server.url}/api/attention?workshop=${r.prefix}`, { headers: { authorization: `Bearer ${KIM}` } })).json()) as { helped: { session_id: string; by: string; note: string | null }[] };
    expect(a.helped.map((h) => [h.session_id, h.by, h.note])).toEqual([[rita.token, 'instructor:ms_lee', note]]);
    await expect.poll(() => page.textContent(`#being-helped-list li[data-session-id="${rita.token}"] .helped-note`)).toBe(note);
    // The keyboard moved on to the next student's Helped.
    expect(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.focusKey)).toBe(`helped:${sam.token}`);

    // A short note, typed: Sam's mark carries it too.
    await page.click(`#needs-help-list li[data-session-id="${sam.token}"] button.help-note`);
    await page.getByRole('dialog', { name: 'Mark Sam Obi helped' }).waitFor();
    await page.keyboard.type('  missing semicolon  ');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('note-send');
    await page.keyboard.press('Enter');
    await expect.poll(() => posts.length).toBe(2);
    expect(JSON.parse(posts[1] ?? '')).toEqual({ note: 'missing semicolon' });
    await expect.poll(() => page.textContent(`#being-helped-list li[data-session-id="${sam.token}"] .helped-note`)).toBe('missing semicolon');
    await context.close();
  });

  it('while the server cannot be reached, Helped, + note and Undo are aria-disabled, a line says why, and a click sends nothing; they come back with the server', async () => {
    const { room: r, rita, sam } = await room();
    await api('POST', `/api/attention/${sam.token}/helped`, KIM, { note: 'semicolon' });
    // The dashboard reaches the server through a proxy that can go down (every connection reset).
    const target = new URL(world.server.url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
    try {
      const { context, page } = await openAs(LEE, `#/now?workshop=${r.prefix}`, undefined, { clock: true, base: `http://${proxy.host}:${proxy.port}` });
      await expect.poll(() => ranked(page)).toEqual([rita.token]);
      await expect.poll(() => beingHelped(page)).toEqual([sam.token]);
      const controls = ['#needs-help-list button.help-done', '#needs-help-list button.help-note', '#being-helped-list button.helped-undo'];
      const offState = () => Promise.all(controls.map((c) => page.locator(c).evaluate((b) => [b.getAttribute('aria-disabled'), b.getAttribute('aria-describedby')])));
      expect(await offState()).toEqual([[null, null], [null, null], [null, null]]);
      expect(await page.isVisible('#help-offline')).toBe(false);
      const writes: string[] = [];
      page.on('request', (req) => {
        if (req.url().includes('/helped')) writes.push(`${req.method()} ${req.url()}`);
      });

      proxy.down();
      await page.waitForSelector('#now-live[data-state="error"]');
      // Each control says it does nothing now, and points at the line that says why.
      await expect.poll(offState).toEqual([['true', 'help-offline'], ['true', 'help-offline'], ['true', 'help-offline']]);
      expect(await page.isVisible('#help-offline')).toBe(true);
      expect(await page.textContent('#help-offline')).toBe('Helped, + note and Undo are off: the server cannot be reached, so a mark would not be stored. They come back when the server answers.');
      // Still reachable by keyboard, and named with their reason.
      await page.focus(`#needs-help-list li[data-session-id="${rita.token}"] button.help-done`);
      expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Mark Rita Moreno helped');
      await page.keyboard.press('Enter');
      await page.click(`#needs-help-list li[data-session-id="${rita.token}"] button.help-note`, { force: true });
      await page.click(`#being-helped-list li[data-session-id="${sam.token}"] button.helped-undo`, { force: true });
      // Nothing was sent, nothing moved, no dialog opened, and no "could not mark" either: it said why beforehand.
      expect(writes).toEqual([]);
      expect(await ranked(page)).toEqual([rita.token]);
      expect(await beingHelped(page)).toEqual([sam.token]);
      expect(await page.isVisible('#note-dialog')).toBe(false);
      expect(await page.locator('#help-problem .notice-error').count()).toBe(0);

      // The server is back: the next poll turns them on again, and a mark goes through.
      proxy.up();
      await page.clock.runFor(5_000);
      await page.waitForSelector('#now-live[data-state="live"]');
      await expect.poll(offState).toEqual([[null, null], [null, null], [null, null]]);
      expect(await page.isVisible('#help-offline')).toBe(false);
      await page.click(`#needs-help-list li[data-session-id="${rita.token}"] button.help-done`);
      await expect.poll(() => writes.length).toBe(1);
      await expect.poll(() => beingHelped(page)).toEqual([rita.token, sam.token]);
      await context.close();
    } finally {
      await proxy.close();
    }
  });

  it('a browser that goes offline turns the controls off, saying so', async () => {
    const { room: r, rita } = await room();
    const { context, page } = await openAs(LEE, `#/now?workshop=${r.prefix}`);
    await expect.poll(() => ranked(page)).toEqual([rita.token, expect.any(String)]);
    await context.setOffline(true);
    await expect.poll(() => page.getAttribute(`#needs-help-list li[data-session-id="${rita.token}"] button.help-done`, 'aria-disabled')).toBe('true');
    expect(await page.textContent('#help-offline')).toBe('Helped, + note and Undo are off: this browser is offline, so a mark would not be stored. They come back when the server answers.');
    await context.setOffline(false);
    await expect.poll(() => page.getAttribute(`#needs-help-list li[data-session-id="${rita.token}"] button.help-done`, 'aria-disabled'), { timeout: 20_000 }).toBe(null);
    await context.close();
  });

  it('the session page\'s flag card: Mark helped, then who marked it with Undo; Undo takes the real mark back and the reasons return; another instructor\'s mark can be undone there too', async () => {
    const { room: r, rita } = await room();
    const { context, page } = await openAs(KIM, `#/session/${rita.token}`);
    await page.waitForSelector('#session-flag:not([hidden]) #mark-helped');
    await page.click('#mark-helped');
    await page.waitForSelector('#session-flag #flag-helped');
    expect(await page.textContent('#flag-helped-by')).toBe('marked by mr_kim · just now');
    const undo = page.locator('#session-flag #flag-undo');
    expect(await undo.textContent()).toBe('Undo');
    expect(await undo.getAttribute('aria-label')).toBe('Undo the helped mark by mr_kim');
    const helpedNow = async () => {
      const res = await fetch(`${world.server.url}/api/attention?workshop=${r.prefix}`, { headers: { authorization: `Bearer ${LEE}` } });
      const a = (await res.json()) as { students: { session_id: string; helped?: { by: string } | null }[]; helped: { session_id: string; by: string }[] };
      return { listed: a.students.map((s) => s.session_id).includes(rita.token), helped: a.helped.map((h) => `${h.session_id} ${h.by}`) };
    };
    expect(await helpedNow()).toEqual({ listed: false, helped: [`${rita.token} instructor:mr_kim`] });

    // A refused undo keeps the card and says why.
    await page.route('**/api/attention/*/helped', (route) =>
      route.request().method() === 'DELETE'
        ? route.fulfill({ status: 503, contentType: 'application/problem+json', body: JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'the database is not reachable; try again shortly' }) })
        : route.continue(),
    );
    await undo.click();
    await page.waitForSelector('#session-flag .notice-error');
    expect(await page.textContent('#session-flag .notice-error')).toBe('Could not undo the mark: the database is not reachable; try again shortly');
    expect(await page.isEnabled('#flag-undo')).toBe(true);
    expect((await helpedNow()).helped).toEqual([`${rita.token} instructor:mr_kim`]);
    await page.unroute('**/api/attention/*/helped');

    // Undo, for real: the server has no mark, and the card shows why she is listed again, with Mark helped.
    await undo.click();
    await page.waitForSelector('#session-flag:not([hidden]) #mark-helped');
    expect(await helpedNow()).toEqual({ listed: true, helped: [] });
    expect(await page.locator('#session-flag #flag-helped').count()).toBe(0);
    expect(await page.locator('#session-flag .flag-reasons li').count()).toBeGreaterThan(0);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('mark-helped');

    // Another instructor marks her: the card (re-read when the mark's event reaches the timeline) says who, and Undo takes that mark back too.
    await api('POST', `/api/attention/${rita.token}/helped`, LEE, { note: 'restarted the kernel' });
    await page.waitForSelector('#session-flag #flag-helped', { timeout: 20_000 });
    expect(await page.textContent('#flag-helped-by')).toBe('marked by ms_lee · just now');
    expect(await page.textContent('#session-flag .flag-note')).toBe('restarted the kernel');
    await page.click('#flag-undo');
    await page.waitForSelector('#session-flag:not([hidden]) #mark-helped');
    expect(await helpedNow()).toEqual({ listed: true, helped: [] });
    await context.close();
  });
});
