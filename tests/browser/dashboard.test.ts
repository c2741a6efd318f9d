/**
 * The instructor dashboard (public/dashboard/) in Chromium, against the whole app on loopback.
 * Data goes in through the real API only (workshop events, tool-call interactions, an explicit
 * session with a transcript, a Vapi end-of-call report), so the page is tested on the shapes the
 * API really answers. Covers the token gate, the sessions list and its filters, a session's
 * timeline and call, and a workshop token without a session record.
 *
 * Elsewhere: search/export, troubleshooting and XSS (dashboard-data), live tail (dashboard-live),
 * the analysis button and the screenshots (dashboard-screens).
 */
import type { BrowserContext, Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { describeWithBrowser } from '../helpers/browser.js';
import { browserWorld } from '../helpers/browser-world.js';
import { ADMIN_TOKEN, testConfig, uniqueToken } from '../helpers/deps.js';

const SERVICE_TOKEN = 'svc';
const world = browserWorld({ config: testConfig({ SERVICE_TOKEN }) });

/** What the seed made, for assertions. */
const seeded = {
  emmaToken: uniqueToken('ws_emma'),
  anonToken: uniqueToken('ws_anon'),
  liamSession: '',
  aliceSession: '',
};

async function api(method: string, path: string, body?: unknown, token = SERVICE_TOKEN) {
  const res = await fetch(`${world.server.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000);

async function seed() {
  // Emma works through the workshop, hits a failing API call and an error, then calls the tutor.
  const t0 = ago(20);
  const at = (s: number) => new Date(t0.getTime() + s * 1000).toISOString();
  await api('POST', '/api/session-log', {
    sessionToken: seeded.emmaToken,
    studentEmail: 'emma@example.com',
    studentName: 'Emma Stone',
    events: [
      { eventType: 'navigation', eventData: { from: 1, to: 2, fromStepName: 'Setup', toStepName: 'Install the SDK' }, timestamp: at(0) },
      { eventType: 'action', eventData: { actionName: 'copy-command' }, timestamp: at(40) },
      { eventType: 'api_call', eventData: { endpoint: '/api/chat', method: 'POST', status: 500, success: false }, timestamp: at(95) },
      { eventType: 'error', eventData: { errorType: 'TypeError', errorMessage: "Cannot read properties of undefined (reading 'map')" }, timestamp: at(96) },
      { eventType: 'state_change', eventData: { stateName: 'sdkInstalled', oldValue: false, newValue: true }, timestamp: at(180) },
    ],
  });
  // The tutor call for the same token: a tool call, then the end-of-call report (local mode: no secret).
  const call = { id: 'call-1', type: 'webCall', assistantOverrides: { metadata: { sessionId: seeded.emmaToken } } };
  await api('POST', '/api/webhooks/vapi', {
    message: {
      type: 'tool-calls',
      timestamp: t0.getTime() + 330_000,
      call,
      toolCallList: [{ id: 'tc-1', type: 'function', function: { name: 'get_next_problem', arguments: '{"topic":"fractions"}' } }],
    },
  });
  await api('POST', '/api/webhooks/vapi', {
    message: {
      type: 'end-of-call-report',
      call,
      endedReason: 'customer-ended-call',
      cost: 0.12,
      startedAt: at(300),
      endedAt: at(540),
      artifact: {
        recordingUrl: 'https://example.com/rec.wav',
        transcript: 'User: hi\nAI: hello',
        messages: [
          { role: 'user', message: 'hi, my code crashes with a TypeError', secondsFromStart: 2 },
          { role: 'bot', message: 'Let us look at it together. What does the error say?', secondsFromStart: 6 },
          { role: 'user', message: 'It says it cannot read map of undefined', secondsFromStart: 14 },
        ],
      },
    },
  });

  // Liam is in a tool-server session right now (the last activity is recent: still active).
  for (const [i, fn] of ['get-student-context', 'get-next-problem'].entries()) {
    const r = await api('POST', '/api/sessions/interactions', {
      student_id: 'liam_k',
      function: fn,
      parameters: { grade: 5 },
      data_provided: ['profile'],
      subjects_accessed: ['mathematics'],
      platform: 'mcp',
      subject: 'Math',
      topic: 'Fractions',
      timestamp: ago(2 - i).toISOString(),
    });
    seeded.liamSession = r.session_id as string;
  }

  // Alice and Bob: an explicit two-person session with a transcript and a phase, then ended.
  const created = await api('POST', '/api/sessions', { participant: 'user_alice', platform: 'superinterface', subject: 'Physics', topic: 'Vectors', agent: { name: 'Tutor' } });
  seeded.aliceSession = created.session_id as string;
  const s = `/api/sessions/${seeded.aliceSession}`;
  await api('POST', `${s}/join`, { participant: 'user_bob' });
  await api('POST', `${s}/transcript`, { entries: [{ speaker: 'A', text: 'What is a unit vector?' }, { speaker: 'agent', text: 'A vector of length one.' }] });
  await api('POST', `${s}/phase`, { phase: 'deep_dive' });
  await api('POST', `${s}/end`, {});

  // A workshop page with no session record at all.
  await api('POST', '/api/session-log', {
    sessionToken: seeded.anonToken,
    events: [
      { eventType: 'navigation', eventData: { from: 0, to: 1 } },
      { eventType: 'error', eventData: { errorType: 'TypeError', errorMessage: 'fetch is not a function' } },
    ],
  });
}

beforeAll(seed);

interface Opened {
  context: BrowserContext;
  page: Page;
}

/**
 * A fresh tab (own sessionStorage), already signed in unless `signedIn: false`. Page errors, CSP
 * violations and alert() calls fail the test (the world checks them after each test).
 */
function open(hash: string, { signedIn = true } = {}): Promise<Opened> {
  return world.open(hash, {
    signedIn,
    beforeGoto: (page) =>
      page.on('dialog', (d) => {
        world.pageErrors.push(`dialog: ${d.message()}`);
        void d.dismiss();
      }),
  });
}

async function close(o: Opened) {
  await o.context.close();
  expect(world.pageErrors).toEqual([]);
}

describeWithBrowser('instructor dashboard', () => {
  it('asks for the admin token, keeps it in sessionStorage only, and a 401 sends the user back to the form', async () => {
    const o = await open('#/sessions', { signedIn: false });
    const { page } = o;
    await page.waitForSelector('#token-form', { state: 'visible' });
    expect(await page.isVisible('#view')).toBe(false);

    // A wrong token: the first API call answers 401 and the form comes back with a message.
    await page.fill('#token-input', 'not-the-token');
    await page.click('#token-form button[type=submit]');
    await page.waitForSelector('#token-message', { state: 'visible' });
    expect(await page.textContent('#token-message')).toContain('401');
    expect(await page.isVisible('#view')).toBe(false);
    expect(await page.evaluate(() => sessionStorage.getItem('sessionlog.adminToken'))).toBeNull();

    // The right token opens the sessions view and lives in sessionStorage, not localStorage.
    await page.fill('#token-input', ADMIN_TOKEN);
    await page.click('#token-form button[type=submit]');
    await page.waitForSelector('#recent-sessions .session-row');
    expect(await page.evaluate(() => sessionStorage.getItem('sessionlog.adminToken'))).toBe(ADMIN_TOKEN);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);

    // A token that stops working mid-session (rotated) is a 401 on the next view: back to the form.
    await page.evaluate(() => sessionStorage.setItem('sessionlog.adminToken', 'rotated-away'));
    await page.evaluate(() => {
      location.hash = '#/troubleshoot';
    });
    await page.waitForSelector('#token-message', { state: 'visible' });
    expect(await page.isVisible('#nav')).toBe(false);
    await close(o);
  });

  it('lists active and recent sessions with student, platform, status, start, duration and counts', async () => {
    const o = await open('#/sessions');
    const { page } = o;
    // Liam's tool-server session is active now.
    await page.waitForSelector(`#active-sessions tr[data-session-id="${seeded.liamSession}"]`);
    const emma = page.locator(`#recent-sessions tr[data-session-id="${seeded.emmaToken}"]`);
    await emma.waitFor();
    const cells = await emma.locator('td').allTextContents();
    // Emma's page token is a workshop (web) session; her tutor call joined it (metadata carried the
    // token), so it is one session with her name, her page's step and the call's end.
    expect(cells[0]).toContain('Emma Stone');
    expect(cells[1]).toBe('web');
    expect(cells[2]).toBe('completed');
    expect(cells[3]).not.toBe('—');
    expect(cells[4]).toBe('9m'); // from her first page event to the end of the call
    // Her page's events and the call's: the timeline's count.
    expect(Number(cells[5])).toBeGreaterThanOrEqual(10);
    expect(cells[6]).toBe('1');
    expect(await emma.getAttribute('class')).toContain('has-errors');
    const alice = await page.locator(`#recent-sessions tr[data-session-id="${seeded.aliceSession}"] td`).allTextContents();
    expect(alice.slice(0, 3)).toEqual([`user_alice, user_bob${seeded.aliceSession}`, 'superinterface', 'completed']);
    await close(o);
  });

  it('filters by student, platform and status narrow the list (and live in the link)', async () => {
    const o = await open('#/sessions');
    const { page } = o;
    const rows = () => page.locator('#recent-sessions tr.session-row').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.sessionId));
    await page.waitForSelector(`#recent-sessions tr[data-session-id="${seeded.aliceSession}"]`);
    // Emma's, Liam's, Alice's and the anonymous workshop page's.
    expect(await rows()).toHaveLength(4);

    // Clear, then wait for the unfiltered list (a fresh form: filling the old one would be lost).
    const apply = async (fill: () => Promise<void>) => {
      await page.click('#session-filters button[type=reset]');
      await page.waitForSelector('#recent-count:text-is("4 sessions")');
      await fill();
      await page.click('#session-filters button[type=submit]');
    };
    await apply(() => page.fill('input[name=student]', 'liam_k'));
    await expect.poll(rows).toEqual([seeded.liamSession]);
    expect(await page.evaluate(() => location.hash)).toBe('#/sessions?student=liam_k');

    await apply(() => page.fill('input[name=platform]', 'superinterface'));
    await expect.poll(rows).toEqual([seeded.aliceSession]);

    await apply(async () => {
      await page.selectOption('select[name=status]', 'completed');
    });
    await expect.poll(async () => (await rows()).sort()).toEqual([seeded.aliceSession, seeded.emmaToken].sort());

    // A day range that excludes today: nothing.
    await apply(async () => {
      await page.fill('input[name=from]', '2020-01-01');
      await page.fill('input[name=to]', '2020-01-02');
    });
    await page.waitForSelector('#recent-sessions .notice:text("No session matches these filters.")');
    await close(o);
  });

  it("shows a session's whole timeline in time order, the error highlighted, and the call's cost, ended reason and recording", async () => {
    const o = await open(`#/session/${seeded.emmaToken}`);
    const { page } = o;
    await page.waitForSelector('#call-card');
    await page.waitForSelector('#timeline li[data-type="session_ended"]');

    // The call: cost, why it ended, a link to the recording.
    expect(await page.textContent('#call-cost')).toBe('$0.12');
    expect(await page.textContent('#call-ended-reason')).toBe('customer-ended-call');
    expect(await page.getAttribute('#call-recording', 'href')).toBe('https://example.com/rec.wav');
    // No student on the record: the header names the student the page's events carry, by name
    // with the email under it.
    expect(await page.textContent('#session-student')).toBe('Emma Stone');
    expect(await page.textContent('#session-student-detail')).toBe('emma@example.com');

    // One timeline: web events, the tool call, transcript turns and status changes, oldest first.
    const items = page.locator('#timeline li.tl-item');
    const types = await items.evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.type));
    // No session_started: the session is the workshop token's, opened by its first event (issue 11).
    expect(types).toEqual(expect.arrayContaining(['navigation', 'action', 'api_call', 'error', 'state_change', 'interaction', 'tool_result', 'transcript', 'session_ended']));
    const times = await page.locator('#timeline time').evaluateAll((ts) => ts.map((t) => Date.parse(t.getAttribute('datetime') ?? '')));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(types.indexOf('error')).toBeLessThan(types.indexOf('interaction'));
    expect(types.indexOf('interaction')).toBeLessThan(types.indexOf('session_ended'));

    // The error (and the failed API call) are highlighted; ordinary rows are not.
    const error = page.locator('#timeline li[data-type="error"]');
    expect(await error.getAttribute('class')).toContain('is-problem');
    expect(await error.getAttribute('data-problem')).toBe('true');
    expect(await error.locator('.tl-text').textContent()).toBe("TypeError: Cannot read properties of undefined (reading 'map')");
    expect(await page.getAttribute('#timeline li[data-type="api_call"]', 'class')).toContain('is-problem');
    expect(await page.getAttribute('#timeline li[data-type="navigation"]', 'class')).not.toContain('is-problem');
    expect(await page.locator('#timeline li[data-type="navigation"] .tl-text').textContent()).toBe('Setup → Install the SDK');

    // Transcript turns read as speaker + text: the call's "user" is the student by name, the bot the tutor.
    const turn = page.locator('#timeline li[data-type="transcript"]').first();
    expect(await turn.locator('.tl-label').textContent()).toBe('Emma Stone');
    expect(await turn.locator('.tl-text').textContent()).toBe('hi, my code crashes with a TypeError');
    expect(await page.locator('#timeline li[data-type="transcript"] .tl-label').allTextContents()).toEqual(['Emma Stone', 'Tutor', 'Emma Stone']);

    // "Problems only" keeps the error, the failed API call and the failed tool call (no tool server here).
    await page.check('#problems-only');
    await expect.poll(() => page.locator('#timeline li.tl-item:visible').evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.type))).toEqual(['api_call', 'error', 'tool_result']);
    await page.uncheck('#problems-only');
    await page.uncheck('input[data-category="transcript"]');
    expect(await page.locator('#timeline li[data-type="transcript"]:visible').count()).toBe(0);

    // This server has analysis turned off: the button is disabled and the card says why.
    await page.waitForSelector('#analysis-off');
    expect(await page.isDisabled('#run-analysis')).toBe(true);
    expect(await page.textContent('#analysis-off')).toContain('ANALYSIS_ENABLED');
    await close(o);
  });

  it('shows an anonymous workshop page as a web session, and events whose token has no session record', async () => {
    const o = await open(`#/session/${seeded.anonToken}`);
    const { page } = o;
    await page.waitForSelector('#timeline li[data-type="error"].is-problem');
    expect(await page.locator('#timeline li.tl-item').count()).toBe(2);
    expect(await page.textContent('#session-student')).toBe('(anonymous page)');
    expect(await page.textContent('#session-head .platform')).toBe('web');
    expect(await page.isVisible('#call-card')).toBe(false);
    await close(o);

    // Events whose token has no record (e.g. restored from an export): the timeline still shows.
    const orphan = uniqueToken('ws_orphan');
    await api('POST', '/api/session-log', { sessionToken: orphan, eventType: 'error', eventData: { errorType: 'TypeError' } });
    await world.sql.query('DELETE FROM sessions WHERE id = $1', [orphan]);
    const p = await open(`#/session/${orphan}`);
    await p.page.waitForSelector('#timeline li[data-type="error"].is-problem');
    // The timeline and the record (a 404 here) load side by side; the head is drawn once both
    // answered, so it may still say "Loading…" when the rows are already there.
    await expect.poll(() => p.page.textContent('#session-head')).toContain('no session record');
    expect(await p.page.isVisible('#analysis-card')).toBe(false);
    expect(await p.page.isVisible('#call-card')).toBe(false);
    await close(p);
  });

  it('says plainly when an id is neither a session nor a token with events, or is malformed', async () => {
    const o = await open(`#/session/${seeded.anonToken}`);
    const { page } = o;
    await page.waitForSelector('#timeline li.tl-item');

    // An id that is neither: said plainly.
    await page.evaluate(() => {
      location.hash = '#/session/ws_nobody_at_all';
    });
    await page.waitForSelector('#session-head .notice-error');
    expect(await page.textContent('#session-head')).toContain('No session and no events');

    // A malformed id: the API's 400 detail, not an endless "Loading…". The last id's error stays
    // on the page until the hashchange re-renders the view: wait for the head that names this id.
    await page.evaluate(() => {
      location.hash = '#/session/not%20an%20id';
    });
    await page.waitForFunction(() => document.querySelector('#session-head h1')?.textContent === 'not an id');
    expect(await page.locator('#session-head .notice-error').count()).toBe(1);
    await close(o);
  });
});
