/**
 * Misconfiguration fails closed and quietly (issue "Trust"): production refuses secrets shorter than
 * 32 characters, and a serverless door that cannot start answers 500 BAD_ENVIRONMENT naming keys or
 * the file — never a value, a path or the offending line — while the details go to the log.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, MIN_SECRET_LENGTH, parseConfig } from '../../lib/config.js';
import { lazyApp } from '../../lib/door.js';
import { loadConfigFile } from '../../lib/node/config-file.js';
import { Problem as ProblemBody } from '../../lib/schemas/responses.js';

const PROD = { NODE_ENV: 'production', DATABASE_URL: 'postgres://app@127.0.0.1:5432/app', ALLOWED_ORIGINS: 'https://w.example.org' };
const LONG = 'x'.repeat(MIN_SECRET_LENGTH);

function configError(env: Record<string, string>): ConfigError {
  try {
    parseConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('parseConfig accepted it');
}

describe('secrets in production', () => {
  it('refuses every secret shorter than 32 characters, naming the keys and never the values', () => {
    const short = 'short-but-not-empty-secret-31ch';
    expect(short).toHaveLength(31);
    for (const key of ['ADMIN_TOKEN', 'SERVICE_TOKEN', 'CRON_SECRET', 'WEBHOOK_TOKEN', 'VAPI_WEBHOOK_SECRET', 'VAPI_HMAC_SECRET']) {
      const err = configError({ ...PROD, ADMIN_TOKEN: LONG, [key]: short });
      expect(err.keys).toEqual([key]);
      expect(err.message).toContain(`at least ${MIN_SECRET_LENGTH} characters`);
      expect(err.message).not.toContain(short);
    }
    const err = configError({ ...PROD, ADMIN_TOKEN: LONG, INSTRUCTOR_TOKENS: `ana:${LONG},ben:${short}` });
    expect(err.keys).toEqual(['INSTRUCTOR_TOKENS']);
    expect(err.message).not.toContain(short);
  });

  it('accepts 32 characters in production, and short secrets locally', () => {
    expect(parseConfig({ ...PROD, ADMIN_TOKEN: LONG, SERVICE_TOKEN: LONG, INSTRUCTOR_TOKENS: `ana:${LONG}` }).mode).toBe('production');
    expect(parseConfig({ ADMIN_TOKEN: 'short', SERVICE_TOKEN: 'short' }).mode).toBe('local');
  });

  it('a serverless door with a short secret answers 500 BAD_ENVIRONMENT naming the key', async () => {
    const door = lazyApp(async () => {
      parseConfig({ ...PROD, ADMIN_TOKEN: 'admin-token-too-short' });
      throw new Error('unreachable');
    });
    const res = await door(new Request('http://x/api/health'));
    expect(res.status).toBe(500);
    const body = ProblemBody.parse(await res.json());
    expect(body.detail).toContain('ADMIN_TOKEN');
    expect(JSON.stringify(body)).not.toContain('admin-token-too-short');
  });
});

describe('a malformed config file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sl-config-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('answers with the file name only; the path and the offending line (holding a key) go to the log', async () => {
    const secret = 'sk-live-4f9a8b7c6d5e4f3a2b1c';
    await writeFile(join(dir, 'session.config.yaml'), `analysis:\n  enabled: true\n  api_key: "${secret}\n  model: [oops\n`);
    const logged: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((line: string) => void logged.push(line));
    try {
      const door = lazyApp(async () => {
        await loadConfigFile(dir);
        throw new Error('unreachable');
      });
      const res = await door(new Request('http://x/api/health'));
      expect(res.status).toBe(500);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const text = await res.text();
      expect(ProblemBody.parse(JSON.parse(text)).detail).toMatch(/^server misconfigured: session\.config\.yaml: not valid YAML/);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(dir);
    } finally {
      spy.mockRestore();
    }
    expect(logged.join('\n')).toContain(dir); // the operator still learns where and what
  });

  it('a file with a bad key names the key and the file, not its directory', async () => {
    const sub = await mkdtemp(join(dir, 'keys-'));
    await writeFile(join(sub, 'session.config.json'), JSON.stringify({ analysis: { enabled: 'yes' } }));
    const door = lazyApp(async () => {
      await loadConfigFile(sub);
      throw new Error('unreachable');
    });
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    const res = await door(new Request('http://x/api/health'));
    spy.mockRestore();
    const body = ProblemBody.parse(await res.json());
    expect(body.detail).toContain('session.config.json: analysis.enabled');
    expect(body.detail).not.toContain(sub);
  });
});
