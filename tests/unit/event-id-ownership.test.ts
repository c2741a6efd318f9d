/**
 * Event ids belong to their writer (issue "Trust", "Event ids belong to their writer"): the webhook
 * and session code derive deterministic ids (version-8 UUIDs) so redeliveries are no-ops. A page must
 * not be able to post those ids first and make the genuine record look like a duplicate.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import type { Sql } from '../../lib/storage/sql.js';
import { freshStudent, toolUse, tutoringTurns, webCall } from '../fixtures/vapi/calls.js';
import { makeDeps, memoryPglite, uniqueToken } from '../helpers/deps.js';
import { ProblemBody } from '../helpers/problem.js';

let probeSql: Sql;
let sql: Sql;
beforeAll(async () => {
  [probeSql, sql] = await Promise.all([memoryPglite(), memoryPglite()]);
});
afterAll(async () => {
  await Promise.all([probeSql?.close(), sql?.close()]);
});

const json = { 'content-type': 'application/json' };

it('every derived id of a call, planted first through the public endpoint, is refused; the real messages are then all stored', async () => {
  const student = freshStudent('owner');
  const call = webCall({ startedAt: new Date(Date.now() - 300_000), metadata: { student_id: student } });
  const tools = [toolUse('check_answer', { answer: '3/4' }, 20)];
  const messages = [call.status('in-progress', 0), call.transcript('user', 'hi, this is a test', 5), call.status('ended', 95, 'customer-ended-call'), call.report({ turns: tutoringTurns(), tools })];
  const deliver = async (app: ReturnType<typeof createApp>) => {
    for (const m of messages) expect((await app.request('/api/webhooks/vapi', { method: 'POST', headers: json, body: JSON.stringify(m) })).status).toBe(200);
  };

  // 1. Learn the ids the server derives for this call, on a throwaway database.
  const probe = makeDeps({ sql: probeSql });
  await deliver(createApp(probe, allFamilies));
  await probe.settle();
  const derived = (await probeSql.query<{ id: string; session_token: string }>('SELECT event_uuid::text AS id, session_token FROM events ORDER BY id')).map((r) => r);
  expect(derived.length).toBeGreaterThan(5);
  for (const d of derived) expect(d.id[14], `derived id ${d.id}`).toBe('8');

  // 2. An attacker plants every one of them, one by one and in a batch, on the session's own token.
  const deps = makeDeps({ sql });
  const app = createApp(deps, allFamilies);
  for (const d of derived.slice(0, 3)) {
    const res = await app.request('/api/session-log', { method: 'POST', headers: json, body: JSON.stringify({ sessionToken: d.session_token, eventType: 'action', eventId: d.id }) });
    expect(res.status).toBe(400);
    const problem = ProblemBody.parse(await res.json());
    expect(problem.errors?.[0]).toMatchObject({ path: 'eventId', message: expect.stringContaining('version-8') });
  }
  const batch = await app.request('/api/session-log', {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ events: derived.map((d) => ({ sessionToken: d.session_token, eventType: 'transcript_forged', eventId: d.id })) }),
  });
  expect(batch.status).toBe(400);
  expect((await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).at(0)?.n).toBe(0);

  // 3. The genuine messages: every derived event is stored, none skipped as a duplicate.
  await deliver(app);
  await deps.settle();
  const stored = await sql.query<{ id: string }>('SELECT event_uuid::text AS id FROM events ORDER BY id');
  expect(stored.map((r) => r.id)).toEqual(derived.map((d) => d.id));
});

it('pages keep their own ids: a v4 or v7 eventId is stored as sent, and a retry is a duplicate', async () => {
  const app = createApp(makeDeps({ sql }), allFamilies);
  const token = uniqueToken('own');
  for (const eventId of [crypto.randomUUID(), '01932c07-2b4a-7e0e-9c2f-3b1d5a6e7f80']) {
    const post = () => app.request('/api/session-log', { method: 'POST', headers: json, body: JSON.stringify({ sessionToken: token, eventType: 'action', eventId }) });
    expect(await (await post()).json()).toMatchObject({ success: true, eventId });
    expect(await (await post()).json()).toMatchObject({ success: true, eventId, duplicate: true });
  }
});
