/**
 * Session interactions group: POST /api/sessions/interactions (SERVICE_TOKEN) for a rotating set
 * of 500 students at 8 and 32 connections, beside the raw figure: recordInteraction() — the code
 * the route runs — called with a pg Sql and a memory KV at the same concurrency, minus HTTP.
 */
import { silentLogger } from '../lib/deps.js';
import type { InteractionInput } from '../lib/schemas/session.js';
import type { SessionCtx } from '../lib/sessions/context.js';
import { recordInteraction } from '../lib/sessions/interactions.js';
import { createMemoryKv } from '../lib/storage/kv-memory.js';
import type { Sql } from '../lib/storage/sql.js';
import { SERVICE_TOKEN } from './config.js';
import { bearer, client, expectStatus } from './http.js';
import type { Server } from './lib.js';
import { fmt, forEachConcurrent, latency, type Measured, measure, pct, type Section, table } from './measure.js';

export const STUDENTS = 500;
const CONCURRENCY = [8, 32] as const;
/** The server's default SESSION_TIMEOUT_MINUTES, so the raw path decides boundaries the same way. */
const TIMEOUT_MS = 10 * 60_000;

/** A tool call as an MCP tool server reports it (the README's example). */
export function interaction(studentId: string): InteractionInput {
  return {
    student_id: studentId,
    function: 'get-student-context',
    parameters: { grade: 5, include: ['progress', 'misconceptions'] },
    data_provided: ['profile', 'progress'],
    subjects_accessed: ['mathematics'],
    platform: 'mcp',
    subject: 'Math',
    topic: 'Fractions',
  };
}

/** Student ids unique to one run, so every run starts with no sessions and no KV pointers. */
export const studentIds = (tag: string, n = STUDENTS): string[] =>
  Array.from({ length: n }, (_, i) => `bench_${tag}_${Date.now().toString(36)}_${i}`);

/**
 * Round-robin over the students: at any moment the `concurrency` requests in flight name
 * different students, as real tool servers for different students would (no artificial row
 * contention on one session).
 */
function rotation(ids: readonly string[]): () => string {
  let i = 0;
  return () => ids[i++ % ids.length] as string;
}

export async function runInteractions(server: Server, sql: Sql): Promise<Section> {
  const rows: string[][] = [];
  let failed = false;
  const headers = bearer(SERVICE_TOKEN);
  for (const concurrency of CONCURRENCY) {
    console.log(`\ninteractions: ${STUDENTS} rotating students, ${concurrency} connections`);
    const http = client(server.url, concurrency);
    const viaHttp = async (id: string) => {
      const r = expectStatus(await http.post('/api/sessions/interactions', JSON.stringify(interaction(id)), headers), 200);
      if (!(JSON.parse(r.text) as { session_id?: string }).session_id) throw new Error(`no session_id: ${r.text.slice(0, 200)}`);
    };
    const ctx: SessionCtx = { sql, kv: createMemoryKv(), timeoutMs: TIMEOUT_MS, now: () => new Date(), log: silentLogger };
    const raw = async (id: string) => {
      await recordInteraction(ctx, interaction(id));
    };

    const results: Measured[] = [];
    for (const [label, op, srv] of [['HTTP POST', viaHttp, server], ['raw recordInteraction', raw, server]] as const) {
      await resetSessions(sql);
      const ids = studentIds(`${concurrency}${label.startsWith('HTTP') ? 'h' : 'r'}`);
      // Each student's first interaction opens a session (an extra insert): done before the
      // clock starts, so the figures are the steady state of continuing sessions.
      await forEachConcurrent(ids, concurrency, op);
      const next = rotation(ids);
      results.push(await measure(label, () => op(next()), { concurrency, server: srv }));
    }
    http.close();
    const [h, r] = results as [Measured, Measured];
    failed ||= h.errors + r.errors > 0;
    console.log(`  HTTP ÷ raw ${pct(h.opsPerS / r.opsPerS)}`);
    rows.push([String(concurrency), fmt(h.opsPerS), latency(h), String(h.errors), fmt(r.opsPerS), latency(r), String(r.errors), pct(h.opsPerS / r.opsPerS)]);
  }
  return {
    failed,
    markdown: [
      `### Session interactions: \`POST /api/sessions/interactions\``,
      '',
      ...table(['Conns', 'HTTP req/s', 'HTTP p50 / p99 ms', 'Errors', 'Raw recordInteraction calls/s', 'Raw p50 / p99 ms', 'Raw errors', 'HTTP ÷ raw'], 'rrrrrrrr', rows),
      '',
      `${STUDENTS} students in rotation, each with an open session (their first interaction, which creates it, is made before timing): ` +
        'continuing interactions, one KV claim + one SQL statement each. Raw = `recordInteraction()` with a `pg` pool and a memory KV: ' +
        'with the server on a memory KV too, the difference is HTTP, auth, validation and JSON.',
    ],
  };
}

/** Sessions, their events and students from earlier runs out of the way: each run starts equal. */
export async function resetSessions(sql: Sql): Promise<void> {
  await sql.query('TRUNCATE events, sessions, students, calls CASCADE');
}
