/**
 * The Cloudflare deploy config, checked offline with the wrangler version the project pins (its
 * miniflare/workerd are the ones the edge tests run): `wrangler deploy --dry-run` builds the
 * worker and validates wrangler.jsonc as a real deploy would, up to the upload. The schedules and
 * the static pages' headers are kept equal to the code that owns them.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { unstable_readConfig } from 'wrangler';
import { CLIENT_SCRIPT_HEADERS, CLIENT_SCRIPTS, PAGE_SECURITY_HEADERS } from '../../lib/app.js';
import { SCHEDULES } from '../../lib/scheduled.js';

const run = promisify(execFile);

describe('wrangler.jsonc', () => {
  it('passes `wrangler deploy --dry-run`: builds the worker, binds public/ as assets, no warnings', async () => {
    const outdir = await mkdtemp(join(tmpdir(), 'sl-wrangler-'));
    try {
      const { stdout, stderr } = await run('node_modules/.bin/wrangler', ['deploy', '--dry-run', '--outdir', outdir], {
        // No telemetry and no prompts: this runs offline in CI.
        env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true', NO_COLOR: '1' },
        timeout: 120_000,
      });
      const out = `${stdout}\n${stderr}`;
      expect(out).toContain('--dry-run: exiting now.');
      expect(out).toMatch(/env\.ASSETS\s+Assets/);
      expect(out).not.toMatch(/▲ \[WARNING\]|✘ \[ERROR\]/);
      // The bundle wrangler would upload: one ESM file with both handlers, well under the free
      // plan's 3 MB (gzip) limit.
      const bundle = await readFile(join(outdir, 'worker.js'), 'utf8');
      expect(bundle).toMatch(/scheduled\(controller, env, ctx\)/);
      expect((await stat(join(outdir, 'worker.js'))).size).toBeLessThan(3 * 1024 * 1024);
    } finally {
      await rm(outdir, { recursive: true, force: true });
    }
  }, 120_000);

  it('schedules exactly the jobs the scheduled handler knows, and serves public/', () => {
    const config = unstable_readConfig({ config: 'wrangler.jsonc' }, { hideWarnings: true });
    expect([...config.triggers.crons].sort()).toEqual(Object.values(SCHEDULES).sort());
    expect(config.assets?.directory).toBe('./public');
    expect(config.assets?.binding).toBe('ASSETS');
    expect(config.no_bundle).toBe(true);
    expect(config.build.command).toBe('npm run build:worker');
    // Secrets are set with `wrangler secret put`, never committed in vars.
    const secretish = Object.keys(config.vars).filter((k) => /TOKEN|SECRET|KEY|DATABASE_URL|PASSWORD/.test(k));
    expect(secretish).toEqual([]);
  });

  it("gives static pages the app's security headers, and the logging client's files CORS (public/_headers)", async () => {
    const text = await readFile('public/_headers', 'utf8');
    // Cloudflare's format: a path on its own line, then its headers indented.
    const rules: Record<string, Record<string, string>> = {};
    let path = '';
    for (const l of text.split('\n').filter((l) => l.trim() && !l.startsWith('#'))) {
      if (!/^\s/.test(l)) {
        path = l.trim();
        rules[path] = {};
        continue;
      }
      const i = l.indexOf(':');
      (rules[path] as Record<string, string>)[l.slice(0, i).trim()] = l.slice(i + 1).trim();
    }
    expect(Object.keys(rules)).toEqual(['/*', ...CLIENT_SCRIPTS]);
    expect(rules['/*']).toEqual(PAGE_SECURITY_HEADERS);
    for (const file of CLIENT_SCRIPTS) expect(rules[file], file).toEqual(CLIENT_SCRIPT_HEADERS);
  });
});
