/**
 * Erasure clears the call links of EVERY platform: a student with a Vapi call and a call posted to
 * the generic session-data webhook (platform `retell`) is erased, and no call-link key of either
 * remains in KV. Shared by the unit suite (PGlite + memory KV) and the integration suite (real
 * PostgreSQL + real Redis through the Upstash client).
 */
import { expect } from 'vitest';
import { createApp } from '../../lib/app.js';
import { callLinkKey } from '../../lib/calls/link.js';
import { allFamilies } from '../../lib/families.js';
import { Erased } from '../../lib/schemas/responses.js';
import type { Kv } from '../../lib/storage/kv.js';
import type { Sql } from '../../lib/storage/sql.js';
import { webCall } from '../fixtures/vapi/calls.js';
import { admin, makeDeps, testConfig } from './deps.js';

export async function erasesEveryCallLink(sql: Sql, kv: Kv): Promise<void> {
  const token = 'erase-links-webhook-token';
  const now = new Date();
  const app = createApp(makeDeps({ sql, kv, config: testConfig({ WEBHOOK_TOKEN: token }), now: () => now }), allFamilies);
  const student = `stu_${crypto.randomUUID().slice(0, 8)}`;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    app.request(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  const vapi = webCall({ startedAt: new Date(now.getTime() - 60_000), metadata: { studentId: student } });
  expect((await post('/api/webhooks/vapi', vapi.status('in-progress', 1))).status).toBe(200);
  const retellCall = `rc_${crypto.randomUUID()}`;
  const generic = { platform: 'retell', student_id: student, call_id: retellCall, started_at: new Date(now.getTime() - 30 * 60_000).toISOString() };
  expect((await post('/api/webhooks/session-data', generic, { authorization: `Bearer ${token}` })).status).toBe(200);

  const keys = [callLinkKey('vapi', vapi.id), callLinkKey('retell', retellCall)];
  // Both links are cached before the erasure (or the check below could not fail).
  for (const key of keys) expect(await kv.get(key), key).not.toBeNull();

  const res = await app.request(`/api/students/${student}`, { method: 'DELETE', headers: admin });
  expect(res.status).toBe(200);
  expect(Erased.parse(await res.json()).calls_deleted).toBe(2);
  for (const key of keys) expect(await kv.get(key), key).toBeNull();
  // A later delivery of either call finds no link: it is a new call, not the erased student's.
  const rows = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM calls WHERE call_id = ANY($1::text[])', [[vapi.id, retellCall]]);
  expect(rows[0]?.n).toBe(0);
}
