/**
 * Session write tokens (ADR 0028): the public /api/session-log adds events to a session a page did
 * not open itself — a tutoring sitting, an explicit session, a voice call — only with that session's
 * `writeToken`. Before, anyone who knew or guessed an id like `leo_park_20261101_1600` could post
 * `attempt`s into it and change the student's accuracy. Workshop tokens need nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { BatchIngestResponse, SingleIngestResponse } from '../../lib/schemas/event.js';
import { InteractionResponse, Timeline } from '../../lib/schemas/responses.js';
import { CreatedSession, WriteTokenResponse } from '../../lib/schemas/session-responses.js';
import { SessionStats } from '../../lib/schemas/session.js';
import type { Sql } from '../../lib/storage/sql.js';
import { admin, makeDeps, memoryPglite, testConfig, uniqueToken } from '../helpers/deps.js';
import { expectProblem } from '../helpers/problem.js';

const service = { authorization: 'Bearer svc-write-token-test-0123456789' };
let sql: Sql;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  sql = await memoryPglite();
  app = createApp(makeDeps({ sql, config: testConfig({ SERVICE_TOKEN: service.authorization.slice(7) }) }), allFamilies);
});
afterAll(() => sql.close());

const send = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  app.request(path, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
const ingest = (body: unknown) => send('/api/session-log', body);

/** A practice sitting opened by the tool server: its id and the write token it was handed. */
async function sitting() {
  const res = await send('/api/sessions/interactions', { student_id: uniqueToken('leo'), function: 'start_quiz', subject: 'Math' }, service);
  expect(res.status).toBe(200);
  const body = InteractionResponse.parse(await res.json());
  expect(body.write_token).toMatch(/^wt1\.[A-Za-z0-9_-]{43}$/);
  return { id: body.session_id, writeToken: body.write_token! };
}
async function timeline(id: string) {
  const res = await app.request(`/api/sessions/${id}/events?limit=500`, { headers: admin });
  expect(res.status).toBe(200);
  return Timeline.parse(await res.json()).events.map((e) => e.event_type);
}
async function attempts(id: string) {
  const res = await app.request(`/api/sessions/${id}/summary`, { headers: admin });
  expect(res.status).toBe(200);
  return SessionStats.parse(await res.json()).attempts;
}
const attempt = (sessionToken: string, extra: Record<string, unknown> = {}) => ({ sessionToken, eventType: 'attempt', eventData: { correct: true }, ...extra });

describe('a session the page did not open takes events only with its write token', () => {
  it('without a token: 403 naming sessionToken, and nothing is stored', async () => {
    const { id } = await sitting();
    const before = await timeline(id);
    const body = await expectProblem(await ingest(attempt(id)), 403);
    expect(body.errors).toEqual([{ path: 'sessionToken', message: expect.stringContaining('writeToken') }]);
    expect(await timeline(id)).toEqual(before);
    expect(await attempts(id)).toBe(0);
  });

  it('with the token the tool server was handed, the attempt counts in the sitting (which stays a tool-call sitting)', async () => {
    const { id, writeToken } = await sitting();
    const res = await ingest(attempt(id, { writeToken }));
    expect(res.status).toBe(200);
    expect(SingleIngestResponse.parse(await res.json())).toMatchObject({ success: true });
    expect(await attempts(id)).toBe(1);
    const doc = await app.request(`/api/sessions/${id}`, { headers: admin });
    expect(await doc.json()).toMatchObject({ session_id: id, platform: 'mcp', kind: 'auto' });
  });

  it("another session's token, a forged token and a second spelling of the right one are refused (403 naming writeToken)", async () => {
    const { id, writeToken } = await sitting();
    const other = await sitting();
    // The MAC is 32 bytes in 43 characters: the last character's two low bits are padding, so a
    // sibling character decodes to the same bytes. Only the canonical spelling is the token.
    const last = writeToken.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
    for (const bad of [other.writeToken, `wt1.${'A'.repeat(43)}`, writeToken.slice(0, -1) + sibling]) {
      const body = await expectProblem(await ingest(attempt(id, { writeToken: bad })), 403);
      expect(body.errors).toEqual([{ path: 'writeToken', message: expect.any(String) }]);
    }
    expect(await attempts(id)).toBe(0);
    expect(await ingest(attempt(id, { writeToken }))).toMatchObject({ status: 200 });
  });

  it('a token that is not a write token at all is a 400 naming writeToken', async () => {
    const { id } = await sitting();
    for (const bad of ['secret', 42, `wt1.${'A'.repeat(42)}`]) {
      const body = await expectProblem(await ingest(attempt(id, { writeToken: bad })), 400);
      expect(JSON.stringify(body.errors)).toContain('writeToken');
    }
  });

  it('an explicit session hands out its token on creation; a voice call or any session gets it from POST /api/sessions/{id}/write-token', async () => {
    const created = await send('/api/sessions', { participant: uniqueToken('tutor'), student_id: uniqueToken('stu'), max_participants: 1 }, service);
    expect(created.status).toBe(201);
    const doc = CreatedSession.parse(await created.json());
    const issued = await send(`/api/sessions/${doc.session_id}/write-token`, {}, service);
    expect(issued.status).toBe(200);
    expect(issued.headers.get('cache-control')).toBe('no-store');
    // The same token every time for one session.
    expect(WriteTokenResponse.parse(await issued.json())).toEqual({ session_id: doc.session_id, write_token: doc.write_token });
    expect((await ingest(attempt(doc.session_id, { writeToken: doc.write_token }))).status).toBe(200);
    expect(await attempts(doc.session_id)).toBe(1);
  });

  it('the token route: 401 without a credential, 404 for a session nobody opened', async () => {
    const { id } = await sitting();
    await expectProblem(await send(`/api/sessions/${id}/write-token`, {}), 401);
    await expectProblem(await send(`/api/sessions/${uniqueToken('nobody')}/write-token`, {}, service), 404);
  });
});

describe('batches', () => {
  it("a batch-level writeToken is every event's, like the batch's other fields: events of other sessions are refused by index, the rest stored (207)", async () => {
    const { id, writeToken } = await sitting();
    const other = await sitting();
    const page = uniqueToken('ws');
    const res = await ingest({
      writeToken,
      events: [attempt(id), attempt(other.id), { sessionToken: page, eventType: 'action' }, attempt(other.id, { writeToken: other.writeToken })],
    });
    expect(res.status).toBe(207);
    const body = BatchIngestResponse.parse(await res.json());
    // events[1] and events[2] name other sessions under the batch's token, which is not theirs (a
    // workshop page too: a token sent is checked, whatever the session); events[3] brings its own.
    expect(body).toMatchObject({
      accepted: 2,
      duplicates: 0,
      rejected: [
        { index: 1, error: 'events[1].writeToken: is not the write token of this sessionToken' },
        { index: 2, error: 'events[2].writeToken: is not the write token of this sessionToken' },
      ],
    });
    expect(await attempts(id)).toBe(1);
    expect(await attempts(other.id)).toBe(1);
    expect((await app.request(`/api/sessions/${page}`, { headers: admin })).status).toBe(404); // nothing of it stored
  });

  it('events without any token into a sitting are rejected by index next to stored workshop events; all refused is a 403', async () => {
    const { id } = await sitting();
    const page = uniqueToken('ws');
    const res = await ingest({ events: [{ sessionToken: page, eventType: 'action' }, attempt(id), attempt(id)] });
    expect(res.status).toBe(207);
    const body = BatchIngestResponse.parse(await res.json());
    expect(body.accepted).toBe(1);
    expect(body.rejected?.map((r) => r.index)).toEqual([1, 2]);
    expect(body.rejected?.[0]?.error).toContain('events[1].sessionToken');
    expect(await attempts(id)).toBe(0);

    const all = await expectProblem(await ingest({ sessionToken: id, events: [attempt(id), attempt(id)] }), 403);
    expect(all.errors).toEqual([{ path: 'sessionToken', message: expect.stringContaining('writeToken') }]);
    // Refused and invalid together, nothing stored: a 403 listing both, not a 207 "success".
    const mixed = await expectProblem(await ingest({ events: [attempt(id), { sessionToken: id, eventType: 'Bad Type' }] }), 403);
    expect(mixed.errors?.map((e) => e.path)).toEqual(['events[1].eventType', 'events[0].sessionToken']);
    expect(await attempts(id)).toBe(0);
  });

  it('an eventId repeated in a batch shares its first event\'s fate: all refused is still a 403, and a stored event is never reported refused', async () => {
    const { id } = await sitting();
    const uuid = crypto.randomUUID();
    // The same refused event twice (a retry inside the batch): nothing stored, so no 207 "success".
    const twice = await expectProblem(await ingest({ sessionToken: id, events: [attempt(id, { eventId: uuid }), attempt(id, { eventId: uuid.toUpperCase() })] }), 403);
    expect(twice.errors).toEqual([{ path: 'sessionToken', message: expect.stringContaining('writeToken') }]);
    expect(await attempts(id)).toBe(0);

    // One id for a workshop page's event and for an event into the sitting: the first is stored and
    // reported as stored; the second is rejected by itself, for repeating the id elsewhere.
    const page = uniqueToken('ws');
    const other = crypto.randomUUID();
    const res = await ingest({ events: [{ sessionToken: page, eventType: 'action', eventId: other }, attempt(id, { eventId: other })] });
    expect(res.status).toBe(207);
    expect(BatchIngestResponse.parse(await res.json())).toEqual({
      success: true,
      accepted: 1,
      duplicates: 0,
      rejected: [{ index: 1, error: 'events[1].eventId: repeats the eventId of events[0] for another sessionToken or writeToken' }],
    });
    expect(await timeline(page)).toEqual(['action']);
    expect(await attempts(id)).toBe(0);

    // A stored event repeated in the same session is a duplicate, as when sent again later.
    const again = crypto.randomUUID();
    const dup = await ingest({ sessionToken: page, events: [{ eventType: 'action', eventId: again }, { eventType: 'action', eventId: again }] });
    expect(BatchIngestResponse.parse(await dup.json())).toEqual({ success: true, accepted: 1, duplicates: 1 });
    expect(await timeline(page)).toEqual(['action', 'action']);
  });

  it('workshop pages need no token, and a token does not turn a workshop session into anything else', async () => {
    const page = uniqueToken('ws');
    expect((await ingest({ sessionToken: page, events: [{ eventType: 'navigation' }, { eventType: 'error' }] })).status).toBe(200);
    // Once it is a workshop session, later events still need nothing.
    expect((await ingest({ sessionToken: page, eventType: 'action' })).status).toBe(200);
    expect(await timeline(page)).toEqual(['navigation', 'error', 'action']);
  });
});
