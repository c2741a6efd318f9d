/**
 * The lean ingest statement (lib/events/ingest-lean.ts) against the usual statements it stands in
 * for (the known-student one, and the full one for anonymous events): the same events, one call
 * each, on two databases, leave the same events and the same sessions (counts, steps, reopen, a
 * session it creates, anonymous events filed under their page's student). And what it must leave
 * to the usual statements it leaves: events it may not decide come back uninserted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertLean, leanFits } from '../../lib/events/ingest-lean.js';
import { insertEvents, insertUsual, type NewEvent } from '../../lib/events/ingest.js';
import { StudentCache } from '../../lib/events/student-cache.js';
import type { Sql } from '../../lib/storage/sql.js';
import { memoryPglite } from '../helpers/deps.js';
import { at, countingSql, ev, ingestState } from '../helpers/ingest-statements.js';

let lean: Sql;
let known: Sql;
/** Statements the lean side sent, by shape. */
const sent = { lean: 0, other: 0 };
const counting = (inner: Sql): Sql => countingSql(inner, (shape) => sent[shape === 'lean' ? 'lean' : 'other']++);
const state = (sql: Sql) => ingestState(sql);

describe('the lean ingest statement', () => {
  beforeAll(async () => {
    const [a, b] = await Promise.all([memoryPglite(), memoryPglite()]);
    lean = counting(a);
    known = b;
    // The same starting point on both: two students (stored by their first events, through the
    // full statement), their pages' sessions, one of them ended since.
    const first = [ev('page-a', 'a@example.com', at('09:00:00'), { currentStep: 1 }), ev('page-b', 'b@example.com', at('09:00:00'), { stepName: 'Intro' })];
    for (const sql of [lean, known]) {
      for (const e of first) await insertEvents(sql, [e]);
      await sql.query(`UPDATE sessions SET status = 'completed', ended_at = $1, end_reason = 'timeout' WHERE id = 'page-b'`, [at('09:30:00')]);
    }
  });
  afterAll(async () => {
    await Promise.all([lean?.close(), known?.close()]);
  });

  it('leaves the same events and sessions as the usual statements, call by call', async () => {
    const anon = (token: string, when: Date, data: Record<string, unknown> = {}) => ev(token, '', when, data, { email: null });
    const steps: { events: NewEvent[]; lean: boolean }[] = [
      // A later step, then an older one arriving late (an offline queue): the step stays the later one.
      { events: [ev('page-a', 'a@example.com', at('09:05:00'), { currentStep: 3, stepName: 'Loops' })], lean: true },
      { events: [ev('page-a', 'a@example.com', at('09:02:00'), { currentStep: 2, stepName: 'Vars' }, { clientTs: at('09:02:00') })], lean: true },
      // An error counts; an event without step fields keeps the step.
      { events: [ev('page-a', 'a@example.com', at('09:06:00'), { message: 'boom' }, { eventType: 'error' })], lean: true },
      // page-b ended at 09:30: an event from before the end leaves it ended, a later one reopens it.
      { events: [ev('page-b', 'b@example.com', at('09:20:00'), { currentStep: 'quiz' })], lean: true },
      { events: [ev('page-b', 'b@example.com', at('09:45:00'), { stepName: 'Wrap-up' })], lean: true },
      // A page no session exists for yet: created, with its student as participant.
      { events: [ev('page-c', 'a@example.com', at('10:00:00'), { currentStep: true }, { name: 'Ada' })], lean: true },
      // Several pages in one statement (group commit's usual case).
      { events: [ev('page-a', 'a@example.com', at('10:01:00'), { currentStep: 4 }), ev('page-b', 'b@example.com', at('10:01:00')), ev('page-c', 'a@example.com', at('09:59:00'), { stepName: 'Earlier' })], lean: true },
      // Anonymous: filed under the student its page knows; a new page opens a session without one.
      { events: [anon('page-a', at('10:02:00'), { currentStep: 5 })], lean: true },
      { events: [anon('page-e', at('10:03:00'), { stepName: 'Start' }), ev('page-b', 'b@example.com', at('10:03:00'))], lean: true },
      { events: [anon('page-e', at('10:04:00'), { currentStep: 1 })], lean: true },
      // A student's first event on that page names its session and its earlier events: not lean.
      { events: [ev('page-e', 'b@example.com', at('10:05:00'))], lean: false },
      { events: [anon('page-e', at('10:06:00'))], lean: true },
    ];
    for (const { events, lean: expectLean } of steps) {
      expect(leanFits(events)).toBe(true);
      const before = { ...sent };
      const a = await insertEvents(lean, events);
      const b = await insertUsual(known, events, new StudentCache());
      expect(a).toEqual(b);
      expect(a.inserted.size).toBe(events.length);
      expect(sent.lean - before.lean, JSON.stringify(events.map((e) => e.sessionToken))).toBe(1);
      expect(sent.other - before.other).toBe(expectLean ? 0 : 1);
    }
    const [l, k] = await Promise.all([state(lean), state(known)]);
    expect(l).toEqual(k);
    // Not vacuous: the scenario did move what it set out to.
    const byId = new Map(l.sessions.map((s) => [s.id, s as Record<string, unknown>]));
    expect(byId.get('page-a')).toMatchObject({ event_count: 6, error_count: 1, current_step: '5', step_name: 'Loops' });
    expect(byId.get('page-b')).toMatchObject({ status: 'active', ended_at: null, event_count: 5, step_name: 'Wrap-up', current_step: 'quiz' });
    expect(byId.get('page-c')).toMatchObject({ student_id: 'a@example.com', event_count: 2, current_step: 'true', step_name: 'Earlier', workshop: true });
    expect(byId.get('page-c')?.participants).toEqual([expect.objectContaining({ id: 'a@example.com', role: 'student' })]);
    expect(byId.get('page-e')).toMatchObject({ student_id: 'b@example.com', event_count: 4, current_step: '1', step_name: 'Start' });
    const filed = (token: string) => l.events.filter((e) => e.session_token === token).map((e) => e.student_id);
    expect(filed('page-a')).toEqual(Array(6).fill('a@example.com'));
    // page-e's anonymous events, earlier ones included, are the student's once the page names them.
    expect(filed('page-e')).toEqual(Array(4).fill('b@example.com'));
  });

  it('answers duplicates itself, and leaves for the usual statements what it may not decide: foreign sessions, unnamed pages, stale ids', async () => {
    await lean.query(`INSERT INTO sessions (id, platform, kind, status, started_at, last_activity_at, workshop) VALUES ('sitting-1', 'tool', 'auto', 'active', now(), now(), false)`);
    await insertEvents(lean, [ev('page-anon', 'x', at('11:00:00'), {}, { email: null })]);
    const dup = ev('page-a', 'a@example.com', at('11:00:00'));
    expect(await insertLean(lean, [dup], ['a@example.com'])).toEqual({ inserted: new Set([dup.eventUuid]), left: [] });
    const cases = [
      { ...dup }, // already stored: neither inserted nor left, i.e. a duplicate
      ev('sitting-1', 'a@example.com', at('11:01:00')), // a tutoring sitting, no write token
      ev('page-anon', 'b@example.com', at('11:01:00')), // a workshop page with no student yet
      ev('page-d', 'b@example.com', at('11:01:00')), // a cached id that is not this email's student
      { ...ev('sitting-1', '', at('11:01:00')), email: null }, // anonymous, into the sitting
    ];
    const sids = ['a@example.com', 'a@example.com', 'b@example.com', 'a@example.com', null];
    const before = await state(lean);
    expect(await insertLean(lean, cases, sids)).toEqual({ inserted: new Set(), left: cases.slice(1) });
    expect(await state(lean)).toEqual(before);
    // With its write token, the sitting takes the event, and stays what it was.
    const allowed = ev('sitting-1', 'a@example.com', at('11:02:00'), {}, { writeAllowed: true });
    expect(await insertLean(lean, [allowed], ['a@example.com'])).toEqual({ inserted: new Set([allowed.eventUuid]), left: [] });
    const [sitting] = await lean.query<{ workshop: boolean; event_count: number }>(`SELECT workshop, event_count FROM sessions WHERE id = 'sitting-1'`);
    expect(sitting).toEqual({ workshop: false, event_count: 0 });
  });

  it('is used only for events each of its own session', () => {
    expect(leanFits([ev('p', 'a@example.com', at('12:00:00')), ev('q', 'a@example.com', at('12:00:00'))])).toBe(true);
    expect(leanFits([ev('p', 'a@example.com', at('12:00:00')), ev('p', 'a@example.com', at('12:00:01'))])).toBe(false);
  });
});
