import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { createApp } from '../../lib/app.js';
import type { Config } from '../../lib/config.js';
import { allFamilies } from '../../lib/families.js';
import { staticFamily } from '../../lib/node/static.js';
import type { Sql } from '../../lib/storage/sql.js';
import { makeDeps, type TestDeps } from './deps.js';

export const PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));

/**
 * The whole app (API + public/) on a real HTTP port on loopback, as `npm start` serves it, for
 * browser tests. `stop()`/`start()` take the listener down and up again (an "offline" server).
 */
export async function startTestServer(opts: { sql: Sql; config?: Config; now?: () => Date }) {
  const deps: TestDeps = makeDeps({ sql: opts.sql, ...(opts.config ? { config: opts.config } : {}), ...(opts.now ? { now: opts.now } : {}) });
  const app = createApp(deps, [...allFamilies, staticFamily(PUBLIC_DIR)]);
  let port = 0;
  let server: ReturnType<typeof serve> | null = null;
  const start = () =>
    new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, (info: AddressInfo) => {
        port = info.port;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      const s = server as unknown as { close(cb: () => void): void; closeAllConnections?: () => void } | null;
      if (!s) return resolve();
      s.closeAllConnections?.();
      s.close(() => resolve());
      server = null;
    });
  await start();
  return {
    deps,
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    start,
    stop,
  };
}
