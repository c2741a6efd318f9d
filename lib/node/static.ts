import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import type { MiddlewareHandler } from 'hono';
import { CLIENT_SCRIPTS } from '../app.js';
import type { AppEnv, Family } from '../http/env.js';

/**
 * Serve public/ (the logging client, the demo and the dashboard) from the local Node server.
 * Vercel serves public/ itself; an edge deployment serves it as static assets.
 */
export function staticFamily(publicDir: string): Family {
  return (app) => {
    app.get('/dashboard', (c) => c.redirect('/dashboard/'));
    app.get('/demo', (c) => c.redirect('/demo/'));
    for (const path of CLIENT_SCRIPTS) app.get(path, clientScript(join(publicDir, path)));
    app.use('/*', serveStatic({ root: publicDir }));
  };
}

/**
 * One logging-client file, which every workshop page loads: with a strong ETag of its bytes, and a
 * matching If-None-Match answered 304 without them, so a page load after the short max-age
 * (CLIENT_SCRIPT_HEADERS' Cache-Control, set with its CORS headers in lib/app.ts) costs a
 * revalidation, not the file. serveStatic sends no ETag and answers no conditional request. The
 * hash is of the bytes, not the mtime: a fresh checkout of the same file keeps its ETag. It is kept
 * while the file's size and mtime stay the same, so an edited file is served and tagged anew.
 */
function clientScript(file: string): MiddlewareHandler<AppEnv> {
  let cached: { mtimeMs: number; size: number; bytes: Uint8Array<ArrayBuffer>; etag: string } | undefined;
  return async (c, next) => {
    const stats = await stat(file).catch(() => undefined);
    if (!stats?.isFile()) return next(); // serveStatic's 404, as for any missing file
    if (cached?.mtimeMs !== stats.mtimeMs || cached.size !== stats.size) {
      const bytes = new Uint8Array(await readFile(file));
      cached = { mtimeMs: stats.mtimeMs, size: stats.size, bytes, etag: `"${createHash('sha256').update(bytes).digest('base64url')}"` };
    }
    c.header('etag', cached.etag);
    if (noneMatch(c.req.header('if-none-match'), cached.etag)) return c.body(null, 304);
    c.header('content-type', 'text/javascript; charset=utf-8');
    c.header('content-length', String(cached.bytes.byteLength)); // for HEAD too, as serveStatic answers it
    return c.body(cached.bytes, 200);
  };
}

/** If-None-Match against the current ETag: `*`, or any listed tag, compared weakly (RFC 9110 §13.1.2). */
function noneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
