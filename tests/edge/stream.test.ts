/**
 * The session stream in workerd (the worker bundle through miniflare), on PostgreSQL through the
 * Neon HTTP driver: entries in order with their seq as `id:`, resume with Last-Event-ID without
 * gap or duplicate, the end of the session closing the stream, and who may listen.
 */
import type { Miniflare } from 'miniflare';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { StoredEvent } from '../../lib/schemas/event.js';
import { StreamTokenResponse } from '../../lib/schemas/stream.js';
import { uniqueToken } from '../helpers/deps.js';
import { type EdgeWorld, startEdgeWorld } from '../helpers/edge-world.js';
import { describeWithBoth } from '../helpers/servers.js';
import { openSse, type SseClient } from '../helpers/sse.js';

const ADMIN = 'edge-admin-token-0123456789abcdef';
const SERVICE = 'edge-service-token-0123456789abcdef';
const WEBHOOK = 'edge-webhook-token-0123456789abcdef';
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describeWithBoth('session stream in workerd', () => {
  let world: EdgeWorld | undefined;
  let mf: Miniflare;
  const open: SseClient[] = [];
  const fetcher = (url: string, init: RequestInit) => mf.dispatchFetch(url, init as never) as unknown as Promise<Response>;

  beforeAll(async () => {
    world = await startEdgeWorld({ name: 'stream', bindings: { ADMIN_TOKEN: ADMIN, SERVICE_TOKEN: SERVICE, WEBHOOK_TOKEN: WEBHOOK, ALLOWED_ORIGINS: 'https://workshop.example.org' } });
    mf = world.mf;
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });
  afterAll(async () => {
    await world?.close();
  });

  async function post(path: string, body: unknown) {
    const res = await mf.dispatchFetch(`http://localhost${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(SERVICE) }, body: JSON.stringify(body) });
    expect(res.status, path).toBeLessThan(300);
    return (await res.json()) as Record<string, unknown>;
  }
  const say = (id: string, text: string) => post(`/api/sessions/${id}/transcript`, { speaker: 'alice', text });
  async function listen(id: string, headers: Record<string, string> = bearer(ADMIN), query = '') {
    const c = await openSse(`http://localhost/api/sessions/${id}/stream${query}`, headers, fetcher);
    open.push(c);
    return c;
  }
  const entries = (c: SseClient) => c.events.filter((e) => e.event === 'entry');
  const texts = (c: SseClient) => entries(c).flatMap((e) => ((e.json as StoredEvent).event_type === 'transcript' ? [(e.json as StoredEvent).event_data.text] : []));

  it('streams entries in order, resumes with Last-Event-ID without gap or duplicate, and ends with the session', async () => {
    const id = uniqueToken('edgest');
    await post('/api/sessions', { participant: 'alice', session_id: id });
    await say(id, 'one');
    await say(id, 'two');
    const c = await listen(id, bearer(ADMIN), '?after=0');
    expect(c.status).toBe(200);
    expect(c.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await c.until((e) => e.event === 'status', 10_000);
    expect(texts(c)).toEqual(['one', 'two']);
    await say(id, 'three');
    await c.until(() => texts(c).length === 3, 10_000);
    const ids = entries(c).map((e) => BigInt(e.id ?? '0'));
    expect(ids).toEqual([...ids].sort((a, b) => (a < b ? -1 : 1)));
    const timeline = (await (await mf.dispatchFetch(`http://localhost/api/sessions/${id}/events`, { headers: bearer(ADMIN) })).json()) as { events: unknown[] };
    expect(entries(c).map((e) => e.json)).toEqual(timeline.events);
    const lastId = entries(c).at(-1)?.id ?? '';
    c.close();

    await say(id, 'four');
    await say(id, 'five');
    const again = await listen(id, { ...bearer(ADMIN), 'last-event-id': lastId });
    await again.until((e) => e.event === 'status', 10_000);
    expect(entries(again).length).toBe(2);
    expect(texts(again)).toEqual(['four', 'five']);
    await post(`/api/sessions/${id}/end`, {});
    await again.until((e) => e.event === 'end', 10_000);
    await again.closed;
    expect(again.events.at(-1)?.event).toBe('end');
  });

  it('refuses listeners without a right credential; a stream token works for its own session only', async () => {
    const id = uniqueToken('edgest');
    const other = uniqueToken('edgest');
    await post('/api/sessions', { participant: 'alice', session_id: id });
    await post('/api/sessions', { participant: 'bob', session_id: other });
    expect((await listen(id, {})).status).toBe(401);
    expect((await listen(id, bearer(WEBHOOK))).status).toBe(403);
    const issued = StreamTokenResponse.parse(await post(`/api/sessions/${id}/stream-token`, {}));
    const ok = await openSse(`http://localhost${issued.stream_url}`, {}, fetcher);
    open.push(ok);
    expect(ok.status).toBe(200);
    await ok.until((e) => e.event === 'status', 10_000);
    expect((await listen(other, {}, `?token=${encodeURIComponent(issued.token)}`)).status).toBe(403);
    expect((await listen(id, {}, `?token=${encodeURIComponent(`${issued.token}x`)}`)).status).toBe(401);
  });
});
