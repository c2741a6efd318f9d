/**
 * Misconfiguration fails closed and quietly (issue "Trust"): production refuses secrets shorter than
 * 32 characters, and a serverless door that cannot start answers 500 BAD_ENVIRONMENT naming keys or
 * the file — never a value, a path or the offending line — while the details go to the log. An
 * ALLOWED_ORIGINS entry that no browser's Origin header could match stops start-up, naming the
 * entry (origins are public), never a user:password in it.
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

describe('ALLOWED_ORIGINS', () => {
  const origins = (list: string, env: Record<string, string> = { ...PROD, ADMIN_TOKEN: LONG }) => parseConfig({ ...env, ALLOWED_ORIGINS: list }).allowedOrigins;

  it('keeps each entry as the origin a browser sends: scheme and host lowercased, no default port, no trailing slash', () => {
    expect(origins('https://Workshop.example.com/, HTTPS://ws.example.com:443 ,http://localhost:5173/,https://workshop.example.com,https://b\u00fccher.example:8443')).toEqual([
      'https://workshop.example.com',
      'https://ws.example.com',
      'http://localhost:5173',
      'https://xn--bcher-kva.example:8443',
    ]);
  });

  it('refuses, at start-up and locally too, an entry that is not an http(s) origin, naming it', () => {
    const bad = {
      'https://ws.example.com/page': 'it has a path or query; its origin is https://ws.example.com',
      'https://ws.example.com/?cohort=3': 'its origin is https://ws.example.com',
      'https://ws.example.com/#top': 'its origin is https://ws.example.com',
      'workshop.example.com': 'write it as https://host',
      'localhost:5173': 'only http:// and https:// origins',
      'ftp://ws.example.com': 'only http:// and https:// origins',
      'https://*.example.com': 'wildcards are not supported',
      null: 'write it as https://host',
      'https://a.example.com https://b.example.com': 'separate origins with commas',
    };
    for (const [entry, why] of Object.entries(bad)) {
      for (const env of [{ ...PROD, ADMIN_TOKEN: LONG }, {}]) {
        const err = configError({ ...env, ALLOWED_ORIGINS: `https://ok.example.com,${entry}` });
        expect(err.keys, entry).toEqual(['ALLOWED_ORIGINS']);
        expect(err.message, entry).toContain(`ALLOWED_ORIGINS: "${entry}" is not an origin: `);
        expect(err.message, entry).toContain(why);
      }
    }
  });

  it('names an entry with a user name or password by its place, never its text', () => {
    const err = configError({ ...PROD, ADMIN_TOKEN: LONG, ALLOWED_ORIGINS: 'https://ok.example.com,https://ana:hunter2-password@ws.example.com' });
    expect(err.message).toBe('ALLOWED_ORIGINS: entry 2 is not an origin: it has a user name or password');
    expect(err.message).not.toContain('hunter2');
  });

  it('`*` is any origin locally, and refused in production', () => {
    expect(origins('*', {})).toBe('*');
    expect(origins('https://ws.example.com, *', {})).toBe('*');
    expect(configError({ ...PROD, ADMIN_TOKEN: LONG, ALLOWED_ORIGINS: '*' }).message).toContain('ALLOWED_ORIGINS=* is only allowed locally');
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
