/**
 * The dashboard pushed live: the open session view receives an event posted while it is open
 * through GET /api/sessions/{id}/stream within 2 s, without a single polling request to
 * /events?after_seq=; the Now view follows GET /api/attention/stream the same way.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { describeWithBrowser } from '../helpers/browser.js';
import { browserWorld } from '../helpers/browser-world.js';
import { ADMIN_TOKEN, testConfig } from '../helpers/deps.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { workshopRoom } from '../helpers/workshop-room.js';

const SERVICE_TOKEN = 'svc';
const world = browserWorld({ config: testConfig({ SERVICE_TOKEN }) });
const call = (path: string, body: unknown, auth = true) => world.post(path, body, auth ? SERVICE_TOKEN : null);

/** A signed-in tab on the real clock, recording every API request it makes. */
const open = (hash: string): Promise<{ context: BrowserContext; page: Page; requests: string[] }> =>
  world.open(hash, { csp: false, record: (url) => url.includes('/api/') });

describeWithBrowser('dashboard streams', () => {
  it('an event posted while the session view is open appears within 2 s, with no polling', async () => {
    const opened = await call('/api/sessions/interactions', { student_id: 'streamed_student', function: 'get-student-context', platform: 'mcp' });
    const id = opened.session_id as string;
    const { context, page, requests } = await open(`#/session/${id}`);
    await page.waitForSelector('.live[data-state="live"]');
    await page.waitForFunction(() => document.querySelector('#live-status')?.textContent?.includes('streaming'));

    const { eventId } = await call('/api/session-log', { sessionToken: id, writeToken: opened.write_token, eventType: 'action', eventData: { actionName: 'pushed-live' } }, false);
    const posted = Date.now(); // stored once the POST has answered
    await page.locator(`#timeline li[data-event-id="${eventId as string}"]`).waitFor({ timeout: 2_000 });
    expect(Date.now() - posted).toBeLessThan(2_000);
    expect(await page.locator(`#timeline li[data-event-id="${eventId as string}"]`).getAttribute('class')).toContain('tl-new');

    // Wait past several polling periods: still not one request to the polling tail.
    await page.waitForTimeout(3_000);
    expect(requests.filter((u) => u.includes('after_seq='))).toEqual([]);
    expect(requests.filter((u) => u.includes(`/api/sessions/${id}/stream`))).toHaveLength(1);

    // The session ends: the stream says so and the view stops being live. (Nothing else would:
    // a streaming view never polls, so a tight deadline is not what proves it.)
    await call(`/api/sessions/${id}/end`, {});
    await page.waitForSelector('.live[data-state="ended"]', { timeout: 15_000 });
    await context.close();
  });

  it('falls back to polling when the stream cannot be opened', async () => {
    const opened = await call('/api/sessions/interactions', { student_id: 'unstreamed_student', function: 'get-student-context', platform: 'mcp' });
    const id = opened.session_id as string;
    const context = await world.browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addInitScript((t) => sessionStorage.setItem('sessionlog.adminToken', t), ADMIN_TOKEN);
    // A proxy that refuses event streams.
    await context.route((url) => url.pathname.startsWith('/api/') && url.pathname.endsWith('/stream'), (route) => route.fulfill({ status: 502, contentType: 'text/plain', body: 'bad gateway' }));
    const page = await context.newPage();
    const polls: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('after_seq=')) polls.push(r.url());
    });
    await page.goto(`${world.server.url}/dashboard/#/session/${id}`);
    await page.waitForFunction(() => document.querySelector('#live-status')?.textContent?.includes('polling'));
    const { eventId } = await call('/api/session-log', { sessionToken: id, writeToken: opened.write_token, eventType: 'action', eventData: { actionName: 'polled' } }, false);
    // Polling every 2.5 s: no tight deadline (on a loaded machine the next poll and its answer
    // can take a while); that the stream was refused and polls were made is what this proves.
    await page.locator(`#timeline li[data-event-id="${eventId as string}"]`).waitFor({ timeout: 20_000 });
    expect(polls.length).toBeGreaterThan(0);
    await context.close();
  });

  it('a session view left open through an outage polls while the stream is down, then goes back to streaming', async () => {
    const opened = await call('/api/sessions/interactions', { student_id: 'outage_student', function: 'get-student-context', platform: 'mcp' });
    const id = opened.session_id as string;
    const post = async (actionName: string) =>
      (await call('/api/session-log', { sessionToken: id, writeToken: opened.write_token, eventType: 'action', eventData: { actionName } }, false)).eventId as string;
    // The dashboard reaches the server through a proxy that can go down; the server goes on.
    const target = new URL(world.server.url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
    try {
      const { context, page, requests } = await world.open(`#/session/${id}`, { csp: false, clock: true, base: `http://${proxy.host}:${proxy.port}`, record: (url) => url.includes('/api/') });
      const status = () => page.textContent('#live-status');
      await page.waitForFunction(() => document.querySelector('#live-status')?.textContent?.includes('streaming'));

      proxy.down();
      await expect.poll(status).toContain('polling');
      const during = await post('during-outage');
      proxy.up();
      // The next poll brings what was posted meanwhile…
      await page.clock.runFor(2_500);
      await page.locator(`#timeline li[data-event-id="${during}"]`).waitFor();
      // …and the stream is tried again, and taken up: no more polling.
      await page.clock.runFor(10_000);
      await expect.poll(status).toMatch(/^Live · streaming/);
      const polled = requests.filter((u) => u.includes('after_seq=')).length;
      expect(polled).toBeGreaterThan(0);
      const after = await post('after-outage');
      await page.locator(`#timeline li[data-event-id="${after}"]`).waitFor();
      await page.clock.runFor(10_000);
      expect(requests.filter((u) => u.includes('after_seq='))).toHaveLength(polled);
      await context.close();
    } finally {
      await proxy.close();
    }
  });

  it('the Now view is pushed a struggling student without polling /api/attention', async () => {
    const room = workshopRoom(world.server.url);
    const calm = room.student('Calm Carla');
    await room.post([...calm.walk(2, 2, 5), calm.action(0.5, 2)]);
    const { context, page, requests } = await open(`#/now?workshop=${room.prefix}`);
    await page.waitForSelector('#needs-help .notice-ok');
    const late = room.student('Late Leo');
    await room.post([late.action(3, 1), late.error(1, 1, 'SyntaxError', 'Unexpected token'), late.error(0.5, 1, 'SyntaxError', 'Unexpected token'), late.error(0.2, 1, 'SyntaxError', 'Unexpected token')]);
    // The stream recomputes at most every 2 s and polls every 1 s, so nominally up to ~3 s plus
    // the computation: no tighter deadline. That it was pushed, not polled, is the check below.
    await page.waitForSelector(`#needs-help-list li[data-session-id="${late.token}"]`, { timeout: 20_000 });
    const attentionReads = requests.filter((u) => new URL(u).pathname.startsWith('/api/attention'));
    expect(attentionReads.map((u) => new URL(u).pathname)).toEqual(['/api/attention/stream']);
    await context.close();
  });
});
