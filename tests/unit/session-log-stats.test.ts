/** The troubleshooting aggregates and the live-tail sequence, on their own database (exact counts). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import type { Sql } from '../../lib/storage/sql.js';
import { admin, makeDeps, memoryPglite, uniqueToken } from '../helpers/deps.js';
import { LogStatsResponse as Stats, Timeline } from '../../lib/schemas/responses.js';

let sql: Sql;
let now = new Date('2026-07-01T12:00:00Z');
let app: ReturnType<typeof createApp>;
beforeAll(async () => {
  sql = await memoryPglite();
  app = createApp(makeDeps({ sql, now: () => now }), allFamilies);
});
afterAll(() => sql.close());

const post = (body: unknown) => app.request('/api/session-log', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

describe('GET /api/session-log/stats', () => {
  it('counts by type, ranks error types and lists who hit errors in the window (default: the last hour)', async () => {
    const [a, b, anon] = [uniqueToken(), uniqueToken(), uniqueToken()];
    const err = (token: string, errorType: string, minutesAgo: number, extra: object = {}) => ({
      sessionToken: token,
      eventType: 'error',
      eventData: { errorType, errorMessage: `${errorType} at step` },
      timestamp: new Date(now.getTime() - minutesAgo * 60_000).toISOString(),
      ...extra,
    });
    expect((await post({ events: [
      err(a, 'TypeError', 10, { studentEmail: 'ada@example.com', studentName: 'Ada' }),
      err(a, 'TypeError', 5, { studentEmail: 'ada@example.com' }),
      err(b, 'NetworkError', 20, { studentEmail: 'bob@example.com' }),
      err(b, 'TypeError', 30, { studentEmail: 'bob@example.com' }),
      err(anon, 'NetworkError', 1),
      err(a, 'OldError', 90, { studentEmail: 'ada@example.com' }), // outside the last hour
      { sessionToken: a, eventType: 'navigation', eventData: { from: 1, to: 2 }, studentEmail: 'ada@example.com' },
    ] })).status).toBe(200);
    const res = await app.request('/api/session-log/stats', { headers: admin });
    const s = Stats.parse(await res.json());
    expect(s.total).toBe(6);
    expect(s.by_type).toEqual({ error: 5, navigation: 1 });
    expect(s.top_errors.map((e) => [e.error_type, e.count, e.students])).toEqual([
      ['TypeError', 3, 2],
      ['NetworkError', 2, 2],
    ]);
    expect(s.students_with_errors.map((x) => [x.student_email ?? x.session_token, x.errors])).toEqual([
      [anon, 1],
      ['ada@example.com', 2],
      ['bob@example.com', 2],
    ]);
    expect(s.students_with_errors[1]).toMatchObject({ student_name: 'Ada', session_token: a, last_error: 'TypeError at step' });
    const wide = Stats.parse(await (await app.request(`/api/session-log/stats?since=${new Date(now.getTime() - 2 * 3_600_000).toISOString()}`, { headers: admin })).json());
    expect(wide.top_errors.map((e) => e.error_type)).toContain('OldError');
    expect((await app.request('/api/session-log/stats')).status).toBe(401);
    expect((await app.request('/api/session-log/stats?since=yesterday', { headers: admin })).status).toBe(400);
  });
  it('lists by_type most frequent first (ties by name), as the README shows it', async () => {
    // A day of its own, three days back, so the other tests' events are not in the window. Names
    // in alphabetical order are not the counts' order: a GROUP BY gives either order, or any.
    const token = uniqueToken();
    const day = new Date(now.getTime() - 3 * 86_400_000);
    const at = (minutes: number) => new Date(day.getTime() + minutes * 60_000).toISOString();
    const ev = (eventType: string, minutes: number) => ({ sessionToken: token, eventType, eventData: {}, timestamp: at(minutes) });
    expect((await post({ events: [
      ev('action', 1), ev('zeta_step', 2), ev('zeta_step', 3), ev('error', 4), ev('error', 5), ev('error', 6),
      ev('api_call', 7), ev('navigation', 8), ev('navigation', 9), ev('beta_quiz', 10),
    ] })).status).toBe(200);
    const res = await app.request(`/api/session-log/stats?since=${at(0)}&until=${at(60)}`, { headers: admin });
    const s = Stats.parse(await res.json());
    expect(Object.entries(s.by_type)).toEqual([['error', 3], ['navigation', 2], ['zeta_step', 2], ['action', 1], ['api_call', 1], ['beta_quiz', 1]]);
  });
});

describe('live tail by arrival order', () => {
  it('returns events that arrived after last_seq, including ones whose event time is in the past', async () => {
    const token = uniqueToken();
    await post({ sessionToken: token, eventType: 'action' });
    const first = Timeline.parse(await (await app.request(`/api/sessions/${token}/events`, { headers: admin })).json());
    expect(first.count).toBe(1);
    now = new Date(now.getTime() + 60_000);
    // A late event whose (corrected) time is before the first one, and a current one.
    await post({ sessionToken: token, eventType: 'error', eventData: { errorType: 'Late' }, timestamp: new Date(now.getTime() - 3_600_000).toISOString() });
    await post({ sessionToken: token, eventType: 'action' });
    const tail = Timeline.parse(await (await app.request(`/api/sessions/${token}/events?after_seq=${first.last_seq}`, { headers: admin })).json());
    expect(tail.events.map((e) => e.event_type)).toEqual(['error', 'action']);
    const none = Timeline.parse(await (await app.request(`/api/sessions/${token}/events?after_seq=${tail.last_seq}`, { headers: admin })).json());
    expect(none).toMatchObject({ count: 0, last_seq: tail.last_seq });
    expect((await app.request(`/api/sessions/${token}/events?after_seq=abc`, { headers: admin })).status).toBe(400);
  });
});
