/** GET /api/attention: who needs help, ranked, with the cohort's steps and the top errors. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { ATTENTION_DEFAULTS, computeAttention } from '../../lib/attention/compute.js';
import { readAttentionFacts } from '../../lib/attention/query.js';
import { allFamilies } from '../../lib/families.js';
import { AttentionResponse } from '../../lib/schemas/attention.js';
import type { Sql } from '../../lib/storage/sql.js';
import { admin, makeDeps, memoryPglite, testConfig } from '../helpers/deps.js';
import { expectProblem } from '../helpers/problem.js';
import { room, walk } from '../helpers/workshop.js';

let sql: Sql;
let now = new Date('2026-07-01T12:00:00Z');
let app: ReturnType<typeof createApp>;
const CRON = 'cron-secret-attention-0123456789abcdef';
beforeAll(async () => {
  sql = await memoryPglite();
  app = createApp(makeDeps({ sql, now: () => now, config: testConfig({ INSTRUCTOR_TOKENS: 'ta:ta-token-123', CRON_SECRET: CRON }) }), allFamilies);
});
afterAll(() => sql.close());

const attention = async (query: string, headers: Record<string, string> = admin) => {
  const res = await app.request(`/api/attention${query}`, { headers });
  expect(res.status, await res.clone().text()).toBe(200);
  return AttentionResponse.parse(await res.json());
};

describe('GET /api/attention', () => {
  it('ranks the same error 3× above a single old error, puts a stuck student without errors near the top, and leaves fine students out', async () => {
    now = new Date(now.getTime() + 3_600_000);
    const r = room(app, () => now);
    // Four students passed step 2 in 3 minutes each: the cohort median of step 2 is 3 min.
    const cohort = ['ann', 'ben', 'cat', 'dan'].map((n) => r.student(n));
    const fine = cohort.flatMap((s) => [...walk(s, [1, 2, 3], 3, 9), s.action(1, 3)]);
    const repeated = r.student('rita');
    const stuck = r.student('sam');
    const old = r.student('olga');
    await r.post([
      ...fine,
      // Rita: on step 2 for 4 min, the same error three times in the last 3 minutes, still there.
      ...walk(repeated, [1, 2], 2, 6),
      repeated.error(3, 2), repeated.error(2, 2), repeated.error(1, 2),
      // Sam: on step 2 for 15 min (5× the median), no error at all, still clicking.
      ...walk(stuck, [1, 2], 1, 16),
      stuck.action(8, 2), stuck.action(1, 2),
      // Olga: one error 8 minutes ago on step 3, nothing since.
      ...walk(old, [1, 2, 3], 2, 13),
      old.error(8, 3, 'NetworkError', 'fetch failed'),
    ]);
    const a = await attention(`?workshop=${r.prefix}`);
    expect(a.active_students).toBe(7);
    expect(a.students.map((s) => s.session_id)).toEqual([repeated.token, stuck.token, old.token]);
    const [first, second, third] = a.students;
    expect(first?.reasons.map((x) => x.code)).toEqual(['repeated_error', 'recent_errors']);
    expect(first?.reasons[0]).toMatchObject({ count: 3, message: expect.stringContaining('TypeError: x is undefined') });
    expect(first).toMatchObject({ student_email: repeated.email, student_name: 'rita', current_step: '2', step_name: 'Step 2' });
    expect(second?.reasons).toEqual([expect.objectContaining({ code: 'stuck', count: null, since: new Date(now.getTime() - 15 * 60_000).toISOString() })]);
    expect(second?.reasons[0]?.message).toMatch(/On step 2 "Step 2" for 15 min, 5\.0× the median \(3 min\) of 5 students/);
    expect(third?.reasons.map((x) => x.code)).toEqual(['silent_after_error']);
    expect(third?.reasons[0]?.message).toContain('NetworkError: fetch failed');
    expect((first?.score ?? 0) > (second?.score ?? 0) && (second?.score ?? 0) > (third?.score ?? 0)).toBe(true);
    expect(first?.since).toBe(new Date(now.getTime() - 3 * 60_000).toISOString());

    // Cohort progress: step order, who is where, who is stuck, the medians of those who passed.
    expect(a.steps).toEqual([
      { step: '1', step_name: 'Step 1', students: 0, stuck: 0, median_seconds: expect.any(Number) },
      { step: '2', step_name: 'Step 2', students: 2, stuck: 1, median_seconds: 180 },
      { step: '3', step_name: 'Step 3', students: 5, stuck: 0, median_seconds: null },
    ]);
    expect(a.top_errors).toEqual([
      { error_type: 'TypeError', message: 'x is undefined', students: 1, count: 3, last_at: new Date(now.getTime() - 60_000).toISOString() },
      { error_type: 'NetworkError', message: 'fetch failed', students: 1, count: 1, last_at: new Date(now.getTime() - 8 * 60_000).toISOString() },
    ]);

    // Rita moves on to step 3: her repeated error weighs much less, and the ranking follows.
    await r.post([repeated.nav(0.5, 2, 3)]);
    const after = await attention(`?workshop=${r.prefix}`);
    const rita = after.students.find((s) => s.session_id === repeated.token);
    expect(rita?.reasons.find((x) => x.code === 'repeated_error')?.message).toContain('moved on');
    expect(rita?.current_step).toBe('3');
    expect(after.students[0]?.session_id).toBe(stuck.token);
  });

  it('drops students whose session timed out (after an error: once 20 min have passed), and counts failed API calls', async () => {
    now = new Date(now.getTime() + 3_600_000);
    const r = room(app, () => now);
    const gone = r.student('gone');
    const caller = r.student('caller');
    await r.post([gone.error(30, 1), gone.error(29, 1), gone.error(28, 1), caller.action(6, 1), caller.apiCall(4, 1, 500), caller.apiCall(2, 1, 404), caller.action(1, 1)]);
    const a = await attention(`?workshop=${r.prefix}`);
    expect(a.active_students).toBe(1);
    expect(a.students).toEqual([
      expect.objectContaining({ session_id: caller.token, reasons: [expect.objectContaining({ code: 'failed_api_calls', count: 2, since: new Date(now.getTime() - 4 * 60_000).toISOString() })] }),
    ]);
    // The timed-out student's errors are older than 15 minutes: not in top_errors either.
    expect(a.top_errors).toEqual([]);
  });

  // A page that names the step it moves to as its current step (the README's first example) rather
  // than as toStepName: the Now view shows the name the session document shows.
  it('a navigation that names its step as currentStep/stepName, without toStepName, gives the step its name', async () => {
    now = new Date(now.getTime() + 3_600_000);
    const r = room(app, () => now);
    const s = r.student('priya');
    const named = { ...s.nav(3, 1, 2), eventData: { from: 1, to: 2, currentStep: 2, stepName: 'Set up keys' } };
    // Elsewhere in the same room, a navigation whose page-context name belongs to the step it left: not taken.
    const t = r.student('tariq');
    const stale = { ...t.nav(3, 1, 3), eventData: { from: 1, to: 3, currentStep: 1, stepName: 'Install' } };
    // Their errors carry the step's number only, as the README's batch does.
    const bare = (e: ReturnType<typeof s.error>, step: number) => ({ ...e, eventData: { errorType: 'TypeError', errorMessage: 'x is undefined', currentStep: step } });
    await r.post([named, bare(s.error(2, 2), 2), stale, bare(t.error(2, 3), 3)]);
    const a = await attention(`?workshop=${r.prefix}`);
    expect(a.students.find((x) => x.session_id === s.token)).toMatchObject({ current_step: '2', step_name: 'Set up keys' });
    expect(a.students.find((x) => x.session_id === t.token)).toMatchObject({ current_step: '3', step_name: null });
    expect(a.steps).toEqual(expect.arrayContaining([expect.objectContaining({ step: '2', step_name: 'Set up keys' }), expect.objectContaining({ step: '3', step_name: null })]));
    const doc = async (token: string) => (await app.request(`/api/sessions/${token}`, { headers: admin })).json();
    expect(await doc(s.token)).toMatchObject({ current_step: '2', step_name: 'Set up keys' });
    // The session document reads steps as the Now view does: the page-context name of the step left is not taken.
    expect(await doc(t.token)).toMatchObject({ current_step: '3', step_name: null });
    // Alone in its request (another statement): the step is where the navigation goes.
    const u = r.student('uma');
    await r.post([{ ...u.nav(1, 1, 4), eventData: { from: 1, to: 4, currentStep: 1, stepName: 'Install' } }]);
    expect(await doc(u.token)).toMatchObject({ current_step: '4', step_name: null });
    expect((await attention(`?workshop=${r.prefix}`)).steps).toEqual(expect.arrayContaining([expect.objectContaining({ step: '4', step_name: null })]));
  });

  it('filters by workshop prefix and by since; instructors may read; bad input is a 400', async () => {
    now = new Date(now.getTime() + 3_600_000);
    const one = room(app, () => now);
    const two = room(app, () => now);
    const x = one.student('x');
    const y = two.student('y');
    await one.post([x.error(1, 1), x.error(1, 1), x.error(1, 1)]);
    await two.post([y.error(2, 1)]);
    const onlyOne = await attention(`?workshop=${one.prefix}`, { authorization: 'Bearer ta-token-123' });
    expect(onlyOne.students.map((s) => s.session_id)).toEqual([x.token]);
    const both = await attention('');
    expect(both.students.map((s) => s.session_id)).toEqual(expect.arrayContaining([x.token, y.token]));
    const recent = await attention(`?since=${encodeURIComponent(new Date(now.getTime() - 90_000).toISOString())}&workshop=${two.prefix}`);
    expect(recent.active_students).toBe(0);
    await expectProblem(await app.request('/api/attention'), 401);
    await expectProblem(await app.request('/api/attention', { headers: { authorization: 'Bearer nope' } }), 401);
    const bad = await expectProblem(await app.request('/api/attention?since=yesterday', { headers: admin }), 400);
    expect(bad.errors?.[0]?.path).toBe('since');
    await expectProblem(await app.request('/api/attention?workshop=a%20b', { headers: admin }), 400);
    await expectProblem(await app.request('/api/attention?since=2020-01-01T00:00:00Z', { headers: admin }), 400);
  });

  it('reads in full only the students a reason may apply to, and counts the rest: each reason keeps its student, to the millisecond of the stuck threshold', async () => {
    now = new Date(now.getTime() + 3_600_000);
    const r = room(app, () => now);
    // Six students passed steps 1 and 2 in 2 minutes each and are on step 3 since a minute: fine.
    const fine = Array.from({ length: 6 }, (_, i) => r.student(`fine${i}`));
    // One student per reason, each with that reason only.
    const eddie = r.student('eddie'); // on step 2 for 11 min, 5.5x the median: stuck
    const rita = r.student('rita'); // the same error 3x, 7-9 min ago (not recent), moved on since
    const carl = r.student('carl'); // a failed API call, no error
    const olly = r.student('olly'); // one error 2 min ago
    const quinn = r.student('quinn'); // an error 7 min ago (not recent), nothing since; on a step nobody passed
    // On a step for long, but not stuck: 2.75x the median; a step nobody passed; a step one student passed.
    const sid = r.student('sid');
    const tom = r.student('tom');
    const una = r.student('una');
    const vic = r.student('vic');
    await r.post([
      ...fine.flatMap((s) => walk(s, [1, 2, 3], 2, 5)),
      ...walk(eddie, [1, 2], 2, 13), eddie.action(0.5, 2),
      rita.action(10, 1), rita.error(9, 1), rita.error(8, 1), rita.error(7, 1), rita.nav(6, 1, 2), rita.action(1, 2),
      carl.action(3, 1), carl.apiCall(2, 1, 500), carl.action(1, 1),
      olly.action(3, 1), olly.error(2, 1), olly.action(1, 1),
      quinn.action(8, 9), quinn.error(7, 9),
      ...walk(sid, [1, 2], 2, 7.5), sid.action(0.5, 2),
      ...walk(tom, [1, 2, 3], 2, 24), tom.action(0.5, 3),
      ...walk(una, [5, 6], 2, 14), una.action(0.5, 6),
      ...walk(vic, [4, 5], 1, 13), vic.action(0.5, 5),
    ]);
    // Events stored by SQL carry microseconds (now(), a seed): Mia reached step 2 0.4 ms less than
    // 11 minutes ago, which the score reads as 11 minutes (a JavaScript date has milliseconds).
    const mia = `${r.prefix}mia`;
    const ago = (ms: number) => `(($1::timestamptz) - ${ms} * interval '1 millisecond')`;
    await sql.query(
      `INSERT INTO events (event_uuid, session_token, event_type, event_data, created_at, received_at)
       SELECT gen_random_uuid(), $2, t, d::jsonb, at, at FROM (VALUES
         ('action', '{"currentStep": 1}', ${ago(13 * 60_000)}),
         ('navigation', '{"from": 1, "to": 2}', ${ago(11 * 60_000 - 0.4)}),
         ('action', '{"currentStep": 2}', ${ago(30_000)})) v(t, d, at)`,
      [now.toISOString(), mia],
    );
    const timeoutMs = 10 * 60_000;
    const windows = (stuckMinMs: number) => ({
      ...ATTENTION_DEFAULTS, since: new Date(now.getTime() - 3_600_000), now, prefix: r.prefix, scope: 'window' as const, timeoutMs, stuckMinMs,
    });
    const tokens = (list: readonly { token: string }[]) => list.map((a) => a.token).sort();
    const flagged = [...[eddie, rita, carl, olly, quinn].map((s) => s.token), mia].sort();

    const facts = await readAttentionFacts(sql, windows(ATTENTION_DEFAULTS.stuckMinMs));
    expect(tokens(facts.active)).toEqual(flagged);
    expect(facts.activeCount).toBe(16);
    expect([...facts.onStep].sort()).toEqual([['1', 2], ['2', 4], ['3', 7], ['5', 1], ['6', 1], ['9', 1]]);
    const scored = await computeAttention({ sql, now, timeoutMs, workshop: r.prefix });
    expect(scored.active_students).toBe(16);
    expect(Object.fromEntries(scored.students.map((s) => [s.session_id, s.reasons.map((x) => x.code)]))).toEqual({
      [eddie.token]: ['stuck'],
      [rita.token]: ['repeated_error'],
      [carl.token]: ['failed_api_calls'],
      [olly.token]: ['recent_errors'],
      [quinn.token]: ['silent_after_error'],
      [mia]: ['stuck'],
    });
    expect(scored.steps.map((s) => [s.step, s.students, s.stuck, s.median_seconds])).toEqual([
      ['1', 2, 0, 120], ['2', 4, 2, 120], ['3', 7, 0, null], ['4', 0, 0, 60], ['5', 1, 0, 120], ['6', 1, 0, null], ['9', 1, 0, null],
    ]);

    // Exactly 11 minutes is long enough when that is the threshold (Eddie; Mia to the millisecond) ...
    const at11 = await computeAttention({ sql, now, timeoutMs, workshop: r.prefix, options: { stuckMinMs: 11 * 60_000 } });
    expect(at11.students.filter((s) => s.stuck).map((s) => s.session_id).sort()).toEqual([eddie.token, mia].sort());
    // ... and a millisecond more leaves both out, of the score and of what is read.
    const past11 = await computeAttention({ sql, now, timeoutMs, workshop: r.prefix, options: { stuckMinMs: 11 * 60_000 + 1 } });
    expect(past11.students.map((s) => s.session_id).sort()).toEqual(flagged.filter((t) => t !== eddie.token && t !== mia));
    expect(tokens((await readAttentionFacts(sql, windows(11 * 60_000 + 1))).active)).toEqual(flagged.filter((t) => t !== eddie.token && t !== mia));
  });

  it('odd eventData never breaks it: steps of any JSON type, statuses as text, huge names', async () => {
    now = new Date(now.getTime() + 3_600_000);
    const r = room(app, () => now);
    const t = `${r.prefix}odd`;
    const at = (m: number) => new Date(now.getTime() - m * 60_000).toISOString();
    const odd = [
      { currentStep: { a: 1 }, stepName: 7 },
      { currentStep: [1, 2], stepName: null },
      { currentStep: true },
      { currentStep: 'x'.repeat(5000), stepName: 'y'.repeat(5000) },
      { currentStep: '1e400' },
      { currentStep: '99999999999999999999.5' },
      { currentStep: '' },
    ].map((eventData, i) => ({ sessionToken: t, eventType: 'action', eventData, timestamp: at(7 - i) }));
    await r.post([
      ...odd,
      { sessionToken: t, eventType: 'navigation', eventData: { from: 1, to: 2, toStepName: 'z'.repeat(400) }, timestamp: at(1) },
      { sessionToken: t, eventType: 'api_call', eventData: { status: 500, success: true, currentStep: '1' }, timestamp: at(1) },
      { sessionToken: t, eventType: 'api_call', eventData: { endpoint: '/x', extra: { status: 'abc' }, currentStep: '99999999999999999999.5' }, timestamp: at(1) },
      { sessionToken: t, eventType: 'error', eventData: { errorType: '', errorMessage: 'm'.repeat(9000) }, timestamp: at(0.5) },
    ]);
    const a = await attention(`?workshop=${r.prefix}`);
    expect(a.active_students).toBe(1);
    expect(a.students[0]?.reasons.map((x) => x.code).sort()).toEqual(['failed_api_calls', 'recent_errors']);
    expect(a.top_errors[0]?.error_type).toBe('(unspecified)');
    expect(a.steps.every((s) => s.step.length <= 100 && (s.step_name ?? '').length <= 200)).toBe(true);
  });

  it('a 200-student workshop: the stuck and the failing come first, everyone is on the progress bars', async () => {
    now = new Date(now.getTime() + 3_600_000);
    const r = room(app, () => now);
    const students = Array.from({ length: 200 }, (_, i) => r.student(`s${String(i).padStart(3, '0')}`));
    const events = [];
    for (const [i, s] of students.entries()) {
      if (i < 10) {
        // Stuck on step 3 for 20 minutes (the others took 2), still active.
        events.push(...walk(s, [1, 2, 3], 2, 24), s.action(1, 3));
      } else if (i < 15) {
        events.push(...walk(s, [1, 2, 3, 4], 2, 7), s.error(2, 4, 'ImportError', 'no module'), s.error(1.5, 4, 'ImportError', 'no module'), s.error(1, 4, 'ImportError', 'no module'));
      } else {
        events.push(...walk(s, [1, 2, 3, 4], 2, 7 + (i % 3)), s.action(0.5, 4));
      }
    }
    await r.post(events);
    const started = performance.now();
    const a = await attention(`?workshop=${r.prefix}`);
    const ms = performance.now() - started;
    expect(a.active_students).toBe(200);
    expect(a.students).toHaveLength(15);
    const top = new Set(a.students.slice(0, 15).map((s) => s.session_id));
    for (const s of students.slice(0, 15)) expect(top.has(s.token)).toBe(true);
    expect(a.steps.map((s) => [s.step, s.students, s.stuck])).toEqual([['1', 0, 0], ['2', 0, 0], ['3', 10, 10], ['4', 190, 0]]);
    expect(a.steps[2]?.median_seconds).toBe(120);
    expect(a.top_errors).toEqual([expect.objectContaining({ error_type: 'ImportError', students: 5, count: 15 })]);
    // PGlite in-process; the real-Postgres figure is in the bench.
    expect(ms).toBeLessThan(5000);
    console.log(`attention over 200 students (PGlite): ${ms.toFixed(0)} ms`);
  });
  it('no workshop: the room as it is now — sessions seen in the last 15 min, with their whole history; sessions of earlier today are neither listed nor in the cohort', async () => {
    now = new Date(now.getTime() + 3_600_000);
    const r = room(app, () => now);
    // Two hours ago: four students went through steps 1-3 at 1 min a step and left; one also visited a step 9.
    const early = ['eva', 'fay', 'gus', 'hal'].map((n) => r.student(n));
    // Now: four students passed step 2 in 3 min each; Sam is on step 2 for 15 min.
    const cohort = ['ann', 'ben', 'cat', 'dan'].map((n) => r.student(n));
    const sam = r.student('sam');
    // Silent for 12 min after an error: past the 10 min timeout, still in the room as a student who
    // went quiet after an error (for 20 min).
    const quiet = r.student('quiet');
    await r.post([
      ...early.flatMap((s) => walk(s, [1, 2, 3], 1, 125)),
      early[0]!.action(121, 9),
      ...cohort.flatMap((s) => [...walk(s, [1, 2, 3], 3, 9), s.action(1, 3)]),
      ...walk(sam, [1, 2], 1, 16),
      sam.action(1, 2),
      quiet.action(13, 1),
      quiet.error(12, 1, 'NetworkError', 'fetch failed'),
    ]);
    const one = await attention(`?workshop=${r.prefix}`);
    const all = await attention('');

    // The workshop's window is its cohort: the early students' 1-minute passes count.
    expect(one.active_students).toBe(6);
    expect(one.steps.map((s) => [s.step, s.median_seconds])).toEqual([['1', 60], ['2', 120], ['3', 120], ['9', null]]);
    // Quiet for 12 min after an error ranks above 15 min on a step (silent: 20 points + 2 a minute, at most 40).
    expect(one.students.map((s) => s.session_id)).toEqual([quiet.token, sam.token]);
    expect(one.students[1]?.reasons[0]?.message).toMatch(/the median \(2 min\)/);
    // (and, being in the room, on step 1 for 13 min: stuck too)
    expect(one.students[0]?.reasons.map((x) => x.code)).toEqual(['stuck', 'silent_after_error']);
    expect(one.students[0]?.reasons[1]?.message).toBe('Nothing for 12 min since NetworkError: fetch failed');

    // Every workshop: the live room only (earlier tests' rooms, an hour and more ago, are not in it either).
    expect(all.active_students).toBe(6);
    expect(all.steps.map((s) => [s.step, s.step_name, s.students, s.stuck, s.median_seconds])).toEqual([
      ['1', 'Step 1', 1, 1, 180], // the quiet student, 13 min on step 1
      ['2', 'Step 2', 1, 1, 180],
      ['3', 'Step 3', 4, 0, null],
    ]);
    expect(all.students.map((s) => s.session_id)).toEqual([quiet.token, sam.token]);
    expect(all.students[1]).toMatchObject({ current_step: '2', step_name: 'Step 2', since: new Date(now.getTime() - 15 * 60_000).toISOString() });
    expect(all.students[1]?.reasons[0]?.message).toMatch(/On step 2 "Step 2" for 15 min, 5\.0× the median \(3 min\)/);
    // The quiet student's error is still among the recent ones, as for the workshop.
    expect(all.top_errors).toEqual(one.top_errors);
    expect(all.top_errors).toEqual([{ error_type: 'NetworkError', message: 'fetch failed', students: 1, count: 1, last_at: new Date(now.getTime() - 12 * 60_000).toISOString() }]);

    // An hour later nobody is in the room: nothing to read, whatever the log holds.
    now = new Date(now.getTime() + 3_600_000);
    const later = await attention('');
    expect(later).toMatchObject({ active_students: 0, students: [], steps: [], top_errors: [] });
  });

  it("the students who finished and left still set each step's pace: the idle sweep ending their sessions moves no median, and the slow student stays stuck", async () => {
    now = new Date(now.getTime() + 3_600_000);
    const r = room(app, () => now);
    // Four students went through steps 1-3 in 3 min each, 40 min ago, and left.
    const gone = ['amy', 'bob', 'cas', 'deb'].map((n) => r.student(n));
    const stan = r.student('stan');
    // Stan: on step 2 for 22 min (7× the median), still clicking.
    await r.post([...gone.flatMap((s) => walk(s, [1, 2, 3], 3, 40)), ...walk(stan, [1, 2], 3, 25), stan.action(1, 2)]);
    const read = async () => {
      const a = await attention(`?workshop=${r.prefix}`);
      return { students: a.students.map((s) => [s.session_id, s.reasons.map((x) => x.code)]), step2: a.steps.find((x) => x.step === '2'), active: a.active_students };
    };
    const before = await read();
    expect(before.students).toEqual([[stan.token, ['stuck']]]);
    expect(before.step2).toMatchObject({ students: 1, stuck: 1, median_seconds: 180 });
    expect(before.active).toBe(1);

    const swept = await app.request('/api/cron/sweep', { method: 'POST', headers: { authorization: `Bearer ${CRON}` } });
    expect(((await swept.json()) as { ended_ids: string[] }).ended_ids).toEqual(expect.arrayContaining(gone.map((s) => s.token)));
    expect(await read()).toEqual(before);
  });

  it('a student who went quiet after an error stays on the list for 20 min, though the idle sweep ended the session at 10; one quiet without an error does not', async () => {
    now = new Date(now.getTime() + 3_600_000);
    const r = room(app, () => now);
    const ravi = r.student('ravi');
    const sara = r.student('sara');
    const busy = r.student('busy');
    await r.post([...walk(ravi, [1, 2], 2, 16), ravi.error(12, 2, 'ImportError', 'No module named vapi'), ...walk(sara, [1, 2], 2, 16), sara.action(12, 2), busy.action(0, 1)]);
    const swept = await app.request('/api/cron/sweep', { method: 'POST', headers: { authorization: `Bearer ${CRON}` } });
    expect(swept.status).toBe(200);
    expect(((await swept.json()) as { ended_ids: string[] }).ended_ids).toEqual(expect.arrayContaining([ravi.token, sara.token]));
    const a = await attention(`?workshop=${r.prefix}`);
    expect(a.students.map((s) => s.session_id)).toEqual([ravi.token]);
    expect(a.students[0]).toMatchObject({ current_step: '2', reasons: [expect.objectContaining({ code: 'silent_after_error', message: 'Nothing for 12 min since ImportError: No module named vapi' })] });
    expect(a.active_students).toBe(2); // ravi and busy; sara's session ended
    // The room as it is now (no workshop) says the same.
    expect((await attention('')).students.map((s) => s.session_id)).toEqual([ravi.token]);
    // Past 20 min he is gone too.
    now = new Date(now.getTime() + 9 * 60_000);
    expect((await attention(`?workshop=${r.prefix}`)).students).toEqual([]);
  });
});
