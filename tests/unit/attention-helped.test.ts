/**
 * "Helped" marks (lib/attention/helped.ts): an instructor who went to a student marks it; GET
 * /api/attention lists the student again only for what happens after the mark, and says who is
 * being helped; the mark can be undone; a page cannot mark itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { AttentionResponse, HelpedAnswer } from '../../lib/schemas/attention.js';
import { EventListResponse } from '../../lib/schemas/event.js';
import type { Sql } from '../../lib/storage/sql.js';
import { admin, makeDeps, memoryPglite, testConfig } from '../helpers/deps.js';
import { expectProblem } from '../helpers/problem.js';
import { room, walk } from '../helpers/workshop.js';

let sql: Sql;
let now = new Date('2026-07-01T12:00:00Z');
let app: ReturnType<typeof createApp>;
const TA = { authorization: 'Bearer ta-token-helped-123' };
const SERVICE = { authorization: 'Bearer svc-token-helped-123' };
beforeAll(async () => {
  sql = await memoryPglite();
  app = createApp(
    makeDeps({ sql, now: () => now, config: testConfig({ INSTRUCTOR_TOKENS: 'ms_lee:ta-token-helped-123', SERVICE_TOKEN: 'svc-token-helped-123' }) }),
    allFamilies,
  );
});
afterAll(() => sql.close());

const minutes = (n: number) => {
  now = new Date(now.getTime() + n * 60_000);
};
const attention = async (prefix: string) => {
  const res = await app.request(`/api/attention?workshop=${prefix}`, { headers: admin });
  expect(res.status, await res.clone().text()).toBe(200);
  return AttentionResponse.parse(await res.json());
};
const mark = (token: string, headers: Record<string, string> = admin, body?: unknown) =>
  app.request(`/api/attention/${token}/helped`, { method: 'POST', headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
const unmark = (token: string, headers: Record<string, string> = admin) => app.request(`/api/attention/${token}/helped`, { method: 'DELETE', headers });
const listed = (a: AttentionResponse) => a.students.map((s) => s.session_id);

describe('marking a student helped', () => {
  it('takes the student off the list for what came before; a new error lists them again, with the mark', async () => {
    minutes(60);
    const r = room(app, () => now);
    const rita = r.student('rita');
    const fine = r.student('fay');
    await r.post([...walk(fine, [1, 2], 2, 6), ...walk(rita, [1, 2], 2, 6), rita.error(3, 2), rita.error(2, 2), rita.error(1, 2)]);
    expect(listed(await attention(r.prefix))).toEqual([rita.token]);

    const res = await mark(rita.token, TA, { note: 'missing API key' });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(HelpedAnswer.parse(await res.json())).toEqual({ session_id: rita.token, helped: { at: now.toISOString(), by: 'instructor:ms_lee', note: 'missing API key' } });

    // Off the list, and in `helped` for every instructor's view: who is with whom.
    minutes(1);
    const a = await attention(r.prefix);
    expect(listed(a)).toEqual([]);
    expect(a.helped).toEqual([
      { session_id: rita.token, student_id: rita.email, student_name: 'rita', student_email: rita.email, at: new Date(now.getTime() - 60_000).toISOString(), by: 'instructor:ms_lee', note: 'missing API key' },
    ]);
    expect(a.active_students).toBe(2);

    // A new error after the mark: listed again, for it alone, and the mark is shown beside it.
    await r.post([rita.error(0, 2, 'SyntaxError', 'unexpected token')]);
    const again = await attention(r.prefix);
    expect(listed(again)).toEqual([rita.token]);
    const [row] = again.students;
    expect(row?.reasons.map((x) => x.code)).toEqual(['recent_errors']);
    // Counted from the mark (ADR 0024, stop 38): the one error since, not the three before it too ...
    expect(row?.reasons[0]?.count).toBe(1);
    // ... and the problem is as old as that error, not as the errors before the mark.
    expect(row?.reasons[0]?.since).toBe(now.toISOString());
    expect(row?.since).toBe(now.toISOString());
    expect(row?.helped).toEqual({ at: new Date(now.getTime() - 60_000).toISOString(), by: 'instructor:ms_lee', note: 'missing API key' });
    expect(again.helped).toEqual([]);

    // The session's timeline says who helped when.
    const tl = await app.request(`/api/session-log?sessionToken=${rita.token}&eventType=attention_helped`, { headers: admin });
    expect(EventListResponse.parse(await tl.json()).events.map((e) => e.event_data)).toEqual([{ by: 'instructor:ms_lee', note: 'missing API key' }]);
  });

  it('a student listed again counts only what came after the mark: errors, repeats, failed calls and since', async () => {
    minutes(60);
    const r = room(app, () => now);
    const rex = r.student('rex');
    // Before the mark: the same error three times and two failed calls, all within their windows.
    await r.post([...walk(rex, [1, 2], 2, 6), rex.error(4, 2), rex.error(3.5, 2), rex.error(3, 2), rex.apiCall(2.5, 2, 500), rex.apiCall(2, 2, 502)]);
    const before = (await attention(r.prefix)).students[0];
    expect(before?.reasons.map((x) => [x.code, x.count])).toEqual([['repeated_error', 3], ['recent_errors', 3], ['failed_api_calls', 2]]);
    expect((await mark(rex.token)).status).toBe(200);
    const markedAt = now.toISOString();

    // After it: one more of the same error and one more failed call.
    minutes(1);
    await r.post([rex.error(0.5, 2), rex.apiCall(0, 2, 500)]);
    let row = (await attention(r.prefix)).students.find((s) => s.session_id === rex.token);
    // One error, not four; one failed call, not three; and no "same error 4×": only one came since.
    expect(row?.reasons.map((x) => [x.code, x.count]).sort()).toEqual([['failed_api_calls', 1], ['recent_errors', 1]]);
    const byCode = (code: string) => row?.reasons.find((x) => x.code === code);
    expect(byCode('recent_errors')?.message).toBe('1 error in the last 5 min');
    expect(byCode('failed_api_calls')?.message).toBe('1 failed API call in the last 10 min');
    // The problem is as old as the first new evidence, not as the errors before the mark.
    expect(byCode('recent_errors')?.since).toBe(new Date(now.getTime() - 30_000).toISOString());
    expect(byCode('failed_api_calls')?.since).toBe(now.toISOString());
    expect(row?.since).toBe(new Date(now.getTime() - 30_000).toISOString());
    expect(row?.helped?.at).toBe(markedAt);

    // Two more of the same error after the mark: three since it, a repeat of three, counted from the first after the mark.
    minutes(0.5);
    await r.post([rex.error(0.2, 2), rex.error(0, 2)]);
    row = (await attention(r.prefix)).students.find((s) => s.session_id === rex.token);
    const rep = row?.reasons.find((x) => x.code === 'repeated_error');
    expect(rep?.count).toBe(3);
    expect(rep?.message).toBe('Same error 3× in 10 min: TypeError: x is undefined');
    expect(rep?.since).toBe(new Date(now.getTime() - 60_000).toISOString());
    expect(row?.reasons.find((x) => x.code === 'recent_errors')?.count).toBe(3);

    // Undone: the whole history counts again.
    expect((await unmark(rex.token)).status).toBe(200);
    row = (await attention(r.prefix)).students.find((s) => s.session_id === rex.token);
    expect(row?.reasons.find((x) => x.code === 'repeated_error')?.count).toBe(6);
    expect(row?.reasons.find((x) => x.code === 'failed_api_calls')?.count).toBe(3);
    expect(row?.helped).toBeUndefined();
  });

  it('undo counts the earlier evidence again', async () => {
    minutes(60);
    const r = room(app, () => now);
    const olga = r.student('olga');
    await r.post([...walk(olga, [1, 2, 3], 2, 13), olga.error(8, 3, 'NetworkError', 'fetch failed')]);
    expect(listed(await attention(r.prefix))).toEqual([olga.token]);
    expect((await mark(olga.token)).status).toBe(200);
    expect(listed(await attention(r.prefix))).toEqual([]);
    const res = await unmark(olga.token);
    expect(res.status).toBe(200);
    expect(HelpedAnswer.parse(await res.json())).toEqual({ session_id: olga.token, helped: null });
    const a = await attention(r.prefix);
    expect(listed(a)).toEqual([olga.token]);
    expect(a.students[0]?.helped).toBeUndefined();
    expect(a.helped).toEqual([]);
  });

  it('stuck on the same step after help: listed again only after another full threshold from the mark', async () => {
    minutes(60);
    const r = room(app, () => now);
    // Four students passed step 2 in 3 minutes each: the median is 3 min, the stuck threshold 3× = 9 min (and ≥ 5 min).
    const cohort = ['ann', 'ben', 'cat', 'dan'].map((n) => r.student(n));
    const sam = r.student('sam');
    await r.post([...cohort.flatMap((s) => walk(s, [1, 2, 3], 3, 12)), ...walk(sam, [1, 2], 1, 16), sam.action(1, 2)]);
    expect(listed(await attention(r.prefix))).toEqual([sam.token]);
    expect((await mark(sam.token)).status).toBe(200);
    minutes(8);
    await r.post([sam.action(0, 2)]);
    expect(listed(await attention(r.prefix))).toEqual([]);
    // 9 min and a little after the mark, still on step 2.
    minutes(1.5);
    const a = await attention(r.prefix);
    expect(listed(a)).toEqual([sam.token]);
    expect(a.students[0]?.reasons.map((x) => x.code)).toEqual(['stuck']);
    // The message keeps the whole time on the step; the reason holds since the mark.
    expect(a.students[0]?.reasons[0]?.message).toMatch(/^On step 2 "Step 2" for 25 min/);
    expect(a.students[0]?.since).toBe(new Date(now.getTime() - 9.5 * 60_000).toISOString());
    expect(a.steps.find((s) => s.step === '2')?.stuck).toBe(1);
  });

  it('answers 404 for no such session, 409 for a session that is not a workshop page’s, and refuses non-instructors', async () => {
    await expectProblem(await mark('ws_nobody_here'), 404);
    const created = await app.request('/api/sessions', { method: 'POST', headers: { ...SERVICE, 'content-type': 'application/json' }, body: JSON.stringify({ participant: 'user_helped' }) });
    const { session_id } = (await created.json()) as { session_id: string };
    const p = await expectProblem(await mark(session_id), 409);
    expect(p.detail).toMatch(/not a workshop page's session/);
    const r = room(app, () => now);
    const tom = r.student('tom');
    await r.post([tom.action(1, 1)]);
    expect((await mark(tom.token, {})).status).toBe(401);
    expect((await mark(tom.token, SERVICE)).status).toBe(403);
    expect((await unmark(tom.token, SERVICE)).status).toBe(403);
    await expectProblem(await mark(tom.token, admin, { note: 'x'.repeat(501) }), 400);
    await expectProblem(await mark(tom.token, admin, { other: 1 }), 400);
  });

  it('a page cannot post a mark, or its undo, into its own session', async () => {
    for (const eventType of ['attention_helped', 'attention_help_undone']) {
      const res = await app.request('/api/session-log', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionToken: 'ws_self_help', eventType }) });
      const p = await expectProblem(res, 400);
      expect(p.detail).toMatch(/eventType: is reserved/);
    }
  });
});
