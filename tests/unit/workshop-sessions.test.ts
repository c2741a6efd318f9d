/**
 * Workshop sessions are sessions: a token that posts to /api/session-log is a `web` session in the
 * lists, the active view and the session document, kept current by the ingest statement. Also the
 * session search (`q`) and the audit order fix.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type * as z from 'zod/mini';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { BatchIngestResponse, EventListResponse } from '../../lib/schemas/event.js';
import { ActiveSessions, SessionPage, SweepResponse, Timeline } from '../../lib/schemas/responses.js';
import { SessionDocument } from '../../lib/schemas/session.js';
import { admin, makeDeps, memoryPglite, tapSql, testConfig, uniqueToken } from '../helpers/deps.js';
import { expectProblem } from '../helpers/problem.js';
import { ALERT_SQL_TAG } from '../../lib/alerts/evaluate.js';

const service = { authorization: 'Bearer svc-token-123' };
const cron = { authorization: 'Bearer cron-secret-123' };
const MINUTE = 60_000;
const config = testConfig({ SERVICE_TOKEN: 'svc-token-123', CRON_SECRET: 'cron-secret-123' });

/** An app over its own PGlite and its own clock. */
async function world(start: string) {
  const w = { sql: await memoryPglite(), now: new Date(start), app: undefined as unknown as ReturnType<typeof createApp> };
  const deps = makeDeps({ sql: w.sql, config, now: () => w.now });
  w.app = createApp(deps, allFamilies);
  const tick = (ms: number) => {
    w.now = new Date(w.now.getTime() + ms);
  };
  const send = (method: string, path: string, body: unknown, headers: Record<string, string> = service) =>
    w.app.request(path, { method, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  /** Post a batch as a workshop page does (no auth); returns the ingest answer. */
  const post = async (body: Record<string, unknown>) => {
    const res = await send('POST', '/api/session-log', body, {});
    expect(res.status).toBe(200);
    return BatchIngestResponse.parse(await res.json());
  };
  const get = async <S extends z.ZodMiniType>(path: string, schema: S): Promise<z.infer<S>> => {
    const res = await w.app.request(path, { headers: admin });
    expect(res.status, path).toBe(200);
    return schema.parse(await res.json());
  };
  const session = (id: string) => get(`/api/sessions/${id}`, SessionDocument);
  const search = async (q: string) => (await get(`/api/sessions?q=${encodeURIComponent(q)}&limit=500`, SessionPage)).sessions.map((s) => s.session_id);
  const active = async () => (await get('/api/sessions/active', ActiveSessions)).sessions;
  return Object.assign(w, { deps, tick, send, post, get, session, search, active });
}

let w: Awaited<ReturnType<typeof world>>;
beforeAll(async () => {
  w = await world('2026-05-04T09:00:00.000Z');
});
afterAll(() => w.sql.close());
// The PGlite is shared: an hour between tests leaves every earlier session idle (over).
beforeEach(() => w.tick(60 * MINUTE));

const at = (offsetMs: number) => new Date(w.now.getTime() + offsetMs).toISOString();
const email = () => `${uniqueToken('stu')}@example.com`;

describe('a token that posts events is a web session', () => {
  it('appears in the list, Active now, the document and the timeline with student, step and counts', async () => {
    const token = uniqueToken();
    const studentEmail = email();
    await w.post({
      sessionToken: token,
      studentEmail,
      studentName: 'Priya Raman',
      events: [
        { eventType: 'navigation', eventData: { from: 1, to: 2, currentStep: 2, stepName: 'Set up keys' }, timestamp: at(-30_000) },
        { eventType: 'error', eventData: { errorType: 'AuthError', errorMessage: '401', currentStep: 2 }, timestamp: at(-20_000) },
        { eventType: 'action', eventData: { actionName: 'retry' }, timestamp: at(-10_000) },
      ],
    });
    const expected = {
      session_id: token,
      platform: 'web',
      kind: 'auto',
      status: 'active',
      student_id: studentEmail,
      student_email: studentEmail,
      student_name: 'Priya Raman',
      current_step: '2',
      step_name: 'Set up keys',
      event_count: 3,
      error_count: 1,
      start_time: at(-30_000),
      last_activity: at(-10_000),
      end_time: null,
    };
    const listed = (await w.get(`/api/sessions?platform=web&limit=500`, SessionPage)).sessions.find((s) => s.session_id === token);
    expect(listed).toMatchObject(expected);
    expect((await w.active()).find((s) => s.session_id === token)).toMatchObject(expected);
    const doc = await w.session(token);
    expect(doc).toMatchObject(expected);
    expect(doc.participants).toEqual([{ id: studentEmail, role: 'student', joined_at: at(-30_000) }]);
    const timeline = await w.get(`/api/sessions/${token}/events`, Timeline);
    // The token's own events, nothing added: the event log holds what the page posted.
    expect(timeline.events.map((e) => [e.event_type, e.created_at])).toEqual([
      ['navigation', at(-30_000)],
      ['error', at(-20_000)],
      ['action', at(-10_000)],
    ]);
    expect(timeline.events.every((e) => e.student_email === studentEmail)).toBe(true);
  });

  it('takes the step from the latest event by event time, not by arrival; counts every posted event', async () => {
    const token = uniqueToken();
    // One batch out of order: the step of the latest event wins, whatever its place in the batch.
    await w.post({
      sessionToken: token,
      events: [
        { eventType: 'navigation', eventData: { currentStep: 'deploy', stepName: 'Deploy' }, timestamp: at(-1_000) },
        { eventType: 'navigation', eventData: { currentStep: 'build', stepName: 'Build' }, timestamp: at(-5_000) },
      ],
    });
    expect(await w.session(token)).toMatchObject({ current_step: 'deploy', step_name: 'Deploy', event_count: 2 });
    // A late batch (an offline queue) of older events does not move the student back...
    await w.post({ sessionToken: token, events: [{ eventType: 'navigation', eventData: { currentStep: 1, stepName: 'Intro' }, timestamp: at(-60_000) }] });
    expect(await w.session(token)).toMatchObject({ current_step: 'deploy', step_name: 'Deploy', event_count: 3, last_activity: at(-1_000), start_time: at(-60_000) });
    // ...a newer one does; an event carrying only stepName changes only step_name; null carries nothing.
    w.tick(1_000);
    await w.post({ sessionToken: token, events: [{ eventType: 'navigation', eventData: { currentStep: 4 } }] });
    w.tick(1_000);
    await w.post({ sessionToken: token, events: [{ eventType: 'state_change', eventData: { stepName: 'Wrap up', currentStep: null } }] });
    expect(await w.session(token)).toMatchObject({ current_step: '4', step_name: 'Wrap up', event_count: 5, last_activity: w.now.toISOString() });
  });

  it('does not count events skipped as duplicates', async () => {
    const token = uniqueToken();
    const eventId = crypto.randomUUID();
    const one = { sessionToken: token, eventType: 'error', eventId, eventData: { errorType: 'E', currentStep: 1 } };
    expect(await w.post({ events: [one] })).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(await w.post({ events: [one, { ...one, eventId: crypto.randomUUID(), eventType: 'action', eventData: { currentStep: 2 } }] })).toMatchObject({
      accepted: 1,
      duplicates: 1,
    });
    const single = await w.send('POST', '/api/session-log', one, {});
    expect(await single.json()).toMatchObject({ duplicate: true });
    expect(await w.session(token)).toMatchObject({ event_count: 2, error_count: 1, current_step: '2' });
    // The counters ingest keeps on the row (what the page posted) skipped the repeats too.
    expect(await w.sql.query('SELECT event_count, error_count FROM sessions WHERE id = $1', [token])).toEqual([{ event_count: 2, error_count: 1 }]);
  });
});

describe('ingest stays one SQL round trip', () => {
  it('a new token, a known token without email, and a duplicate each cost exactly one statement', async () => {
    const statements: string[] = [];
    const counting = tapSql(w.sql, (text) => statements.push(text));
    const app = createApp(makeDeps({ sql: counting, config, now: () => w.now }), allFamilies);
    const token = uniqueToken();
    const eventId = crypto.randomUUID();
    const bodies = [
      { sessionToken: token, studentEmail: email(), events: [{ eventType: 'navigation', eventData: { currentStep: 1 } }, { eventType: 'error' }] },
      { sessionToken: token, eventType: 'action', eventId },
      { sessionToken: token, eventType: 'action', eventId },
    ];
    for (const body of bodies) {
      statements.length = 0;
      const res = await app.request('/api/session-log', { method: 'POST', body: JSON.stringify(body) });
      expect(res.status).toBe(200);
      // The alert rules run after the response with statements of their own, tagged (lib/alerts).
      expect(statements.filter((t) => !t.startsWith(ALERT_SQL_TAG))).toHaveLength(1);
    }
    // ...and that one statement kept the session current.
    expect(await w.session(token)).toMatchObject({ platform: 'web', event_count: 3, error_count: 1, current_step: '1' });
  });
});

describe('students of workshop sessions', () => {
  it('attributes events posted without an email to the token student, so the export is complete', async () => {
    const token = uniqueToken();
    const studentEmail = email();
    await w.post({ sessionToken: token, studentEmail, events: [{ eventType: 'action', eventData: { actionName: 'start' } }] });
    w.tick(1_000);
    await w.post({ sessionToken: token, events: [{ eventType: 'error', eventData: { errorType: 'E' } }, { eventType: 'action' }] });
    const exported = await w.get(`/api/session-log?studentEmail=${encodeURIComponent(studentEmail)}&limit=100`, EventListResponse);
    expect(exported.events.map((e) => e.event_type).sort()).toEqual(['action', 'action', 'error']);
    expect(await w.session(token)).toMatchObject({ student_id: studentEmail, event_count: 3, error_count: 1 });
  });

  it('when a batch first names the student of an anonymous session, its earlier events become theirs', async () => {
    const token = uniqueToken();
    const studentEmail = email();
    await w.post({ sessionToken: token, events: [{ eventType: 'navigation', eventData: { currentStep: 1 } }, { eventType: 'action' }] });
    expect(await w.session(token)).toMatchObject({ student_id: null, participants: [], event_count: 2 });
    w.tick(1_000);
    // In one batch: one event with the email, one without (attributed through the batch).
    await w.post({ sessionToken: token, events: [{ eventType: 'action', studentEmail }, { eventType: 'action' }] });
    const exported = await w.get(`/api/session-log?studentEmail=${encodeURIComponent(studentEmail)}&limit=100`, EventListResponse);
    expect(exported.events.map((e) => e.event_type).sort()).toEqual(['action', 'action', 'action', 'navigation']);
    expect(await w.session(token)).toMatchObject({ student_id: studentEmail, student_email: studentEmail, event_count: 4 });
  });

  it('a token equal to another kind of session id never converts that session', async () => {
    const id = uniqueToken('explicit');
    const created = await w.send('POST', '/api/sessions', { participant: uniqueToken('p'), session_id: id, platform: 'superinterface', max_participants: 1 });
    expect(created.status).toBe(201);
    // A page may post into it only with its write token (tests/unit/write-token.test.ts).
    const { write_token: writeToken } = (await created.json()) as { write_token: string };
    await w.post({ sessionToken: id, writeToken, studentEmail: email(), events: [{ eventType: 'error', eventData: { currentStep: 3 } }] });
    const doc = await w.session(id);
    // Still the explicit session; its events are counted on read (its own two and the error).
    expect(doc).toMatchObject({ platform: 'superinterface', kind: 'explicit', current_step: null, student_id: null, event_count: 3, error_count: 1 });
    const timeline = await w.get(`/api/sessions/${id}/events`, Timeline);
    expect(timeline.events.map((e) => e.event_type)).toEqual(['session_started', 'participant_joined', 'error']);
  });
});

describe('workshop sessions end by the inactivity timeout', () => {
  it('reads as completed past the timeout, is swept like any session, and reopens when the token posts again', async () => {
    const token = uniqueToken();
    await w.post({ sessionToken: token, events: [{ eventType: 'action', eventData: { currentStep: 1 } }] });
    const started = w.now.toISOString();
    expect((await w.active()).map((s) => s.session_id)).toContain(token);

    w.tick(11 * MINUTE); // default timeout: 10 minutes
    expect((await w.active()).map((s) => s.session_id)).not.toContain(token);
    expect(await w.session(token)).toMatchObject({ status: 'completed', end_time: started, end_reason: 'timeout' });
    const completed = await w.get('/api/sessions?platform=web&status=completed&limit=500', SessionPage);
    expect(completed.sessions.map((s) => s.session_id)).toContain(token);

    const swept = SweepResponse.parse(await (await w.app.request('/api/cron/sweep', { method: 'POST', headers: cron })).json());
    expect(swept.ended_ids).toContain(token);
    // event_count is the timeline's: the page's event and the sweep's session_ended.
    expect(await w.session(token)).toMatchObject({ status: 'completed', end_time: started, end_reason: 'timeout', event_count: 2 });

    // Reopen: id = token, so the same session continues; an event older than the end does not reopen it.
    await w.post({ sessionToken: token, events: [{ eventType: 'action', timestamp: new Date(Date.parse(started) - 1000).toISOString() }] });
    expect(await w.session(token)).toMatchObject({ status: 'completed', end_time: started, event_count: 3 });
    await w.post({ sessionToken: token, events: [{ eventType: 'navigation', eventData: { currentStep: 2 } }] });
    expect(await w.session(token)).toMatchObject({ status: 'active', end_time: null, end_reason: null, current_step: '2', event_count: 4 });
    expect((await w.active()).map((s) => s.session_id)).toContain(token);
    const timeline = await w.get(`/api/sessions/${token}/events`, Timeline);
    expect(timeline.events.map((e) => e.event_type)).toEqual(['action', 'action', 'session_ended', 'navigation']);
  });
});

describe('GET /api/sessions?q= — find anyone by any part', () => {
  it('matches a case-insensitive part of the student email, name, id or the token', async () => {
    const tag = crypto.randomUUID().replaceAll('-', '').slice(0, 10);
    const priya = `${tag}.priya@Example.com`;
    const tokenA = `ws_${tag}_aaa`;
    const tokenB = `ws_zz${tag}_bbb`;
    await w.post({ sessionToken: tokenA, studentEmail: priya, studentName: `Priya ${tag}Raman`, events: [{ eventType: 'action' }] });
    await w.post({ sessionToken: tokenB, studentEmail: `${tag}.omar@example.com`, studentName: 'Omar Haddad', events: [{ eventType: 'action' }] });
    // A tutoring session found by its student id.
    const interaction = await w.send('POST', '/api/sessions/interactions', { student_id: `tutee_${tag}`, function: 'f' });
    const tutoring = ((await interaction.json()) as { session_id: string }).session_id;

    expect(await w.search(`${tag}RAMAN`)).toEqual([tokenA]); // part of the name, any case
    expect(await w.search(`${tag}.PRI`)).toEqual([tokenA]); // part of the email
    expect(await w.search('haddad')).toContain(tokenB);
    expect(await w.search(`zz${tag}_b`)).toEqual([tokenB]); // part of the token
    expect(await w.search(`TUTEE_${tag}`)).toEqual([tutoring]); // part of the student id
    expect((await w.search(tag)).sort()).toEqual([tokenA, tokenB, tutoring].sort());
    // LIKE wildcards are literal: "_" matches an underscore only, "%" nothing here.
    expect(await w.search(`${tag}%aaa`)).toEqual([]);
    expect(await w.search(`${tag}_aaa`)).toEqual([tokenA]);
    // Blank is no filter; combined with other filters it narrows them.
    expect(await w.search(`   ${tag}.omar  `)).toEqual([tokenB]);
    expect((await w.get(`/api/sessions?q=${tag}&platform=web`, SessionPage)).sessions.map((s) => s.session_id).sort()).toEqual([tokenA, tokenB].sort());
    expect((await w.get('/api/sessions?q=', SessionPage)).count).toBeGreaterThan(0);
  });

  it('refuses a q longer than 200 characters with a 400 naming it', async () => {
    const res = await w.app.request(`/api/sessions?q=${'a'.repeat(201)}`, { headers: admin });
    const body = await expectProblem(res, 400);
    expect(body.errors?.[0]?.path).toBe('q');
  });
});

describe('GET /api/audit', () => {
  it('lists entries newest first by number, not as text (36 before 9)', async () => {
    for (let i = 0; i < 12; i++) await w.app.request('/api/stats', { headers: admin });
    await w.deps.settle();
    const res = await w.app.request('/api/audit?limit=500', { headers: admin });
    expect(res.status).toBe(200);
    const ids = ((await res.json()) as { entries: Array<{ id: string }> }).entries.map((e) => Number(e.id));
    expect(ids.length).toBeGreaterThanOrEqual(12);
    expect(Math.max(...ids)).toBeGreaterThanOrEqual(10); // ids of one and two digits, where text order differs
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    // Paging with `before` continues below the last id of the page.
    const page = (await (await w.app.request('/api/audit?limit=3', { headers: admin })).json()) as { entries: Array<{ id: string }>; next_before: string };
    const next = (await (await w.app.request(`/api/audit?limit=3&before=${page.next_before}`, { headers: admin })).json()) as { entries: Array<{ id: string }> };
    expect(Number(next.entries[0]?.id)).toBeLessThan(Number(page.next_before));
  });
});
