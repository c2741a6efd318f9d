/**
 * `npm run backfill:attempts`: write the `attempt` events of graded tool calls stored before
 * ADR 0030 (lib/sessions/backfill-attempts.ts; ADR 0031). Reads DATABASE_URL (through `pg`, also for
 * Neon) or, without it, the embedded database in DATA_DIR, and ATTEMPT_TOOLS from the environment or
 * session.config — the tools the server counts. Safe to run again, and while the server runs.
 * Run it after `npm run migrate` (or a start, which migrates): it reads the schema the server leaves.
 */
import { parseConfig } from '../lib/config.js';
import { loadConfigFile } from '../lib/node/config-file.js';
import { openScriptSql } from '../lib/node/script-sql.js';
import { backfillAttempts } from '../lib/sessions/backfill-attempts.js';
import type { Sql } from '../lib/storage/sql.js';

const config = parseConfig({ ...process.env, ADMIN_TOKEN: process.env.ADMIN_TOKEN ?? 'unused-by-the-backfill-0123456789abcdef' }, 'node', await loadConfigFile());
const sql = await openScriptSql(config);
/** What the run did, in one line; an exit code of 1 when there is nothing to read. */
async function run(sql: Sql): Promise<string> {
  const [schema] = await sql.query<{ events: string | null }>("SELECT to_regclass('events')::text AS events");
  if (!schema?.events) {
    process.exitCode = 1;
    return 'no events table here: run `npm run migrate` (or start the server once) first';
  }
  const tools = [...config.attemptTools];
  if (!tools.length) return 'ATTEMPT_TOOLS is none: no tool call is an attempt, nothing to do';
  const r = await backfillAttempts(sql, config.attemptTools, {
    progress: (p) => process.stderr.write(`\r${p.scanned} graded interactions read, ${p.written} attempts written`),
  });
  if (r.scanned) process.stderr.write('\n');
  return `${r.written} attempts written from ${r.scanned} graded interactions of ${tools.join(', ')} (the rest had theirs)`;
}

try {
  const line = await run(sql);
  if (process.exitCode) console.error(line);
  else console.log(line);
} finally {
  await sql.close();
}
