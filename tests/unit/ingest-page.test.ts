/**
 * The page-batch statement (lib/events/ingest-page.ts) against the usual statements it stands in
 * for: the same batches, one call each, on two databases, leave the same events and the same
 * sessions (counts, steps, reopen, a session it creates, anonymous events filed under their page's
 * student, a page named by its student's first batch with its earlier events attributed,
 * duplicates). What it may not store it does not touch: a session of another kind without its
 * write token refuses the whole batch, and a stale cached student sends it to the full statement.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertEvents, insertUsual, type NewEvent } from '../../lib/events/ingest.js';
import { insertPage, pageFits } from '../../lib/events/ingest-page.js';
import { StudentCache } from '../../lib/events/student-cache.js';
import type { Sql } from '../../lib/storage/sql.js';
import { memoryPglite } from '../helpers/deps.js';
import { at, countingSql, ev, ingestState } from '../helpers/ingest-statements.js';

let page: Sql;
let usual: Sql;
/** Statements the page side sent, by shape. */
const sent = { page: 0, other: 0 };
const counting = (inner: Sql): Sql => countingSql(inner, (shape) => sent[shape === 'page' ? 'page' : 'other']++);
const state = (sql: Sql) => ingestState(sql, { students: true });

describe('the page-batch ingest statement', () => {
  beforeAll(async () => {
    const [a, b] = await Promise.all([memoryPglite(), memoryPglite()]);
    page = counting(a);
    usual = b;
    // The same starting point on both: two students (stored by their first events, which also
    // fill the page side's student cache), their pages' sessions, one of them ended since.
    const first = [ev('page-a', 'a@example.com', at('09:00:00'), { currentStep: 1 }), ev('page-b', 'b@example.com', at('09:00:00'), { stepName: 'Intro' })];
    for (const sql of [page, usual]) {
      for (const e of first) await insertEvents(sql, [e]);
      await sql.query(`UPDATE sessions SET status = 'completed', ended_at = $1, end_reason = 'timeout' WHERE id = 'page-b'`, [at('09:30:00')]);
    }
  });
  afterAll(async () => {
    await Promise.all([page?.close(), usual?.close()]);
  });

  it('leaves the same events and sessions as the usual statements, batch by batch', async () => {
    const a = (when: string, data: Record<string, unknown> = {}, more: Partial<NewEvent> = {}) => ev('page-a', 'a@example.com', at(when), data, more);
    const stored = ev('page-a', 'a@example.com', at('09:03:00'));
    const twin = ev('page-a', 'a@example.com', at('09:08:00'));
    const batches: NewEvent[][] = [
      // Steps in any order (an offline queue arrives late), an error, an event without steps.
      [a('09:05:00', { currentStep: 3, stepName: 'Loops' }), a('09:02:00', { currentStep: 2, stepName: 'Vars' }, { clientTs: at('09:02:00') }), a('09:06:00', { message: 'boom' }, { eventType: 'error' }), stored],
      // Duplicates: one already stored, and the same event twice in one batch.
      [{ ...stored }, twin, { ...twin }, a('09:09:00')],
      // page-b ended at 09:30: one batch from before the end and after it reopens it.
      [ev('page-b', 'b@example.com', at('09:20:00'), { currentStep: 'quiz' }), ev('page-b', 'b@example.com', at('09:45:00'), { stepName: 'Wrap-up' })],
      // A page no session exists for yet: created, with its student (named) as participant.
      [ev('page-c', 'a@example.com', at('10:00:00'), { currentStep: true }, { name: 'Ada' }), ev('page-c', 'a@example.com', at('09:59:00'), { stepName: 'Earlier' }, { name: 'Ada' })],
      // Anonymous: filed under the student its page knows; a new page opens a session without one.
      [ev('page-a', null, at('10:02:00'), { currentStep: 5 }), ev('page-a', null, at('10:02:01'))],
      [ev('page-e', null, at('10:03:00'), { stepName: 'Start' }), ev('page-e', null, at('10:04:00'), { currentStep: 1 })],
      // A student's first batch on that page names its session and its earlier anonymous events.
      [ev('page-e', 'b@example.com', at('10:05:00')), ev('page-e', 'b@example.com', at('10:05:01'))],
      [ev('page-e', null, at('10:06:00')), ev('page-e', null, at('10:06:01'))],
    ];
    for (const events of batches) {
      expect(pageFits(events)).toBe(true);
      const before = { ...sent };
      const x = await insertEvents(page, events);
      const y = await insertUsual(usual, events, new StudentCache());
      expect(x).toEqual(y);
      expect(sent.page - before.page, JSON.stringify(events.map((e) => e.sessionToken))).toBe(1);
      expect(sent.other - before.other).toBe(0);
    }
    const [p, u] = await Promise.all([state(page), state(usual)]);
    expect(p).toEqual(u);
    // Not vacuous: the scenario did move what it set out to.
    const byId = new Map(p.sessions.map((s) => [s.id, s as Record<string, unknown>]));
    expect(byId.get('page-a')).toMatchObject({ event_count: 9, error_count: 1, current_step: '5', step_name: 'Loops' });
    expect(byId.get('page-b')).toMatchObject({ status: 'active', ended_at: null, event_count: 3, step_name: 'Wrap-up', current_step: 'quiz' });
    expect(byId.get('page-c')).toMatchObject({ student_id: 'a@example.com', event_count: 2, current_step: 'true', step_name: 'Earlier', workshop: true });
    expect(byId.get('page-c')?.participants).toEqual([expect.objectContaining({ id: 'a@example.com', role: 'student' })]);
    expect(byId.get('page-e')).toMatchObject({ student_id: 'b@example.com', event_count: 6, current_step: '1', step_name: 'Start' });
    const filed = (token: string) => p.events.filter((e) => e.session_token === token).map((e) => e.student_id);
    expect(filed('page-a')).toEqual(Array(9).fill('a@example.com'));
    expect(filed('page-e')).toEqual(Array(6).fill('b@example.com'));
    expect(p.events.filter((e) => e.session_token === 'page-c').map((e) => e.claimed_name)).toEqual(['Ada', 'Ada']);
  });

  it('refuses a whole batch into a session of another kind without its write token, and stores it with the token', async () => {
    await page.query(`INSERT INTO sessions (id, platform, kind, status, started_at, last_activity_at, workshop) VALUES ('sitting-1', 'tool', 'auto', 'active', now(), now(), false)`);
    for (const email of ['a@example.com', null]) {
      const batch = [ev('sitting-1', email, at('11:00:00')), ev('sitting-1', email, at('11:00:01'))];
      const before = await state(page);
      expect(await insertPage(page, batch, email)).toEqual({ fate: 'refused' });
      expect(await state(page)).toEqual(before);
      expect(await insertEvents(page, batch)).toEqual({ inserted: new Set(), refused: new Set(batch.map((e) => e.eventUuid)) });
    }
    const allowed = [ev('sitting-1', 'a@example.com', at('11:02:00'), {}, { writeAllowed: true }), ev('sitting-1', 'a@example.com', at('11:02:01'), {}, { writeAllowed: true })];
    expect(await insertPage(page, allowed, 'a@example.com')).toEqual({ fate: 'stored', inserted: new Set(allowed.map((e) => e.eventUuid)) });
    const [sitting] = await page.query<{ workshop: boolean; event_count: number }>(`SELECT workshop, event_count FROM sessions WHERE id = 'sitting-1'`);
    expect(sitting).toEqual({ workshop: false, event_count: 0 });
  });

  it('touches nothing when the cached student is stale; insertEvents then takes the full statement', async () => {
    const batch = [ev('page-d', 'b@example.com', at('12:00:00')), ev('page-d', 'b@example.com', at('12:00:01'))];
    const before = await state(page);
    // a@example.com is not the student of b@example.com's email.
    expect(await insertPage(page, batch, 'a@example.com')).toEqual({ fate: 'unverified' });
    expect(await state(page)).toEqual(before);
    // The same in production: the cache holds a stale id (the student was erased and its email
    // now belongs to a student stored again under another id).
    await page.query(`DELETE FROM students WHERE id = 'b@example.com'`);
    await page.query(`INSERT INTO students (id, email) VALUES ('b-new', 'b@example.com')`);
    const o = { ...sent };
    expect(await insertEvents(page, batch)).toEqual({ inserted: new Set(batch.map((e) => e.eventUuid)), refused: new Set() });
    expect(sent).toEqual({ page: o.page + 1, other: o.other + 1 });
    const rows = await page.query<{ student_id: string }>(`SELECT student_id FROM events WHERE session_token = 'page-d'`);
    expect(rows.map((r) => r.student_id)).toEqual(['b-new', 'b-new']);
  });

  it('is used only for two or more events of one page, student and write permission', () => {
    const t = at('13:00:00');
    expect(pageFits([ev('p', 'a@example.com', t), ev('p', 'a@example.com', t)])).toBe(true);
    expect(pageFits([ev('p', null, t), ev('p', null, t)])).toBe(true);
    expect(pageFits([ev('p', 'a@example.com', t)])).toBe(false);
    expect(pageFits([ev('p', 'a@example.com', t), ev('q', 'a@example.com', t)])).toBe(false);
    expect(pageFits([ev('p', 'a@example.com', t), ev('p', 'b@example.com', t)])).toBe(false);
    expect(pageFits([ev('p', 'a@example.com', t), ev('p', null, t)])).toBe(false);
    expect(pageFits([ev('p', 'a@example.com', t, {}, { name: 'Ada' }), ev('p', 'a@example.com', t)])).toBe(false);
    expect(pageFits([ev('p', 'a@example.com', t, {}, { writeAllowed: true }), ev('p', 'a@example.com', t)])).toBe(false);
    expect(pageFits([ev('p', null, t, {}, { studentId: 'emma' }), ev('p', null, t, {}, { studentId: 'emma' })])).toBe(false);
  });
});
