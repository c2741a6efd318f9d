import type { App } from './http/env.js';
import { ConfigError } from './config.js';
import { ConfigFileError } from './config-file.js';
import { ApiError, problemResponse } from './errors.js';

export type FetchHandler = (request: Request, env?: unknown, ctx?: unknown) => Response | Promise<Response>;

/**
 * Build the app lazily on the first request and keep it for the life of the instance. A bad
 * environment answers 500 BAD_ENVIRONMENT naming the keys (never their values) instead of
 * crashing the function on every request with an opaque error.
 *
 * `startNow` begins the build at once (a Vercel instance, lib/node/vercel.ts): its waits (reading
 * the lazy chunks, the database's connection) then overlap what the platform does before it hands
 * over the request. A build that fails there is left to the first request, which answers as above.
 */
export function lazyApp(build: () => Promise<App>, opts: { startNow?: boolean } = {}): FetchHandler {
  let app: Promise<App> | undefined;
  if (opts.startNow) {
    app = build();
    app.catch(() => {}); // reported by the first request, not as an unhandled rejection
  }
  return async (request, env, ctx) => {
    app ??= build();
    try {
      return await (await app).fetch(request, env, ctx as never);
    } catch (err) {
      app = undefined; // try again on the next request (a transient start-up failure)
      if (err instanceof ConfigError) {
        return problemResponse(new ApiError('BAD_ENVIRONMENT', `server misconfigured: ${err.keys.join(', ')} (${err.message})`));
      }
      if (err instanceof ConfigFileError) {
        // The details (path, the offending line) go to the operator's log, never to the caller.
        console.error(JSON.stringify({ level: 'error', msg: 'config file invalid', detail: err.message }));
        return problemResponse(new ApiError('BAD_ENVIRONMENT', `server misconfigured: ${err.publicMessage}`));
      }
      throw err;
    }
  };
}
