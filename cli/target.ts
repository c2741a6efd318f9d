/**
 * Which deployment, with which token: flags, then SESSIONLOG_URL / SESSIONLOG_TOKEN, then the
 * local server `npm start` runs (http://localhost:3000) and the admin token it generated.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { usage } from './errors.js';

export const DEFAULT_URL = 'http://localhost:3000';

export interface Target {
  url: string;
  token: string | undefined;
  /** Where the token came from, for error messages (never the token itself). */
  tokenSource: string;
}

type Env = Record<string, string | undefined>;

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function isLocal(url: string): boolean {
  return LOCAL_HOSTS.has(new URL(url).hostname);
}

/**
 * The token the local server generated (server.ts keeps it in DATA_DIR/admin-token). Looked up in
 * the current directory's DATA_DIR and in this checkout's .data, so `npx sessionlog` works from
 * the repo and from elsewhere.
 */
function localAdminToken(env: Env): { token: string; source: string } | undefined {
  const repo = fileURLToPath(new URL('..', import.meta.url));
  const dirs = [env.DATA_DIR ?? '.data', join(repo, '.data')];
  for (const dir of dirs) {
    const file = join(dir, 'admin-token');
    try {
      const token = readFileSync(file, 'utf8').trim();
      if (token) return { token, source: file };
    } catch {
      // not this one
    }
  }
  return undefined;
}

export function resolveTarget(flags: { url?: string | undefined; token?: string | undefined }, env: Env): Target {
  const raw = flags.url ?? env.SESSIONLOG_URL ?? DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usage(`--url / SESSIONLOG_URL is not a URL: ${JSON.stringify(raw)} (expected e.g. https://sessions.example.com)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usage(`--url must be http:// or https://, got ${url.protocol}`);
  const base = url.toString().replace(/\/+$/, '');
  if (flags.token) return { url: base, token: flags.token, tokenSource: '--token' };
  if (env.SESSIONLOG_TOKEN) return { url: base, token: env.SESSIONLOG_TOKEN, tokenSource: 'SESSIONLOG_TOKEN' };
  // A local server's token is never sent to a remote host: it would hand a secret to whoever runs it.
  if (isLocal(base)) {
    if (env.ADMIN_TOKEN) return { url: base, token: env.ADMIN_TOKEN, tokenSource: 'ADMIN_TOKEN' };
    const saved = localAdminToken(env);
    if (saved) return { url: base, token: saved.token, tokenSource: saved.source };
  }
  return { url: base, token: undefined, tokenSource: 'none' };
}
