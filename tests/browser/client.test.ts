/**
 * The logging client (public/session-log.js) in Chromium against the real app on loopback: the
 * demo workshop end to end, the ES module entry, a page on another origin, and the size budget.
 * Delivery (beacons, offline, server answers) is in client-delivery.test.ts; garbage input,
 * storage trouble and warnings in client-robustness.test.ts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { gzipSync } from 'node:zlib';
import type { Browser, } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Sql } from '../../lib/storage/sql.js';
import { closeWorld, eventReader, openWorld, queued } from '../helpers/client-world.js';
import { describeWithBrowser, } from '../helpers/browser.js';
import { admin, testConfig, uniqueToken } from '../helpers/deps.js';
import { PUBLIC_DIR, startTestServer } from '../helpers/http-server.js';

type Log = (...args: unknown[]) => void;
/** What the client puts on `window` (types only: evaluate() callbacks run in the page). */
type Win = Window & { SessionLog: { init(o?: object): unknown; sessionToken?: string }; logAction: Log; same?: boolean };

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let sql: Sql;
let server: Awaited<ReturnType<typeof startTestServer>>;
let browser: Browser;

const { stored, storedWhen } = eventReader(() => server.url);

describeWithBrowser('session-log.js in a browser', () => {
  beforeAll(async () => {
    ({ sql, server, browser } = await openWorld());
  });
  afterAll(() => closeWorld({ sql, server, browser }));

  it('the demo logs navigation, an action, a state change, the failing API call and its errors, each with the context', async () => {
    const context = await browser.newContext();
    // The demo must keep working under the strict CSP it will be served with.
    const csp = "default-src 'self'; script-src 'self'; style-src 'self'";
    await context.route(/\/demo\//, async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': csp } });
    });
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    const sent: string[] = []; // eventIds in the batches the page posted
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url() === `${server.url}/api/session-log`) {
        for (const e of (JSON.parse(r.postData() ?? '{}') as { events?: Array<{ eventId: string }> }).events ?? []) sent.push(e.eventId);
      }
    });
    await page.goto(`${server.url}/demo/`);
    await expect.poll(() => page.textContent('#token')).toMatch(/^ws_[0-9a-f]{32}$/);
    const token = (await page.textContent('#token')) as string;

    await page.click('#next'); // 1 → 2
    await page.click('#copy');
    await page.check('#hints');
    await page.click('#next'); // 2 → 3
    await page.click('#call');
    await expect.poll(() => page.textContent('#result')).toContain('404');
    await page.click('#next'); // 3 → 4
    await page.click('#crash'); // uncaught: captureErrors logs it
    await page.click('#back'); // 4 → 3

    const events = await storedWhen(token, 10);
    // In the order the page logged them. The stored time is corrected per request (received −
    // (sentAt − timestamp)), so of two events a few ms apart that went in different batches, the
    // later one can be stored as the earlier when its request was delivered faster.
    const logged = [...events].sort((a, b) => Date.parse(String(a.event_data.timestamp)) - Date.parse(String(b.event_data.timestamp)));
    const data = (type: string) => logged.filter((e) => e.event_type === type).map((e) => e.event_data);
    expect(data('navigation').map((d) => [d.from, d.to, d.fromStepName, d.toStepName])).toEqual([
      [1, 2, 'Welcome', 'Set up'],
      [2, 3, 'Set up', 'Call the API'],
      [3, 4, 'Call the API', 'Done'],
      [4, 3, 'Done', 'Call the API'],
    ]);
    expect(data('action')).toEqual([expect.objectContaining({ actionName: 'copy_snippet', currentStep: 2, stepName: 'Set up' })]);
    expect(data('state_change')).toEqual([expect.objectContaining({ stateName: 'hintsVisible', oldValue: false, newValue: true })]);
    expect(data('api_call')).toEqual([
      expect.objectContaining({ endpoint: '/api/demo-does-not-exist', method: 'GET', status: 404, success: false, currentStep: 3, stepName: 'Call the API' }),
    ]);
    expect(data('error')).toEqual([
      expect.objectContaining({ errorType: 'ApiError', statusCode: 404, currentStep: 3 }),
      expect.objectContaining({ errorType: 'Error', errorMessage: expect.stringContaining('something broke on purpose'), currentStep: 4 }),
    ]);
    expect(data('workshop_opened')).toEqual([expect.objectContaining({ steps: 4, currentStep: 1, stepName: 'Welcome' })]);

    const userAgent = await page.evaluate(() => navigator.userAgent);
    for (const e of events) {
      expect(e.event_data).toMatchObject({ userAgent, demoMode: true, timestamp: expect.stringMatching(ISO) });
      expect(e.event_data.currentStep).toEqual(expect.any(Number));
      expect(e.event_data.stepName).toEqual(expect.any(String));
      expect(e.event_id).toMatch(UUID);
      // Stored at the client's event time (clock-corrected with sentAt: same machine, so ~equal).
      expect(Math.abs(Date.parse(e.created_at) - Date.parse(String(e.event_data.timestamp)))).toBeLessThan(1000);
    }
    // The stored ids are the ones the client made: that is what makes its retries safe.
    expect(new Set(events.map((e) => e.event_id))).toEqual(new Set(sent));
    // The server stores a batch before it answers, and the page empties its queue only when the
    // answer arrives: all 10 stored does not mean the page has read the last answer yet.
    await expect.poll(() => queued(page)).toEqual([]);
    expect(violations).toEqual([]);
    await context.close();
  });

  it('imports as an ES module (named and default exports), and a page loading both copies gets one instance', async () => {
    const token = uniqueToken();
    const page = await browser.newPage();
    await page.goto(`${server.url}/demo/module.html?sessionToken=${token}`);
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.textContent('#token')).toBe(token);
    const [event] = await storedWhen(token, 1);
    expect(event).toMatchObject({ event_type: 'action', event_data: { actionName: 'module_loaded', defaultExport: true, currentStep: 1, stepName: 'Module import' } });

    // Classic tag + module import on one page: the module re-exports the tag's instance.
    await page.route('**/both.html', (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: `<!doctype html><script src="/session-log.js"></script>
          <script type="module">import { SessionLog } from '/session-log.mjs'; window.same = SessionLog === window.SessionLog;</script>`,
      }),
    );
    await page.goto(`${server.url}/both.html`);
    await page.waitForFunction(() => (window as unknown as Win).same !== undefined);
    expect(await page.evaluate(() => (window as unknown as Win).same)).toBe(true);
    await page.close();
  });

  it('a page on another origin loads the client from the API server and logs to it (CORS, data-* config)', async () => {
    const token = uniqueToken();
    const html = `<!doctype html><title>elsewhere</title>
      <script src="${server.url}/session-log.js" data-endpoint="${server.url}/api/session-log"
        data-session-token="${token}" data-student-email="Ada@Example.com" data-student-name="Ada"></script>
      <script>logAction('cross_origin', { origin: location.origin }); SessionLog.flush();</script>`;
    const other: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    try {
      const page = await browser.newPage();
      await page.goto(`${origin}/`);
      const [event] = await storedWhen(token, 1);
      expect(event).toMatchObject({ event_type: 'action', student_email: 'ada@example.com', student_name: 'Ada', event_data: { actionName: 'cross_origin', origin } });
      // The page could read the answer (CORS headers present), so the event left its queue.
      await expect.poll(() => queued(page)).toEqual([]);
      await page.close();
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('a page on another origin imports the ES module from the API server (served with CORS) and logs to that server by default', async () => {
    const token = uniqueToken();
    for (const file of ['/session-log.mjs', '/session-log.js']) {
      const res = await fetch(`${server.url}${file}`, { headers: { origin: 'https://workshop.example.org' } });
      expect(res.headers.get('access-control-allow-origin'), file).toBe('*');
    }
    // No endpoint given: the default is /api/session-log on the origin the module came from, not the page's.
    const html = `<!doctype html><title>elsewhere</title>
      <script type="module">import { SessionLog, logAction } from '${server.url}/session-log.mjs';
        SessionLog.init({ sessionToken: '${token}' }); logAction('module_cross_origin', { origin: location.origin }); SessionLog.flush();</script>`;
    const other: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(`${origin}/`);
      const [event] = await storedWhen(token, 1);
      expect(event).toMatchObject({ event_type: 'action', event_data: { actionName: 'module_cross_origin', origin } });
      await expect.poll(() => queued(page)).toEqual([]);
      expect(await page.evaluate(() => (window as unknown as { SessionLog: { src?: string } }).SessionLog.src)).toBe(`${server.url}/session-log.mjs`);
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('a page whose origin ALLOWED_ORIGINS does not list reads the 403: its events are dropped with one warning, not retried as if offline', async () => {
    const strict = await startTestServer({ sql, config: testConfig({ ALLOWED_ORIGINS: 'https://workshop.example.org' }) });
    const token = uniqueToken();
    const html = `<!doctype html><title>not allowed</title>
      <script src="${strict.url}/session-log.js" data-endpoint="${strict.url}/api/session-log" data-session-token="${token}"></script>
      <script>logAction('from_elsewhere'); SessionLog.flush();</script>`;
    const other: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const page = await browser.newPage();
      const warnings: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'warning') warnings.push(m.text());
      });
      let posts = 0;
      page.on('request', (r) => {
        if (r.method() === 'POST') posts++;
      });
      await page.goto(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`);
      await expect.poll(() => warnings.join('\n'), { timeout: 15_000 }).toMatch(/refused: 403.*is not allowed \(ALLOWED_ORIGINS\)/s);
      await expect.poll(() => queued(page)).toEqual([]);
      // A network error would be retried after 1–2 s; a refusal is not.
      await new Promise((r) => setTimeout(r, 3_000));
      expect(posts).toBe(1);
      expect(warnings.filter((w) => w.includes('will retry'))).toEqual([]);
      expect(await stored(token)).toEqual([]);
      await page.close();
    } finally {
      await new Promise((resolve) => other.close(resolve));
      await strict.stop();
    }
  });

  it("a page on another origin whose own module is named like the client (session-log-setup.js) still logs to the server the client came from", async () => {
    const token = uniqueToken();
    const setup = `import { SessionLog, logAction } from '${server.url}/session-log.mjs';
      SessionLog.init({ sessionToken: '${token}' }); logAction('named_alike'); SessionLog.flush();`;
    const html = '<!doctype html><title>setup</title><script type="module" src="/js/session-log-setup.js"></script>';
    const other: Server = createServer((req, res) =>
      req.url === '/js/session-log-setup.js' ? res.writeHead(200, { 'content-type': 'text/javascript' }).end(setup) : res.writeHead(200, { 'content-type': 'text/html' }).end(html),
    );
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`);
      const [event] = await storedWhen(token, 1);
      expect(event).toMatchObject({ event_type: 'action', event_data: { actionName: 'named_alike' } });
      await page.close();
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it("a practice page on another origin posts attempts into the tutoring sitting with its writeToken; without it they are refused (one warning)", async () => {
    const opened = await fetch(`${server.url}/api/sessions/interactions`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ student_id: uniqueToken('leo'), function: 'start_quiz', subject: 'Math' }),
    });
    expect(opened.status).toBe(200);
    const { session_id: sitting, write_token: writeToken } = (await opened.json()) as { session_id: string; write_token: string };
    const page = (init: object) => `<!doctype html><title>practice</title>
      <script src="${server.url}/session-log.js"></script>
      <script>SessionLog.init(${JSON.stringify({ endpoint: `${server.url}/api/session-log`, ...init })});
        logSessionEvent('attempt', { correct: true, timeMs: 4000, topic: 'Fractions' }); SessionLog.flush();</script>`;
    // The classic tag's data-* attributes, data-write-token included, are init()'s defaults.
    let html = `<!doctype html><title>practice</title>
      <script src="${server.url}/session-log.js" data-endpoint="${server.url}/api/session-log"
        data-session-token="${sitting}" data-write-token="${writeToken}"></script>
      <script>logSessionEvent('attempt', { correct: true, timeMs: 4000, topic: 'Fractions' }); SessionLog.flush();</script>`;
    const other: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    const attempts = async () => (await stored(sitting)).filter((e) => e.event_type === 'attempt');
    try {
      const tab = await browser.newPage();
      await tab.goto(`${origin}/`);
      await expect.poll(async () => (await attempts()).map((e) => e.event_data.correct), { timeout: 15_000 }).toEqual([true]);
      await expect.poll(() => queued(tab)).toEqual([]);
      await tab.close();

      html = page({ sessionToken: sitting }); // no writeToken: refused for good, dropped, said once
      const warnings: string[] = [];
      const bare = await (await browser.newContext()).newPage();
      bare.on('console', (m) => {
        if (m.type() === 'warning') warnings.push(m.text());
      });
      await bare.goto(`${origin}/`);
      await expect.poll(() => warnings.join('\n'), { timeout: 15_000 }).toMatch(/refused: 403/);
      expect(warnings.join('\n')).toContain('writeToken');
      await expect.poll(() => queued(bare)).toEqual([]);
      expect(await attempts()).toHaveLength(1);
      await bare.close();
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });
});

it('session-log.js is under 4.5 KB gzipped and parses as a classic script', () => {
  const source = readFileSync(join(PUBLIC_DIR, 'session-log.js'));
  expect(gzipSync(source).length).toBeLessThan(4608);
  expect(() => new Script(source.toString('utf8'))).not.toThrow(); // no import/export
});
