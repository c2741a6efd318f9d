/** A call that joins a workshop page's session inherits its student; the start event follows the report. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { SessionDocument } from '../../lib/schemas/session.js';
import type { Sql } from '../../lib/storage/sql.js';
import { admin, makeDeps, memoryPglite, uniqueToken } from '../helpers/deps.js';

let sql: Sql;
let app: ReturnType<typeof createApp>;
beforeAll(async () => {
  sql = await memoryPglite();
  app = createApp(makeDeps({ sql }), allFamilies);
});
afterAll(() => sql.close());

const post = (path: string, body: unknown) => app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

it('a call handed a workshop session token joins that workshop session: its student, and the start follows the report\'s start', async () => {
  const token = uniqueToken();
  const email = `${token}@example.com`.toLowerCase();
  expect((await post('/api/session-log', { sessionToken: token, studentEmail: email, eventType: 'navigation', eventData: { from: 1, to: 2 } })).status).toBe(200);
  const call = { id: `call-${token}`, type: 'webCall', createdAt: new Date(Date.now() - 60_000).toISOString(), assistantOverrides: { metadata: { sessionId: token } } };
  // The first message is a tool call; the report later says the call started 2 minutes ago.
  await post('/api/webhooks/vapi', { message: { type: 'tool-calls', timestamp: Date.now() - 30_000, call, toolCallList: [{ id: 't1', type: 'function', function: { name: 'hint', arguments: '{}' } }] } });
  const startedAt = new Date(Date.now() - 120_000).toISOString();
  await post('/api/webhooks/vapi', { message: { type: 'end-of-call-report', timestamp: Date.now(), call, startedAt, endedAt: new Date().toISOString(), endedReason: 'customer-ended-call' } });
  const doc = SessionDocument.parse(await (await app.request(`/api/sessions/${token}`, { headers: admin })).json());
  // The token's first event made it a workshop (web) session (issue 11); the call joined it
  // rather than making another (so no session_started record of its own).
  expect(doc).toMatchObject({ session_id: token, platform: 'web', student_id: email, start_time: startedAt });
  const timeline = (await (await app.request(`/api/sessions/${token}/events`, { headers: admin })).json()) as { events: Array<{ event_type: string; created_at: string }> };
  const types = timeline.events.map((e) => e.event_type);
  expect(types).toEqual(expect.arrayContaining(['navigation', 'interaction']));
  expect(types).not.toContain('session_started');
});
