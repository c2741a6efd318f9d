import { waitUntil } from '@vercel/functions';
import type { Family } from '../http/env.js';
import { createApp } from '../app.js';
import { parseConfig } from '../config.js';
import { lazyApp } from '../door.js';
import { openApiFamily } from '../openapi.js';
import { healthFamily } from '../routes/health.js';
import { loadConfigFile } from './config-file.js';
import { createNodeDeps } from './deps.js';

/**
 * vercel.json gives every function maxDuration 30 s; a stream closes 5 s before that with a
 * `retry:` hint (tests/unit/stream-limits.test.ts keeps the two in step), so Vercel never kills
 * it mid-message and the client resumes with Last-Event-ID.
 */
export const VERCEL_STREAM_LIMIT_MS = 25_000;

/**
 * A Vercel function (Node runtime) for some endpoint families. Storage clients are created once
 * per function instance and reused across invocations (Fluid compute runs many per instance).
 * Migrations are not run here: `npm run migrate` does that once per deploy.
 */
export function vercelHandler(families: readonly Family[]): { fetch: (request: Request) => Promise<Response>; families: readonly Family[] } {
  const mounted = [healthFamily, openApiFamily, ...families];
  // On Vercel the instance is built as the module loads (its connection opening meanwhile); a
  // test importing a door to read `families` builds nothing (ADR 0020).
  const handle = lazyApp(
    async () => {
      const deps = await createNodeDeps(parseConfig(process.env, 'node', await loadConfigFile()), { connectEarly: true });
      return createApp({ ...deps, waitUntil, streamLimitMs: VERCEL_STREAM_LIMIT_MS }, mounted);
    },
    { startNow: Boolean(process.env.VERCEL) },
  );
  // `families` lets tests/unit/routes.test.ts check that vercel.json sends each path to a
  // function that mounts it.
  return { fetch: async (request: Request) => handle(request), families: mounted };
}
