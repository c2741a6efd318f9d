/** Data lifecycle: retention in bounded, resumable batches, and per-student erasure (GDPR). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { applyRetention } from '../../lib/lifecycle/retention.js';
import { EventListResponse } from '../../lib/schemas/event.js';
import type { Sql } from '../../lib/storage/sql.js';
import { admin, makeDeps, memoryPglite, testConfig, uniqueToken } from '../helpers/deps.js';
import { Erased, RetentionResponse as Retention } from '../../lib/schemas/responses.js';
import { createMemoryKv } from '../../lib/storage/kv-memory.js';
import { erasesEveryCallLink } from '../helpers/erase-call-links.js';
import { erasesEveryTrace, tablesNaming } from '../helpers/erase-everywhere.js';

let sql: Sql;
const now = new Date('2026-09-01T10:00:00Z');
const service = { authorization: 'Bearer svc-token-123' };
let app: ReturnType<typeof createApp>;
let deps: ReturnType<typeof makeDeps>;
beforeAll(async () => {
  sql = await memoryPglite();
  deps = makeDeps({ sql, config: testConfig({ SERVICE_TOKEN: 'svc-token-123', CRON_SECRET: 'cron-secret-123', RETENTION_DAYS: '30' }), now: () => now });
  app = createApp(deps, allFamilies);
});
afterAll(() => sql.close());

const json = (method: string, path: string, headers: Record<string, string>, body?: unknown) =>
  app.request(path, { method, headers: { ...headers, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

describe('retention', () => {
  it('deletes events and ended sessions older than RETENTION_DAYS, oldest first, resumably, and reports counts', async () => {
    const old = uniqueToken('old');
    const fresh = uniqueToken('new');
    const at = (daysAgo: number) => new Date(now.getTime() - daysAgo * 86_400_000).toISOString();
    // 25 old events (40 days ago) and 3 fresh ones; an old ended session and a fresh one.
    await json('POST', '/api/session-log', {}, { events: Array.from({ length: 25 }, (_, i) => ({ sessionToken: old, eventType: 'action', timestamp: at(40 + i / 100) })) });
    await json('POST', '/api/session-log', {}, { events: Array.from({ length: 3 }, () => ({ sessionToken: fresh, eventType: 'action' })) });
    const stu = `stu_${crypto.randomUUID().slice(0, 8)}`;
    const oldSession = (await (await json('POST', '/api/sessions/interactions', service, { student_id: stu, function: 'f', timestamp: at(45) })).json()) as { session_id: string };
    const newSession = (await (await json('POST', '/api/sessions/interactions', service, { student_id: stu, function: 'f' })).json()) as { session_id: string };

    // Small batches, one batch per call: the work spans calls and each reports what it did.
    const first = await applyRetention(sql, now, 30, { batch: 10, maxBatches: 1 });
    expect(first).toMatchObject({ events_deleted: 10, more: true });
    let total = first.events_deleted;
    let runs = 1;
    for (let r = first; r.more; runs++) {
      r = await applyRetention(sql, now, 30, { batch: 10, maxBatches: 1 });
      total += r.events_deleted;
    }
    expect(runs).toBeGreaterThanOrEqual(3);
    expect(total).toBeGreaterThanOrEqual(27); // 25 old web events + the old session's 2 events
    const left = EventListResponse.parse(await (await app.request(`/api/session-log?sessionToken=${old}`, { headers: admin })).json());
    expect(left.count).toBe(0);
    expect(EventListResponse.parse(await (await app.request(`/api/session-log?sessionToken=${fresh}`, { headers: admin })).json()).count).toBe(3);
    expect((await app.request(`/api/sessions/${oldSession.session_id}`, { headers: admin })).status).toBe(404);
    expect((await app.request(`/api/sessions/${newSession.session_id}`, { headers: admin })).status).toBe(200);

    const viaCron = Retention.parse(await (await json('POST', '/api/cron/retention', { authorization: 'Bearer cron-secret-123' })).json());
    expect(viaCron).toMatchObject({ events_deleted: 0, sessions_deleted: 0, more: false, cutoff: new Date(now.getTime() - 30 * 86_400_000).toISOString() });
    expect((await json('POST', '/api/cron/retention', admin)).status).toBe(403);
  });
});

describe('erasure', () => {
  it('DELETE /api/students/{id or email} removes everything of theirs, and nothing else', async () => {
    const email = `${uniqueToken('gdpr')}@example.com`.toLowerCase();
    const student = `stu_${crypto.randomUUID().slice(0, 8)}`;
    const page = uniqueToken();
    const other = uniqueToken();
    await json('PUT', `/api/students/${student}`, admin, { email, name: 'Erin', phone_numbers: ['+15550109999'] });
    await json('POST', '/api/session-log', {}, { sessionToken: page, studentEmail: email, eventType: 'navigation', eventData: { from: 1, to: 2 } });
    await json('POST', '/api/session-log', {}, { sessionToken: other, studentEmail: 'someone.else@example.com', eventType: 'action' });
    const s = (await (await json('POST', '/api/sessions/interactions', service, { student_id: student, function: 'f' })).json()) as { session_id: string };
    // A web event of their session without an email is theirs too (it belongs to their session).
    await json('POST', '/api/session-log', {}, { sessionToken: s.session_id, eventType: 'error', eventData: { errorMessage: 'x' } });
    // A phone call mapped to them.
    await app.request('/api/webhooks/vapi', { method: 'POST', body: JSON.stringify({ message: { type: 'status-update', status: 'in-progress', call: { id: `call-${student}`, customer: { number: '+15550109999' } } } }) });

    const res = await json('DELETE', `/api/students/${encodeURIComponent(email)}`, admin);
    expect(res.status).toBe(200);
    const erased = Erased.parse(await res.json());
    expect(erased.student_id).toBe(student);
    expect(erased.sessions_deleted).toBeGreaterThanOrEqual(1);
    expect(erased.events_deleted).toBeGreaterThanOrEqual(4);
    expect(erased.calls_deleted).toBe(1);

    // Afterwards no API returns anything of theirs.
    for (const path of [
      `/api/session-log?studentEmail=${encodeURIComponent(email)}`,
      `/api/session-log?sessionToken=${page}`,
      `/api/session-log?sessionToken=${s.session_id}`,
    ]) {
      expect(EventListResponse.parse(await (await app.request(path, { headers: admin })).json()).count, path).toBe(0);
    }
    expect(((await (await app.request(`/api/sessions?student_id=${student}`, { headers: admin })).json()) as { count: number }).count).toBe(0);
    expect((await app.request(`/api/sessions/${s.session_id}`, { headers: admin })).status).toBe(404);
    expect((await app.request(`/api/students/${student}`, { headers: admin })).status).toBe(404);
    const all = JSON.stringify(await (await app.request('/api/session-log?limit=1000', { headers: admin })).json());
    expect(all).not.toContain(email);
    expect(all).not.toContain(student);
    // Someone else's data is untouched; erasing again is a 404.
    expect(EventListResponse.parse(await (await app.request(`/api/session-log?sessionToken=${other}`, { headers: admin })).json()).count).toBe(1);
    expect((await json('DELETE', `/api/students/${encodeURIComponent(email)}`, admin)).status).toBe(404);
    expect((await json('DELETE', `/api/students/${student}`, { authorization: 'Bearer svc-token-123' })).status).toBe(403);
  });
  it('clears the cached call links of every platform (a Vapi call and a session-data call)', async () => {
    await erasesEveryCallLink(sql, createMemoryKv());
  });
  it('erasing someone unknown is a 404 that redacts nothing (a made-up "api" cannot blank the trail)', async () => {
    const ghost = `ghost_${crypto.randomUUID().slice(0, 8)}`;
    expect((await app.request(`/api/students/${ghost}`, { headers: admin })).status).toBe(404);
    await deps.settle();
    const trail = () => sql.query<{ id: string; path: string; detail: unknown }>('SELECT id::text AS id, path, detail FROM audit_log ORDER BY audit_log.id');
    const before = await trail();
    expect(before.map((r) => r.path)).toContain(`/api/students/${ghost}`);
    for (const who of [ghost, 'api', 'students']) expect((await json('DELETE', `/api/students/${who}`, admin)).status, who).toBe(404);
    await deps.settle();
    // Every earlier entry exactly as it was (the refused erasures only add their own, hashed).
    expect((await trail()).slice(0, before.length)).toEqual(before);
  });
  it('a student row matched under another case of their id goes with its sessions: none is left naming a deleted student', async () => {
    // The tool server wrote the same student as "Kim_…" in one call and "kim_…" in another: two rows.
    // Erasing either matches both (ids and emails compare case-insensitively), so both rows go, and
    // with them every session and event of either — not a session pointing at a deleted student.
    const lower = `kim_${crypto.randomUUID().slice(0, 8)}`;
    const upper = `K${lower.slice(1)}`;
    const a = (await (await json('POST', '/api/sessions/interactions', service, { student_id: upper, function: 'f' })).json()) as { session_id: string };
    const b = (await (await json('POST', '/api/sessions/interactions', service, { student_id: lower, function: 'f' })).json()) as { session_id: string };
    expect(a.session_id).not.toBe(b.session_id);
    const res = await json('DELETE', `/api/students/${lower}`, admin);
    expect(res.status).toBe(200);
    const erased = Erased.parse(await res.json());
    expect(erased.student_id).toBe(lower);
    expect(erased.sessions_deleted).toBe(2);
    const [dangling] = await sql.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM sessions s WHERE s.student_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM students st WHERE st.id = s.student_id)',
    );
    expect(dangling?.n).toBe(0);
    // Neither spelling is left anywhere (checked before the reads below, whose audit entries name the session ids).
    expect(await tablesNaming(sql, lower)).toEqual({});
    for (const id of [a.session_id, b.session_id]) expect((await app.request(`/api/sessions/${id}`, { headers: admin })).status, id).toBe(404);
  });
  it('leaves their id, email, name and phone in no row of any table and no KV entry; shared sessions keep the others', async () => {
    const kv = createMemoryKv();
    await erasesEveryTrace(sql, kv, async () => kv.dump());
  }, 60_000);
});
