/**
 * One inventory of routes (lib/routes/inventory.ts): the app mounts exactly the defined routes,
 * the OpenAPI document describes exactly those, the document passes an independent validator and
 * the lint rules (explicit security, a 4xx per operation, no always-true anyOf), and vercel.json
 * sends every path to a Vercel function that mounts it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import type { Family } from '../../lib/http/env.js';
import { honoKey, ROUTES } from '../../lib/routes/inventory.js';
import type { Sql } from '../../lib/storage/sql.js';
import { admin, makeDeps, memoryPglite, testConfig } from '../helpers/deps.js';
import { expectProblem } from '../helpers/problem.js';
import { drain } from '../helpers/sse.js';

type Operation = { security?: unknown[]; responses: Record<string, unknown>; deprecated?: boolean };
type Doc = { paths: Record<string, Record<string, Operation>> };

let sql: Sql;
let doc: Doc;
const deps = () => makeDeps({ sql, config: testConfig({ CRON_SECRET: 'cron-secret-123' }) });
const mounted = (families: readonly Family[]) =>
  new Set(
    createApp(deps(), families)
      .routes.filter((r) => r.method !== 'ALL')
      .map((r) => `${r.method} ${r.path}`),
  );

beforeAll(async () => {
  sql = await memoryPglite();
  doc = (await (await createApp(deps(), allFamilies).request('/api/openapi.json')).json()) as Doc;
});
afterAll(() => sql.close());

const documented = () =>
  Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => honoKey({ method: method as 'get', path })));

describe('one route inventory', () => {
  it('the full app mounts exactly the defined routes, and the document describes exactly those', () => {
    const defined = ROUTES.map(honoKey);
    expect(new Set(defined).size, 'no route is defined twice').toBe(defined.length);
    expect([...mounted(allFamilies)].sort()).toEqual([...defined].sort());
    expect(documented().sort()).toEqual([...defined].sort());
  });

  it('covers the routes the hand-written table used to miss', () => {
    expect(documented()).toEqual(
      expect.arrayContaining([
        'GET /api/cron/sweep',
        'POST /api/cron/sweep',
        'GET /api/cron/retention',
        'POST /api/cron/retention',
        'POST /webhook/vapi',
        'POST /webhook/vapi/session-complete',
        'POST /webhook/session-data',
        'GET /api/openapi.json',
      ]),
    );
  });

  it('passes an independent OpenAPI 3.1 schema validator', async () => {
    const result = await new Validator().validate(doc as unknown as Record<string, unknown>);
    expect(result.errors ?? [], JSON.stringify(result.errors ?? []).slice(0, 2000)).toEqual([]);
    expect(result.valid).toBe(true);
    // The validator does reject a broken document (a parameter that does not say where it goes).
    const broken = structuredClone(doc) as unknown as { paths: Record<string, Record<string, Record<string, unknown>>> };
    (broken.paths['/api/health']?.get as Record<string, unknown>).parameters = [{ name: 'x' }];
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it('lint: explicit security on every operation, a 4xx on each (but the two that answer none), no always-true anyOf', () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const what = `${method} ${path}`;
        expect(Array.isArray(op.security), `${what} states its security`).toBe(true);
        const statuses = Object.keys(op.responses).map(Number);
        if (path !== '/api/health' && path !== '/api/openapi.json') expect(statuses.some((s) => s >= 400 && s < 500), `${what} documents a 4xx`).toBe(true);
      }
    }
    for (const path of ['/api/health', '/api/openapi.json', '/api/session-log']) {
      const op = path === '/api/session-log' ? doc.paths[path]?.post : doc.paths[path]?.get;
      expect(op?.security, `${path} is public`).toEqual([]);
    }
    const bad: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (Array.isArray(node)) {
        for (const [i, n] of node.entries()) walk(n, `${at}[${i}]`);
        return;
      }
      if (node === null || typeof node !== 'object') return;
      for (const key of ['anyOf', 'oneOf', 'allOf']) {
        const list = (node as Record<string, unknown>)[key];
        if (Array.isArray(list) && (list.length === 0 || list.some((b) => b && typeof b === 'object' && Object.keys(b).length === 0))) bad.push(`${at}.${key}`);
      }
      for (const [k, v] of Object.entries(node)) walk(v, `${at}.${k}`);
    };
    walk(doc, '');
    expect(bad).toEqual([]);
  });

  it('the aliases are marked deprecated and point at their canonical path', () => {
    for (const path of ['/webhook/vapi', '/webhook/vapi/session-complete', '/webhook/session-data']) {
      expect(doc.paths[path]?.post?.deprecated, path).toBe(true);
    }
  });
});

describe('the one validation hook', () => {
  it('a bad path parameter is a problem+json 400 naming it, after the role check', async () => {
    const app = createApp(deps(), allFamilies);
    const bad = await app.request('/api/sessions/not%20valid', { headers: admin });
    const p = await expectProblem(bad, 400);
    expect(p.detail).toMatch(/^invalid id in path: /);
    expect(p.errors).toEqual([{ path: 'id', message: expect.any(String) }]);
    const student = await expectProblem(await app.request('/api/students/a%20b', { headers: admin }), 400);
    expect(student.errors?.[0]?.path).toBe('student_id');
    // No credential: the 401 comes first, so an anonymous caller learns nothing about ids.
    await expectProblem(await app.request('/api/sessions/not%20valid'), 401);
  });
});

describe('who may call', () => {
  const SECRETS = { SERVICE_TOKEN: 'svc-token-123', CRON_SECRET: 'cron-secret-123', WEBHOOK_TOKEN: 'hook-token-123', VAPI_WEBHOOK_SECRET: 'vapi-secret-123', INSTRUCTOR_TOKENS: 'ann:inst-token-123', RATE_LIMITS: 'off' };
  const CREDENTIALS: Record<string, Record<string, string>> = {
    none: {},
    admin: admin,
    instructor: { authorization: 'Bearer inst-token-123' },
    service: { authorization: 'Bearer svc-token-123' },
    cron: { authorization: 'Bearer cron-secret-123' },
    webhook: { authorization: 'Bearer hook-token-123' },
    vapi: { 'x-vapi-secret': 'vapi-secret-123' },
  };
  /** What each auth class of a definition admits; `public` admits anyone. */
  const ADMITS: Record<string, string[]> = {
    public: Object.keys(CREDENTIALS),
    reader: ['admin', 'instructor'],
    writer: ['admin', 'service'],
    listen: ['admin', 'instructor', 'service'],
    admin: ['admin'],
    cron: ['cron'],
    webhook: ['webhook'],
    vapi: ['vapi'],
  };

  it('each route admits exactly the credentials its definition names (401 unknown, 403 wrong role)', async () => {
    const app = createApp(makeDeps({ sql, config: testConfig(SECRETS) }), allFamilies);
    for (const def of ROUTES) {
      const admitted: string[] = [];
      for (const [who, headers] of Object.entries(CREDENTIALS)) {
        // An id that does not exist and an empty body: nothing is changed, whoever is let in.
        const url = def.path.replaceAll(/\{[^}]+\}/g, 'rt_missing');
        const res = await app.request(url, { method: def.method.toUpperCase(), headers: { ...headers, 'content-type': 'application/json' }, ...(def.method === 'get' ? {} : { body: '{}' }) });
        await drain(res);
        if (res.status !== 401 && res.status !== 403) admitted.push(who);
      }
      expect(admitted.sort(), `${def.method} ${def.path} (${def.auth})`).toEqual([...(ADMITS[def.auth] ?? [])].sort());
    }
  });
});

describe('vercel.json', () => {
  const vercel = JSON.parse(readFileSync('vercel.json', 'utf8')) as { rewrites: Array<{ source: string; destination: string }>; crons: Array<{ path: string }> };
  /** Vercel's path syntax: `:name*` is zero or more segments, `:name` one. */
  const matcher = (source: string) => new RegExp(`^${source.replace(/\/:\w+\*/g, '(?:/.*)?').replace(/:\w+/g, '[^/]+')}$`);
  /** The function that serves a path: a file under api/ first (Vercel checks the filesystem before rewrites), else the first rewrite. */
  const doorOf = (path: string): string | undefined => {
    const direct = /^\/api\/([a-z-]+)$/.exec(path)?.[1];
    if (direct && existsSync(`api/${direct}.ts`)) return direct;
    const rewrite = vercel.rewrites.find((r) => matcher(r.source).test(path));
    return rewrite ? /^\/api\/([a-z-]+)$/.exec(rewrite.destination)?.[1] : undefined;
  };

  it('routes every defined path to a function that mounts it', async () => {
    const doors = new Map<string, Set<string>>();
    for (const def of ROUTES) {
      const url = def.path.replaceAll(/\{[^}]+\}/g, 'x1');
      const door = doorOf(url);
      expect(door, `${def.method} ${def.path} reaches a function`).toBeDefined();
      if (!doors.has(door as string)) {
        const mod = (await import(`../../api/${door}.ts`)) as { default: { families: readonly Family[] } };
        doors.set(door as string, mounted(mod.default.families));
      }
      expect(doors.get(door as string)?.has(honoKey(def)), `api/${door}.ts mounts ${honoKey(def)}`).toBe(true);
    }
    expect([...doors.keys()]).toEqual(expect.arrayContaining(['cron', 'audit']));
  });

  it('cron paths are defined GET routes (Vercel cron sends GET)', () => {
    for (const { path } of vercel.crons) expect(ROUTES.some((d) => d.method === 'get' && d.path === path), path).toBe(true);
  });
});
