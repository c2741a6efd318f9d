/**
 * Student pages post whatever JSON they like: the dashboard must render it as text and never
 * break. Objects whose `toString` is not a function (`{"toString":"x"}`), long unbroken strings,
 * bidi controls and an event type named like a CSS class go in through the real API; every view
 * must still show the rest of the data, without a page error.
 */
import type { Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { describeWithBrowser } from '../helpers/browser.js';
import { browserWorld } from '../helpers/browser-world.js';
import { ADMIN_TOKEN, testConfig, uniqueToken } from '../helpers/deps.js';

const WEBHOOK_TOKEN = 'webhook-token-hostile-0123456789abcdef';
const world = browserWorld({ config: testConfig({ WEBHOOK_TOKEN }) });
let callSession = '';

const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

/** JSON objects that make String() / template literals throw. */
const BAD = { toString: 'x' };
const WORSE = { valueOf: 1, toString: 1 };

/** Long strings without a space, each at its field's limit. */
const long = {
  token: `${uniqueToken('ws_long')}_${'t'.repeat(150)}`,
  email: `${'e'.repeat(64)}@${'d'.repeat(60)}.${'x'.repeat(60)}.example.com`,
  name: 'N'.repeat(200),
  id: `long_${'s'.repeat(95)}`,
  errorType: `Error${'E'.repeat(195)}`,
  message: 'm'.repeat(2000),
  topic: 'T'.repeat(200),
};

const odd = { token: uniqueToken('ws_odd'), email: 'odd.student@example.com', name: 'Odd Student', id: 'odd_student' };

async function put(path: string, body: unknown) {
  const res = await fetch(`${world.server.url}${path}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify(body),
  });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
}

/** A student's page posting a batch under its token, email and (when it has one) name. */
const postPage = (s: { token: string; email: string; name?: string }, events: unknown[]) =>
  world.post('/api/session-log', { sessionToken: s.token, studentEmail: s.email, ...(s.name ? { studentName: s.name } : {}), events });

beforeAll(async () => {
  await put(`/api/students/${odd.id}`, { name: odd.name, email: odd.email });
  await postPage(odd, [
    { eventType: 'action', eventData: { actionName: 'visible-marker', currentStep: 1, stepName: 'Setup' }, timestamp: ago(6) },
    { eventType: 'action', eventData: { actionName: 'odd-step', currentStep: WORSE, stepName: BAD, toString: 'x' }, timestamp: ago(5) },
    { eventType: 'error', eventData: { errorType: 'OddError', errorMessage: 'odd', currentStep: BAD, toString: 1, valueOf: 1 }, timestamp: ago(4) },
    { eventType: 'api_call', eventData: { method: 'GET', endpoint: '/x', status: 500, success: false, toString: BAD }, timestamp: ago(3) },
    { eventType: 'navigation', eventData: { from: 1, to: 2, toStepName: 'Two', currentStep: WORSE }, timestamp: ago(3) },
    { eventType: 'state_change', eventData: { stateName: 'st', oldValue: BAD, newValue: [WORSE] }, timestamp: ago(2) },
    { eventType: 'attempt', eventData: { correct: true, timeMs: 1000, topic: 'Odd topic', subject: 'S', extra: WORSE }, timestamp: ago(2) },
    { eventType: 'custom_probe', eventData: { toString: 'x', valueOf: 1 }, timestamp: ago(1) },
  ]);
  await put(`/api/students/${long.id}`, { name: long.name, email: long.email });
  await postPage(long, [
    { eventType: 'action', eventData: { actionName: 'A'.repeat(200), currentStep: 'S'.repeat(100), stepName: 'P'.repeat(300) }, timestamp: ago(5) },
    ...[3, 2, 1].map((m) => ({ eventType: 'error', eventData: { errorType: long.errorType, errorMessage: long.message, currentStep: 'S'.repeat(100) }, timestamp: ago(m) })),
    { eventType: 'api_call', eventData: { method: 'POST', endpoint: `/${'p'.repeat(1999)}`, status: 500 }, timestamp: ago(1) },
    { eventType: 'attempt', eventData: { correct: true, timeMs: 1000, topic: long.topic, subject: 'U'.repeat(200) }, timestamp: ago(1) },
  ]);
  await postPage(clash, [
    { eventType: 'problem', eventData: { note: 'an ordinary event' }, timestamp: ago(2) },
    { eventType: 'error', eventData: { errorType: 'TypeError', errorMessage: 'x is undefined' }, timestamp: ago(1) },
  ]);
  // A voice platform's call whose metadata (kept as the session's platform_metadata) holds such objects.
  const started = new Date(Date.now() - 10 * 60_000);
  const call = await world.post(
    '/api/webhooks/session-data',
    {
      platform: 'retell',
      call_id: 'rt-hostile-1',
      started_at: started.toISOString(),
      ended_at: new Date(started.getTime() + 300_000).toISOString(),
      transcript: [{ speaker: 'agent', text: 'Hello, who is this?' }, { speaker: 'user', text: 'visible-transcript-line' }],
      metadata: {
        ended_reason: BAD,
        call_type: WORSE,
        phone_number: BAD,
        vapi_summary: WORSE,
        recording_url: BAD,
        success_evaluation: WORSE,
        cost: BAD,
        structured_data: WORSE,
        suggested_student_ids: [BAD, WORSE],
        // Not hostile: a call's usage counts, shown beside its cost breakdown.
        usage: { llmPromptTokens: 2311, ttsCharacters: 1021 },
      },
    },
    WEBHOOK_TOKEN,
  );
  callSession = String(call.session_id);
  await postPage(spoof, [
    { eventType: 'action', eventData: { actionName: 'run\u202Ecode', currentStep: 1, stepName: 'Set\u200Bup\u2066' }, timestamp: ago(5) },
    { eventType: 'error', eventData: { errorType: 'Type\u202DError', errorMessage: 'fetch\u200Bfailed\uFEFF', currentStep: 1 }, timestamp: ago(3) },
    { eventType: 'error', eventData: { errorType: 'Type\u202DError', errorMessage: 'fetch\u200Bfailed\uFEFF', currentStep: 1 }, timestamp: ago(2) },
    { eventType: 'error', eventData: { errorType: 'Type\u202DError', errorMessage: 'fetch\u200Bfailed\uFEFF', currentStep: 1 }, timestamp: ago(1) },
  ]);
  await world.server.deps.settle();
});

/** An ordinary event whose type is `problem`: its timeline item carries the class type-problem. */
const clash = { token: uniqueToken('ws_clash'), email: 'clash@example.com' };

/** A name that would read "Evilexe.png", an isolate, zero-width characters in the error. */
const spoof = { token: uniqueToken('ws_spoof'), email: 'spoof@example.com', name: 'Evil\u202Egnp.exe \u2067Mallory\u2069' };
const CONTROLS = /[\u200b\u202a-\u202e\u2060\u2066-\u2069\ufeff]/;

const PHONE = { width: 390, height: 844 };

/**
 * Elements of `selectors` wider than their box (their content overflows), and whether the page
 * scrolls sideways. Elements that scroll on purpose (overflow auto/scroll/hidden) are not counted.
 */
function overflowing(page: Page, selectors: string) {
  return page.evaluate((sel) => {
    const out: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>(sel)) {
      const style = getComputedStyle(el);
      if (/auto|scroll|hidden|clip/.test(style.overflowX) || el.closest('details:not([open])')) continue;
      if (el.scrollWidth > el.clientWidth + 1) out.push(`${el.tagName.toLowerCase()}.${el.className} ${el.scrollWidth}>${el.clientWidth}`);
      const r = el.getBoundingClientRect();
      if (r.right > document.documentElement.clientWidth + 1) out.push(`${el.tagName.toLowerCase()}.${el.className} right ${Math.round(r.right)}`);
    }
    if (document.documentElement.scrollWidth > document.documentElement.clientWidth) {
      // Name the innermost elements that stick out, to say what to fix.
      const wide: string[] = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const range = document.createRange();
        range.selectNodeContents(n);
        const parent = n.parentElement as HTMLElement;
        if (range.getBoundingClientRect().right > document.documentElement.clientWidth + 1) wide.push(`${parent.tagName.toLowerCase()}.${parent.className}`);
      }
      out.push(`page ${document.documentElement.scrollWidth}: ${wide.slice(0, 4).join(', ')}`);
    }
    return out;
  }, selectors);
}

const CELLS = '.table td, .table td > *, .chip, .now-error-head .error-type, .help-name, .sub, h1, .tl-text, .message, .tag';

async function open(hash: string, viewport = { width: 1280, height: 800 }) {
  return world.open(hash, { viewport });
}

/**
 * The next view in the same tab: only the hash changes, and the dashboard routes on it (app.js
 * empties the view and renders the new one), as when an instructor clicks through. One tab per
 * viewport instead of a new browser context and page load per view.
 */
async function visit(page: Page, hash: string) {
  await page.goto(`${world.server.url}/dashboard/${hash}`);
}

/** The page's text once `selector` is there, after a moment for anything that would throw late. */
async function textOf(page: Page, selector: string) {
  await page.waitForSelector(selector);
  await page.waitForTimeout(300);
  return (await page.textContent('main')) ?? (await page.textContent('body')) ?? '';
}

describeWithBrowser('dashboard: hostile event data', () => {
  it('objects whose toString is not a function render as JSON text in every view, never a page error', async () => {
    // One tab, view after view, as an instructor clicks through (the world checks page errors after the test).
    const { context, page } = await open(`#/session/${odd.token}`);
    // The session: its timeline shows every event, the odd values as JSON.
    await page.waitForSelector('.timeline li.tl-item');
    await expect.poll(() => page.locator('.timeline li.tl-item').count()).toBe(8);
    const text = await textOf(page, '#session-student');
    expect(text).toContain('Odd Student');
    expect(text).toContain('visible-marker');
    expect(text).toContain('{"toString":"x"}');
    expect(text).toContain('{"valueOf":1,"toString":1}');
    // Event search over the session: one row per event.
    await visit(page, `#/search?sessionToken=${odd.token}`);
    await page.waitForSelector('#search-results tr.event-row');
    await expect.poll(() => page.locator('#search-results tr.event-row').count()).toBe(8);
    const rows = await textOf(page, '#search-results');
    expect(rows).toContain('visible-marker');
    expect(rows).toContain('{"toString":"x"}');
    // The sessions list and the session finder.
    const row = `tr.session-row[data-session-id="${odd.token}"]`;
    for (const [hash, table] of [['#/sessions', `#active-sessions ${row}, #recent-sessions ${row}`], [`#/search?q=${odd.token}`, `#session-matches ${row}`]] as const) {
      await visit(page, hash);
      await page.waitForSelector(table);
      expect(await page.locator(table).first().textContent()).toContain('Odd Student');
    }
    // Now: the student and the error show.
    await visit(page, `#/now?workshop=${odd.token}`);
    await page.waitForSelector('#now-errors-list li.now-error');
    expect(await page.textContent('#needs-help-list')).toContain('Odd Student');
    // A call whose platform metadata holds them: its card and header show them as JSON.
    await visit(page, `#/session/${encodeURIComponent(callSession)}`);
    await page.waitForSelector('#call-card');
    await expect.poll(() => page.textContent('#call-ended-reason')).toBe('{"toString":"x"}');
    await expect.poll(() => page.textContent('.timeline')).toContain('visible-transcript-line');
    expect(await page.textContent('#call-card')).toContain('{"valueOf":1,"toString":1}');
    expect(JSON.parse((await page.textContent('#call-card details.json:has(summary:text("Usage")) pre')) ?? '')).toEqual({ llmPromptTokens: 2311, ttsCharacters: 1021 });
    await visit(page, '#/sessions');
    const callRow = `tr.session-row[data-session-id="${callSession}"]`;
    await page.waitForSelector(`#active-sessions ${callRow}, #recent-sessions ${callRow}`);
    // The student's page.
    await visit(page, `#/student/${odd.id}`);
    await page.waitForSelector('#student-name');
    await expect.poll(() => page.textContent('#student-name')).toBe('Odd Student');
    await page.waitForTimeout(300);
    await context.close();
  });

  it('long strings without spaces wrap inside their boxes on a phone, in every view', async () => {
    const views: Array<[string, string]> = [
      [`#/now?workshop=${long.token}`, '#now-errors-list li.now-error'],
      [`#/session/${long.token}`, '.timeline li.tl-item'],
      ['#/sessions', `#recent-sessions tr.session-row[data-session-id="${long.token}"]`],
      [`#/search?q=${long.token.slice(0, 20)}`, '#session-matches tr.session-row'],
      [`#/search?sessionToken=${long.token}`, '#search-results tr.event-row'],
      [`#/student/${long.id}`, '#student-sessions'],
      ['#/troubleshoot', '#students-with-errors table, #students-with-errors li'],
    ];
    const problems: string[] = [];
    for (const viewport of [PHONE, { width: 1280, height: 800 }]) {
      const { context, page } = await open(views[0]?.[0] ?? '', viewport);
      for (const [hash, ready] of views) {
        await visit(page, hash);
        await page.waitForSelector(ready);
        await page.waitForTimeout(200);
        expect(await page.evaluate(() => location.hash)).toBe(hash);
        for (const p of await overflowing(page, CELLS)) problems.push(`${viewport.width} ${hash.slice(0, 30)}: ${p}`);
      }
      await context.close();
    }
    expect(problems).toEqual([]);
  });

  it('an event type named "problem" does not take the style of a problem row', async () => {
    const look = (page: Page, sel: string) => page.locator(sel).evaluate((el) => ({ weight: getComputedStyle(el).fontWeight, color: getComputedStyle(el).color }));
    const { context, page } = await open(`#/session/${clash.token}`);
    await page.waitForSelector('.timeline li.tl-item[data-type="problem"]');
    const plain = await look(page, '.timeline li.tl-item[data-type="problem"]');
    const bad = await look(page, '.timeline li.tl-item[data-type="error"] .tl-label');
    expect(plain.weight).toBe('400');
    expect(plain.color).not.toBe(bad.color);
    await context.close();
    // In the event table the error's type is marked; the ordinary event's is not.
    const search = await open(`#/search?sessionToken=${clash.token}`);
    await search.page.waitForSelector('#search-results tr.event-row');
    const errorType = await look(search.page, '#search-results tr[data-type="error"] td[data-label="Type"] span');
    const otherType = await look(search.page, '#search-results tr[data-type="problem"] td[data-label="Type"] span');
    expect(errorType.weight).toBe('700');
    expect(otherType.weight).not.toBe('700');
    await search.context.close();
  });

  it('bidi controls and zero-width characters show as [U+…] instead of reordering or hiding text', async () => {
    /** Text and tooltips on the page that still hold a control character. */
    const hidden = (page: Page) =>
      page.evaluate((src) => {
        const re = new RegExp(src);
        const out: string[] = [];
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) if (re.test(n.nodeValue ?? '')) out.push(JSON.stringify(n.nodeValue));
        for (const el of document.querySelectorAll('[title], [aria-label]')) {
          for (const a of ['title', 'aria-label']) if (re.test(el.getAttribute(a) ?? '')) out.push(`${a}=${JSON.stringify(el.getAttribute(a))}`);
        }
        return out;
      }, CONTROLS.source);
    const views: Array<[string, string, string]> = [
      [`#/now?workshop=${spoof.token}`, '#needs-help-list li.help-row', '#needs-help-list .help-name'],
      [`#/session/${spoof.token}`, '.timeline li.tl-item[data-type="error"]', '#session-student'],
      [`#/search?sessionToken=${spoof.token}`, '#search-results tr.event-row', ''],
      [`#/search?q=${spoof.token}`, '#session-matches tr.session-row', '#session-matches a.session-link'],
      ['#/troubleshoot', '#students-with-errors table, #students-with-errors li', ''],
    ];
    const { context, page } = await open(views[0]?.[0] ?? '');
    for (const [hash, ready, name] of views) {
      await visit(page, hash);
      await page.waitForSelector(ready);
      await page.waitForTimeout(200);
      expect(await page.evaluate(() => location.hash)).toBe(hash);
      expect(await hidden(page), hash).toEqual([]);
      if (name) expect(await page.textContent(name), hash).toBe('Evil[U+202E]gnp.exe [U+2067]Mallory[U+2069]');
    }
    // Marked helped: the name under "Being helped", its link and its Undo button's label, and the
    // session page's flag card (a Now view row's Helped label was checked above).
    const res = await fetch(`${world.server.url}/api/attention/${spoof.token}/helped`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    for (const [hash, ready] of [
      [`#/now?workshop=${spoof.token}`, '#being-helped-list li.helped-row'],
      [`#/session/${spoof.token}`, '#session-flag #flag-helped'],
    ] as const) {
      await visit(page, hash);
      await page.waitForSelector(ready);
      await page.waitForTimeout(200);
      expect(await hidden(page), hash).toEqual([]);
    }
    await visit(page, `#/now?workshop=${spoof.token}`);
    await page.waitForSelector('#being-helped-list .helped-name');
    expect(await page.textContent('#being-helped-list .helped-name')).toBe('Evil[U+202E]gnp.exe [U+2067]Mallory[U+2069]');
    expect(await page.getAttribute('#being-helped-list .helped-undo', 'aria-label')).toBe('Undo the helped mark for Evil[U+202E]gnp.exe [U+2067]Mallory[U+2069]');
    await context.close();
  });
});
