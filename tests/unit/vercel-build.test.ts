/**
 * `npm run build:vercel` (scripts/build-vercel.ts, ADR 0025): the Build Output for `vercel deploy
 * --prebuilt` routes every path as the zero-config deploy does (vercel.json), carries its crons,
 * static pages and function settings, and each bundled function really answers in a fresh `node`
 * (against the test PostgreSQL), with zod's English messages intact.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_SCRIPT_HEADERS, CLIENT_SCRIPTS } from '../../lib/app.js';
import { loadMigrations } from '../../lib/node/migrations.js';
import { ROUTES } from '../../lib/routes/inventory.js';
import { migrate } from '../../lib/storage/migrate.js';
import { createPgSql } from '../../lib/storage/sql-pg.js';
import { type BuildOutput, RUNTIME } from '../../scripts/build-vercel.js';
import { itWithPostgres, TEST_DATABASE_URL } from '../helpers/servers.js';
import { sharedVercelOutput } from '../helpers/shared-build.js';

const run = promisify(execFile);
const vercel = JSON.parse(readFileSync('vercel.json', 'utf8')) as {
  crons: Array<{ path: string; schedule: string }>;
  functions: Record<string, { maxDuration?: number }>;
  rewrites: Array<{ source: string; destination: string }>;
};

let out: string;
let built: BuildOutput;
beforeAll(async () => {
  // Built once per run and shared with tests/unit/cold-start.test.ts (tests/helpers/shared-build.ts).
  built = await sharedVercelOutput();
  out = built.dir;
}, 120_000);

type Route = { src?: string; dest?: string; status?: number; headers?: Record<string, string>; continue?: boolean; check?: boolean; handle?: string };
type Served = { function?: string; static?: string; status?: number; redirect?: { status: number; location: string }; headers: Record<string, string> };

/**
 * How Vercel's router serves a path from a Build Output (the subset config.json uses): routes
 * before `handle: filesystem` redirect or add headers; then a function or static file at the path;
 * then, up to the next phase (`handle: error`), rewrites whose destination must exist (`check`) or
 * a status.
 */
function serve(path: string): Served {
  const routes = built.config.routes as Route[];
  const headers: Record<string, string> = {};
  const fsIndex = routes.findIndex((r) => r.handle === 'filesystem');
  const onDisk = (p: string): Served | undefined => {
    const fn = join(out, 'functions', `${p}.func`);
    if (existsSync(fn)) return { function: p.replace(/^\//, ''), headers };
    for (const file of [join(out, 'static', p), join(out, 'static', p, 'index.html')]) {
      if (existsSync(file) && statSync(file).isFile()) return { static: file.slice(join(out, 'static').length), headers };
    }
    return undefined;
  };
  for (const r of routes.slice(0, fsIndex)) {
    if (!r.src || !new RegExp(r.src).test(path)) continue;
    if (r.status && r.headers?.Location) return { redirect: { status: r.status, location: r.headers.Location }, headers };
    Object.assign(headers, r.headers ?? {});
    if (!r.continue) break;
  }
  const here = onDisk(path);
  if (here) return here;
  const after = routes.slice(fsIndex + 1);
  const phaseEnd = after.findIndex((r) => r.handle);
  for (const r of after.slice(0, phaseEnd < 0 ? undefined : phaseEnd)) {
    const m = r.src ? new RegExp(r.src).exec(path) : null;
    if (!m) continue;
    if (!r.dest) return { headers, ...(r.status ? { status: r.status } : {}) };
    const dest = r.dest.replace(/\$(\d+)/g, (_, i: string) => m[Number(i)] ?? '');
    const there = onDisk(dest.split('?')[0] ?? dest);
    if (there || !r.check) return there ?? { headers };
  }
  return { headers };
}

describe('npm run build:vercel', () => {
  it('writes one function per door, each with the settings the zero-config build gives it', () => {
    // Vercel runs the newest Node.js major that package.json's engines allow.
    const engines = (JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } }).engines.node;
    expect(RUNTIME).toBe(`nodejs${Number(/<\s*(\d+)/.exec(engines)?.[1]) - 1}.x`);
    const doors = readdirSync('api').filter((f) => f.endsWith('.ts')).map((f) => `api/${f.slice(0, -3)}`).sort();
    expect(built.functions.map((f) => f.name)).toEqual(doors);
    for (const f of built.functions) {
      const vc = JSON.parse(readFileSync(join(f.dir, '.vc-config.json'), 'utf8')) as Record<string, unknown>;
      expect(vc, f.name).toMatchObject({
        runtime: RUNTIME,
        handler: 'index.cjs',
        launcherType: 'Nodejs',
        shouldAddHelpers: true,
        maxDuration: vercel.functions['api/*.ts']?.maxDuration,
      });
      expect(existsSync(join(f.dir, vc.handler as string)), `${f.name} has its handler`).toBe(true);
      // Every file is CommonJS (Vercel caches the bytecode of those only: ADR 0029), and everything
      // one requires is inside its folder: a .func is all a function gets.
      const files = readdirSync(f.dir).filter((n) => !n.startsWith('.'));
      expect(files.filter((n) => !n.endsWith('.cjs')), f.name).toEqual([]);
      for (const n of files) {
        const code = readFileSync(join(f.dir, n), 'utf8');
        expect(code.startsWith("'use strict';"), `${f.name}/${n} is strict`).toBe(true);
        // No ES module syntax left, and no import() that would send a chunk through Node's ES module loader.
        expect(code, `${f.name}/${n}`).not.toMatch(/^\s*(import|export)\s[^(]/m);
        expect(code, `${f.name}/${n}`).not.toMatch(/\bimport\(\s*["']\./);
        for (const [, dep] of code.matchAll(/\brequire\("(\.[^"]+)"\)/g)) expect(existsSync(join(f.dir, dep as string)), `${f.name}/${n}: ${dep}`).toBe(true);
      }
      expect(f.eagerBytes).toBeLessThan(f.totalBytes);
    }
  });

  it("ships zod's English messages only: none of its other locales", () => {
    for (const f of built.functions) {
      const code = readdirSync(f.dir).filter((n) => n.endsWith('.cjs')).map((n) => readFileSync(join(f.dir, n), 'utf8')).join('\n');
      expect(code, f.name).toContain('Invalid input');
      // Strings of zod's French and German locales (ASCII ones: esbuild escapes the others).
      expect(code, f.name).not.toContain('Trop petit');
      expect(code, f.name).not.toContain('Valeur invalide dans');
      expect(code, f.name).not.toContain('"Zeichen"');
    }
  });

  it("carries vercel.json's crons, and the static pages without Cloudflare's _headers", () => {
    expect(built.config.version).toBe(3);
    expect(built.config.crons).toEqual(vercel.crons);
    expect(existsSync(join(out, 'static', 'dashboard', 'index.html'))).toBe(true);
    expect(existsSync(join(out, 'static', 'session-log.js'))).toBe(true);
    expect(existsSync(join(out, 'static', '_headers'))).toBe(false);
  });

  it('routes every defined path to the function the zero-config deploy sends it to', () => {
    const matcher = (source: string) => new RegExp(`^${source.replace(/\/:\w+\*/g, '(?:/.*)?').replace(/:\w+/g, '[^/]+')}$`);
    const zeroConfig = (path: string) => {
      const direct = /^\/api\/([a-z-]+)$/.exec(path)?.[1];
      if (direct && existsSync(`api/${direct}.ts`)) return `api/${direct}`;
      const rewrite = vercel.rewrites.find((r) => matcher(r.source).test(path));
      return rewrite?.destination.replace(/^\//, '');
    };
    for (const def of ROUTES) {
      const path = def.path.replaceAll(/\{[^}]+\}/g, 'x1');
      expect(serve(path).function, `${def.method} ${def.path}`).toBe(zeroConfig(path));
    }
    for (const { path } of vercel.crons) expect(serve(path).function, path).toBe('api/cron');
    // An /api path that nothing takes is the platform's 404, as in the zero-config deploy.
    expect(serve('/api/nowhere')).toMatchObject({ status: 404 });
    expect(serve('/api/nowhere').function).toBeUndefined();
  });

  it('redirects and security headers as vercel.json declares them', () => {
    expect(serve('/dashboard').redirect).toEqual({ status: 307, location: '/dashboard/' });
    const page = serve('/dashboard/');
    expect(page.static).toBe('/dashboard/index.html');
    expect(page.headers['Content-Security-Policy']).toContain("default-src 'self'");
    expect(page.headers['X-Frame-Options']).toBe('DENY');
    // API answers set their own headers (lib/app.ts): the page policy is not added to them.
    const api = serve('/api/health');
    expect(api.function).toBe('api/health');
    expect(api.headers['Content-Security-Policy']).toBeUndefined();
    // The logging client may be imported as an ES module by pages on any origin (lib/app.ts).
    for (const file of CLIENT_SCRIPTS) {
      const served = serve(file);
      expect(served.static, file).toBe(file);
      const lower = Object.fromEntries(Object.entries(served.headers).map(([k, v]) => [k.toLowerCase(), v]));
      for (const [k, v] of Object.entries(CLIENT_SCRIPT_HEADERS)) expect(lower[k], `${file} ${k}`).toBe(v);
    }
    expect(page.headers['Access-Control-Allow-Origin']).toBeUndefined();
  });

  // Skipped, with the notice, where no PostgreSQL is configured (`npm test` on a fresh machine); CI sets it.
  itWithPostgres('each bundled function answers in a fresh node, on PostgreSQL, imported or required', async () => {
    const url = TEST_DATABASE_URL;
    // A launcher may import() the handler (Vercel's dev server does) or require() it.
    const probe = `
      const [how, file, method, path, body] = process.argv.slice(-5);
      const { createRequire } = await import('node:module');
      const door = how === 'require' ? createRequire(file)(file) : (await import(file)).default;
      const res = await door.fetch(new Request('http://localhost' + path, { method, headers: { 'content-type': 'application/json' }, body: body || undefined }));
      process.stdout.write(JSON.stringify({ status: res.status, type: res.headers.get('content-type'), body: await res.json() }));
      process.exit(0);`;
    const ask = async (how: 'import' | 'require', fn: string, method: string, path: string, body = '', cwd?: string) => {
      const file = join(out, 'functions', `${fn}.func`, 'index.cjs');
      const env = { PATH: process.env.PATH ?? '', DATABASE_URL: url as string, DATABASE_DRIVER: 'pg', RATE_LIMITS: 'off' };
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe, how, file, method, path, body], { env, timeout: 60_000, cwd });
      return JSON.parse(stdout) as { status: number; type: string; body: Record<string, unknown> };
    };
    // Every function loads as CommonJS and answers (each mounts /api/health).
    for (const f of built.functions) {
      const answer = await ask('require', f.name, 'GET', '/api/health');
      expect(answer.status, f.name).toBe(200);
      expect(answer.body, f.name).toMatchObject({ status: 'ok' });
    }
    for (const how of ['import', 'require'] as const) {
      // The pg driver is a chunk of its own, reached through a converted import(): it loads.
      const health = await ask(how, 'api/health', 'GET', '/api/health');
      expect(health.status, how).toBe(200);
      expect(health.body, how).toMatchObject({ status: 'ok', drivers: { postgres: 'pg' } });
      const bad = await ask(how, 'api/session-log', 'POST', '/api/session-log', JSON.stringify({ eventType: 'navigation' }));
      expect(bad.status, how).toBe(400);
      expect(bad.type, how).toContain('application/problem+json');
      expect(JSON.stringify(bad.body), how).toMatch(/sessionToken: Invalid input: expected string, received undefined/);
    }
    // Storing needs the tables (a Vercel deployment runs `npm run migrate` once per deploy).
    const pg = createPgSql({ connectionString: url as string, max: 2 });
    await migrate(pg, await loadMigrations());
    const token = `ws_build_${randomUUID()}`;
    const stored = await ask('require', 'api/session-log', 'POST', '/api/session-log', JSON.stringify({ sessionToken: token, studentEmail: 'build@example.com', eventType: 'navigation', eventData: { from: 1, to: 2 } }));
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({ success: true, eventId: expect.any(String) });
    const rows = await pg.query<{ event_uuid: string }>('SELECT event_uuid FROM events WHERE session_token = $1', [token]);
    await pg.close();
    expect(rows.map((r) => r.event_uuid)).toEqual([stored.body.eventId]);

    // A session.config.yaml beside the function is parsed (its YAML parser is a chunk of its own,
    // loaded only then): a valid file is used, a wrong value is named. The bundles once answered
    // "not valid YAML" for every YAML file.
    const dir = mkdtempSync(join(tmpdir(), 'sessionlog-yaml-'));
    try {
      writeFileSync(join(dir, 'session.config.yaml'), 'analysis:\n  enabled: false\n');
      expect((await ask('require', 'api/health', 'GET', '/api/health', '', dir)).status).toBe(200);
      writeFileSync(join(dir, 'session.config.yaml'), 'analysis:\n  enabled: maybe\n');
      const wrong = await ask('import', 'api/health', 'GET', '/api/health', '', dir);
      expect(wrong.status).toBe(500);
      expect(wrong.body.detail).toBe('server misconfigured: session.config.yaml: analysis.enabled: Invalid input: expected boolean, received string');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
