import { type Context, type ExecutionContext, Hono, type MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { TrieRouter } from 'hono/router/trie-router';
import type { Deps } from './deps.js';
import type { App, AppEnv, Family } from './http/env.js';
import { describeError } from './deps.js';
import { trafficSweep } from './http/traffic-sweep.js';
import { DomainError } from './sessions/errors.js';
import { ApiError, StorageRejectedValueError, StorageResultTooLargeError, StorageUnavailableError, problemResponse } from './errors.js';

export type { App, AppEnv, Family };

/** Seconds a client should wait before retrying when storage is down. */
const RETRY_AFTER_SECONDS = 5;

/**
 * The one app factory: request id, CORS, error vocabulary and 404 are the same for every door
 * (Vercel functions, the edge worker, the local server, tests). Each door chooses which endpoint
 * families to mount, so each Vercel function carries only its own routes.
 */
export function createApp(deps: Deps, families: readonly Family[]): App {
  // Path parameters go through one validation hook (lib/http/register.ts). TrieRouter, not hono's default RegExpRouter: that one compiles every route into one regular
  // expression on the first request, which an instance serving a cold start pays for in full
  // (~3 ms of the edge worker's first-request CPU for ~70 routes); the trie is built as routes
  // are added and matches as fast at this size (ADR 0020).
  const app = new Hono<AppEnv>({ router: new TrieRouter() });

  // Every response's own headers (request id, CORS, security headers) are set on the answer after
  // the route ran, never before it: a header set before the handler (hono's requestId and cors did)
  // makes hono copy every answer into a second Response to merge it in, which on
  // @hono/node-server turned each plain JSON body into a web stream (a fifth of a single-event
  // request's CPU). Set afterwards, the same headers reach every answer, raw Responses included.
  app.use('*', async (c, next) => {
    c.set('requestId', requestIdOf(c.req.header(REQUEST_ID)));
    c.set('deps', deps);
    await next();
    setResponseHeaders(c);
  });
  if (deps.config.logRequests) {
    app.use('*', async (c, next) => {
      const started = performance.now();
      await next();
      deps.log.info('request', {
        requestId: c.get('requestId'),
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      });
    });
  }
  app.use('/api/*', corsFor(deps));

  // Strict CORS also for writes: a browser page on an origin that is not allowed cannot read the
  // answer, but a "simple" POST (text/plain, like a beacon) would still be stored. Refuse it, on the
  // legacy `/webhook/*` aliases too: there a Vapi webhook without a secret (local mode) took a
  // foreign page's post.
  const refuseForeignWrites: MiddlewareHandler<AppEnv> = async (c, next) => {
    const origin = c.req.header('origin');
    const allowed = deps.config.allowedOrigins;
    // Exact, as in corsFor below: the entries are in the form browsers send.
    if (origin && c.req.method !== 'GET' && c.req.method !== 'HEAD' && c.req.method !== 'OPTIONS' && allowed !== '*' && !allowed.includes(origin)) {
      if (!isSameOrigin(c.req.url, origin, c.req.header('x-forwarded-proto'), c.req.header('x-forwarded-host'))) {
        // The refusal, and only it, is readable by that page: behind an opaque CORS failure the
        // browser client took it for a network error and retried the same events forever.
        throw new ApiError('FORBIDDEN', `origin ${origin} is not allowed (ALLOWED_ORIGINS)`, { headers: { 'access-control-allow-origin': origin } });
      }
    }
    await next();
  };
  app.use('/api/*', refuseForeignWrites);
  app.use('/webhook/*', refuseForeignWrites);

  app.use('*', trafficSweep(deps));

  for (const family of families) family(app, deps);

  app.notFound((c) => problemResponse(new ApiError('NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`), c.get('requestId')));

  // The CORS and security headers are added to the problem by the middleware above, after this.
  app.onError((err, c) => {
    const id = c.get('requestId');
    return problemResponse(toApiError(err, deps, id), id);
  });

  // A runtime without a per-request execution context (Node, tests) gets one backed by the door's
  // waitUntil, so lib/http/defer.ts never asks hono for a context that is not there: hono answers
  // that by throwing, and the Error cost a single-event request more CPU than any other one step.
  const fetch = app.fetch;
  const doorCtx: ExecutionContext = {
    waitUntil: (p) => deps.waitUntil(p),
    passThroughOnException: () => {},
    props: {},
  };
  app.fetch = (request, env, ctx) => fetch(request, env, ctx ?? doorCtx);

  return app;
}

export function toApiError(err: unknown, deps: Pick<Deps, 'log'>, requestId?: string): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof StorageUnavailableError) {
    deps.log.warn('storage unavailable', { requestId, store: err.store, cause: describeError(err.cause) });
    return new ApiError('UNAVAILABLE', `${err.store === 'postgres' ? 'database' : 'cache'} is unavailable; retry later`, {
      retryAfter: RETRY_AFTER_SECONDS,
    });
  }
  if (err instanceof DomainError) {
    const code = err.kind === 'not_found' ? 'NOT_FOUND' : err.kind === 'conflict' ? 'CONFLICT' : 'BAD_REQUEST';
    return new ApiError(code, err.message, err.field ? { errors: [{ path: err.field, message: err.message }] } : {});
  }
  if (err instanceof StorageRejectedValueError) {
    return new ApiError('BAD_REQUEST', `a value was rejected by storage (SQLSTATE ${err.sqlState})`);
  }
  if (err instanceof StorageResultTooLargeError) {
    // Not 503: a retry sends the same query into the same limit. 413 (the closed vocabulary's
    // "too large") with the limit named tells the caller to ask for less (a smaller limit, a
    // narrower filter). List endpoints bound their pages by bytes, so this is a backstop.
    deps.log.warn('storage result too large', { requestId, limitBytes: err.limitBytes });
    return new ApiError(
      'PAYLOAD_TOO_LARGE',
      `the result is larger than the database's response limit${err.limitBytes ? ` (${err.limitBytes} bytes)` : ''}; request fewer rows or a narrower filter`,
    );
  }
  if (err instanceof HTTPException) {
    const code = err.status === 413 ? 'PAYLOAD_TOO_LARGE' : err.status === 401 ? 'UNAUTHORIZED' : err.status < 500 ? 'BAD_REQUEST' : 'INTERNAL';
    return new ApiError(code, err.message || 'request failed');
  }
  deps.log.error('unhandled error', { requestId, error: describeError(err) });
  return new ApiError('INTERNAL', 'an internal error occurred; quote the request id when reporting it');
}

/**
 * Pages (the dashboard, the demo) get a CSP without inline script or style and may not be framed;
 * API answers are never cached or sniffed. The same headers are declared for Vercel's static
 * hosting in vercel.json.
 */
export const PAGE_SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};

/**
 * The logging client's files, which pages on any origin load: as a classic `<script>` (no CORS
 * needed) or as an ES module (`import … from 'https://<deployment>/session-log.mjs'`, which the
 * browser fetches in CORS mode, and the module's own import of session-log.js with it). They are
 * public, the same for everyone and sent without credentials, so any origin may read them. The
 * same headers are declared for Vercel's static hosting (vercel.json) and Cloudflare's
 * (public/_headers).
 */
export const CLIENT_SCRIPTS = ['/session-log.js', '/session-log.mjs'] as const;
/**
 * The client scripts' headers: readable from any origin (an ES module import, a `crossorigin` tag),
 * and loadable by pages that require CORP (`Cross-Origin-Embedder-Policy: require-corp`, as
 * WebContainer and SharedArrayBuffer workshops set), where a plain tag was otherwise blocked.
 * Cached for 5 min, then revalidated by ETag (lib/node/static.ts; Vercel and Cloudflare tag static
 * files themselves): every page of a workshop loads them, but their names carry no hash, so a
 * longer max-age (or `immutable`) would keep a deploy's fix from pages for that long.
 */
export const CLIENT_SCRIPT_HEADERS: Record<string, string> = {
  'access-control-allow-origin': '*',
  'cross-origin-resource-policy': 'cross-origin',
  'cache-control': 'public, max-age=300',
};

const REQUEST_ID = 'x-request-id';

/** The caller's X-Request-Id when it is a plain token of at most 255 characters, else a new UUID. */
function requestIdOf(given: string | undefined): string {
  return given && given.length <= 255 && !/[^\w\-=]/.test(given) ? given : crypto.randomUUID();
}

/**
 * Edit the answer's headers in place; an answer whose headers are immutable (e.g. passed through
 * from fetch) is copied once first.
 */
function editHeaders(c: Context<AppEnv>, edit: (h: Headers) => void): void {
  try {
    edit(c.res.headers);
  } catch {
    c.res = new Response(c.res.body, c.res);
    edit(c.res.headers);
  }
}

/** Request id, and the security headers of API answers and of pages. */
function setResponseHeaders(c: Context<AppEnv>): void {
  const api = c.req.path.startsWith('/api/') || c.req.path.startsWith('/webhook/');
  const id = c.get('requestId');
  editHeaders(c, (h) => {
    h.set('x-content-type-options', 'nosniff');
    h.set(REQUEST_ID, id);
    if (api) {
      if (!h.has('cache-control')) h.set('cache-control', 'no-store');
    } else {
      for (const [k, v] of Object.entries(PAGE_SECURITY_HEADERS)) h.set(k, v);
      if ((CLIENT_SCRIPTS as readonly string[]).includes(c.req.path)) for (const [k, v] of Object.entries(CLIENT_SCRIPT_HEADERS)) h.set(k, v);
    }
  });
}

const CORS = {
  credentials: true,
  allowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
  allowHeaders: ['Content-Type', 'Authorization', 'X-Request-Id'],
  exposeHeaders: ['X-Request-Id', 'Retry-After', 'Content-Disposition'],
  maxAge: 86400,
};
const EXPOSE_HEADERS = CORS.exposeHeaders.join(',');

/**
 * CORS on /api/*: the origin is echoed (never `*`) when allowed, so credentialed requests such as
 * beacons work. Preflights are answered by hono's cors; other answers get the same headers it
 * sets (Allow-Origin, Allow-Credentials, Expose-Headers, `Vary: Origin`), after the route ran.
 */
function corsFor(deps: Deps): MiddlewareHandler<AppEnv> {
  // Compared exactly: the entries are serialized origins (lib/config.ts), the one form in which
  // browsers send Origin (`https://workshop.example.org`: lowercase, no default port, no slash).
  const allowOrigin = (origin: string) => {
    const allowed = deps.config.allowedOrigins;
    return allowed === '*' || allowed.includes(origin) ? origin : null;
  };
  const preflight = cors({ ...CORS, origin: allowOrigin });
  return async (c, next) => {
    if (c.req.method === 'OPTIONS') return preflight(c, next);
    await next();
    const origin = allowOrigin(c.req.header('origin') || '');
    editHeaders(c, (h) => {
      if (origin) h.set('access-control-allow-origin', origin);
      h.set('access-control-allow-credentials', 'true');
      h.set('access-control-expose-headers', EXPOSE_HEADERS);
      h.append('vary', 'Origin');
    });
  };
}

/**
 * Whether a page on `origin` is this deployment's own (the dashboard, the demo): the request URL's
 * origin, or the scheme and host a proxy in front says the browser used. Behind a proxy that
 * terminates TLS the function is reached over plain HTTP: Vercel's launcher builds the Request as
 * `http://<host>` (its port is not 443), as does a Node server behind nginx, while the page is
 * `https://<host>`. A page on another origin cannot add X-Forwarded-* to a write: they are not
 * CORS-safelisted headers, so its browser asks first, and that preflight is refused.
 */
export function isSameOrigin(url: string, origin: string, forwardedProto?: string, forwardedHost?: string): boolean {
  const own = new URL(url);
  if (origin === own.origin) return true;
  // Both sides as URL serialises an origin (host lowercased, the scheme's default port dropped): a
  // proxy sending `X-Forwarded-Host: example.org:443` names the page https://example.org, and its
  // writes were refused.
  const page = webOrigin(origin);
  if (page === null) return false;
  if (page === own.origin) return true;
  const proto = forwardedProto?.split(',')[0]?.trim().toLowerCase();
  if (proto !== 'https' && proto !== 'http') return false;
  const host = forwardedHost?.split(',')[0]?.trim() || own.host;
  return webOrigin(`${proto}://${host}`) === page;
}

/**
 * `text` as an origin, when it is one and nothing more: an http(s) scheme and a host, no user,
 * path, query or fragment. Null for anything else (an unparsable host, `null`, a host with `@` or
 * `/` in it), so what is not an origin matches nothing rather than throwing or matching the part
 * of it URL would keep (`evil.example@example.org` is example.org to URL).
 */
function webOrigin(text: string): string | null {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return null;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return null;
  if (u.username || u.password || u.pathname !== '/' || u.search || u.hash) return null;
  return u.origin;
}
