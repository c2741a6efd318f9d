/**
 * Round trips per request, counted in-process: the real app (createApp + allFamilies) on a pg pool
 * against the bench database and a memory KV, both wrapped to count every call. Requests run one
 * at a time and each waits for its after-response work (audit insert, end-of-session hook), so
 * the global counters belong to exactly one request.
 */
import { createApp } from '../lib/app.js';
import type { RateLimiter } from '../lib/ratelimit/interface.js';
import { memoryRateLimiter } from '../lib/ratelimit/memory.js';
import { loadMigrations } from '../lib/node/migrations.js';
import { allFamilies } from '../lib/families.js';
import { createMemoryKv } from '../lib/storage/kv-memory.js';
import { type Kv, withPrefix } from '../lib/storage/kv.js';
import { migrate } from '../lib/storage/migrate.js';
import type { Sql } from '../lib/storage/sql.js';
import { ADMIN_TOKEN, makeDeps, testConfig } from '../tests/helpers/deps.js';
import { ALERT_SQL_TAG } from '../lib/alerts/evaluate.js';
import { SERVICE_TOKEN, VAPI_SECRET } from './config.js';
import { interaction } from './interactions.js';
import { wireEvent } from './lib.js';
import { type Section, table } from './measure.js';
import { benchCall, reportOf } from './vapi.js';

interface Counts {
  sql: string[];
  kv: string[];
  limits: number;
}

/** Every Sql port call is one round trip (`batch` is one on Neon HTTP; BEGIN + n + COMMIT on pg). */
function countingSql(inner: Sql, c: Counts): Sql {
  return {
    driver: inner.driver,
    query(text, params) {
      c.sql.push(label(text));
      return inner.query(text, params);
    },
    batch(statements) {
      c.sql.push(`batch(${statements.map((s) => label(s.text)).join('; ')})`);
      return inner.batch(statements);
    },
    close: () => inner.close(),
  };
}

/** Statement's first words, to print which statements a request made. */
const label = (text: string) => text.trim().replace(/\s+/g, ' ').slice(0, 40);

/** Every Kv method call: each is one Upstash REST request (claim/release = one EVAL, setActive = one MULTI/EXEC). */
function countingKv(inner: Kv, c: Counts): Kv {
  return new Proxy(inner, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        c.kv.push(String(key));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

function countingLimiter(inner: RateLimiter, c: Counts): RateLimiter {
  return {
    check(...args) {
      c.limits++;
      return inner.check(...args);
    },
    peek(...args) {
      c.limits++;
      return inner.peek(...args);
    },
  };
}

interface Probe {
  name: string;
  method: 'GET' | 'POST';
  /** A path, or a function making it (uncounted requests allowed, e.g. to obtain a cursor). */
  path: string | (() => Promise<string>);
  body?: unknown;
  headers?: Record<string, string>;
  /** Expected status; anything else fails the group. */
  status: number;
  /** Expected SQL round trips where the design promises a number (ingest: one); anything else fails the group. */
  sql?: number;
}

export async function runRoundTrips(sql: Sql): Promise<Section> {
  await migrate(sql, await loadMigrations());
  const counts: Counts = { sql: [], kv: [], limits: 0 };
  // Production settings where they change the count: rate limits on (their checks are Redis
  // requests with Upstash), analysis off (as in the load runs).
  const config = testConfig({ SERVICE_TOKEN, VAPI_WEBHOOK_SECRET: VAPI_SECRET, RATE_LIMITS: 'on' });
  const deps = makeDeps({
    sql: countingSql(sql, counts),
    kv: countingKv(withPrefix(createMemoryKv(), config.kv.prefix), counts),
    config,
    rateLimiter: countingLimiter(memoryRateLimiter(), counts),
  });
  const app = createApp(deps, allFamilies);

  const run = Date.now().toString(36);
  const token = `ws_rt_${run}`;
  const email = `rt_${run}@workshop.example`;
  const student = `rt_${run}`;
  const session = { sessionToken: token, studentEmail: email };
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const service = { authorization: `Bearer ${SERVICE_TOKEN}` };
  const vapi = { 'x-vapi-secret': VAPI_SECRET };
  const call = benchCall(student, new Date(Date.now() - 60_000)); // joins the student's open session
  const fresh = benchCall(`${student}_b`);
  const tool = { id: `call_${run}`, name: 'get-student-context', args: { subject: 'mathematics' }, at: 30, result: '{}' };
  const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
  const dayAgo = new Date(Date.now() - 86_400_000).toISOString();

  const probes: Probe[] = [
    // Ingest keeps the token's workshop session (student, step, counts) in the same one statement.
    { name: 'ingest: batch ×100 (new student, new session)', method: 'POST', path: '/api/session-log', body: { events: Array.from({ length: 100 }, () => wireEvent(session)) }, status: 200, sql: 1 },
    { name: 'ingest: single event', method: 'POST', path: '/api/session-log', body: wireEvent(session), status: 200, sql: 1 },
    { name: 'ingest: single event, no email (attributed)', method: 'POST', path: '/api/session-log', body: { ...wireEvent(session), studentEmail: undefined }, status: 200, sql: 1 },
    { name: 'interaction: first (opens a session)', method: 'POST', path: '/api/sessions/interactions', body: interaction(student), headers: service, status: 200 },
    { name: 'interaction: continuing', method: 'POST', path: '/api/sessions/interactions', body: interaction(student), headers: service, status: 200 },
    { name: 'vapi: status-update (first message of a call)', method: 'POST', path: '/api/webhooks/vapi', body: call.status('in-progress', 1), headers: vapi, status: 200 },
    { name: 'vapi: transcript (final, call linked)', method: 'POST', path: '/api/webhooks/vapi', body: call.transcript('user', 'Can we do fractions?', 5), headers: vapi, status: 200 },
    { name: 'vapi: tool-calls (no tool server)', method: 'POST', path: '/api/webhooks/vapi', body: call.toolCalls([tool]), headers: vapi, status: 200 },
    { name: 'vapi: end-of-call-report (call linked)', method: 'POST', path: '/api/webhooks/vapi', body: JSON.parse(reportOf(call)) as unknown, headers: vapi, status: 200 },
    { name: 'vapi: end-of-call-report (fresh call, as in the load)', method: 'POST', path: '/api/webhooks/vapi', body: JSON.parse(reportOf(fresh)) as unknown, headers: vapi, status: 200 },
    { name: 'read: by sessionToken', method: 'GET', path: `/api/session-log?sessionToken=${token}&limit=100`, headers: admin, status: 200 },
    { name: 'read: by studentEmail', method: 'GET', path: `/api/session-log?studentEmail=${encodeURIComponent(email)}&limit=100`, headers: admin, status: 200 },
    { name: 'read: by eventType since 24 h', method: 'GET', path: `/api/session-log?eventType=action&since=${dayAgo}&limit=100`, headers: admin, status: 200 },
    {
      name: 'read: next page (cursor)',
      method: 'GET',
      path: async () => {
        const first = await app.request(`/api/session-log?sessionToken=${token}&limit=50`, { headers: admin });
        const { next_cursor } = (await first.json()) as { next_cursor: string | null };
        return `/api/session-log?sessionToken=${token}&limit=50&cursor=${next_cursor ?? ''}`;
      },
      headers: admin,
      status: 200,
    },
    { name: 'read: stats, last hour', method: 'GET', path: `/api/session-log/stats?since=${hourAgo}`, headers: admin, status: 200 },
    { name: 'read: stats, last 24 h', method: 'GET', path: `/api/session-log/stats?since=${dayAgo}`, headers: admin, status: 200 },
    { name: 'read: session timeline', method: 'GET', path: `/api/sessions/${token}/events`, headers: admin, status: 200 },
    { name: 'read: workshop session document', method: 'GET', path: `/api/sessions/${token}`, headers: admin, status: 200 },
    { name: 'read: sessions search ?q= (part of an email)', method: 'GET', path: `/api/sessions?q=${encodeURIComponent(email.slice(3, 9))}`, headers: admin, status: 200 },
    { name: 'read: active sessions', method: 'GET', path: '/api/sessions/active', headers: admin, status: 200 },
    { name: 'read: CSV export of a session token', method: 'GET', path: `/api/session-log?sessionToken=${token}&format=csv`, headers: admin, status: 200 },
  ];

  const rows: string[][] = [];
  let failed = false;
  console.log('\nroundtrips: one request of each kind, in-process, sequential');
  for (const p of probes) {
    const path = typeof p.path === 'string' ? p.path : await p.path();
    await deps.settle();
    counts.sql = [];
    counts.kv = [];
    counts.limits = 0;
    const res = await app.request(path, {
      method: p.method,
      headers: { ...(p.body === undefined ? {} : { 'content-type': 'application/json' }), ...p.headers },
      ...(p.body === undefined ? {} : { body: JSON.stringify(p.body) }),
    });
    const text = await res.text(); // exports stream: their later pages are read while the body is consumed
    await deps.settle(); // after-response work (audit insert, end-of-session hook) belongs to this request
    // After-response work that is not the request's own: the audit insert, and the alert rules (lib/alerts).
    const audit = counts.sql.filter((s) => s.startsWith('INSERT INTO audit_log')).length;
    const alerts = counts.sql.filter((s) => s.startsWith(ALERT_SQL_TAG)).length;
    const sqlOk = p.sql === undefined || counts.sql.length - audit - alerts === p.sql;
    const ok = res.status === p.status && sqlOk;
    failed ||= !ok;
    if (!sqlOk) console.log(`    expected ${p.sql} SQL round trip(s), made ${counts.sql.length}`);
    const extra = [audit ? `${audit} audit` : '', alerts ? `${alerts} alerts` : ''].filter(Boolean);
    const sqlCell = extra.length ? `${counts.sql.length} (${[counts.sql.length - audit - alerts, ...extra].join(' + ')})` : String(counts.sql.length);
    const kvCell = counts.kv.length ? `${counts.kv.length} (${summarise(counts.kv)})` : '0';
    rows.push([p.name, res.status === p.status ? String(res.status) : `**${res.status}** (expected ${p.status})`, sqlOk ? sqlCell : `**${sqlCell}** (expected ${p.sql})`, kvCell, String(counts.limits)]);
    console.log(`  ${p.name.padEnd(52)} ${res.status}  sql ${counts.sql.length} [${counts.sql.join(' | ')}]  kv ${counts.kv.length} [${counts.kv.join(', ')}]  limits ${counts.limits}`);
    if (!ok) console.log(`    answer: ${text.slice(0, 300)}`);
  }
  return {
    failed,
    markdown: [
      '### SQL round trips / KV round trips per request',
      '',
      ...table(['Request', 'Status', 'SQL round trips', 'KV round trips', 'Rate-limit checks'], 'lrrrr', rows),
      '',
      'Counted in-process (`app.request`, one request at a time, after-response work included) with the real app on `pg` ' +
        '(`sessionlog_bench`) and a memory KV wrapped to count every call. The memory KV counts the same operations an Upstash KV ' +
        'would make: each KV port call is one Upstash REST request (`claimActive`/`releaseActive` one EVAL, `setActive` one MULTI/EXEC). ' +
        'SQL counts port calls: each `query` is one round trip (no request here uses `batch`, which `pg` runs as BEGIN … COMMIT). ' +
        'Rate limits are on for this table: with Upstash each check is one more Redis request (sliding window script); in memory it is free. ' +
        'Admin reads add one audit-trail insert, made after the response; ingest adds the alert rules\' statements after the response ' +
        '(the tokens and error types posted; the cohort pass at most once a minute), tagged `/* alerts */` and not counted as its round trip.',
    ],
  };
}

/** `set, get, set` → `set ×2, get`. */
function summarise(ops: readonly string[]): string {
  const n = new Map<string, number>();
  for (const o of ops) n.set(o, (n.get(o) ?? 0) + 1);
  return [...n].map(([k, v]) => (v > 1 ? `${k} ×${v}` : k)).join(', ');
}
