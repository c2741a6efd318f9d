/**
 * How the logging client delivers: by beacon when the page closes, through an offline period and
 * a reload, and what it does with the server's answers (207, 413, 429, 400). The page is a blank
 * one (fulfilled by the test, same origin as the API) that loads /session-log.js.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Sql } from '../../lib/storage/sql.js';
import { closeWorld, eventReader, openWorld, queued } from '../helpers/client-world.js';
import { describeWithBrowser, } from '../helpers/browser.js';
import { uniqueToken } from '../helpers/deps.js';
import { PUBLIC_DIR, type startTestServer } from '../helpers/http-server.js';

type Log = (...args: unknown[]) => void;
type Win = Window & {
  SessionLog: { init(o?: object): unknown; flush(): Promise<void> };
  logSessionEvent: Log;
  logAction: Log;
  logNavigation: Log;
  logError: Log;
};

let sql: Sql;
let server: Awaited<ReturnType<typeof startTestServer>>;
let browser: Browser;

const { stored } = eventReader(() => server.url);

const ids = (events: Array<{ event_id: string }>) => events.map((e) => e.event_id).sort();

/**
 * A context whose /client.html (a blank page loading the client) and /session-log.js are served
 * by the test from disk, so the page still loads, and reloads, while the API server is down.
 */
async function blankContext(): Promise<BrowserContext> {
  const context = await browser.newContext();
  await context.route(/\/client\.html$/, (route) =>
    route.fulfill({ contentType: 'text/html', body: '<!doctype html><meta charset="utf-8"><title>client</title><script src="/session-log.js"></script>' }),
  );
  await context.route(/\/session-log\.js$/, (route) => route.fulfill({ contentType: 'text/javascript', path: `${PUBLIC_DIR}session-log.js` }));
  return context;
}

async function open(context: BrowserContext, token: string, options: Record<string, unknown> = {}): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${server.url}/client.html`);
  await init(page, token, options);
  return page;
}

const init = (page: Page, token: string, options: Record<string, unknown> = {}) =>
  page.evaluate(([sessionToken, o]) => (window as unknown as Win).SessionLog.init({ sessionToken, ...o }) && undefined, [token, options] as const);

/** Logs `n` actions named `${prefix}${i}`. */
const logActions = (page: Page, prefix: string, n: number) =>
  page.evaluate(([p, count]) => {
    for (let i = 0; i < count; i++) (window as unknown as Win).logAction(`${p}${i}`);
  }, [prefix, n] as const);

/**
 * Chromium hands a page's localStorage writes to the browser process asynchronously; a page closed
 * right after its last write can lose it (seen: 119 and 108 of 120 in the next page). A real page
 * logs long before it is closed: wait until another tab of the context sees the whole queue.
 */
async function queueSettled(context: BrowserContext, n: number): Promise<void> {
  const witness = await context.newPage();
  await witness.goto(`${server.url}/client.html`);
  await expect.poll(async () => (await queued(witness)).length, { timeout: 5_000 }).toBe(n);
  await witness.close();
}

describeWithBrowser('session-log.js delivery', () => {
  beforeAll(async () => {
    ({ sql, server, browser } = await openWorld());
  });
  afterAll(() => closeWorld({ sql, server, browser }));

  it('closing the page delivers the queued events by beacon; a later page resending them stores nothing twice', async () => {
    const token = uniqueToken();
    const context = await blankContext();
    // Record, where it outlives the page, every beacon and every fetch the client makes.
    await context.addInitScript(() => {
      const record = (key: string, value: unknown) => localStorage.setItem(key, JSON.stringify([...JSON.parse(localStorage.getItem(key) ?? '[]'), value]));
      const beacon = navigator.sendBeacon.bind(navigator);
      navigator.sendBeacon = (url, body) => {
        record('probe:beacons', { url, body, bytes: new Blob([body as string]).size });
        return beacon(url, body);
      };
      const fetch = window.fetch.bind(window);
      window.fetch = (input, init) => {
        record('probe:fetches', String(input));
        return fetch(input, init);
      };
    });
    // A 10-minute flush interval: nothing but the beacon can deliver these.
    const page = await open(context, token, { flushInterval: 600_000 });
    await page.evaluate(() => {
      const w = window as unknown as Win;
      w.logAction('run_code');
      w.logNavigation(1, 2);
      w.logError('TypeError', 'x is undefined');
    });
    const pending = await queued(page);
    expect(pending).toHaveLength(3);
    expect(await stored(token)).toEqual([]);
    await queueSettled(context, 3);

    await page.close({ runBeforeUnload: true });
    await expect.poll(async () => ids(await stored(token)), { timeout: 10_000 }).toEqual([...pending].sort());

    const next = await context.newPage();
    await next.goto(`${server.url}/client.html`);
    const probe = await next.evaluate(() => ({
      beacons: JSON.parse(localStorage.getItem('probe:beacons') ?? '[]') as Array<{ url: string; body: string; bytes: number }>,
      fetches: JSON.parse(localStorage.getItem('probe:fetches') ?? '[]') as string[],
    }));
    expect(probe.fetches).toEqual([]);
    expect(probe.beacons.length).toBeGreaterThan(0); // pagehide, maybe visibilitychange too
    const [beacon] = probe.beacons;
    expect(beacon?.url).toBe(`${server.url}/api/session-log`);
    expect(beacon?.bytes).toBeLessThan(64 * 1024);
    const body = JSON.parse(beacon?.body ?? '{}') as { sentAt: unknown; sessionToken: string; events: Array<{ eventId: string }> };
    expect(body).toMatchObject({ sentAt: expect.any(Number), sessionToken: token });
    expect(body.events.map((e) => e.eventId).sort()).toEqual([...pending].sort());

    // A beacon's fate is unknown, so its events stayed queued: the next page sends them again
    // and the server's eventId de-duplication keeps one copy.
    expect((await queued(next)).sort()).toEqual([...pending].sort());
    const answers: unknown[] = []; // Playwright cannot read a keepalive response: relay it
    await next.route('**/api/session-log', async (route) => {
      const response = await route.fetch();
      answers.push(await response.json());
      await route.fulfill({ response });
    });
    // Relayed before init, and no timer of its own (the default would flush 2 s after init): the
    // flush below is the one send, so it resolves after its answer was relayed.
    await init(next, token, { flushInterval: 600_000 });
    await next.evaluate(() => (window as unknown as Win).SessionLog.flush());
    expect(answers).toEqual([{ success: true, accepted: 0, duplicates: 3 }]);
    expect(await queued(next)).toEqual([]);
    expect(ids(await stored(token))).toEqual([...pending].sort());
    await context.close();
  });

  it('a queue bigger than a beacon: the beacon carries what fits, the next page sends the rest, nothing twice', async () => {
    const token = uniqueToken();
    const context = await blankContext();
    const page = await open(context, token, { flushInterval: 600_000, batchSize: 1000 });
    await page.evaluate(() => {
      for (let i = 0; i < 120; i++) (window as unknown as Win).logAction(`bulk_${i}`, { padding: 'x'.repeat(1000) });
    });
    const pending = await queued(page);
    expect(pending).toHaveLength(120); // ~1.3 KB each: about 160 KB queued
    await queueSettled(context, 120);
    await page.close({ runBeforeUnload: true });
    await expect.poll(async () => (await stored(token)).length, { timeout: 10_000 }).toBeGreaterThan(0);
    const byBeacon = (await stored(token)).length;
    expect(byBeacon).toBeGreaterThan(20);
    expect(byBeacon).toBeLessThan(60); // 64 KB at most
    // The newest: a closing page's last storage writes are the ones that can be lost.
    expect(ids(await stored(token))).toEqual(pending.slice(-byBeacon).sort());

    const next = await context.newPage();
    await next.goto(`${server.url}/client.html`);
    expect(await queued(next)).toHaveLength(120); // all kept: a beacon's fate is unknown
    await init(next, token, { flushInterval: 600_000 });
    await expect
      .poll(async () => {
        await next.evaluate(() => (window as unknown as Win).SessionLog.flush());
        return queued(next);
      })
      .toEqual([]);
    expect(ids(await stored(token))).toEqual([...pending].sort());
    await context.close();
  });

  it('offline, a reload while still offline, then online: every event is stored exactly once', async () => {
    const token = uniqueToken();
    const context = await blankContext();
    const page = await open(context, token, { flushInterval: 200 });
    let failures = 0;
    page.on('requestfailed', (r) => {
      if (r.url().endsWith('/api/session-log')) failures++;
    });
    await logActions(page, 'online_', 1);
    await expect.poll(async () => (await stored(token)).length).toBe(1);
    // Stored is not yet answered: the server stores, then answers, and stop() cuts open
    // connections. Stop only once the page has its answer (the event left its queue), or the
    // event would stay queued and be counted with the offline ones below.
    await expect.poll(() => queued(page)).toEqual([]);

    await server.stop();
    await context.setOffline(true);
    await logActions(page, 'offline_', 5);
    await expect.poll(() => failures).toBeGreaterThan(0);
    expect(await queued(page)).toHaveLength(5); // kept in localStorage

    await page.reload(); // served by the route: the server is still down
    await init(page, token, { flushInterval: 200 });
    await logActions(page, 'reloaded_', 3);
    const pending = await queued(page);
    expect(pending).toHaveLength(8);

    await server.start();
    await context.setOffline(false); // the browser's `online` event: the client retries at once
    await expect.poll(async () => (await stored(token)).length, { timeout: 15_000 }).toBe(9);
    const events = await stored(token);
    const counts = new Map<string, number>();
    for (const e of events) counts.set(e.event_id, (counts.get(e.event_id) ?? 0) + 1);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(pending.every((id) => counts.has(id))).toBe(true);
    expect(events.map((e) => e.event_data.actionName)).toEqual([
      'online_0',
      ...Array.from({ length: 5 }, (_, i) => `offline_${i}`),
      ...Array.from({ length: 3 }, (_, i) => `reloaded_${i}`),
    ]);
    await expect.poll(() => queued(page)).toEqual([]);
    await context.close();
  });

  it('207: the events the server refused are dropped with the accepted ones, never retried', async () => {
    const token = uniqueToken();
    const context = await blankContext();
    const page = await open(context, token, { batchSize: 3, flushInterval: 600_000 });
    const answers: number[] = [];
    page.on('response', (r) => {
      if (r.url().endsWith('/api/session-log')) answers.push(r.status());
    });
    await page.evaluate(() => {
      const w = window as unknown as Win;
      // JSON nested deeper than the server's 64 levels: valid for the client, refused by the server.
      let deep: Record<string, unknown> = { leaf: true };
      for (let i = 0; i < 70; i++) deep = { deep };
      w.logAction('before');
      w.logSessionEvent('too_deep', deep);
      w.logAction('after'); // the third event: a batch of 3 is sent at once
    });
    await expect.poll(() => answers).toEqual([207]);
    await expect.poll(() => queued(page)).toEqual([]);
    expect((await stored(token)).map((e) => e.event_data.actionName)).toEqual(['before', 'after']);
    await context.close();
  });

  it('413 splits the batch; 429 and 503 are retried after Retry-After; 400 drops the batch', async () => {
    const token = uniqueToken();
    const context = await blankContext();
    const page = await open(context, token, { batchSize: 1000, flushInterval: 600_000 });
    // The server's answers are scripted here; a request marked `continue` reaches the real one.
    const script: Array<number | 'continue'> = [413, 429, 'continue', 'continue', 503, 'continue', 400];
    const seen: Array<{ status: number | 'continue'; events: number; at: number }> = [];
    await page.route('**/api/session-log', (route) => {
      const status = script.shift() ?? 'continue';
      const events = (JSON.parse(route.request().postData() ?? '{}') as { events: unknown[] }).events.length;
      seen.push({ status, events, at: Date.now() });
      if (status === 'continue') return route.continue();
      return route.fulfill({
        status,
        contentType: 'application/problem+json',
        headers: status === 429 || status === 503 ? { 'retry-after': '1' } : {},
        body: JSON.stringify({ status, title: 'scripted', detail: 'scripted answer' }),
      });
    });
    const flush = () => page.evaluate(() => (window as unknown as Win).SessionLog.flush());

    await logActions(page, 'split_', 6);
    await flush();
    // 413 with 6 events → 3 + 3; the first half meets a 429 and goes again after Retry-After.
    await expect.poll(async () => (await stored(token)).length, { timeout: 10_000 }).toBe(6);
    expect(seen.slice(0, 4).map((s) => [s.status, s.events])).toEqual([
      [413, 6],
      [429, 3],
      ['continue', 3],
      ['continue', 3],
    ]);
    const [, tooMany, retried] = seen;
    expect((retried?.at ?? 0) - (tooMany?.at ?? 0)).toBeGreaterThanOrEqual(950);

    await logActions(page, 'unavailable_', 1);
    await flush();
    await expect.poll(async () => (await stored(token)).length, { timeout: 10_000 }).toBe(7);
    expect(seen.slice(4).map((s) => s.status)).toEqual([503, 'continue']);

    await logActions(page, 'refused_', 2);
    await flush();
    await expect.poll(() => queued(page)).toEqual([]); // dropped: a 400 would fail again
    expect(seen.map((s) => s.status).slice(6)).toEqual([400]);
    await flush(); // nothing left to send
    expect(seen).toHaveLength(7);
    expect(await stored(token)).toHaveLength(7);
    await context.close();
  });
});
