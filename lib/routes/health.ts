import type { Family } from '../http/env.js';
import type { Deps } from '../deps.js';
import { describeError } from '../deps.js';
import { register } from '../http/register.js';
import { healthRoute } from './health.routes.js';

type Status = 'ok' | 'unavailable';

async function probe(run: () => Promise<unknown>, deps: Deps, what: string): Promise<Status> {
  try {
    // A hung connection must not hang the health check: give up after 3 s.
    await Promise.race([run(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 3000))]);
    return 'ok';
  } catch (err) {
    deps.log.warn('health check failed', { store: what, error: describeError(err) });
    return 'unavailable';
  }
}

/** GET /api/health — 200 when Postgres and KV answer, 503 naming the part that does not. */
export const healthFamily: Family = (app, deps) => {
  register(app, healthRoute, async (c) => {
    const [postgres, kv] = await Promise.all([
      probe(() => deps.sql.query('SELECT 1'), deps, 'postgres'),
      probe(() => deps.kv.ping(), deps, 'kv'),
    ]);
    const ok = postgres === 'ok' && kv === 'ok';
    c.header('cache-control', 'no-store');
    return c.json(
      {
        status: ok ? 'ok' : 'error',
        storage: { postgres, kv },
        drivers: { postgres: deps.sql.driver, kv: deps.kv.driver },
      },
      ok ? 200 : 503,
    );
  });
};
