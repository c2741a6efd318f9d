import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { EventListResponse, StoredEvent } from '../../lib/schemas/event.js';
import type { Sql } from '../../lib/storage/sql.js';
import { admin, makeDeps, memoryPglite, testConfig, uniqueToken } from '../helpers/deps.js';

let sql: Sql;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  sql = await memoryPglite();
  app = createApp(makeDeps({ sql, config: testConfig({ ALLOWED_ORIGINS: 'https://workshop.example.org' }) }), allFamilies);
});
afterAll(() => sql.close());

/** Post `n` events for a token, one second apart starting at `start`, via the public API. */
async function seed(token: string, n: number, extra: Record<string, unknown> = {}, start = Date.parse('2026-02-01T10:00:00Z')) {
  const events = Array.from({ length: n }, (_, i) => ({
    sessionToken: token,
    eventType: i % 3 === 0 ? 'error' : 'action',
    eventData: { i, ...(i % 3 === 0 ? { errorType: 'TypeError' } : { actionName: `a${i}` }) },
    timestamp: new Date(start + i * 1000).toISOString(),
    ...extra,
  }));
  for (let i = 0; i < events.length; i += 500) {
    const batch = events.slice(i, i + 500);
    const res = await app.request('/api/session-log', { method: 'POST', body: JSON.stringify({ events: batch }), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(200);
  }
}

async function list(qs: string) {
  const res = await app.request(`/api/session-log?${qs}`, { headers: admin });
  expect(res.status).toBe(200);
  return EventListResponse.parse(await res.json());
}

describe('GET /api/session-log', () => {
  it('filters by session token, event type and student email, newest first by default', async () => {
    const token = uniqueToken();
    const email = `${token}@example.com`;
    await seed(token, 6, { studentEmail: email, studentName: 'Ada' });
    await seed(uniqueToken(), 3, { studentEmail: email });
    const bySession = await list(`sessionToken=${token}`);
    expect(bySession.count).toBe(6);
    expect(bySession.events.map((e) => e.event_data.i)).toEqual([5, 4, 3, 2, 1, 0]);
    expect(bySession.events[0]).toMatchObject({ student_email: email, student_name: 'Ada' });
    expect((await list(`sessionToken=${token}&eventType=error`)).events.map((e) => e.event_data.i)).toEqual([3, 0]);
    expect((await list(`studentEmail=${encodeURIComponent(email.toUpperCase())}`)).count).toBe(9);
  });

  it('narrows to one error type and to one workshop (a session-token prefix), as the Now view\'s top errors link them', async () => {
    const room = `${uniqueToken('ws_room')}_`;
    const at = Date.parse('2026-02-03T10:00:00Z');
    await seed(`${room}ada`, 3, {}, at); // errors 0 (TypeError); actions 1, 2
    await seed(`${room}bo`, 1, { eventType: 'error', eventData: { i: 10, errorType: 'SyntaxError' } }, at);
    await seed(`${room}bo`, 1, { eventType: 'error', eventData: { i: 11 } }, at + 1000);
    await seed(uniqueToken('ws_other'), 1, {}, at); // a TypeError in another room
    const is = async (qs: string) => (await list(`${qs}&order=asc`)).events.map((e) => e.event_data.i);
    expect(await is(`workshop=${room}&errorType=TypeError`)).toEqual([0]);
    expect(await is(`workshop=${room}&eventType=error`)).toEqual([0, 10, 11]);
    expect(await is(`workshop=${room}&errorType=${encodeURIComponent('(unspecified)')}`)).toEqual([11]);
    expect(await is(`workshop=${room}&errorType=TypeError&since=2026-02-03T10:00:01Z`)).toEqual([]);
    expect(await is(`workshop=${room}b&errorType=SyntaxError`)).toEqual([10]);
    expect((await list(`errorType=TypeError&since=2026-02-03T10:00:00Z&until=2026-02-03T10:00:01Z`)).count).toBeGreaterThanOrEqual(2);
    for (const bad of ['workshop=ws%20room', 'workshop=', 'errorType=', `errorType=${'x'.repeat(201)}`]) {
      const res = await app.request(`/api/session-log?${bad}`, { headers: admin });
      expect(res.status, bad).toBe(400);
    }
  });

  it('pages with an opaque cursor in both orders without gaps or repeats', async () => {
    const token = uniqueToken();
    await seed(token, 25);
    for (const order of ['asc', 'desc'] as const) {
      const seen: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await list(`sessionToken=${token}&limit=10&order=${order}${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.count).toBe(page.events.length);
        seen.push(...page.events.map((e) => Number(e.event_data.i)));
        cursor = page.next_cursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(3);
      const expected = Array.from({ length: 25 }, (_, i) => i);
      expect(seen).toEqual(order === 'asc' ? expected : expected.reverse());
    }
  });

  it('a cursor from one order is refused in the other', async () => {
    const token = uniqueToken();
    await seed(token, 3);
    const { next_cursor } = await list(`sessionToken=${token}&limit=1&order=asc`);
    const res = await app.request(`/api/session-log?sessionToken=${token}&order=desc&cursor=${next_cursor}`, { headers: admin });
    expect(res.status).toBe(400);
  });

  it('filters by time range: since inclusive, until exclusive', async () => {
    const token = uniqueToken();
    await seed(token, 10);
    const page = await list(`sessionToken=${token}&since=2026-02-01T10:00:02Z&until=2026-02-01T10:00:05Z&order=asc`);
    expect(page.events.map((e) => e.event_data.i)).toEqual([2, 3, 4]);
  });

  it('defaults to 100 and clamps limit to 1000', async () => {
    const token = uniqueToken();
    await seed(token, 120);
    expect((await list(`sessionToken=${token}`)).count).toBe(100);
    expect((await list(`sessionToken=${token}&limit=5000`)).count).toBe(120);
  });

  it('exports every page as CSV, quoted per RFC 4180 and safe for spreadsheets', async () => {
    const token = uniqueToken();
    await seed(token, 1, { eventType: 'error', eventData: { errorMessage: 'said "hi", then\nleft' } });
    await seed(token, 1, { eventType: 'action', eventData: { actionName: 'x' }, studentName: '=HYPERLINK("evil")', studentEmail: `${token}@example.com` }, Date.parse('2026-02-01T11:00:00Z'));
    await seed(token, 1500, {}, Date.parse('2026-02-01T12:00:00Z'));
    const res = await app.request(`/api/session-log?sessionToken=${token}&format=csv&order=asc`, { headers: admin });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename="session-log-.*\.csv"/);
    const text = await res.text();
    const lines = text.split('\r\n');
    expect(lines[0]).toBe('event_id,created_at,session_token,event_type,student_id,student_email,student_name,event_data');
    expect(lines[1]).toContain('"{""errorMessage"":""said \\""hi\\"", then\\nleft""}"');
    expect(lines[2]).toContain(`'=HYPERLINK(""evil"")`);
    // header + 1502 rows + trailing empty string after the final CRLF
    expect(lines).toHaveLength(1504);
  });

  it('exports NDJSON rows matching the event schema, capped by limit', async () => {
    const token = uniqueToken();
    await seed(token, 30);
    const res = await app.request(`/api/session-log?sessionToken=${token}&format=ndjson&limit=25`, { headers: admin });
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    const rows = (await res.text()).trim().split('\n').map((l) => StoredEvent.parse(JSON.parse(l)));
    expect(rows).toHaveLength(25);
    expect(rows[0]?.event_data.i).toBe(29);
  });

  it('an export with no matching rows is just the header', async () => {
    const res = await app.request(`/api/session-log?sessionToken=${uniqueToken()}&format=csv`, { headers: admin });
    expect(await res.text()).toBe('event_id,created_at,session_token,event_type,student_id,student_email,student_name,event_data\r\n');
  });
});

describe('CORS for workshop pages', () => {
  const origin = 'https://workshop.example.org';

  it('answers the preflight for an allowed origin, with credentials', async () => {
    const res = await app.request('/api/session-log', {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');
  });

  it('echoes an allowed origin on the POST itself and on errors', async () => {
    const ok = await app.request('/api/session-log', { method: 'POST', headers: { origin, 'content-type': 'text/plain' }, body: JSON.stringify({ sessionToken: uniqueToken(), eventType: 'action' }) });
    expect(ok.headers.get('access-control-allow-origin')).toBe(origin);
    const bad = await app.request('/api/session-log', { method: 'POST', headers: { origin }, body: '{' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('access-control-allow-origin')).toBe(origin);
  });

  it('does not allow an origin that is not listed', async () => {
    const res = await app.request('/api/session-log', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('an entry written with capitals and a trailing slash admits the origin a browser sends (over HTTP)', async () => {
    const { startTestServer } = await import('../helpers/http-server.js');
    const server = await startTestServer({ sql, config: testConfig({ ALLOWED_ORIGINS: 'https://Workshop.example.com/' }) });
    try {
      const page = 'https://workshop.example.com';
      const preflight = await fetch(`${server.url}/api/session-log`, { method: 'OPTIONS', headers: { origin: page, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe(page);
      const post = (origin: string) =>
        fetch(`${server.url}/api/session-log`, { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: JSON.stringify({ sessionToken: uniqueToken(), eventType: 'action' }) });
      const ok = await post(page);
      expect(ok.status, await ok.clone().text()).toBe(200);
      expect(ok.headers.get('access-control-allow-origin')).toBe(page);
      // Still that origin only.
      expect((await post('https://workshop.example.com.evil.example')).status).toBe(403);
    } finally {
      await server.stop();
    }
  });

  it('allows any origin (echoed, never *) when ALLOWED_ORIGINS=* locally', async () => {
    const open = createApp(makeDeps({ sql, config: testConfig({ ALLOWED_ORIGINS: '*' }) }), allFamilies);
    const res = await open.request('/api/session-log', { method: 'OPTIONS', headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
  });
});

describe('GET /api/health', () => {
  it('reports both stores ok', async () => {
    const res = await app.request('/api/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', storage: { postgres: 'ok', kv: 'ok' } });
  });
});

describe('writes from origins that are not allowed', () => {
  it('are refused with 403 (and not stored); same-origin and server-to-server writes pass', async () => {
    const token = uniqueToken();
    const send = (headers: Record<string, string>) =>
      app.request('http://api.example.org/api/session-log', { method: 'POST', headers: { 'content-type': 'text/plain', ...headers }, body: JSON.stringify({ sessionToken: token, eventType: 'action' }) });
    const evil = await send({ origin: 'https://evil.example.com' });
    expect(evil.status).toBe(403);
    expect(evil.headers.get('content-type')).toContain('application/problem+json');
    // That page may read the refusal (and so stop retrying), and nothing else.
    expect(evil.headers.get('access-control-allow-origin')).toBe('https://evil.example.com');
    const read = await app.request('http://api.example.org/api/health', { headers: { origin: 'https://evil.example.com' } });
    expect(read.headers.get('access-control-allow-origin')).toBeNull();
    expect((await send({ origin: 'https://workshop.example.org' })).status).toBe(200);
    expect((await send({ origin: 'http://api.example.org' })).status).toBe(200); // the dashboard, same origin
    expect((await send({})).status).toBe(200); // no Origin: a server
    const stored = EventListResponse.parse(await (await app.request(`/api/session-log?sessionToken=${token}`, { headers: admin })).json());
    expect(stored.count).toBe(3);
  });

  it('the legacy /webhook/* aliases refuse them too: a foreign page cannot post to an unsecured (local) Vapi webhook', async () => {
    const id = `origin-${uniqueToken()}`;
    const body = JSON.stringify({ message: { type: 'status-update', status: 'in-progress', call: { id } } });
    const post = (path: string, origin: string) =>
      app.request(`http://api.example.org${path}`, { method: 'POST', headers: { 'content-type': 'text/plain', origin }, body });
    for (const path of ['/webhook/vapi', '/webhook/vapi/session-complete', '/api/webhooks/vapi']) {
      const res = await post(path, 'https://evil.example.com');
      expect(res.status, path).toBe(403);
      expect(((await res.json()) as { detail: string }).detail).toContain('is not allowed (ALLOWED_ORIGINS)');
    }
    expect((await app.request(`/api/sessions/vapi_${id}`, { headers: admin })).status).toBe(404);
    // The same delivery from an allowed page (or a server, without Origin) is taken.
    expect((await post('/webhook/vapi', 'https://workshop.example.org')).status).toBe(200);
    expect((await app.request(`/api/sessions/vapi_${id}`, { headers: admin })).status).toBe(200);
  });

  it('behind a proxy that terminates TLS (Vercel, nginx), the https dashboard is the same origin; the proxy headers vouch for no other', async () => {
    const token = uniqueToken();
    // Vercel's launcher hands the function http://<host>/… while the page is https://<host>.
    const send = (headers: Record<string, string>) =>
      app.request('http://api.example.org/api/session-log', { method: 'POST', headers: { 'content-type': 'text/plain', ...headers }, body: JSON.stringify({ sessionToken: token, eventType: 'action' }) });
    expect((await send({ origin: 'https://api.example.org', 'x-forwarded-proto': 'https' })).status).toBe(200);
    expect((await send({ origin: 'https://dash.example.org', 'x-forwarded-proto': 'https, http', 'x-forwarded-host': 'Dash.Example.org' })).status).toBe(200);
    // A proxy that names the default port: the same page.
    expect((await send({ origin: 'https://dash.example.org', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'dash.example.org:443' })).status).toBe(200);
    expect((await send({ origin: 'https://api.example.org' })).status).toBe(403); // no proxy said so
    expect((await send({ origin: 'https://evil.example.com', 'x-forwarded-proto': 'https' })).status).toBe(403);
    expect((await send({ origin: 'https://evil.example.com', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'api.example.org' })).status).toBe(403);
    expect((await send({ origin: 'javascript://api.example.org', 'x-forwarded-proto': 'javascript' })).status).toBe(403);
    const stored = EventListResponse.parse(await (await app.request(`/api/session-log?sessionToken=${token}`, { headers: admin })).json());
    expect(stored.count).toBe(3);
  });
});
