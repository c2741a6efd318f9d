/**
 * Vapi group: POST /api/webhooks/vapi with realistic end-of-call reports (a fresh call id each,
 * 20 spoken turns, a system prompt, one tool call and its result) at 8 connections.
 * There is no raw figure: the report is several statements (link the call, find or create the
 * session, apply the report) and no single SQL call stands for it.
 */
import { toolUse, type Turn, type VapiCallFixture, webCall } from '../tests/fixtures/vapi/calls.js';
import type { Sql } from '../lib/storage/sql.js';
import { VAPI_SECRET } from './config.js';
import { type Client, client, expectStatus } from './http.js';
import type { Server } from './lib.js';
import { latency, fmt, measure, type Section, table } from './measure.js';
import { resetSessions } from './interactions.js';

const CONCURRENCY = 8;
/** Callers: a pool large enough that one student rarely has two calls starting in one minute. */
const CALLERS = 2_000;
/** Conversation turns per report: each becomes one `transcript` event. */
export const TURNS = 20;
/** Events one report stores besides the transcript: the tool call (`interaction`) and `session_ended`. */
export const EXTRA_EVENTS = 2;

const LINES = [
  'Hi! Ready to keep going with fractions where we left off yesterday?',
  'Yes, but I still do not get why you flip the second fraction when dividing.',
  'Good question. Dividing by a number is the same as multiplying by its reciprocal. What is the reciprocal of 3/4?',
  'Is it 4/3?',
  'Exactly. So 1/2 divided by 3/4 becomes 1/2 times 4/3. What do you get?',
  'Four sixths, so two thirds.',
];

/** A tutoring call of one student that started a random time in the last day (reports of calls of different students and lengths arrive in any order). */
export function benchCall(studentId: string, startedAt = new Date(Date.now() - 10 * 60_000 - Math.floor(Math.random() * 86_400_000))): VapiCallFixture {
  return webCall({ startedAt, overridesMetadata: { studentId }, variableValues: { studentName: 'Emma' } });
}

/**
 * The call's end-of-call report as Vapi sends it today (tests/fixtures/vapi/calls.ts, built to
 * Vapi's published schema: epoch-ms times, `artifact.messages` with the system prompt and the
 * tool plumbing, top-level cost and ended reason): TURNS spoken turns and one tool call.
 */
export function reportOf(call: VapiCallFixture): string {
  const turns: Turn[] = Array.from({ length: TURNS }, (_, i) => ({ role: i % 2 ? 'user' : 'bot', text: LINES[i % LINES.length] as string, at: 2 + i * 12 }));
  const tools = [toolUse('get-student-context', { subject: 'mathematics' }, 40, '{"grade":5,"topic":"fractions","mastery":0.62}')];
  return JSON.stringify(call.report({ turns, tools, endAt: 2 + TURNS * 12, endedReason: 'customer-ended-call' }));
}

export const vapiCaller = (): string => `vapi_caller_${Math.floor(Math.random() * CALLERS)}`;

/** POST one report for a fresh call; resolves with its call id once acknowledged (200 `{}`). */
export async function postReport(http: Client): Promise<string> {
  const call = benchCall(vapiCaller());
  const r = expectStatus(await http.post('/api/webhooks/vapi', reportOf(call), { 'x-vapi-secret': VAPI_SECRET }), 200);
  if (r.text.trim() !== '{}') throw new Error(`unexpected answer: ${r.text.slice(0, 200)}`);
  return call.id;
}

export async function runVapi(server: Server, sql: Sql): Promise<Section> {
  console.log(`\nvapi: end-of-call reports (fresh call ids, ${TURNS} turns + a tool call), ${CONCURRENCY} connections`);
  await resetSessions(sql);
  const http = client(server.url, CONCURRENCY);
  const bytes = Buffer.byteLength(reportOf(benchCall(vapiCaller())));
  const m = await measure('HTTP POST end-of-call-report', async () => {
    await postReport(http);
  }, { concurrency: CONCURRENCY, server });
  http.close();
  return {
    failed: m.errors > 0,
    markdown: [
      '### Vapi: `POST /api/webhooks/vapi` (end-of-call-report)',
      '',
      ...table(['Conns', 'HTTP req/s', 'Stored events/s', 'HTTP p50 / p99 ms', 'Errors', 'Raw'], 'rrrrrl', [
        [String(CONCURRENCY), fmt(m.opsPerS), fmt(m.opsPerS * (TURNS + EXTRA_EVENTS + 1)), latency(m), String(m.errors), 'n/a'],
      ]),
      '',
      `Each report (${(bytes / 1024).toFixed(1)} KB) is a new call of one of ${fmt(CALLERS)} students (\`X-Vapi-Secret\` auth): ` +
        `it links the call, creates the session and stores ${TURNS} transcript entries, the tool call, \`session_started\` and \`session_ended\`. ` +
        'No raw figure: the report is several statements and no single SQL call stands for it.',
    ],
  };
}
