/**
 * Mixed load, then an audit of what was stored: single and batch ingest (client eventIds),
 * session interactions and Vapi end-of-call reports, concurrently on 16 connections for
 * BENCH_MIXED_SECONDS. Every acknowledged write is remembered and counted in Postgres afterwards:
 * the count stored must equal the count acknowledged — nothing lost, nothing stored twice.
 */
import { insertEvents } from '../lib/events/ingest.js';
import type { Sql } from '../lib/storage/sql.js';
import { MIXED_SECONDS, SERVICE_TOKEN } from './config.js';
import { bearer, client, expectStatus } from './http.js';
import { interaction, studentIds } from './interactions.js';
import { everyStudent, percentile, runLoad, type Server, toNewEvent, wireEvent } from './lib.js';
import { makeBatch } from './ingest.js';
import { fmt, ms, type Section, table } from './measure.js';
import { EXTRA_EVENTS, postReport, TURNS } from './vapi.js';

const CONNECTIONS = 16;
const BATCH = 100;
/** Share of requests per kind (cumulative draw): page events dominate real traffic. */
const MIX = [
  { kind: 'single', weight: 0.4 },
  { kind: 'batch', weight: 0.2 },
  { kind: 'interaction', weight: 0.25 },
  { kind: 'vapi', weight: 0.15 },
] as const;
type Kind = (typeof MIX)[number]['kind'];

interface Tally {
  acked: number;
  errors: number;
  firstError?: string;
  latencies: number[];
}

export async function runMixed(server: Server, sql: Sql): Promise<Section> {
  console.log(`\nmixed: ${MIXED_SECONDS} s, ${CONNECTIONS} connections (${MIX.map((m) => `${m.kind} ${m.weight * 100}%`).join(', ')})`);
  // The 200 page students exist (as after any earlier traffic), so ingest measures the steady state.
  await insertEvents(sql, everyStudent().map(toNewEvent));
  const http = client(server.url, CONNECTIONS);
  const students = studentIds('mix');
  const service = bearer(SERVICE_TOKEN);
  const ackedSingle: string[] = [];
  const ackedBatch: string[] = [];
  const ackedCalls: string[] = [];
  const tally = Object.fromEntries(MIX.map((m) => [m.kind, { acked: 0, errors: 0, latencies: [] } as Tally])) as Record<Kind, Tally>;
  let turn = 0;

  const ops: Record<Kind, () => Promise<void>> = {
    single: async () => {
      const e = wireEvent();
      const r = expectStatus(await http.post('/api/session-log', JSON.stringify(e)), 200);
      if ((JSON.parse(r.text) as { duplicate?: boolean }).duplicate) throw new Error('fresh event answered as duplicate');
      ackedSingle.push(e.eventId);
    },
    batch: async () => {
      const events = makeBatch(BATCH);
      const r = expectStatus(await http.post('/api/session-log', JSON.stringify({ events })), 200);
      const accepted = (JSON.parse(r.text) as { accepted?: number }).accepted;
      if (accepted !== events.length) throw new Error(`accepted ${accepted} of ${events.length}`);
      for (const e of events) ackedBatch.push(e.eventId);
    },
    interaction: async () => {
      const body = JSON.stringify(interaction(students[turn++ % students.length] as string));
      expectStatus(await http.post('/api/sessions/interactions', body, service), 200);
    },
    vapi: async () => {
      ackedCalls.push(await postReport(http));
    },
  };

  const draw = (): Kind => {
    let x = Math.random();
    for (const m of MIX) {
      x -= m.weight;
      if (x < 0) return m.kind;
    }
    return 'single';
  };
  const load = await runLoad(
    async () => {
      const kind = draw();
      const t = tally[kind];
      const t0 = performance.now();
      try {
        await ops[kind]();
        t.acked++;
        t.latencies.push(performance.now() - t0);
      } catch (err) {
        // Counted per kind, and rethrown so the load runner counts it too.
        t.errors++;
        t.firstError ??= err instanceof Error ? err.message : String(err);
        throw err;
      }
    },
    CONNECTIONS,
    0,
    MIXED_SECONDS,
  );
  http.close();

  console.log('  counting the acknowledged writes in Postgres…');
  const [single, batch] = [await countUuids(sql, ackedSingle), await countUuids(sql, ackedBatch)];
  const stored = await countSessionWrites(sql, students, ackedCalls);
  const expected: Record<Kind, number> = {
    single: tally.single.acked,
    batch: tally.batch.acked * BATCH,
    interaction: tally.interaction.acked,
    vapi: tally.vapi.acked * (TURNS + EXTRA_EVENTS),
  };
  const storedByKind: Record<Kind, number> = { single: single.rows, batch: batch.rows, interaction: stored.interaction, vapi: stored.vapi };
  const rows: string[][] = [];
  let acked = 0;
  let kept = 0;
  let lost = 0;
  // Rows of one uuid beyond the first (impossible under the unique constraint, checked anyway).
  let dup = single.duplicates + batch.duplicates;
  for (const { kind } of MIX) {
    const t = tally[kind];
    const lat = Float64Array.from(t.latencies).sort();
    acked += expected[kind];
    kept += storedByKind[kind];
    lost += Math.max(0, expected[kind] - storedByKind[kind]);
    dup += Math.max(0, storedByKind[kind] - expected[kind]);
    rows.push([kind, fmt(t.acked), fmt(t.acked / load.seconds), `${ms(percentile(lat, 0.5))} / ${ms(percentile(lat, 0.99))}`, String(t.errors), fmt(expected[kind]), fmt(storedByKind[kind])]);
  }
  const errors = MIX.reduce((n, m) => n + tally[m.kind].errors, 0);
  const verdict = `acknowledged ${fmt(acked)}, stored ${fmt(kept)}, lost ${fmt(lost)}, duplicated ${fmt(dup)}`;
  console.log(`  ${verdict}${errors ? `; ${errors} requests failed (first: ${MIX.map((m) => tally[m.kind].firstError).find(Boolean)})` : ''}`);
  return {
    failed: lost > 0 || dup > 0 || acked !== kept || errors > 0,
    markdown: [
      `### Mixed load, ${MIXED_SECONDS} s on ${CONNECTIONS} connections: nothing lost, nothing duplicated`,
      '',
      ...table(['Request', 'Acknowledged', 'req/s', 'p50 / p99 ms', 'Errors', 'Events acknowledged', 'Events stored'], 'lrrrrrr', rows),
      '',
      `**${verdict}**${errors ? ` (${errors} requests failed)` : ''}.`,
      '',
      `Kinds drawn per request: ${MIX.map((m) => `${m.kind} ${m.weight * 100}%`).join(', ')}; batches of ${BATCH}. ` +
        'An ingest event counts as acknowledged when its request answered 200 (batches: `accepted` = all), and as stored when a row ' +
        'with its client `eventId` exists; an interaction stores one `interaction` event for its student; a Vapi report stores its ' +
        `${TURNS} transcript entries, its tool call and \`session_ended\` (matched by call id). Duplicated counts rows beyond one per acknowledged write.`,
    ],
  };
}

const CHUNK = 50_000;

/** Rows holding these event uuids, in chunks (a 60 s run acknowledges up to a few million). */
async function countUuids(sql: Sql, uuids: readonly string[]): Promise<{ rows: number; duplicates: number }> {
  let rows = 0;
  let duplicates = uuids.length - new Set(uuids).size; // the client itself must not double-count
  for (let i = 0; i < uuids.length; i += CHUNK) {
    const [r] = await sql.query<{ n: number; d: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT event_uuid)::int AS d FROM events WHERE event_uuid = ANY($1::uuid[])',
      [uuids.slice(i, i + CHUNK)],
    );
    rows += r?.n ?? 0;
    duplicates += (r?.n ?? 0) - (r?.d ?? 0);
  }
  return { rows, duplicates };
}

/**
 * Interactions: `interaction` events of this run's students (their ids are unique to the run).
 * Vapi: the report's events of each acknowledged call, found through the call's session.
 */
async function countSessionWrites(sql: Sql, students: readonly string[], calls: readonly string[]): Promise<{ interaction: number; vapi: number }> {
  const [inter] = await sql.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM events WHERE student_id = ANY($1::text[]) AND event_type = 'interaction'",
    [students],
  );
  let vapi = 0;
  for (let i = 0; i < calls.length; i += CHUNK) {
    const [r] = await sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM calls c
       JOIN events e ON e.session_token = c.session_id AND e.event_data->>'call_id' = c.call_id
       WHERE c.call_id = ANY($1::text[]) AND e.event_type IN ('transcript', 'interaction', 'session_ended')`,
      [calls.slice(i, i + CHUNK)],
    );
    vapi += r?.n ?? 0;
  }
  return { interaction: inter?.n ?? 0, vapi };
}
