/**
 * Reads group: the instructor reads over 1,000,000 stored events (seed.ts) at 8 connections,
 * each beside the raw figure — the same query functions (listEvents, logStats, ...) called
 * through a pg pool at the same concurrency, so the difference is HTTP, auth, validation,
 * serialisation and the audit write.
 */
import { ADMIN_TOKEN } from './config.js';
import { CSV_HEADER, csvRow, decodeCursor, type EventFilter, iterateEvents, lastSeq, listEvents, logStats } from '../lib/events/query.js';
import { silentLogger } from '../lib/deps.js';
import { listSessions } from '../lib/sessions/read.js';
import type { SessionCtx } from '../lib/sessions/context.js';
import { createMemoryKv } from '../lib/storage/kv-memory.js';
import type { Sql } from '../lib/storage/sql.js';
import { bearer, type Client, client, expectStatus, type Reply } from './http.js';
import type { Server } from './lib.js';
import { fmt, forEachConcurrent, latency, type Measured, measure, ms, pct, type Section, table } from './measure.js';
import { SEED_EVENTS, SEED_SESSIONS, SEED_STUDENTS, type Seeded, seedEmail, seedToken } from './seed.js';

const CONCURRENCY = 8;
const DEEP_TYPES = ['navigation', 'action', 'state_change', 'api_call', 'error'] as const;
const PAGE = 100;
const DEPTH = 20;

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)] as T;
const anyToken = () => seedToken(Math.floor(Math.random() * SEED_SESSIONS));
const anyEmail = () => seedEmail(Math.floor(Math.random() * SEED_STUDENTS));
/** Part of a student's name, as an instructor types it: "eader 42" finds Reader 42 and Reader 420–429. */
const anyNamePart = () => `eader ${Math.floor(Math.random() * SEED_STUDENTS)}`;
/** The session-list handler's context (the search reads Postgres only; KV is unused). */
const sessionCtx = (sql: Sql): SessionCtx => ({ sql, kv: createMemoryKv(), timeoutMs: 600_000, now: () => new Date(), log: silentLogger });
const SEARCH_LIMIT = 50;

export interface ReadScenario {
  name: string;
  /** Path and query of one request (random session/student/type each call). */
  path(): string;
  /** What the route runs, called directly. */
  raw(sql: Sql): Promise<unknown>;
  /** Rows one response holds (for the table), from its text. */
  rows(r: Reply): number;
}

const jsonCount = (r: Reply) => (JSON.parse(r.text) as { count?: number }).count ?? 0;

/**
 * The read scenarios. Windows are relative to the seed's newest event (`anchor`), so "the last
 * hour" has data however old the reused seed is. `deep` holds, per type, the cursor reached by
 * following next_cursor DEPTH times from the first page.
 */
export function readScenarios(anchor: Date, deep: ReadonlyMap<string, string>): ReadScenario[] {
  const iso = (msBefore: number) => new Date(anchor.getTime() - msBefore).toISOString();
  const until = new Date(anchor.getTime() + 1000);
  const desc = (f: Omit<EventFilter, 'order'>): EventFilter => ({ ...f, order: 'desc' });
  const q = (o: Record<string, string>) => new URLSearchParams(o).toString();
  const stats = (name: string, windowMs: number): ReadScenario => ({
    name,
    path: () => `/api/session-log/stats?${q({ since: iso(windowMs), until: until.toISOString() })}`,
    raw: (sql) => logStats(sql, new Date(anchor.getTime() - windowMs), until),
    rows: (r) => (JSON.parse(r.text) as { total?: number }).total ?? 0,
  });
  // path() and raw() draw their token, student or type independently from the same distribution:
  // the comparison needs the same mix of queries, not the same query.
  return [
    {
      name: 'by sessionToken, first page',
      path: () => `/api/session-log?${q({ sessionToken: anyToken(), limit: String(PAGE) })}`,
      raw: (sql) => listEvents(sql, desc({ sessionToken: anyToken() }), PAGE),
      rows: jsonCount,
    },
    {
      name: 'by studentEmail, first page',
      path: () => `/api/session-log?${q({ studentEmail: anyEmail(), limit: String(PAGE) })}`,
      raw: (sql) => listEvents(sql, desc({ studentEmail: anyEmail() }), PAGE),
      rows: jsonCount,
    },
    {
      name: 'by eventType, since 24 h',
      path: () => `/api/session-log?${q({ eventType: pick(DEEP_TYPES), since: iso(86_400_000), limit: String(PAGE) })}`,
      raw: (sql) => listEvents(sql, desc({ eventType: pick(DEEP_TYPES), since: new Date(anchor.getTime() - 86_400_000) }), PAGE),
      rows: jsonCount,
    },
    {
      name: `deep page (${DEPTH} × next_cursor)`,
      path: () => {
        const type = pick(DEEP_TYPES);
        return `/api/session-log?${q({ eventType: type, limit: String(PAGE), cursor: deep.get(type) ?? '' })}`;
      },
      raw: (sql) => {
        const type = pick(DEEP_TYPES);
        return listEvents(sql, desc({ eventType: type }), PAGE, decodeCursor(deep.get(type) ?? '', 'desc'));
      },
      rows: jsonCount,
    },
    stats('stats, last hour', 3_600_000),
    stats('stats, last 24 h', 86_400_000),
    {
      name: 'session timeline (/api/sessions/{id}/events)',
      path: () => `/api/sessions/${anyToken()}/events`,
      // The handler: an existence check, then the page and the tail position in parallel.
      raw: async (sql) => {
        const id = anyToken();
        await sql.query('SELECT 1 FROM sessions WHERE id = $1 UNION ALL SELECT 1 FROM events WHERE session_token = $1 LIMIT 1', [id]);
        return Promise.all([listEvents(sql, { sessionToken: id, order: 'asc' }, 1000), lastSeq(sql, id)]);
      },
      rows: jsonCount,
    },
    {
      name: 'sessions search ?q= (part of a name)',
      path: () => `/api/sessions?${q({ q: anyNamePart(), limit: String(SEARCH_LIMIT) })}`,
      raw: (sql) => listSessions(sessionCtx(sql), { q: anyNamePart() }, SEARCH_LIMIT),
      rows: jsonCount,
    },
    {
      name: 'CSV export of one session token',
      path: () => `/api/session-log?${q({ sessionToken: anyToken(), format: 'csv' })}`,
      raw: async (sql) => {
        let text = CSV_HEADER;
        for await (const page of iterateEvents(sql, desc({ sessionToken: anyToken() }), 100_000)) text += page.map(csvRow).join('');
        return text;
      },
      rows: (r) => r.text.split('\r\n').length - 2, // header and the final empty line
    },
  ];
}

/** Follow next_cursor DEPTH times per type, as a client paging back through the log does. */
export async function deepCursors(http: Client): Promise<{ cursors: Map<string, string>; walkMs: number[] }> {
  const cursors = new Map<string, string>();
  const walkMs: number[] = [];
  for (const type of DEEP_TYPES) {
    const t0 = performance.now();
    let cursor: string | null = null;
    for (let page = 0; page < DEPTH; page++) {
      const query = new URLSearchParams({ eventType: type, limit: String(PAGE), ...(cursor ? { cursor } : {}) });
      const r = expectStatus(await http.get(`/api/session-log?${query}`, bearer(ADMIN_TOKEN)), 200);
      cursor = (JSON.parse(r.text) as { next_cursor: string | null }).next_cursor;
      if (!cursor) throw new Error(`${type}: fewer than ${DEPTH} pages`);
    }
    walkMs.push(performance.now() - t0);
    cursors.set(type, cursor as string);
  }
  return { cursors, walkMs };
}

/**
 * The plan of the session search (GET /api/sessions?q=): the statement listSessions makes, captured
 * through a Sql that only records it, then run under EXPLAIN (ANALYZE, BUFFERS) on the seed.
 */
export async function explainSearch(sql: Sql, q: string): Promise<string[]> {
  let captured: { text: string; params: readonly unknown[] } | undefined;
  const recorder: Sql = {
    driver: sql.driver,
    query: (async (text: string, params: readonly unknown[] = []) => {
      captured = { text, params };
      return [];
    }) as Sql['query'],
    batch: (statements) => sql.batch(statements),
    close: async () => {},
  };
  await listSessions(sessionCtx(recorder), { q }, SEARCH_LIMIT);
  if (!captured) throw new Error('listSessions made no query');
  const rows = await sql.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${captured.text}`, captured.params);
  return rows.map((r) => r['QUERY PLAN']);
}

export async function runReads(server: Server, sql: Sql, seed: Seeded): Promise<Section> {
  const http = client(server.url, CONCURRENCY);
  const headers = bearer(ADMIN_TOKEN);
  const { cursors, walkMs } = await deepCursors(http);
  const scenarios = readScenarios(seed.anchor, cursors);
  // A fresh server and a cold buffer cache would otherwise count against whichever read runs first.
  await forEachConcurrent(scenarios.flatMap((s) => Array.from({ length: 20 }, () => s)), CONCURRENCY, async (s) => {
    expectStatus(await http.get(s.path(), headers), 200);
    await s.raw(sql);
  });
  const rows: string[][] = [];
  let failed = false;
  for (const s of scenarios) {
    console.log(`\nreads: ${s.name}, ${CONCURRENCY} connections`);
    let sample = 0;
    const h = await measure('HTTP GET', async () => {
      const r = expectStatus(await http.get(s.path(), headers), 200);
      sample = s.rows(r);
      if (sample <= 0) throw new Error(`empty answer: ${r.text.slice(0, 200)}`);
    }, { concurrency: CONCURRENCY, server });
    const raw: Measured = await measure('raw (same query via pg)', () => s.raw(sql).then(() => undefined), { concurrency: CONCURRENCY, server });
    failed ||= h.errors + raw.errors > 0;
    rows.push([s.name, fmt(sample), fmt(h.opsPerS), latency(h), String(h.errors), fmt(raw.opsPerS), latency(raw), pct(h.opsPerS / raw.opsPerS)]);
  }
  http.close();
  const searchQ = 'eader 42';
  const plan = await explainSearch(sql, searchQ);
  console.log(`\nreads: plan of GET /api/sessions?q=${encodeURIComponent(searchQ)}\n${plan.map((l) => `  ${l}`).join('\n')}`);
  const walk = walkMs.reduce((a, b) => a + b, 0) / walkMs.length;
  return {
    failed,
    markdown: [
      `### Reads over ${fmt(SEED_EVENTS)} stored events (\`ADMIN_TOKEN\`)`,
      '',
      ...table(['Read', 'Rows (last answer)', 'HTTP req/s', 'HTTP p50 / p99 ms', 'Errors', 'Raw calls/s', 'Raw p50 / p99 ms', 'HTTP ÷ raw'], 'lrrrrrrr', rows),
      '',
      `Seed: ${fmt(SEED_EVENTS)} events over 30 days, ${fmt(SEED_SESSIONS)} session tokens, ${fmt(SEED_STUDENTS)} students with emails, ` +
        `5% errors (${seed.created ? `made by this run in ${seed.seconds.toFixed(0)} s` : 'reused from an earlier run'}). ` +
        `Each request picks a random token, student or type; pages are ${PAGE} events, the timeline and the export return a whole session (500 events). ` +
        `Deep page: the page after following \`next_cursor\` ${DEPTH} times (walking those ${DEPTH + 1} pages sequentially took ${ms(walk)} ms on average). ` +
        'Raw = the same functions (`listEvents`, `logStats`, `iterateEvents` + `csvRow`, the timeline\'s three queries) through `pg`; ' +
        'the HTTP figure also pays the audit-trail insert every admin read makes after its response.',
      '',
      `Session search: \`?q=\` matches any part of the session id/token, student id, email or name (ILIKE '%…%'); each arm of the ` +
        'match is served by a pg_trgm GIN index (`sessions_id_trgm`, `sessions_student_trgm`, `students_email_trgm`, `students_name_trgm`, ' +
        `migration 006). Plan of \`GET /api/sessions?q=${searchQ}\` on this seed (EXPLAIN ANALYZE):`,
      '',
      '```',
      ...plan,
      '```',
    ],
  };
}
