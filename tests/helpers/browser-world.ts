/**
 * The world most dashboard suites share: PGlite, the app served on loopback (API and public/),
 * Debian's Chromium, and a list of page errors that must be empty after every test. Call it at
 * the top of a file, before the file's own hooks: its `beforeAll` then runs first (so a file can
 * seed through `world.server`), and its `afterAll` last.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { Config } from '../../lib/config.js';
import type { Sql } from '../../lib/storage/sql.js';
import { launchChromium } from './browser.js';
import { ADMIN_TOKEN, memoryPglite, testConfig } from './deps.js';
import { startTestServer } from './http-server.js';

export interface BrowserWorld {
  readonly sql: Sql;
  readonly server: Awaited<ReturnType<typeof startTestServer>>;
  readonly browser: Browser;
  /** Uncaught page errors (and, with `csp`, Content-Security-Policy violations) of the current test. */
  readonly pageErrors: string[];
  /** POST JSON to the app (with the service token unless `token` is null); the answer must be 2xx. */
  post(path: string, body: unknown, token?: string | null): Promise<Record<string, unknown>>;
  /**
   * A new tab on `/dashboard/<hash>`, signed in as admin unless `signedIn: false`. Before it loads:
   * `clock` installs Playwright's clock, `record` keeps the URLs of the requests it accepts (in
   * `requests`), and `beforeGoto` runs on the page (anything else a suite needs, e.g. a dialog handler).
   * `base` loads the dashboard from another address of the same server (a proxy in front of it).
   */
  open(
    hash: string,
    o?: {
      viewport?: { width: number; height: number };
      csp?: boolean;
      signedIn?: boolean;
      clock?: boolean;
      record?: (url: string) => boolean;
      beforeGoto?: (page: Page) => unknown;
      base?: string;
    },
  ): Promise<{ context: BrowserContext; page: Page; requests: string[] }>;
}

/**
 * A fixed-offset time zone in which it is now about noon. The dashboard says "today" by the
 * browser's clock (times without a date, today's alerts): a run a minute after local midnight must
 * not see a minute-old event as yesterday's. Etc/GMT-N is UTC+N (the sign is POSIX's).
 */
export function middayZone(now = new Date()): string {
  let offset = 12 - now.getUTCHours();
  if (offset > 14) offset -= 24;
  if (offset < -12) offset += 24;
  return offset === 0 ? 'Etc/GMT' : offset > 0 ? `Etc/GMT-${offset}` : `Etc/GMT+${-offset}`;
}

/**
 * `config` may be a function, for a configuration that names something started first (a fake
 * OpenAI server's URL); `close` stops such a thing after the app has settled and stopped.
 */
export function browserWorld(
  opts: { config?: Config | (() => Promise<Config>); close?: () => Promise<void>; now?: () => Date; serviceToken?: string } = {},
): BrowserWorld {
  const state = {} as { sql: Sql; server: BrowserWorld['server']; browser: Browser };
  const pageErrors: string[] = [];
  beforeAll(async () => {
    state.sql = await memoryPglite();
    const config = typeof opts.config === 'function' ? await opts.config() : (opts.config ?? testConfig());
    state.server = await startTestServer({ sql: state.sql, config, ...(opts.now ? { now: opts.now } : {}) });
    state.browser = await launchChromium();
  });
  afterAll(async () => {
    await state.browser?.close();
    await state.server?.deps.settle();
    await state.server?.stop();
    await opts.close?.();
    await state.sql?.close();
  });
  afterEach(() => {
    expect(pageErrors.splice(0)).toEqual([]);
  });
  return {
    get sql() {
      return state.sql;
    },
    get server() {
      return state.server;
    },
    get browser() {
      return state.browser;
    },
    pageErrors,
    async post(path, body, token = opts.serviceToken ?? null) {
      const res = await fetch(`${state.server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
      expect(res.ok).toBe(true);
      return (await res.json()) as Record<string, unknown>;
    },
    async open(hash, { viewport = { width: 1280, height: 800 }, csp = true, signedIn = true, clock = false, record, beforeGoto, base = state.server.url } = {}) {
      const context = await state.browser.newContext({ viewport, timezoneId: middayZone() });
      if (signedIn) await context.addInitScript((t) => sessionStorage.setItem('sessionlog.adminToken', t), ADMIN_TOKEN);
      const page = await context.newPage();
      page.on('pageerror', (err) => pageErrors.push(err.message));
      if (csp) {
        page.on('console', (m) => {
          if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) pageErrors.push(m.text());
        });
      }
      if (clock) await page.clock.install();
      const requests: string[] = [];
      if (record) {
        page.on('request', (r) => {
          if (record(r.url())) requests.push(r.url());
        });
      }
      await beforeGoto?.(page);
      await page.goto(`${base}/dashboard/${hash}`);
      return { context, page, requests };
    },
  };
}
