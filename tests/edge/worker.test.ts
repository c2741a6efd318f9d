/**
 * The edge door in workerd (through miniflare, tests/helpers/edge-world.ts): the esbuild bundle of worker.ts answering POST
 * and GET /api/session-log against real storage — PostgreSQL through the Neon HTTP driver (via
 * the local /sql stand-in) and Redis through the Upstash REST client (via the local bridge).
 * Assets, compatibility date and flags come from wrangler.jsonc through wrangler itself, so the
 * dashboard is served as Cloudflare would serve it (public/_headers included), and the cron
 * triggers reach the worker's `scheduled` handler.
 */
import type { Miniflare } from 'miniflare';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EventListResponse, SingleIngestResponse } from '../../lib/schemas/event.js';
import { SCHEDULES } from '../../lib/scheduled.js';
import { createPgSql } from '../../lib/storage/sql-pg.js';
import { uniqueToken } from '../helpers/deps.js';
import { type EdgeWorld, startEdgeWorld } from '../helpers/edge-world.js';
import { describeWithBoth, TEST_DATABASE_URL } from '../helpers/servers.js';

const ADMIN = 'edge-admin-token-0123456789abcdef';

describeWithBoth('edge worker in workerd', () => {
  let world: EdgeWorld | undefined;
  let mf: Miniflare;

  beforeAll(async () => {
    world = await startEdgeWorld({ name: 'test', assets: true, bindings: { ADMIN_TOKEN: ADMIN, ALLOWED_ORIGINS: 'https://workshop.example.org' } });
    mf = world.mf;
  });

  afterAll(async () => {
    await world?.close();
  });

  it('reports Postgres and KV healthy through the Neon and Upstash clients', async () => {
    const res = await mf.dispatchFetch('http://localhost/api/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', storage: { postgres: 'ok', kv: 'ok' }, drivers: { postgres: 'neon', kv: 'upstash' } });
  });

  it('stores a posted event and reads it back', async () => {
    const token = uniqueToken('edge');
    const post = await mf.dispatchFetch('http://localhost/api/session-log', {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: 'https://workshop.example.org' },
      body: JSON.stringify({ sessionToken: token, studentEmail: 'Edge@Example.com', eventType: 'navigation', eventData: { from: 1, to: 2 } }),
    });
    expect(post.status).toBe(200);
    expect(post.headers.get('access-control-allow-origin')).toBe('https://workshop.example.org');
    const { eventId } = SingleIngestResponse.parse(await post.json());

    const batch = await mf.dispatchFetch('http://localhost/api/session-log', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sessionToken: token, events: [{ eventType: 'action' }, { eventType: 'BAD' }] }),
    });
    expect(batch.status).toBe(207);

    const get = await mf.dispatchFetch(`http://localhost/api/session-log?sessionToken=${token}&order=asc`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(get.status).toBe(200);
    const body = EventListResponse.parse(await get.json());
    expect(body.events.map((e) => e.event_type)).toEqual(['navigation', 'action']);
    expect(body.events[0]).toMatchObject({ event_id: eventId, student_email: 'edge@example.com', event_data: { from: 1, to: 2 } });

    const csv = await mf.dispatchFetch(`http://localhost/api/session-log?sessionToken=${token}&format=csv`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect((await csv.text()).trim().split('\r\n')).toHaveLength(3);
  });

  it('takes events into a tool-call sitting only with its write token, in workerd as on Node', async () => {
    const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
    const opened = await mf.dispatchFetch('http://localhost/api/sessions/interactions', {
      method: 'POST', headers: admin, body: JSON.stringify({ student_id: uniqueToken('edge_stu'), function: 'start_quiz' }),
    });
    expect(opened.status).toBe(200);
    const { session_id: sitting, write_token: writeToken } = (await opened.json()) as { session_id: string; write_token: string };
    const post = (body: object) =>
      mf.dispatchFetch('http://localhost/api/session-log', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const refused = await post({ sessionToken: sitting, eventType: 'attempt', eventData: { correct: false } });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect((await post({ sessionToken: sitting, writeToken, eventType: 'attempt', eventData: { correct: true } })).status).toBe(200);
    const issued = await mf.dispatchFetch(`http://localhost/api/sessions/${sitting}/write-token`, { method: 'POST', headers: admin });
    expect(await issued.json()).toEqual({ session_id: sitting, write_token: writeToken });
    const events = await mf.dispatchFetch(`http://localhost/api/session-log?sessionToken=${sitting}&eventType=attempt`, { headers: admin });
    expect(EventListResponse.parse(await events.json()).events.map((e) => e.event_data.correct)).toEqual([true]);
  });

  it('refuses reads without the admin token and bad input with problem+json', async () => {
    const get = await mf.dispatchFetch('http://localhost/api/session-log');
    expect(get.status).toBe(401);
    const bad = await mf.dispatchFetch('http://localhost/api/session-log', { method: 'POST', body: '{nope' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
  });
  it('serves the OpenAPI document built with the bundle, the same one the Node server builds', async () => {
    const res = await mf.dispatchFetch('http://localhost/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    const { openApiDocument } = await import('../../lib/openapi-document.js');
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
  });

  it('serves the dashboard, client and demo from the assets binding with the pages\' security headers', async () => {
    const page = await mf.dispatchFetch('http://localhost/dashboard/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('<script');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const client = await mf.dispatchFetch('http://localhost/session-log.js');
    expect(client.status).toBe(200);
    expect(client.headers.get('content-type')).toContain('javascript');
    await client.arrayBuffer();
    // Cached briefly (public/_headers), then revalidated by the ETag the assets binding gives it.
    expect(client.headers.get('cache-control')).toBe('public, max-age=300');
    const etag = client.headers.get('etag') ?? '';
    expect(etag).not.toBe('');
    const again = await mf.dispatchFetch('http://localhost/session-log.js', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    await again.arrayBuffer();
    const demo = await mf.dispatchFetch('http://localhost/demo/');
    expect(demo.status).toBe(200);
    await demo.arrayBuffer();
    // The headers file is configuration, not content: the path falls through to the API's 404.
    const hidden = await mf.dispatchFetch('http://localhost/_headers');
    expect(hidden.status).toBe(404);
    expect(hidden.headers.get('content-type')).toContain('application/problem+json');
  });

  it('runs retention, the sweep and the alerts pass from the cron triggers, and fails an unknown schedule', async () => {
    const pg = createPgSql({ connectionString: TEST_DATABASE_URL ?? '' });
    const token = uniqueToken('edgeold');
    try {
      // An event older than RETENTION_DAYS (default 90): the daily retention run deletes it.
      await pg.query(
        `INSERT INTO events (event_uuid, session_token, event_type, event_data, created_at)
         VALUES (gen_random_uuid(), $1, 'action', '{}', now() - interval '400 days')`,
        [token],
      );
      // Miniflare's Fetcher type (without @cloudflare/workers-types) omits scheduled(); the method is there.
      const worker = (await mf.getWorker()) as unknown as {
        scheduled(o: { cron: string; scheduledTime: Date }): Promise<{ outcome: string }>;
      };
      const retention = await worker.scheduled({ cron: SCHEDULES.retention, scheduledTime: new Date() });
      expect(retention.outcome).toBe('ok');
      expect(await pg.query('SELECT 1 FROM events WHERE session_token = $1', [token])).toEqual([]);
      const sweep = await worker.scheduled({ cron: SCHEDULES.sweep, scheduledTime: new Date() });
      expect(sweep.outcome).toBe('ok');
      // The alerts' cohort pass, every minute: posted events do not run it on the edge.
      const alerts = await worker.scheduled({ cron: SCHEDULES.alerts, scheduledTime: new Date() });
      expect(alerts.outcome).toBe('ok');
      const unknown = await worker.scheduled({ cron: '0 0 1 1 *', scheduledTime: new Date() });
      expect(unknown.outcome).toBe('exception');
    } finally {
      await pg.query('DELETE FROM events WHERE session_token = $1', [token]);
      await pg.close();
    }
  });
});
