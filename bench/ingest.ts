/**
 * Ingest group: single-event and 100-event-batch POST /api/session-log at 8 and 32 connections,
 * beside the raw Postgres rate of the same rows at the same concurrency: first `insertEvents`
 * (exactly the statement the server runs), then a plain INSERT without the student upsert.
 * Target: HTTP ≥ 50% of the insertEvents rate.
 */
import { insertEvents } from '../lib/events/ingest.js';
import type { Sql } from '../lib/storage/sql.js';
import { client, expectStatus } from './http.js';
import { everyStudent, pickSession, type Server, toNewEvent, wireEvent } from './lib.js';
import { fmt, latency, type Measured, measure, pct, type Section, table } from './measure.js';

const TARGET = 0.5;
const SCENARIOS = [
  { name: 'single', size: 1, concurrency: 8 },
  { name: 'single', size: 1, concurrency: 32 },
  { name: 'batch', size: 100, concurrency: 8 },
  { name: 'batch', size: 100, concurrency: 32 },
] as const;

const PLAIN_SINGLE = `INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, created_at)
  VALUES ($1, $2, NULL, $3, $4::jsonb, $5)`;
const PLAIN_BATCH = `INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, created_at)
  SELECT u, s, NULL, t, d::jsonb, c FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS r(u, s, t, d, c)`;

/** A batch comes from one page, so its events share one session and student. */
export const makeBatch = (size: number) => {
  const session = pickSession();
  return Array.from({ length: size }, () => wireEvent(session));
};

/**
 * One run from a known state: empty events and the 200 students already registered (with their
 * workshop sessions, made by the same statement), so every run measures the steady state
 * (first-event student and session creation is not what is being compared).
 * CASCADE: tables added later that reference these must not make the bench fail.
 */
export async function resetIngest(sql: Sql): Promise<void> {
  await sql.query('TRUNCATE events, students, sessions CASCADE');
  await insertEvents(sql, everyStudent().map(toNewEvent));
}

export async function runIngest(server: Server, sql: Sql): Promise<Section> {
  const rows: string[][] = [];
  let failed = false;
  for (const s of SCENARIOS) {
    console.log(`\ningest: ${s.name} (${s.size} event${s.size > 1 ? 's' : ''}/request), ${s.concurrency} connections`);
    const http = client(server.url, s.concurrency);
    const opts = { concurrency: s.concurrency, units: s.size, server };
    await resetIngest(sql);
    const viaHttp = await measure('HTTP POST', async () => {
      const body = s.size === 1 ? JSON.stringify(wireEvent()) : JSON.stringify({ events: makeBatch(s.size) });
      const res = expectStatus(await http.post('/api/session-log', body), 200);
      // Batches also prove every event was stored (a 200 with duplicates would inflate the rate).
      if (s.size > 1 && (JSON.parse(res.text) as { accepted?: number }).accepted !== s.size) throw new Error(`not all accepted: ${res.text}`);
    }, opts);
    http.close();
    const rss = server.rssMb();
    console.log(`  server RSS ${rss.toFixed(0)} MB`);

    await resetIngest(sql);
    const raw = await measure('raw insertEvents', async () => {
      const events = (s.size === 1 ? [wireEvent()] : makeBatch(s.size)).map(toNewEvent);
      const inserted = await insertEvents(sql, events);
      if (inserted.size !== events.length) throw new Error(`inserted ${inserted.size} of ${events.length}`);
    }, opts);

    await resetIngest(sql);
    const plain = await measure('raw plain INSERT', async () => {
      const ev = (s.size === 1 ? [wireEvent()] : makeBatch(s.size)).map(toNewEvent);
      const cols = [ev.map((e) => e.eventUuid), ev.map((e) => e.sessionToken), ev.map((e) => e.eventType), ev.map((e) => e.eventData)];
      cols.push(ev.map((e) => e.createdAt.toISOString()));
      await sql.query(s.size === 1 ? PLAIN_SINGLE : PLAIN_BATCH, s.size === 1 ? cols.map((c) => c[0]) : cols);
    }, opts);

    const ratio = viaHttp.unitsPerS / raw.unitsPerS;
    const invalid = viaHttp.errors || raw.errors || plain.errors;
    const verdict = invalid ? 'INVALID (errors)' : ratio >= TARGET ? 'PASS' : 'FAIL';
    failed ||= Boolean(invalid);
    console.log(`  HTTP ÷ raw insertEvents ${pct(ratio)}, HTTP ÷ plain INSERT ${pct(viaHttp.unitsPerS / plain.unitsPerS)}  → ${verdict} (target ≥ ${pct(TARGET)})`);
    rows.push(row(`${s.name} ×${s.size}`, s.concurrency, viaHttp, raw, plain, `${rss.toFixed(0)} MB`, verdict));
  }
  return {
    failed,
    markdown: [
      '### Ingest: `POST /api/session-log`',
      '',
      ...table(
        ['Scenario', 'Conns', 'HTTP events/s', 'HTTP req/s', 'HTTP p50 / p99 ms', 'Errors', 'Raw insertEvents events/s', 'Raw p50 / p99 ms', 'HTTP ÷ raw', 'Plain INSERT events/s', 'HTTP ÷ plain', 'Server RSS', '≥ 50% of raw'],
        'lrrrrrrrrrrrl',
        rows,
      ),
      '',
      'Raw = the same rows at the same concurrency straight through `pg`: `insertEvents` is the one statement the server runs ' +
        '(student upsert + insert, `ON CONFLICT (event_uuid) DO NOTHING`); plain INSERT skips the student upsert. ' +
        'Each run starts from an empty `events` table with the 200 students registered.',
    ],
  };
}

function row(name: string, conns: number, h: Measured, raw: Measured, plain: Measured, rss: string, verdict: string): string[] {
  return [
    name,
    String(conns),
    fmt(h.unitsPerS),
    fmt(h.opsPerS),
    latency(h),
    String(h.errors + raw.errors + plain.errors),
    fmt(raw.unitsPerS),
    latency(raw),
    pct(h.unitsPerS / raw.unitsPerS),
    fmt(plain.unitsPerS),
    pct(h.unitsPerS / plain.unitsPerS),
    rss,
    verdict,
  ];
}
