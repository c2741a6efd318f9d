/**
 * The Now view (#/now, the landing page) against the real GET /api/attention and GET /api/alerts,
 * with workshops seeded through real POSTs to /api/session-log: who needs help, ranked; the step
 * bars with the stuck marked; the top errors; today's alerts; a click opens the student's session; it updates by
 * itself and stops when left; a 200-student room stays readable on a laptop and a phone
 * (screenshots in docs/screenshots/now-*.png).
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { describeWithBrowser } from '../helpers/browser.js';
import { browserWorld } from '../helpers/browser-world.js';
import { admin, testConfig } from '../helpers/deps.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { type PageEvent, workshopRoom } from '../helpers/workshop-room.js';

const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

// A teaching assistant's token: the screenshots show a student being helped by someone.
const TA = 'ta-token-ms-lee-0123456789';
const world = browserWorld({ config: testConfig({ INSTRUCTOR_TOKENS: `ms_lee:${TA}` }) });

beforeAll(() => {
  mkdirSync(SHOTS, { recursive: true });
});

async function open(hash: string, { viewport = { width: 1280, height: 800 }, clock = false, base }: { viewport?: { width: number; height: number }; clock?: boolean; base?: string } = {}): Promise<{ context: BrowserContext; page: Page; polls: string[] }> {
  const tab = await world.open(hash, { viewport, clock, base, record: (url) => url.includes('/api/attention') });
  return { ...tab, polls: tab.requests };
}

const ranked = (page: Page) => page.locator('#needs-help-list li.help-row').evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.sessionId));
const bars = (page: Page) =>
  page.locator('#step-bars li.step-row').evaluateAll((lis) => lis.map((li) => [(li as HTMLElement).dataset.step, Number((li as HTMLElement).dataset.students), Number((li as HTMLElement).dataset.stuck)]));

/**
 * Seven students: four pass steps 1–2 in 3 minutes each and work on step 3; Rita hits the same
 * error three times on step 2 and is still there; Sam has been on step 2 for 15 minutes (5× the
 * median) without an error; Olga had one error 8 minutes ago and has been silent since.
 */
async function smallRoom() {
  const room = workshopRoom(world.server.url);
  const cohort = ['Ann Lee', 'Ben Ode', 'Cat Roy', 'Dan Wu'].map((n) => room.student(n));
  const rita = room.student('Rita Moreno');
  const sam = room.student('Sam Obi');
  const olga = room.student('Olga Berg');
  await room.post([
    ...cohort.flatMap((s) => [...s.walk(3, 3, 9), s.action(1, 3)]),
    ...rita.walk(2, 2, 6),
    rita.error(3, 2),
    rita.error(2, 2),
    rita.error(1, 2),
    ...sam.walk(2, 1, 16),
    sam.action(8, 2),
    sam.action(1, 2),
    ...olga.walk(3, 2, 13),
    olga.error(8, 3, 'NetworkError', 'fetch failed'),
  ]);
  // Alerts are evaluated after the ingest response: let that work finish.
  await world.server.deps.settle();
  return { room, rita, sam, olga, cohort };
}

describeWithBrowser('dashboard Now view', () => {
  it('is the landing page: ranked needs-help list, step bars with the stuck marked, top errors; a row opens the session', async () => {
    const { room, rita, sam, olga, cohort } = await smallRoom();
    const { context, page } = await open('');
    // No hash: the Now view, highlighted in the nav.
    await page.waitForSelector('#needs-help');
    expect(await page.locator('#nav a[aria-current="page"]').textContent()).toBe('Now');
    // One workshop: the prefix filter lives in the link.
    await page.fill('#now-filter input[name=workshop]', room.prefix);
    await page.click('#now-filter button[type=submit]');
    await expect.poll(() => page.evaluate(() => location.hash)).toBe(`#/now?workshop=${room.prefix}`);
    // This room is the only one yet, so the unfiltered view ranks the same three: wait for the
    // view the hashchange renders (its input carries the prefix as its attribute; the old one's
    // was only typed into), or the reads below could land in between, on a view still loading.
    await page.waitForSelector(`#now-filter input[name=workshop][value="${room.prefix}"]`);
    await expect.poll(() => ranked(page)).toEqual([rita.token, sam.token, olga.token]);
    expect(await page.textContent('#stat-active .stat-value')).toBe('7');
    expect(await page.textContent('#stat-help .stat-value')).toBe('3');
    // The tab's title carries the count, for a tab in the background.
    expect(await page.title()).toBe('(3) Sessionlog · Now');

    // Each row: who, where, why, since when.
    const first = page.locator(`#needs-help-list li[data-session-id="${rita.token}"]`);
    expect(await first.locator('.help-name').textContent()).toBe('Rita Moreno');
    expect(await first.locator('.help-step').textContent()).toBe('Step 2 · Install the SDK');
    expect(await first.locator('[data-reason]').evaluateAll((ts) => ts.map((t) => (t as HTMLElement).dataset.reason))).toEqual(['repeated_error', 'recent_errors']);
    expect(await first.locator('.tag').first().textContent()).toBe('same error ×3');
    expect(await first.locator('.help-message').textContent()).toContain("TypeError: Cannot read properties of undefined (reading 'map')");
    expect(await first.locator('.help-since').textContent()).toBe('for 3m');
    expect(await first.getAttribute('class')).toContain('sev-high');
    const stuck = page.locator(`#needs-help-list li[data-session-id="${sam.token}"]`);
    expect(await stuck.locator('[data-reason]').evaluateAll((ts) => ts.map((t) => (t as HTMLElement).dataset.reason))).toEqual(['stuck']);
    expect(await stuck.locator('.help-since').textContent()).toBe('for 15m');

    // The cohort: nobody left on step 1, Rita and Sam on step 2 (Sam stuck), five on step 3.
    expect(await bars(page)).toEqual([
      ['1', 0, 0],
      ['2', 2, 1],
      ['3', 5, 0],
    ]);
    const step2 = page.locator('#step-bars li[data-step="2"]');
    expect(await step2.getAttribute('class')).toContain('has-stuck');
    expect(await step2.locator('.step-name').textContent()).toBe('2 · Install the SDK');
    expect(await step2.locator('.step-count').textContent()).toBe('2 · 1 stuck');
    expect(await step2.locator('.step-median').textContent()).toBe('median 3m');
    expect(await step2.locator('rect.step-bar-stuck').count()).toBe(1);
    expect(await page.locator('#step-bars li[data-step="3"] rect.step-bar-stuck').count()).toBe(0);
    // A step's name narrows the needs-help list to that step (a link, so it can be shared), and back.
    await step2.locator('a.step-name').click();
    await expect.poll(() => page.evaluate(() => location.hash)).toBe(`#/now?workshop=${room.prefix}&step=2`);
    await page.waitForSelector('#step-bars li.is-selected[data-step="2"]');
    await expect.poll(() => ranked(page)).toEqual([rita.token, sam.token]);
    expect(await page.textContent('#needs-help-count')).toBe('2 on step 2 · Install the SDK · all steps');
    await page.click('#all-steps');
    await page.waitForSelector(`#needs-help-list li[data-session-id="${olga.token}"]`);
    expect(await page.evaluate(() => location.hash)).toBe(`#/now?workshop=${room.prefix}`);
    expect(await page.locator('#step-bars li.is-selected').count()).toBe(0);
    // Bar lengths follow the counts: step 3 (5 students) is the longest, step 2 two fifths of it.
    const okWidth = async (step: string) => Number(await page.getAttribute(`#step-bars li[data-step="${step}"] rect.step-bar-ok`, 'width'));
    const stuckWidth = Number(await step2.locator('rect.step-bar-stuck').getAttribute('width'));
    expect(await okWidth('3')).toBe(100);
    expect((await okWidth('2')) + stuckWidth).toBeCloseTo(40, 5);

    // The errors of the last 15 minutes, most students first.
    const errors = await page.locator('#now-errors-list li.now-error').evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.errorType));
    expect(errors).toEqual(['TypeError', 'NetworkError']);
    expect(await page.textContent('#now-errors-list li[data-error-type="TypeError"] .now-error-students')).toBe('1 student');

    // Today's alerts (raised after ingest): Rita's repeated error, a link to her session.
    const alert = page.locator('#alerts-list li[data-rule="repeated_error"]');
    await alert.waitFor();
    expect(await alert.locator('.alert-title').textContent()).toContain('hit the same error 3×');
    expect(await alert.locator('.alert-title a').getAttribute('href')).toBe(`#/session/${rita.token}`);
    // No webhook on this server: said once under the list, not "sent" (nor on every row).
    expect(await alert.locator('.alert-delivery').count()).toBe(0);
    expect(await page.textContent('#alerts-unsent')).toContain('set ALERT_WEBHOOK_URL');

    // A click on a row opens that student's session; the nav and the back link say where from.
    await first.locator('a.help-link').click();
    await page.waitForSelector('#timeline li[data-type="error"]');
    expect(await page.evaluate(() => location.hash)).toBe(`#/session/${rita.token}`);
    expect(await page.textContent('#session-student')).toBe('Rita Moreno');
    expect(await page.locator('#nav a[aria-current="page"]').textContent()).toBe('Now');
    expect(await page.textContent('#back-link')).toBe('← Now');
    // The session says again why she is listed, above the errors behind it.
    await page.waitForSelector('#session-flag:not([hidden])');
    expect(await page.locator('#session-flag .tag').evaluateAll((ts) => ts.map((t) => t.textContent))).toEqual(['same error ×3', '3 recent errors']);
    expect(await page.locator('#session-flag .flag-reasons li').first().textContent()).toContain("TypeError: Cannot read properties of undefined (reading 'map')");
    expect(await page.textContent('#session-flag time')).toBe('for 3m');
    await page.screenshot({ path: `${SHOTS}session-flagged-desktop.png` });
    await page.click('#back-link');
    await page.waitForSelector('#needs-help-list');
    expect(await page.evaluate(() => location.hash)).toBe(`#/now?workshop=${room.prefix}`);
    // Stuck is measured against the room, as on the Now view: Sam's session says so too.
    await stuck.locator('a.help-link').click();
    await page.waitForSelector('#session-flag:not([hidden])');
    expect(await page.locator('#session-flag .tag').allTextContents()).toEqual(['stuck']);
    await page.click('#back-link');
    await page.waitForSelector('#needs-help-list');
    // A student the Now view does not list gets no flag.
    const [calm] = cohort as [(typeof cohort)[number]];
    // (Read in the room the instructor came from, as the Now view reads it.)
    const asked = page.waitForResponse((r) => r.url().includes(`/api/attention?workshop=${room.prefix}`));
    await page.evaluate((t) => {
      location.hash = `#/session/${t}`;
    }, calm.token);
    await page.waitForSelector('#timeline li[data-type="action"]');
    expect((await asked).status()).toBe(200);
    expect(await page.locator('#session-flag').isHidden()).toBe(true);
    await context.close();
  });

  it('an error type opens exactly its errors of the last 15 minutes, of the view\'s workshop when it has one', async () => {
    const room = workshopRoom(world.server.url);
    const other = workshopRoom(world.server.url);
    const ana = room.student('Ana Diaz');
    const bo = room.student('Bo Lind');
    const cy = other.student('Cy Park');
    await room.post([
      ana.action(25, 2),
      ana.error(20, 2), // before the window
      ana.error(4, 2),
      ana.error(2, 2, 'NetworkError', 'fetch failed'),
      ana.error(1, 2),
      bo.action(6, 2),
      bo.error(3, 2),
    ]);
    await other.post([cy.action(5, 2), cy.error(2, 2)]);
    const inRoom = [ana.token, bo.token, ana.token]; // newest first
    /** The search's rows, top to bottom: whose, and what each says. */
    const found = (page: Page) =>
      page.locator('#search-results tr.event-row').evaluateAll((trs) =>
        trs.map((tr) => ({ token: tr.querySelector('td[data-label="Session"] a')?.textContent, type: (tr as HTMLElement).dataset.type, text: tr.querySelector('.tl-text')?.textContent })),
      );

    const { context, page } = await open(`#/now?workshop=${room.prefix}`);
    const typeError = page.locator('#now-errors-list li[data-error-type="TypeError"] a.error-type');
    await typeError.waitFor();
    expect(await page.textContent('#now-errors-list li[data-error-type="TypeError"] .now-error-students')).toBe('2 students');
    await typeError.click();
    await page.waitForSelector('#search-results tr.event-row');
    const params = new URLSearchParams((await page.evaluate(() => location.hash)).split('?')[1]);
    expect(params.get('errorType')).toBe('TypeError');
    expect(await page.inputValue('#search-form input[name=errorType]')).toBe('TypeError');
    // Only TypeErrors: not the room's NetworkError, nor the one from 20 minutes ago.
    const rows = await found(page);
    expect(rows.every((r) => r.type === 'error' && r.text?.startsWith('TypeError:'))).toBe(true);
    // Of this room only (the view's workshop rides along), newest first.
    expect(params.get('workshop')).toBe(room.prefix);
    expect(await page.inputValue('#search-form input[name=workshop]')).toBe(room.prefix);
    expect(rows.map((r) => r.token)).toEqual(inRoom);
    await context.close();
  });

  it('a refused token on the landing page goes back to the sign-in form, saying so (it used to stay on "Loading…")', async () => {
    const { context, page } = await world.open('#/now', { signedIn: false, beforeGoto: (p) => p.addInitScript(() => sessionStorage.setItem('sessionlog.adminToken', 'not-the-token')) });
    await page.waitForSelector('#login:not([hidden])');
    expect(await page.textContent('#token-message')).toContain('refused the admin token (401)');
    expect(await page.evaluate(() => sessionStorage.getItem('sessionlog.adminToken'))).toBeNull();
    await context.close();
  });

  it('a workshop prefix no active session has says so, rather than "nobody needs help"', async () => {
    await smallRoom();
    const { context, page } = await open('#/now?workshop=ws_nosuch_');
    await expect.poll(() => page.textContent('#needs-help .help-body'), { timeout: 15_000 }).toContain('No active session\'s token starts with "ws_nosuch_"');
    expect(await page.textContent('#stat-active .stat-value')).toBe('0');
    await expect.poll(() => page.locator('#now-alerts li').count()).toBe(0);
    await context.close();
  });

  it('updates by itself every few seconds, and stops when the instructor leaves the view', async () => {
    const room = workshopRoom(world.server.url);
    const calm = room.student('Calm Carla');
    await room.post([...calm.walk(2, 2, 5), calm.action(0.5, 2)]);
    const { context, page, polls } = await open(`#/now?workshop=${room.prefix}`, { clock: true });
    await page.waitForSelector('#needs-help .notice-ok');
    expect(await page.textContent('#needs-help .notice-ok')).toBe('Nobody needs help right now.');
    expect(await page.title()).toBe('Sessionlog · Now');
    const late = room.student('Late Leo');
    // Checked before his events exist: once they are posted, the update that brings him in may
    // come at any moment (the attention stream pushes as soon as the server's next read sees them).
    expect(await page.locator(`#needs-help-list li[data-session-id="${late.token}"]`).count()).toBe(0);

    // A student starts failing: the next update (pushed, or the 5 s poll) brings them in without a reload.
    await room.post([late.action(3, 1), late.error(1, 1, 'SyntaxError', 'Unexpected token'), late.error(0.5, 1, 'SyntaxError', 'Unexpected token'), late.error(0.2, 1, 'SyntaxError', 'Unexpected token')]);
    await page.clock.runFor(5_000);
    await page.waitForSelector(`#needs-help-list li[data-session-id="${late.token}"]`);
    await page.waitForSelector('#now-errors-list li[data-error-type="SyntaxError"]');
    expect(await page.title()).toBe('(1) Sessionlog · Now');

    // Gone to another view: a minute passes with no request.
    await page.evaluate(() => {
      location.hash = '#/search';
    });
    await page.waitForSelector('#search-form');
    const before = polls.length;
    await page.clock.runFor(60_000);
    expect(polls.length).toBe(before);
    await context.close();
  });

  it('"Notify me": a student who newly needs help while the tab is not in view is a desktop notification, and a click opens their session', async () => {
    const room = workshopRoom(world.server.url);
    const rita = room.student('Rita Moreno');
    await room.post([...rita.walk(2, 2, 6), rita.error(3, 2), rita.error(2, 2), rita.error(1, 2)]);
    // The browser's side: notifications allowed, and another window has the focus. Each
    // notification made is recorded (a stand-in for the desktop's, which headless Chromium lacks).
    const { context, page } = await world.open(`#/now?workshop=${room.prefix}`, {
      beforeGoto: (p) =>
        p.addInitScript(() => {
          const made: { title: string; body: string; click: () => void }[] = [];
          (window as unknown as { made: typeof made }).made = made;
          class FakeNotification extends EventTarget {
            static permission = 'default';
            static async requestPermission() {
              FakeNotification.permission = 'granted';
              return 'granted';
            }
            constructor(title: string, o: { body?: string } = {}) {
              super();
              made.push({ title, body: o.body ?? '', click: () => this.dispatchEvent(new Event('click')) });
            }
            close() {}
          }
          Object.defineProperty(window, 'Notification', { value: FakeNotification });
          document.hasFocus = () => false;
        }),
    });
    const made = () => page.evaluate(() => (window as unknown as { made: { title: string; body: string }[] }).made.map(({ title, body }) => ({ title, body })));
    await page.waitForSelector(`#needs-help-list li[data-session-id="${rita.token}"]`);
    expect(await page.textContent('#notify-toggle')).toBe('Notify me');
    await page.click('#notify-toggle');
    await expect.poll(() => page.textContent('#notify-toggle')).toBe('Notifying · turn off');
    expect(await page.getAttribute('#notify-toggle', 'aria-pressed')).toBe('true');
    // Rita was already listed: no notification for her.
    expect(await made()).toEqual([]);

    const late = room.student('Late Leo');
    await room.post([late.action(3, 1), late.error(1, 1, 'SyntaxError', 'Unexpected token'), late.error(0.5, 1, 'SyntaxError', 'Unexpected token'), late.error(0.2, 1, 'SyntaxError', 'Unexpected token')]);
    await expect.poll(made, { timeout: 20_000 }).toEqual([{ title: 'Late Leo needs help', body: expect.stringContaining('SyntaxError: Unexpected token') }]);
    await page.evaluate(() => (window as unknown as { made: { click: () => void }[] }).made[0]?.click());
    await expect.poll(() => page.evaluate(() => location.hash)).toBe(`#/session/${late.token}`);
    // The choice is kept in this browser.
    expect(await page.evaluate(() => localStorage.getItem('sessionlog.notify'))).toBe('1');
    await context.close();
  });

  it('an outage keeps the last picture on screen, greyed and marked as not live; once the server is back it updates and streams again', async () => {
    const room = workshopRoom(world.server.url);
    const rita = room.student('Rita Moreno');
    await room.post([...rita.walk(2, 2, 6), rita.error(3, 2), rita.error(2, 2), rita.error(1, 2)]);
    // The dashboard reaches the server through a proxy that can go down (every connection reset,
    // the open stream too) while the server itself, and the students' posts, go on.
    const target = new URL(world.server.url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
    try {
      const { context, page } = await open(`#/now?workshop=${room.prefix}`, { clock: true, base: `http://${proxy.host}:${proxy.port}` });
      await page.waitForSelector(`#needs-help-list li[data-session-id="${rita.token}"]`);
      await page.waitForFunction(() => document.querySelector<HTMLElement>('#now-live')?.dataset.mode === 'stream');

      proxy.down();
      await page.waitForSelector('#now-live[data-state="error"]');
      await page.waitForSelector('#now-grid.stale');
      expect(await page.textContent('#now-updated')).toMatch(/^Not updating \(server unreachable\) · showing /);
      // What the instructor last saw is still there: who was struggling, the bars, the errors.
      expect(await ranked(page)).toEqual([rita.token]);
      expect(await page.locator('#step-bars li.step-row').count()).toBeGreaterThan(0);
      expect(await page.locator('#needs-help .notice-error').count()).toBe(0);
      // Helped and + note are off meanwhile, saying why (dashboard-helped-edges.test.ts).
      await page.waitForSelector('#help-offline:not([hidden])');
      await page.screenshot({ path: `${SHOTS}now-outage-desktop.png`, fullPage: true });
      await page.clock.runFor(5_000);
      await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('#now-live')?.dataset.polls) >= 3);
      expect(await ranked(page)).toEqual([rita.token]);
      expect(await page.getAttribute('#now-live', 'data-state')).toBe('error');

      // Meanwhile a student starts failing; the server comes back.
      const late = room.student('Late Leo');
      await room.post([late.action(3, 1), late.error(1, 1, 'SyntaxError', 'Unexpected token'), late.error(0.5, 1, 'SyntaxError', 'Unexpected token'), late.error(0.2, 1, 'SyntaxError', 'Unexpected token')]);
      proxy.up();
      await page.clock.runFor(5_000);
      await page.waitForSelector(`#needs-help-list li[data-session-id="${late.token}"]`);
      await page.waitForSelector('#now-live[data-state="live"]');
      expect(await page.locator('#now-grid.stale').count()).toBe(0);
      // Not left polling: the stream is tried again and taken up.
      await page.clock.runFor(10_000);
      await page.waitForFunction(() => document.querySelector<HTMLElement>('#now-live')?.dataset.mode === 'stream');
      await expect.poll(() => page.textContent('#now-updated')).toMatch(/^Live · streaming · updated /);
      await context.close();
    } finally {
      await proxy.close();
    }
  });

  it('a 200-student workshop stays readable on a laptop and a phone, one student being helped (docs/screenshots/now-*.png)', async () => {
    const room = workshopRoom(world.server.url);
    const events: PageEvent[] = [];
    const students = Array.from({ length: 200 }, (_, i) => room.student(`Student ${String(i + 1).padStart(3, '0')}`));
    for (const [i, s] of students.entries()) {
      if (i < 8) {
        // Stuck on step 3 for 25 minutes; the others took 3 to 5 minutes there.
        events.push(...s.walk(3, 3, 31), s.action(1, 3));
      } else if (i < 11) {
        events.push(...s.walk(2, 3, 9), s.error(5, 2, 'ImportError', "No module named 'sessionlog'"), s.error(3, 2, 'ImportError', "No module named 'sessionlog'"), s.error(1, 2, 'ImportError', "No module named 'sessionlog'"));
      } else if (i < 25) {
        // A broken step: many students hit the same error once on step 4.
        events.push(...s.walk(4, 3, 14), s.error(2 + (i % 3), 4), s.action(0.5, 4));
      } else {
        const last = 1 + (i % 6);
        const minutes = 3 + (i % 3);
        events.push(...s.walk(last, minutes, last * minutes + 1), s.action(0.5, last));
      }
    }
    await room.post(events);
    await world.server.deps.settle();
    // A teaching assistant is with one of the students who kept hitting the ImportError.
    const helped = students[10] as (typeof students)[number];
    const res = await fetch(`${world.server.url}/api/attention/${helped.token}/helped`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TA}`, 'content-type': 'application/json' },
      body: JSON.stringify({ note: 'pip install -e . in the repo root' }),
    });
    expect(res.status).toBe(200);

    for (const [device, viewport] of [
      ['desktop', { width: 1280, height: 800 }],
      ['phone', { width: 390, height: 844 }],
    ] as const) {
      const { context, page } = await open(`#/now?workshop=${room.prefix}`, { viewport });
      await page.waitForSelector('#needs-help-list li.help-row');
      await page.waitForSelector('#step-bars');
      expect(await page.textContent('#stat-active .stat-value')).toBe('200');
      // Ranked: the stuck and the repeating errors come first, the one-off errors after them; the
      // student being helped is not on the list but under it.
      const rows = await ranked(page);
      expect(rows).toHaveLength(24);
      expect(new Set(rows.slice(0, 10))).toEqual(new Set(students.slice(0, 10).map((s) => s.token)));
      await page.waitForSelector('#being-helped');
      expect(await page.locator('#being-helped-list li.helped-row').evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.sessionId))).toEqual([helped.token]);
      expect(await page.textContent('#being-helped .helped-by')).toMatch(/^by ms_lee · (just now|\d+ min ago)$/);
      // Six bars whatever the head count; the stuck are on step 3.
      const b = await bars(page);
      expect(b.map(([step]) => step)).toEqual(['1', '2', '3', '4', '5', '6']);
      expect(b.reduce((n, [, students]) => n + Number(students), 0)).toBe(200);
      expect(b.find(([step]) => step === '3')?.[2]).toBe(8);
      expect(await page.textContent('#now-errors-list li[data-error-type="TypeError"] .now-error-students')).toBe('14 students');
      // The list scrolls inside its card: the progress bars stay within reach below it.
      const box = await page.locator('#needs-help .help-body').evaluate((el) => ({ scroll: el.scrollHeight, client: el.clientHeight, max: Number.parseFloat(getComputedStyle(el).maxHeight) }));
      expect(box.client).toBeLessThanOrEqual(box.max);
      expect(box.scroll).toBeGreaterThan(box.client);
      // A long reason takes two lines at most, so more rows fit (its whole text is the tooltip).
      const message = await page.locator('#needs-help-list .help-message').first().evaluate((el) => ({ height: el.clientHeight, line: Number.parseFloat(getComputedStyle(el).lineHeight) || 1.5 * Number.parseFloat(getComputedStyle(el).fontSize) }));
      expect(message.height).toBeLessThanOrEqual(2 * message.line + 1);
      // Nothing wider than the screen.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(viewport.width);
      await page.screenshot({ path: `${SHOTS}now-${device}.png`, fullPage: true });
      await context.close();
    }
  });

  it('past 100 students needing help the list says how many more there are (GET /api/attention returns them all)', async () => {
    const room = workshopRoom(world.server.url);
    const students = Array.from({ length: 105 }, (_, i) => room.student(`Many ${String(i + 1).padStart(3, '0')}`));
    await room.post(students.flatMap((s, i) => [s.action(4, 1), s.error(1 + (i % 3), 1)]));
    await world.server.deps.settle();
    const res = await fetch(`${world.server.url}/api/attention?workshop=${room.prefix}`, { headers: admin });
    expect(((await res.json()) as { students: unknown[] }).students).toHaveLength(105);
    const { context, page } = await open(`#/now?workshop=${room.prefix}`);
    await page.waitForSelector('#needs-help-list li.help-row');
    expect(await ranked(page)).toHaveLength(100);
    expect(await page.textContent('#stat-help .stat-value')).toBe('105');
    expect(await page.textContent('#needs-help-count')).toBe('105 of 105 · highest need first');
    expect(await page.textContent('#needs-help .help-body')).toContain('…and 5 more with a lower score.');
    await context.close();
  });
});
