/**
 * The local door: `npm start`. Serves the whole API and public/ on PORT, on embedded PGlite and
 * in-memory KV unless DATABASE_URL / KV_REST_API_URL are set. Applies migrations on start.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { createApp } from './lib/app.js';
import { type Config, ConfigError, parseConfig } from './lib/config.js';
import { ConfigFileError } from './lib/config-file.js';
import { allFamilies } from './lib/families.js';
import { clientErrorListener } from './lib/node/client-error.js';
import { loadConfigFile } from './lib/node/config-file.js';
import { createNodeDeps } from './lib/node/deps.js';
import { createEmbeddedSql } from './lib/node/embedded.js';
import { checkCanListen, ListenError, listenErrorMessage } from './lib/node/listen.js';
import { staticFamily } from './lib/node/static.js';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Tokens a local server generates when unset, so every README example runs on a fresh `npm start`:
 * each is made once and kept in DATA_DIR (mode 600) so it survives restarts. Local mode only —
 * production requires ADMIN_TOKEN and leaves the others unset (their endpoints answer 401).
 */
const LOCAL_TOKENS = [
  { env: 'ADMIN_TOKEN', file: 'admin-token', prefix: 'sl_admin_' },
  { env: 'SERVICE_TOKEN', file: 'service-token', prefix: 'sl_service_' },
  { env: 'WEBHOOK_TOKEN', file: 'webhook-token', prefix: 'sl_webhook_' },
  { env: 'CRON_SECRET', file: 'cron-secret', prefix: 'sl_cron_' },
] as const;

async function localToken(dataDir: string, name: string, prefix: string): Promise<string> {
  const file = join(dataDir, name);
  try {
    const saved = (await readFile(file, 'utf8')).trim();
    if (saved) return saved;
  } catch {
    // first start: create it below
  }
  await mkdir(dataDir, { recursive: true });
  const token = `${prefix}${randomBytes(24).toString('base64url')}`;
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  return token;
}

async function main(): Promise<void> {
  const env: Record<string, string | undefined> = { ...process.env };
  let config: Config;
  const generated: string[] = [];
  try {
    const file = await loadConfigFile(here);
    config = parseConfig(env, 'node', file);
    if (config.mode === 'local') {
      for (const t of LOCAL_TOKENS) {
        if (env[t.env]) continue;
        env[t.env] = await localToken(config.dataDir, t.file, t.prefix);
        generated.push(t.env);
      }
      config = parseConfig(env, 'node', file);
    }
    await checkCanListen(config.port, config.host);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof ConfigFileError || err instanceof ListenError) {
      console.error(`sessionlog: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }

  const deps = await createNodeDeps(config, { migrate: true, embedded: createEmbeddedSql });
  const publicDir = join(here, 'public');
  const app = createApp(deps, [...allFamilies, staticFamily(publicDir)]);

  // A client that sends its body slowly (or never finishes it) holds a connection and its buffers:
  // Node closes such a request only after 300 s by default, and checks every 30 s. Webhook bodies
  // have their own 30 s deadline; this bounds every route, POST /api/session-log included.
  const serverOptions = { requestTimeout: config.requestTimeoutMs, connectionsCheckingInterval: Math.max(250, Math.min(30_000, config.requestTimeoutMs / 4)) };
  const server = serve({ fetch: app.fetch, port: config.port, serverOptions, ...(config.host ? { hostname: config.host } : {}) }, (info) => {
    const host = config.host && config.host !== '0.0.0.0' && config.host !== '::' ? config.host : 'localhost';
    const url = `http://${host}:${info.port}`;
    console.log(`sessionlog listening on ${url}`);
    console.log(`  storage:   postgres=${deps.sql.driver}${config.database.driver === 'pglite' ? ` (${config.database.dataDir})` : ''}, kv=${deps.kv.driver}`);
    console.log(`  dashboard: ${url}/dashboard/`);
    if (generated.length) {
      // Local mode only: the dashboard sign-in and the README examples need them. Printed as
      // shell lines so they can be pasted as they are.
      console.log(`  local tokens (generated once, kept in ${config.dataDir}/); for the README examples run:`);
      for (const name of generated) console.log(`    export ${name}=${env[name]}`);
    }
  });

  // Requests Node refuses before the app sees them (the deadline above, malformed HTTP) are
  // answered as problem documents like every other error, not Node's bare status lines.
  server.on('clientError', clientErrorListener(config.requestTimeoutMs / 1000));
  // Taken since checkCanListen let it go: the same one line, after closing the storage.
  server.once('error', async (err) => {
    const message = listenErrorMessage(err, config.port, config.host);
    console.error(message ? `sessionlog: ${message}` : err);
    await deps.sql.close();
    process.exit(1);
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`sessionlog: ${signal}, shutting down`);
    server.close();
    await deps.settle();
    await deps.sql.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

await main();
