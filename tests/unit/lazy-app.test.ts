/**
 * lib/door.ts `lazyApp`: the app is built once per instance, on the first request or — for a
 * Vercel instance (`startNow`, ADR 0020) — as the module loads. A build that fails at load is not
 * an unhandled rejection: the first request answers for it, and the next one builds again.
 */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/config.js';
import { lazyApp } from '../../lib/door.js';
import type { App } from '../../lib/http/env.js';

const okApp = () => {
  const app = new Hono();
  app.get('/x', (c) => c.text('built'));
  return app as unknown as App;
};
const req = () => new Request('http://localhost/x');

describe('lazyApp', () => {
  it('builds on the first request, once', async () => {
    let builds = 0;
    const handle = lazyApp(async () => {
      builds++;
      return okApp();
    });
    expect(builds).toBe(0);
    expect(await (await handle(req())).text()).toBe('built');
    await handle(req());
    expect(builds).toBe(1);
  });

  it('startNow builds before any request, and the requests use that build', async () => {
    let builds = 0;
    const handle = lazyApp(
      async () => {
        builds++;
        return okApp();
      },
      { startNow: true },
    );
    expect(builds).toBe(1);
    expect(await (await handle(req())).text()).toBe('built');
    expect(builds).toBe(1);
  });

  it('a build that fails at start is answered by the first request (BAD_ENVIRONMENT), and built again after', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      let builds = 0;
      const handle = lazyApp(
        async () => {
          builds++;
          if (builds === 1) throw new ConfigError('ADMIN_TOKEN is required', ['ADMIN_TOKEN']);
          return okApp();
        },
        { startNow: true },
      );
      await new Promise((r) => setTimeout(r, 20)); // the failed build settles before any request
      const first = await handle(req());
      expect(first.status).toBe(500);
      expect(((await first.json()) as { code: string; detail: string }).detail).toContain('ADMIN_TOKEN');
      expect(await (await handle(req())).text()).toBe('built');
      expect(builds).toBe(2);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
