import type { Sql, Statement } from './sql.js';

export interface Migration {
  /** File name, e.g. `001_events.sql`; migrations apply in the sort order of names. */
  name: string;
  sql: string;
}

const LOCK_ID = 7266001;

/**
 * Apply pending migrations, each in one transaction together with its row in
 * `schema_migrations`. Safe to run from several processes at once (cold starts, parallel test
 * workers): a transaction-scoped advisory lock serialises runners and the applied-check runs
 * under it. Returns the names this call applied.
 */
export async function migrate(sql: Sql, migrations: readonly Migration[]): Promise<string[]> {
  await sql.batch([
    { text: `SELECT pg_advisory_xact_lock(${LOCK_ID})` },
    {
      text: `CREATE TABLE IF NOT EXISTS schema_migrations (
               name text PRIMARY KEY,
               applied_at timestamptz NOT NULL DEFAULT now())`,
    },
  ]);
  const applied: string[] = [];
  const done = new Set((await sql.query<{ name: string }>('SELECT name FROM schema_migrations')).map((r) => r.name));
  for (const m of [...migrations].sort((a, b) => a.name.localeCompare(b.name))) {
    if (done.has(m.name)) continue;
    const statements: Statement[] = [
      { text: `SELECT pg_advisory_xact_lock(${LOCK_ID})` },
      // Under the lock: raise if another runner applied it meanwhile, rolling this one back.
      {
        text: `DO $check$ BEGIN
                 IF EXISTS (SELECT 1 FROM schema_migrations WHERE name = ${quote(m.name)}) THEN
                   RAISE EXCEPTION 'migration already applied' USING ERRCODE = 'SL001';
                 END IF;
               END $check$`,
      },
      ...splitSql(m.sql).map((text) => ({ text })),
      { text: 'INSERT INTO schema_migrations (name) VALUES ($1)', params: [m.name] },
    ];
    try {
      await sql.batch(statements);
      applied.push(m.name);
    } catch (err) {
      if ((err as { code?: string }).code !== 'SL001') throw err;
    }
  }
  return applied;
}

function quote(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/**
 * Split a SQL file into statements on top-level semicolons, skipping those inside quotes,
 * dollar-quoted bodies and comments. Needed because the extended protocol (PGlite with params,
 * Neon HTTP) runs one statement per call.
 */
export function splitSql(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    const next = text[i + 1];
    if (ch === '-' && next === '-') {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end + 1;
    } else if (ch === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? text.length : end + 2;
    } else if (ch === "'" || ch === '"') {
      let j = i + 1;
      while (j < text.length && !(text[j] === ch && text[j + 1] !== ch)) j += text[j] === ch ? 2 : 1;
      i = j + 1;
    } else if (ch === '$') {
      const tag = /^\$[A-Za-z_]*\$/.exec(text.slice(i))?.[0];
      if (tag) {
        const end = text.indexOf(tag, i + tag.length);
        i = end === -1 ? text.length : end + tag.length;
      } else i++;
    } else if (ch === ';') {
      const stmt = stripComments(text.slice(start, i)).trim();
      if (stmt) out.push(stmt);
      start = ++i;
    } else i++;
  }
  const tail = stripComments(text.slice(start)).trim();
  if (tail) out.push(tail);
  return out;
}

function stripComments(s: string): string {
  // Only whole-line comments: enough to drop a statement made of comments alone.
  return s.replace(/^\s*--.*$/gm, '');
}
