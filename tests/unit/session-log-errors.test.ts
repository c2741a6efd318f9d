import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { EventListResponse } from '../../lib/schemas/event.js';
import type { Sql } from '../../lib/storage/sql.js';
import { admin, makeDeps, memoryPglite, testConfig, uniqueToken } from '../helpers/deps.js';
import { expectProblem as problem } from '../helpers/problem.js';

let sql: Sql;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  sql = await memoryPglite();
  app = createApp(makeDeps({ sql }), allFamilies);
});
afterAll(() => sql.close());

const post = (body: BodyInit, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  app.request('/api/session-log', { method: 'POST', headers, body });

async function count(token: string) {
  const res = await app.request(`/api/session-log?sessionToken=${token}`, { headers: admin });
  return EventListResponse.parse(await res.json()).count;
}

describe('bad input on POST /api/session-log is a 4xx problem naming what is wrong', () => {
  it.each([
    ['malformed JSON', '{"sessionToken": "ws_1", "eventType": '],
    ['a JSON array', '[1,2,3]'],
    ['a JSON string', '"hello"'],
    ['null', 'null'],
    ['an empty body', ''],
  ])('%s → 400', async (_name, body) => {
    const p = await problem(await post(body), 400);
    expect(p.code).toBe('BAD_REQUEST');
    expect(p.detail.length).toBeGreaterThan(5);
  });

  it.each([
    ['missing sessionToken', 'sessionToken', { eventType: 'action' }],
    ['missing eventType', 'eventType', { sessionToken: 'ws_1' }],
    ['uppercase eventType', 'eventType', { sessionToken: 'ws_1', eventType: 'Navigation' }],
    ['eventType longer than 50', 'eventType', { sessionToken: 'ws_1', eventType: `a${'b'.repeat(50)}` }],
    ['sessionToken with spaces', 'sessionToken', { sessionToken: 'ws 1', eventType: 'action' }],
    ['sessionToken too long', 'sessionToken', { sessionToken: 'a'.repeat(201), eventType: 'action' }],
    ['invalid email', 'studentEmail', { sessionToken: 'ws_1', eventType: 'action', studentEmail: 'not-an-email' }],
    ['eventData not an object', 'eventData', { sessionToken: 'ws_1', eventType: 'action', eventData: [1, 2] }],
    ['navigation from as text', 'eventData.from', { sessionToken: 'ws_1', eventType: 'navigation', eventData: { from: 'a' } }],
    ['error statusCode as text', 'eventData.statusCode', { sessionToken: 'ws_1', eventType: 'error', eventData: { statusCode: '500' } }],
    ['api_call success as text', 'eventData.success', { sessionToken: 'ws_1', eventType: 'api_call', eventData: { success: 'yes' } }],
    ['eventId not a UUID', 'eventId', { sessionToken: 'ws_1', eventType: 'action', eventId: '123' }],
    ['timestamp not ISO', 'timestamp', { sessionToken: 'ws_1', eventType: 'action', timestamp: 'yesterday' }],
    ['unknown top-level field', '', { sessionToken: 'ws_1', eventType: 'action', evenType: 'x' }],
    ['NUL character in data', 'eventData.a', { sessionToken: 'ws_1', eventType: 'action', eventData: { a: 'x\u0000y' } }],
    ['lone surrogate in data', 'eventData.a', { sessionToken: 'ws_1', eventType: 'action', eventData: { a: '\ud800' } }],
    ['nesting deeper than 64', 'eventData', { sessionToken: 'ws_1', eventType: 'action', eventData: JSON.parse(`${'{"a":'.repeat(80)}1${'}'.repeat(80)}`) }],
  ])('%s → 400 naming "%s"', async (_name, field, body) => {
    const p = await problem(await post(JSON.stringify(body)), 400);
    expect(p.errors?.length).toBeGreaterThan(0);
    if (field) expect(p.errors?.some((e) => e.path.startsWith(field))).toBe(true);
    else expect(p.errors?.[0]?.message).toMatch(/evenType|unrecognized/i);
  });

  it('eventData over 32 KB → 413 naming eventData; a body over 1 MB → 413', async () => {
    const big = { sessionToken: 'ws_1', eventType: 'action', eventData: { blob: 'x'.repeat(33 * 1024) } };
    const p = await problem(await post(JSON.stringify(big)), 413);
    expect(p.errors?.[0]?.path).toBe('eventData');
    const huge = JSON.stringify({ events: [{ sessionToken: 'ws_1', eventType: 'action', eventData: { blob: 'y'.repeat(1024 * 1024) } }] });
    expect((await problem(await post(huge), 413)).code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('a batch whose every event is over 32 KB → 413 as for one such event; one too large among invalid ones → 400', async () => {
    const blob = { blob: 'x'.repeat(33 * 1024) };
    const all = await problem(await post(JSON.stringify({ sessionToken: 'ws_1', events: [{ eventType: 'action', eventData: blob }, { eventType: 'error', eventData: blob }] })), 413);
    expect(all.errors?.map((e) => e.path)).toEqual(['events[0].eventData', 'events[1].eventData']);
    const mixed = await problem(await post(JSON.stringify({ sessionToken: 'ws_1', events: [{ eventType: 'action', eventData: blob }, { eventType: 'Bad Type' }] })), 400);
    expect(mixed.errors?.map((e) => e.path)).toEqual(['events[0].eventData', 'events[1].eventType']);
  });

  it('a streamed (chunked) body over 1 MB is cut off at the limit → 413', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ > 40) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const res = await app.request('/api/session-log', { method: 'POST', body, headers: { 'content-type': 'text/plain' }, duplex: 'half' } as RequestInit);
    await problem(res, 413);
  });

  it('an unsupported content type → 415', async () => {
    const p = await problem(await post('<xml/>', { 'content-type': 'application/xml' }), 415);
    expect(p.detail).toContain('application/xml');
  });

  it('invalid UTF-8 → 400', async () => {
    await problem(await post(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), { 'content-type': 'application/json' }), 400);
  });

  it('valid events around invalid ones in a batch are all stored', async () => {
    const token = uniqueToken();
    const res = await post(
      JSON.stringify({
        events: [
          { sessionToken: token, eventType: 'action', eventData: { actionName: "' OR 1=1 --" } },
          { sessionToken: token, eventType: 'action', eventData: { a: 'nul\u0000' } },
          { sessionToken: token, eventType: 'action', eventData: { blob: 'x'.repeat(40_000) } },
          { sessionToken: token, eventType: 'state_change', eventData: { stateName: '漢字', newValue: '🎓' } },
        ],
      }),
    );
    expect(res.status).toBe(207);
    expect(await count(token)).toBe(2);
  });
});

describe('GET /api/session-log input and auth', () => {
  it.each([
    ['no token', {}],
    ['a wrong token', { authorization: 'Bearer nope' }],
    ['a non-bearer scheme', { authorization: 'Basic dGVzdA==' }],
  ])('%s → 401', async (_n, headers) => {
    const res = await app.request('/api/session-log', { headers });
    const p = await problem(res, 401);
    expect(p.code).toBe('UNAUTHORIZED');
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });

  it.each([
    ['limit=abc', 'limit'],
    ['limit=0', 'limit'],
    ['since=yesterday', 'since'],
    ['order=sideways', 'order'],
    ['format=xml', 'format'],
    ['eventType=DROP%20TABLE', 'eventType'],
    ['cursor=garbage', 'cursor'],
    ['since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z', 'since'],
  ])('%s → 400 naming %s', async (qs, field) => {
    const p = await problem(await app.request(`/api/session-log?${qs}`, { headers: admin }), 400);
    expect(p.errors?.map((e) => e.path)).toContain(field);
  });
});

describe('storage outages', () => {
  it('answers 503 with Retry-After when Postgres is unreachable, never 200', async () => {
    const { createPgSql } = await import('../../lib/storage/sql-pg.js');
    // Port 1 refuses connections: the same failure as a database that is down.
    const down = createPgSql({ connectionString: 'postgres://postgres@127.0.0.1:1/none' });
    const deadApp = createApp(makeDeps({ sql: down }), allFamilies);
    const res = await deadApp.request('/api/session-log', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sessionToken: 'ws_1', eventType: 'action' }),
    });
    const p = await problem(res, 503);
    expect(p.code).toBe('UNAVAILABLE');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    const health = await deadApp.request('/api/health');
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'error', storage: { postgres: 'unavailable', kv: 'ok' } });
    await down.close();
  });
});

describe('hostile input found by the write-path audit', () => {
  it.each(['call_transfer', 'call_answer', 'call_error'])('a page may not post the server-written voice record type %s', async (eventType) => {
    const token = uniqueToken();
    const p = await problem(await post(JSON.stringify({ sessionToken: token, eventType, eventData: {} })), 400);
    expect(p.detail).toMatch(/eventType: is reserved/);
    expect(await count(token)).toBe(0);
  });

  it.each(['.', '..', '...'])('the token %j (a path segment no URL can reach) is refused', async (sessionToken) => {
    const p = await problem(await post(JSON.stringify({ sessionToken, eventType: 'action' })), 400);
    expect(p.detail).toMatch(/sessionToken: must not be only dots/);
  });

  it.each(['active', 'waiting'])('the token %j (GET /api/sessions/{name} lists sessions: that session could not be read by its id) is refused', async (sessionToken) => {
    const p = await problem(await post(JSON.stringify({ sessionToken, eventType: 'action' })), 400);
    expect(p.detail).toMatch(/sessionToken: must not be active or waiting/);
    // (GET /api/session-log refuses the name as a token too: count in the database.)
    expect((await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE session_token = $1', [sessionToken]))[0]?.n).toBe(0);
    // Other spellings are other tokens.
    expect((await post(JSON.stringify({ sessionToken: `${sessionToken}_1`, eventType: 'action' }))).status).toBe(200);
  });

  it('a number too large for a double (JSON 1e400) is refused, naming its path, instead of being stored as null', async () => {
    const token = uniqueToken();
    const p = await problem(await post(`{"sessionToken":"${token}","eventType":"action","eventData":{"score":{"raw":1e400}}}`), 400);
    expect(p.detail).toMatch(/eventData\.score\.raw: is a number too large to store/);
    expect(await count(token)).toBe(0);
  });

  it('an integer JSON.parse would round (beyond ±2^53) is refused, naming its path, instead of being stored as another number', async () => {
    const token = uniqueToken();
    const p = await problem(await post(`{"sessionToken":"${token}","eventType":"navigation","eventData":{"from":1,"to":2,"order":{"id":12345678901234567890}}}`), 400);
    expect(p.detail).toMatch(/eventData\.order\.id: 12345678901234567890 is an integer beyond ±2\^53 .*stored as 12345678901234567000; send it as a string/);
    expect(p.errors).toEqual([expect.objectContaining({ path: 'eventData.order.id' })]);
    // A documented number field too, and in an array.
    expect((await problem(await post(`{"sessionToken":"${token}","eventType":"navigation","eventData":{"to":9007199254740993}}`), 400)).detail).toMatch(/eventData\.to: 9007199254740993 /);
    expect((await problem(await post(`{"sessionToken":"${token}","eventType":"custom","eventData":{"ids":[1,-18446744073709551615]}}`), 400)).detail).toMatch(/eventData\.ids\[1\]: -18446744073709551615 /);
    expect(await count(token)).toBe(0);
  });

  it('long integers a double holds exactly, long digit runs in strings and exponent literals are stored as sent', async () => {
    const token = uniqueToken();
    const body = `{"sessionToken":"${token}","eventType":"custom","eventData":{"pow53":9007199254740992,"neg":-9007199254740991,"round":10000000000000000,"text":"12345678901234567890","big":1.5e300,"k12345678901234567890":1}}`;
    expect((await post(body)).status).toBe(200);
    const res = await app.request(`/api/session-log?sessionToken=${token}`, { headers: admin });
    const [stored] = EventListResponse.parse(await res.json()).events;
    expect(stored?.event_data).toEqual({ pow53: 2 ** 53, neg: -(2 ** 53 - 1), round: 1e16, text: '12345678901234567890', big: 1.5e300, k12345678901234567890: 1 });
  });

  it('in a batch, the event with a rounded integer is rejected by index and the others are stored', async () => {
    const token = uniqueToken();
    const res = await post(`{"sessionToken":"${token}","events":[{"eventType":"action"},{"eventType":"custom","eventData":{"n":123456789012345678901}},{"eventType":"action"}]}`);
    expect(res.status).toBe(207);
    const out = (await res.json()) as { accepted: number; rejected: Array<{ index: number; error: string }> };
    expect(out.accepted).toBe(2);
    expect(out.rejected).toEqual([{ index: 1, error: expect.stringMatching(/^events\[1\]\.eventData\.n: 123456789012345678901 is an integer beyond/) }]);
    expect(await count(token)).toBe(2);
  });

  it.each(['00000000-0000-0000-0000-000000000000', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF'])('the eventId %s is refused (every later event with it would be lost as a duplicate)', async (eventId) => {
    const token = uniqueToken();
    const p = await problem(await post(JSON.stringify({ sessionToken: token, eventType: 'action', eventId })), 400);
    expect(p.detail).toMatch(/eventId: must not be the nil or max UUID/);
    expect(await count(token)).toBe(0);
  });

  it('a compressed body, or one in another charset, is 415 naming the encoding', async () => {
    const token = uniqueToken();
    const body = JSON.stringify({ sessionToken: token, eventType: 'action' });
    const gz = new Uint8Array(await new Response(new Blob([body]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer());
    let p = await problem(await post(gz, { 'content-type': 'application/json', 'content-encoding': 'gzip' }), 415);
    expect(p.detail).toMatch(/content-encoding gzip is not supported/);
    p = await problem(await post(body, { 'content-type': 'application/json; charset=utf-16', 'content-encoding': 'identity' }), 415);
    expect(p.detail).toMatch(/charset utf-16 is not supported/);
    expect(await count(token)).toBe(0);
    // UTF-8 named explicitly, and `identity`, are what they say.
    expect((await post(body, { 'content-type': 'application/json; charset=UTF-8', 'content-encoding': 'identity' })).status).toBe(200);
    expect(await count(token)).toBe(1);
  });
});

describe('times a client sends are between 1970 and 2200', () => {
  it.each(['0000-01-01T00:00:00Z', '1900-01-01T00:00:00Z', '2999-01-01T00:00:00Z'])('since=%s is a 400 naming `since`, on the log and the session list', async (since) => {
    for (const path of [`/api/session-log?sessionToken=ws_x&since=${since}`, `/api/sessions?since=${since}`]) {
      const p = await problem(await app.request(path, { headers: admin }), 400);
      expect(p.detail).toMatch(/since: must be a time between 1970 and 2200/);
    }
  });

  it('an interaction or session-data time of year 0000 or 1900 is a 400 naming the field, not a storage error', async () => {
    const service = createApp(makeDeps({ sql, config: testConfig({ SERVICE_TOKEN: 'svc-times-0123456789', WEBHOOK_TOKEN: 'hook-times-0123456789' }) }), allFamilies);
    const send = (path: string, token: string, body: unknown) =>
      service.request(path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (const t of ['0000-01-01T00:00:00Z', '1900-01-01T00:00:00Z']) {
      let p = await problem(await send('/api/sessions/interactions', 'svc-times-0123456789', { student_id: 'stu_times', function: 'f', timestamp: t }), 400);
      expect(p.detail).toMatch(/timestamp: must be a time between 1970 and 2200/);
      p = await problem(await send('/api/webhooks/session-data', 'hook-times-0123456789', { platform: 'generic', call_id: `c_${t.slice(0, 4)}`, student_id: 'stu_times', started_at: t }), 400);
      expect(p.detail).toMatch(/started_at: must be a time between 1970 and 2200/);
    }
  });
});

describe('event types named like Object.prototype members', () => {
  it.each(['constructor', 'tostring', 'valueof', 'hasownproperty'])('%s is an ordinary event type (stored), not a 500', async (eventType) => {
    const token = uniqueToken();
    expect((await post(JSON.stringify({ sessionToken: token, eventType, eventData: { a: 1 } }))).status).toBe(200);
    expect(await count(token)).toBe(1);
  });
});
