/**
 * vercel.json itself, resolved the way Vercel resolves it: the filesystem (api/*.ts) first, then
 * the rewrites compiled by Vercel's own @vercel/routing-utils (path-to-regexp, and the named
 * parameters it appends to the destination as query parameters). Every defined route reaches its
 * handler in the function it lands on, called in-process with the URL that function would see
 * (the original path plus any appended parameters), and nothing Vercel adds reaches behaviour or
 * the audit log.
 */
import { existsSync, readFileSync } from 'node:fs';
import { convertRewrites } from '@vercel/routing-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import type { Family } from '../../lib/http/env.js';
import { ROUTES } from '../../lib/routes/inventory.js';
import type { Sql } from '../../lib/storage/sql.js';
import { ADMIN_TOKEN, makeDeps, memoryPglite, testConfig } from '../helpers/deps.js';
import { drain } from '../helpers/sse.js';

type Rewrite = { source: string; destination: string };
const vercel = JSON.parse(readFileSync('vercel.json', 'utf8')) as { framework?: unknown; rewrites: Rewrite[]; crons: Array<{ path: string; schedule: string }> };

/** The function a request lands on and the URL it sees, as Vercel routes it. */
function resolve(rewrites: Rewrite[], url: string): { fn: string; url: string } | undefined {
  const u = new URL(url, 'https://example.vercel.app');
  const direct = /^\/api\/([a-z-]+)$/.exec(u.pathname)?.[1];
  if (direct && existsSync(`api/${direct}.ts`)) return { fn: direct, url: u.pathname + u.search };
  for (const route of convertRewrites(rewrites)) {
    if (!('dest' in route) || typeof route.dest !== 'string' || !route.src) continue;
    const m = new RegExp(route.src).exec(u.pathname);
    if (!m) continue;
    const dest = new URL(route.dest.replace(/\$(\d+)/g, (_, i: string) => m[Number(i)] ?? ''), u.origin);
    const fn = /^\/api\/([a-z-]+)$/.exec(dest.pathname)?.[1];
    if (!fn || !existsSync(`api/${fn}.ts`)) return undefined;
    // The function sees the path that was requested; the destination's query is added to it.
    for (const [k, v] of dest.searchParams) u.searchParams.append(k, v);
    return { fn, url: u.pathname + u.search };
  }
  return undefined;
}

const SECRETS = { SERVICE_TOKEN: 'svc-token-123', CRON_SECRET: 'cron-secret-123', WEBHOOK_TOKEN: 'hook-token-123', VAPI_WEBHOOK_SECRET: 'vapi-secret-123' };
const CREDENTIAL: Record<string, Record<string, string>> = {
  public: {},
  reader: { authorization: `Bearer ${ADMIN_TOKEN}` },
  writer: { authorization: `Bearer ${ADMIN_TOKEN}` },
  listen: { authorization: `Bearer ${ADMIN_TOKEN}` },
  admin: { authorization: `Bearer ${ADMIN_TOKEN}` },
  cron: { authorization: 'Bearer cron-secret-123' },
  webhook: { authorization: 'Bearer hook-token-123' },
  vapi: { 'x-vapi-secret': 'vapi-secret-123' },
};

let sql: Sql;
beforeAll(async () => {
  sql = await memoryPglite();
});
afterAll(() => sql.close());

describe('vercel.json as Vercel reads it', () => {
  it('declares no framework (the "node" preset looks for a hono entrypoint and fails the build)', () => {
    expect(vercel).toHaveProperty('framework', null);
  });

  it('schedules crons at most daily (Hobby refuses anything more frequent)', () => {
    for (const { path, schedule } of vercel.crons) {
      const [minute, hour, ...rest] = schedule.split(' ');
      expect(rest, path).toHaveLength(3);
      expect(minute, `${path}: one fixed minute`).toMatch(/^\d+$/);
      expect(hour, `${path}: one fixed hour`).toMatch(/^\d+$/);
    }
  });

  it('the resolver appends named parameters the way Vercel does (so the checks below can fail)', () => {
    const named = resolve([{ source: '/api/sessions/:path*', destination: '/api/sessions' }], '/api/sessions/abc/events?limit=5');
    expect(named?.fn).toBe('sessions');
    expect(new URL(named?.url ?? '', 'http://x').searchParams.getAll('path')).toEqual(['abc/events']);
    expect(new URL(named?.url ?? '', 'http://x').searchParams.get('limit')).toBe('5');
  });

  it('every defined route reaches its handler, with no parameter added and none in the audit log', async () => {
    const deps = makeDeps({ sql, config: testConfig(SECRETS) });
    const apps = new Map<string, ReturnType<typeof createApp>>();
    const checked: string[] = [];
    for (const def of ROUTES) {
      const path = def.path.replaceAll(/\{[^}]+\}/g, 'rt_missing');
      const landed = resolve(vercel.rewrites, path);
      expect(landed, `${def.method} ${def.path} reaches a function`).toBeDefined();
      if (!landed) continue;
      expect(landed.url, `${def.method} ${def.path}: Vercel adds no query parameter`).toBe(path);
      let app = apps.get(landed.fn);
      if (!app) {
        const door = (await import(`../../api/${landed.fn}.ts`)) as { default: { families: readonly Family[] } };
        app = createApp(deps, door.default.families);
        apps.set(landed.fn, app);
      }
      const res = await app.request(landed.url, {
        method: def.method.toUpperCase(),
        headers: { ...CREDENTIAL[def.auth], 'content-type': 'application/json' },
        ...(def.method === 'get' ? {} : { body: '{}' }),
      });
      const body = await drain(res);
      const what = `${def.method.toUpperCase()} ${def.path} in api/${landed.fn}.ts`;
      // The app's own 404 says "no route for …"; a handler's 404 (a missing id) does not.
      expect(body, what).not.toContain('no route for');
      expect([401, 403, 405], `${what}: ${res.status} ${body.slice(0, 200)}`).not.toContain(res.status);
      checked.push(what);
    }
    expect(checked).toHaveLength(ROUTES.length);
    await deps.settle();
    const audited = await sql.query<{ path: string; detail: unknown }>('SELECT path, detail FROM audit_log');
    expect(audited.length).toBeGreaterThan(0);
    for (const row of audited) expect(row.detail, row.path).toEqual({});
  });
});
