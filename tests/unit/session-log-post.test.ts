import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { BatchIngestResponse, EventListResponse, SingleIngestResponse } from '../../lib/schemas/event.js';
import type { Sql } from '../../lib/storage/sql.js';
import { admin, makeDeps, memoryPglite, uniqueToken } from '../helpers/deps.js';

let sql: Sql;
let app: ReturnType<typeof createApp>;
const now = new Date('2026-03-01T12:00:00.000Z');

beforeAll(async () => {
  sql = await memoryPglite();
  app = createApp(makeDeps({ sql, now: () => now }), allFamilies);
});
afterAll(() => sql.close());

const post = (body: unknown, contentType = 'application/json') =>
  app.request('/api/session-log', {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

async function eventsOf(token: string) {
  const res = await app.request(`/api/session-log?sessionToken=${token}&order=asc`, { headers: admin });
  expect(res.status).toBe(200);
  return EventListResponse.parse(await res.json()).events;
}

describe('POST /api/session-log — single events', () => {
  it('stores the exact shape existing pages send and answers with the documented body', async () => {
    const token = uniqueToken();
    const res = await post({ sessionToken: token, studentEmail: 'Student@Example.com', eventType: 'navigation', eventData: { from: 1, to: 2 } });
    expect(res.status).toBe(200);
    const body = SingleIngestResponse.parse(await res.json());
    expect(body).toMatchObject({ success: true, message: 'Event logged successfully' });
    const [stored, ...rest] = await eventsOf(token);
    expect(rest).toHaveLength(0);
    expect(stored).toMatchObject({
      event_id: body.eventId,
      session_token: token,
      event_type: 'navigation',
      event_data: { from: 1, to: 2 },
      student_email: 'student@example.com',
      created_at: now.toISOString(),
    });
  });

  it('accepts text/plain bodies as navigator.sendBeacon sends them', async () => {
    const token = uniqueToken();
    const res = await post({ sessionToken: token, eventType: 'action', eventData: { actionName: 'run' } }, 'text/plain;charset=UTF-8');
    expect(res.status).toBe(200);
    expect((await eventsOf(token)).map((e) => e.event_type)).toEqual(['action']);
  });

  it('keeps undocumented fields of known types and any object for custom types', async () => {
    const token = uniqueToken();
    const extra = { actionName: 'copy', currentStep: 3, stepName: 'Setup', demoMode: true, userAgent: 'UA', timestamp: 'x' };
    expect((await post({ sessionToken: token, eventType: 'action', eventData: extra })).status).toBe(200);
    expect((await post({ sessionToken: token, eventType: 'quiz_answer', eventData: { q: [1, { deep: null }] } })).status).toBe(200);
    const events = await eventsOf(token);
    expect(events.map((e) => e.event_data)).toEqual([extra, { q: [1, { deep: null }] }]);
  });

  it('is idempotent on eventId: the repeat is stored once and answers duplicate:true', async () => {
    const token = uniqueToken();
    const eventId = crypto.randomUUID();
    const event = { sessionToken: token, eventType: 'action', eventId, eventData: {} };
    const first = SingleIngestResponse.parse(await (await post(event)).json());
    const again = await post(event);
    expect(again.status).toBe(200);
    const second = SingleIngestResponse.parse(await again.json());
    expect(first).toMatchObject({ eventId, success: true });
    expect(first.duplicate).toBeUndefined();
    expect(second).toMatchObject({ eventId, success: true, duplicate: true });
    expect(await eventsOf(token)).toHaveLength(1);
  });

  it('corrects client clock skew from sentAt: stored = received − (sentAt − timestamp)', async () => {
    const token = uniqueToken();
    // The client clock runs one hour fast; the event happened 30 s before it was sent.
    const res = await post({
      sessionToken: token,
      eventType: 'action',
      timestamp: '2026-03-01T12:59:30.000Z',
      sentAt: '2026-03-01T13:00:00.000Z',
    });
    expect(res.status).toBe(200);
    const [e] = await eventsOf(token);
    expect(e?.created_at).toBe('2026-03-01T11:59:30.000Z');
  });

  it('epoch milliseconds with a fraction (performance.timeOrigin + performance.now()) are a time, kept to the millisecond', async () => {
    const token = uniqueToken();
    const t = Date.parse('2026-03-01T11:59:00.000Z');
    const res = await post({ sessionToken: token, eventType: 'action', timestamp: t + 0.736, sentAt: t + 30_000.25 });
    expect(res.status).toBe(200);
    const [e] = await eventsOf(token);
    expect(e?.created_at).toBe('2026-03-01T11:59:30.000Z');
    // Seconds, not milliseconds (Date.now() / 1000): a 400 that says which range.
    const secs = await post({ sessionToken: token, eventType: 'action', timestamp: t / 1000 + 0.5 });
    expect(secs.status).toBe(400);
    expect(((await secs.json()) as { detail: string }).detail).toContain('timestamp: must be a time between 2000 and 2100');
  });

  it('never stores a client time in the future', async () => {
    const token = uniqueToken();
    await post({ sessionToken: token, eventType: 'action', timestamp: '2030-01-01T00:00:00Z' });
    const [e] = await eventsOf(token);
    expect(e?.created_at).toBe(now.toISOString());
  });

  it('stores SQL-looking and unicode strings verbatim', async () => {
    const token = uniqueToken();
    const nasty = {
      errorType: "'; DROP TABLE events; --",
      errorMessage: 'Robert"); DELETE FROM students;-- ünïcödé 漢字 🎓 \u202e rtl',
    };
    expect((await post({ sessionToken: token, eventType: 'error', studentName: 'Zoë 🎓', studentEmail: 'zoe@example.com', eventData: nasty })).status).toBe(200);
    const [e] = await eventsOf(token);
    expect(e?.event_data).toEqual(nasty);
    expect(e?.student_name).toBe('Zoë 🎓');
  });
});

describe('POST /api/session-log — batches', () => {
  it('stores every event of a valid batch and counts duplicates', async () => {
    const token = uniqueToken();
    const ids = Array.from({ length: 3 }, () => crypto.randomUUID());
    const events = ids.map((eventId, i) => ({ sessionToken: token, eventType: 'navigation', eventId, eventData: { from: i, to: i + 1 } }));
    const res = await post({ events });
    expect(res.status).toBe(200);
    expect(BatchIngestResponse.parse(await res.json())).toEqual({ success: true, accepted: 3, duplicates: 0 });
    const again = BatchIngestResponse.parse(await (await post({ events: [...events, events[0]] })).json());
    expect(again).toEqual({ success: true, accepted: 0, duplicates: 4 });
    expect((await eventsOf(token)).map((e) => e.event_id)).toEqual(ids);
  });

  it('answers 207 naming the rejected indexes and stores the valid ones', async () => {
    const token = uniqueToken();
    const res = await post({
      events: [
        { sessionToken: token, eventType: 'action' },
        { sessionToken: token, eventType: 'Bad Type' },
        { sessionToken: token, eventType: 'navigation', eventData: { from: 'one' } },
        'not an object',
        { sessionToken: token, eventType: 'error', eventData: { errorMessage: 'boom' } },
      ],
    });
    expect(res.status).toBe(207);
    const body = BatchIngestResponse.parse(await res.json());
    expect(body.accepted).toBe(2);
    expect(body.rejected?.map((r) => r.index)).toEqual([1, 2, 3]);
    expect(body.rejected?.[0]?.error).toContain('events[1].eventType');
    expect(body.rejected?.[1]?.error).toContain('events[2].eventData.from');
    expect((await eventsOf(token)).map((e) => e.event_type)).toEqual(['action', 'error']);
  });

  it('applies batch-level defaults and the batch sentAt to every event', async () => {
    const token = uniqueToken();
    const res = await post({
      sessionToken: token,
      studentEmail: 'batch@example.com',
      sentAt: '2026-03-01T10:00:10.000Z',
      events: [{ eventType: 'action', timestamp: '2026-03-01T10:00:00.000Z' }, { eventType: 'action' }],
    });
    expect(res.status).toBe(200);
    const events = await eventsOf(token);
    expect(events.map((e) => e.student_email)).toEqual(['batch@example.com', 'batch@example.com']);
    expect(events[0]?.created_at).toBe('2026-03-01T11:59:50.000Z');
  });

  it('refuses more than 500 events and an empty batch', async () => {
    const token = uniqueToken();
    const many = Array.from({ length: 501 }, () => ({ sessionToken: token, eventType: 'action' }));
    const tooMany = await post({ events: many });
    expect(tooMany.status).toBe(400);
    expect(tooMany.headers.get('content-type')).toContain('application/problem+json');
    expect(((await tooMany.json()) as { detail: string }).detail).toContain('at most 500');
    expect((await post({ events: [] })).status).toBe(400);
    expect(await eventsOf(token)).toHaveLength(0);
  });

  it('stores a full 500-event batch in one request', async () => {
    const token = uniqueToken();
    const events = Array.from({ length: 500 }, (_, i) => ({ sessionToken: token, eventType: 'state_change', eventData: { stateName: 's', newValue: i } }));
    const res = await post({ events });
    expect(BatchIngestResponse.parse(await res.json()).accepted).toBe(500);
    const page = await app.request(`/api/session-log?sessionToken=${token}&limit=1000`, { headers: admin });
    expect(EventListResponse.parse(await page.json()).count).toBe(500);
  });
});
