import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { EventListResponse, type StoredEvent } from '../../lib/schemas/event.js';
import { launchChromium } from './browser.js';
import { admin, memoryPglite } from './deps.js';
import { startTestServer } from './http-server.js';

/** Reading back what a browser page delivered, from Node, with the admin token. */
export function eventReader(url: () => string) {
  /** What the server stored for a session token, oldest first. */
  async function stored(token: string): Promise<StoredEvent[]> {
    const res = await fetch(`${url()}/api/session-log?sessionToken=${token}&order=asc&limit=1000`, { headers: admin });
    expect(res.status).toBe(200);
    return EventListResponse.parse(await res.json()).events;
  }
  /** Waits (the client flushes every 2 s) until `n` events are stored, then returns them. */
  async function storedWhen(token: string, n: number): Promise<StoredEvent[]> {
    await expect.poll(async () => (await stored(token)).length, { timeout: 15_000, interval: 200 }).toBe(n);
    return stored(token);
  }
  return { stored, storedWhen };
}

/** Event ids still waiting in the page's localStorage queue. */
export const queued = (page: Page) =>
  page.evaluate(() => {
    const entry = Object.entries(localStorage).find(([k]) => k.startsWith('sessionlog:http'));
    return entry ? (JSON.parse(entry[1]) as Array<{ eventId: string }>).map((e) => e.eventId) : [];
  });

/** One PGlite, the app on loopback and a Chromium: the world of each browser client suite. */
export async function openWorld() {
  const sql = await memoryPglite();
  const server = await startTestServer({ sql });
  const browser = await launchChromium();
  return { sql, server, browser };
}

export async function closeWorld(w: Partial<Awaited<ReturnType<typeof openWorld>>>): Promise<void> {
  await w.browser?.close();
  await w.server?.stop();
  await w.sql?.close();
}
