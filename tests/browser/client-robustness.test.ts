/**
 * The logging client never hurts the page: garbage arguments, an unreachable server, blocked or
 * corrupted storage, calls before init(). Also its session token and captureErrors. The page is
 * a blank one (fulfilled by the test, same origin as the API) that loads /session-log.js.
 */
import type { Browser, BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Sql } from '../../lib/storage/sql.js';
import { closeWorld, eventReader, openWorld } from '../helpers/client-world.js';
import { describeWithBrowser, } from '../helpers/browser.js';
import { uniqueToken } from '../helpers/deps.js';
import type { startTestServer } from '../helpers/http-server.js';

type Log = (...args: unknown[]) => unknown;
type Win = Window & {
  SessionLog: { init(o?: unknown): unknown; flush(): Promise<void>; sessionToken?: string };
  logSessionEvent: Log;
  logNavigation: Log;
  logError: Log;
  logAction: Log;
  logApiCall: Log;
  logStateChange: Log;
};

let sql: Sql;
let server: Awaited<ReturnType<typeof startTestServer>>;
let browser: Browser;

const { storedWhen } = eventReader(() => server.url);

/** A new tab on the blank page; `warnings` collects the client's console warnings. */
async function blank(context: BrowserContext): Promise<{ page: Page; warnings: string[] }> {
  const page = await context.newPage();
  const warnings: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'warning' && m.text().startsWith('[SessionLog]')) warnings.push(m.text());
  });
  await page.goto(`${server.url}/client.html`);
  return { page, warnings };
}

async function newContext(): Promise<BrowserContext> {
  const context = await browser.newContext();
  await context.route(/\/client\.html$/, (route) =>
    route.fulfill({ contentType: 'text/html', body: '<!doctype html><meta charset="utf-8"><title>client</title><script src="/session-log.js"></script>' }),
  );
  return context;
}

const init = (page: Page, options: Record<string, unknown>) => page.evaluate((o) => (window as unknown as Win).SessionLog.init(o) && undefined, options);

describeWithBrowser('session-log.js robustness', () => {
  beforeAll(async () => {
    ({ sql, server, browser } = await openWorld());
  });
  afterAll(() => closeWorld({ sql, server, browser }));

  it('garbage arguments never throw or block, are stored in a shape the server accepts, and oversized data is dropped with one warning', async () => {
    const token = uniqueToken();
    const context = await newContext();
    const { page, warnings } = await blank(context);
    await init(page, { sessionToken: token, flushInterval: 100 });
    const outcome = await page.evaluate(() => {
      const w = window as unknown as Win;
      const circular: Record<string, unknown> = { name: 'loop' };
      circular.self = circular;
      const rows = () => ({ rows: Array.from({ length: 50_000 }, (_, i) => ({ i })) });
      const calls: Array<() => unknown> = [
        () => w.logSessionEvent(),
        () => w.logSessionEvent('Page View!', circular),
        () => w.logSessionEvent(123, 10n),
        () => w.logAction({ toString: () => Symbol('not a string') }, { big: 2n ** 70n }),
        () => w.logNavigation('intro', ' 2 '),
        () => w.logError(new TypeError('bad thing')),
        () => w.logError(),
        () => w.logApiCall(undefined, null, 'timeout', circular),
        () => w.logStateChange(Symbol('s'), () => 1, new Date(0)),
        () => w.logAction('huge_string', { text: 'x'.repeat(5_000_000) }),
        () => w.logAction('too_big', rows()),
        () => w.logAction('too_big', rows()),
        () => w.SessionLog.init('garbage'),
      ];
      const thrown: string[] = [];
      const returned: unknown[] = [];
      const started = performance.now();
      for (const call of calls) {
        try {
          returned.push(call());
        } catch (e) {
          thrown.push(String(e));
        }
      }
      return { thrown, ms: performance.now() - started, promises: returned.filter((r) => r instanceof Promise).length };
    });
    expect(outcome.thrown).toEqual([]);
    expect(outcome.promises).toBe(0); // nothing for the page to wait on
    // A guard against a hang, not a speed test: sizing the 5 MB string and the two 50,000-row
    // objects took 1,009 ms once on a slower 2-core machine beside another test file.
    expect(outcome.ms).toBeLessThan(3000);

    const events = await storedWhen(token, 10);
    const byType = (t: string) => events.filter((e) => e.event_type === t).map((e) => e.event_data);
    expect(events.map((e) => e.event_type)).toEqual(['custom', 'page_view', 'custom', 'action', 'navigation', 'error', 'error', 'api_call', 'state_change', 'action']);
    expect(byType('page_view')[0]).toMatchObject({ name: 'loop', self: '[Circular]' });
    expect(byType('custom')[1]).toMatchObject({ value: '10' });
    expect(byType('action')[0]).toMatchObject({ actionName: expect.any(String), big: '1180591620717411303424' });
    expect(byType('navigation')[0]).toMatchObject({ fromStepName: 'intro', to: 2 });
    expect(byType('navigation')[0]).not.toHaveProperty('from');
    expect(byType('error')[0]).toMatchObject({ errorType: 'TypeError', errorMessage: 'bad thing', stack: expect.stringContaining('TypeError') });
    // details are spread into the data, so the cycle is cut one level down
    expect(byType('api_call')[0]).toMatchObject({ statusText: 'timeout', success: false, name: 'loop', self: { name: 'loop', self: '[Circular]' } });
    expect(byType('api_call')[0]).not.toHaveProperty('method');
    expect(byType('state_change')[0]).toMatchObject({ newValue: '1970-01-01T00:00:00.000Z' });
    const huge = byType('action')[1];
    expect(huge).toMatchObject({ actionName: 'huge_string', truncated: true });
    expect(String(huge?.text)).toHaveLength(10_000);

    expect(warnings.filter((w) => w.includes('too big'))).toHaveLength(1); // two dropped (over 32 KB), one warning
    await context.close();
  });

  it('an unreachable server: events stay queued, retries back off, and the console gets one warning', async () => {
    const context = await newContext();
    // When the client starts each attempt, on the page's own clock: the times Playwright reports
    // failed requests at arrive late and unevenly on a loaded machine (CI saw two failures
    // reported 298 ms apart for retries the client had scheduled at least 500 ms apart).
    await context.addInitScript(() => {
      const w = window as unknown as { __attempts: number[]; fetch: typeof fetch };
      const original = w.fetch.bind(window);
      w.__attempts = [];
      w.fetch = (input, init) => {
        if (String(input).includes('127.0.0.1:9/')) w.__attempts.push(performance.now());
        return original(input, init);
      };
    });
    const { page, warnings } = await blank(context);
    let failures = 0;
    page.on('requestfailed', () => failures++);
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    await init(page, { endpoint: 'http://127.0.0.1:9/api/session-log', flushInterval: 50 });
    await page.evaluate(() => {
      for (let i = 0; i < 3; i++) (window as unknown as Win).logAction(`a${i}`);
    });
    await expect.poll(() => failures, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    const [first = 0, second = 0, third = 0] = await page.evaluate(() => (window as unknown as { __attempts: number[] }).__attempts);
    // Exponential with jitter: the first retry after 0.5-1 s, the second after 1-2 s.
    expect(second - first).toBeGreaterThanOrEqual(400);
    expect(second - first).toBeLessThan(2000);
    expect(third - second).toBeGreaterThanOrEqual(900);
    expect(third - second).toBeLessThan(3500);
    expect(warnings.filter((w) => w.includes('will retry'))).toHaveLength(1);
    const queue = await page.evaluate(() => localStorage.getItem('sessionlog:http://127.0.0.1:9/api/session-log'));
    expect(JSON.parse(queue ?? '[]')).toHaveLength(3);
    await context.close();
  });

  it('blocked or full storage keeps the queue in memory; a corrupted queue is started over', async () => {
    const blocked = await newContext();
    await blocked.addInitScript(() => {
      for (const name of ['localStorage', 'sessionStorage']) {
        Object.defineProperty(window, name, {
          get() {
            throw new DOMException('storage is blocked', 'SecurityError');
          },
        });
      }
    });
    const tokenA = uniqueToken();
    const a = await blank(blocked);
    await init(a.page, { sessionToken: tokenA, flushInterval: 100 });
    await a.page.evaluate(() => (window as unknown as Win).logAction('no_storage'));
    expect((await storedWhen(tokenA, 1))[0]?.event_data.actionName).toBe('no_storage');
    await blocked.close();

    const context = await newContext();
    const tokenB = uniqueToken();
    const { page } = await blank(context);
    const key = `sessionlog:${server.url}/api/session-log`;
    await page.evaluate((k) => localStorage.setItem(k, '[{"eventId": "x", "i"'), key);
    await init(page, { sessionToken: tokenB, flushInterval: 100 });
    await page.evaluate(() => (window as unknown as Win).logAction('after_corruption'));
    expect((await storedWhen(tokenB, 1))[0]?.event_data.actionName).toBe('after_corruption');
    await expect.poll(() => page.evaluate((k) => localStorage.getItem(k), key)).toBe('[]');
    await context.close();

    // Storage full: the queue moves to memory (one warning) and delivery goes on.
    const full = await newContext();
    const tokenC = uniqueToken();
    const c = await blank(full);
    await c.page.evaluate(() => {
      let n = 0;
      for (const size of [1 << 20, 1 << 14, 1 << 8, 1]) {
        try {
          for (;;) localStorage.setItem(`filler${n++}`, 'x'.repeat(size));
        } catch {}
      }
    });
    await init(c.page, { sessionToken: tokenC, flushInterval: 100 });
    await c.page.evaluate(() => {
      for (const name of ['full_1', 'full_2']) (window as unknown as Win).logAction(name);
    });
    expect((await storedWhen(tokenC, 2)).map((e) => e.event_data.actionName)).toEqual(['full_1', 'full_2']);
    expect(c.warnings.filter((w) => w.includes('storage full'))).toHaveLength(1);
    await full.close();
  });

  it('calls before init() are sent once it runs; the generated token is per tab and survives a reload', async () => {
    const context = await newContext();
    const { page } = await blank(context);
    const before = Date.now();
    await page.evaluate(() => {
      const w = window as unknown as Win;
      w.logAction('too_early');
      w.logNavigation(1, 2);
    });
    await page.waitForTimeout(50); // so the init below is measurably later than the calls
    const initAt = Date.now();
    await init(page, { flushInterval: 100 });
    const token = (await page.evaluate(() => (window as unknown as Win).SessionLog.sessionToken)) as string;
    expect(token).toMatch(/^ws_[0-9a-f]{32}$/);
    const events = await storedWhen(token, 2);
    expect(events.map((e) => e.event_type)).toEqual(['action', 'navigation']);
    for (const e of events) {
      expect(Date.parse(String(e.event_data.timestamp))).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(String(e.event_data.timestamp))).toBeLessThan(initAt); // call time, not init time
    }

    await page.reload();
    await init(page, {});
    expect(await page.evaluate(() => (window as unknown as Win).SessionLog.sessionToken)).toBe(token);
    const other = await blank(context);
    await init(other.page, {});
    const otherToken = await other.page.evaluate(() => (window as unknown as Win).SessionLog.sessionToken);
    expect(otherToken).toMatch(/^ws_[0-9a-f]{32}$/);
    expect(otherToken).not.toBe(token);

    // A practice page in this tab logs into a sitting it was given; the tab's next page, a
    // workshop page giving no token, is back on the tab's own token (not the sitting's).
    await page.reload();
    await init(page, { sessionToken: 'practice_sitting_1', writeToken: 'wt1.x' });
    expect(await page.evaluate(() => (window as unknown as Win).SessionLog.sessionToken)).toBe('practice_sitting_1');
    await page.reload();
    await init(page, {});
    expect(await page.evaluate(() => (window as unknown as Win).SessionLog.sessionToken)).toBe(token);
    await context.close();
  });

  it('captureErrors logs uncaught errors and unhandled rejections as error events', async () => {
    const token = uniqueToken();
    const context = await newContext();
    const { page } = await blank(context);
    await init(page, { sessionToken: token, captureErrors: true, flushInterval: 100 });
    await page.evaluate(() => {
      setTimeout(() => {
        throw new RangeError('late boom');
      });
      Promise.reject(new Error('nobody caught me'));
      Promise.reject({ code: 42 });
    });
    const events = await storedWhen(token, 3);
    const data = events.map((e) => e.event_data).sort((x, y) => String(x.errorType).localeCompare(String(y.errorType)) || String(x.errorMessage).localeCompare(String(y.errorMessage)));
    expect(data).toEqual([
      // The error's own message, not the browser's "Uncaught RangeError: …" line.
      expect.objectContaining({ errorType: 'RangeError', errorMessage: 'late boom', line: expect.any(Number), stack: expect.any(String) }),
      // A rejection with a plain object says what it was, not "[object Object]".
      expect.objectContaining({ errorType: 'UnhandledRejection', errorMessage: '{"code":42}' }),
      expect.objectContaining({ errorType: 'UnhandledRejection', errorMessage: 'nobody caught me', stack: expect.stringContaining('nobody caught me') }),
    ]);
    await context.close();
  });
});
