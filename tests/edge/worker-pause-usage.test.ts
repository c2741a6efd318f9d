/**
 * Pause, resume and the analysis usage endpoint in workerd (the worker bundle through miniflare),
 * against PostgreSQL through the Neon HTTP driver: the statements run on the edge driver (which
 * returns bigint columns as text) as they do on PGlite and node-postgres.
 */
import type { Miniflare } from 'miniflare';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AnalysisUsage } from '../../lib/schemas/analysis-usage.js';
import { PauseResponse, ResumeResponse } from '../../lib/schemas/responses.js';
import { SessionDocument } from '../../lib/schemas/session.js';
import { uniqueToken } from '../helpers/deps.js';
import { type EdgeWorld, startEdgeWorld } from '../helpers/edge-world.js';
import { describeWithBoth } from '../helpers/servers.js';

const ADMIN = 'edge-admin-token-0123456789abcdef';
const SERVICE = 'edge-service-token-0123456789abcdef';

describeWithBoth('pause and analysis usage in workerd', () => {
  let world: EdgeWorld | undefined;
  let mf: Miniflare;

  beforeAll(async () => {
    world = await startEdgeWorld({ name: 'pause', bindings: { ADMIN_TOKEN: ADMIN, SERVICE_TOKEN: SERVICE, ANALYSIS_DAILY_TOKEN_BUDGET: '50000' } });
    mf = world.mf;
  });

  afterAll(async () => {
    await world?.close();
  });

  const post = (path: string, body: unknown = {}) =>
    mf.dispatchFetch(`http://localhost${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SERVICE}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('pauses, resumes (idempotently) and shows the paused time, with 409 after the end', async () => {
    const created = await post('/api/sessions', { participant: uniqueToken('edge'), max_participants: 1 });
    expect(created.status).toBe(201);
    const id = SessionDocument.parse(await created.json()).session_id;
    const p = await post(`/api/sessions/${id}/pause`);
    expect(p.status).toBe(200);
    expect(PauseResponse.parse(await p.json())).toMatchObject({ paused_now: true, session: { status: 'paused' } });
    expect(PauseResponse.parse(await (await post(`/api/sessions/${id}/pause`)).json()).paused_now).toBe(false);
    await new Promise((r) => setTimeout(r, 50));
    const r = ResumeResponse.parse(await (await post(`/api/sessions/${id}/resume`)).json());
    expect(r).toMatchObject({ resumed_now: true, session: { status: 'active', paused_at: null } });
    expect(r.session.paused_ms).toBeGreaterThanOrEqual(50);
    expect((await post(`/api/sessions/${id}/end`)).status).toBe(200);
    expect((await post(`/api/sessions/${id}/pause`)).status).toBe(409);
  });

  it('answers GET /api/analysis/usage with the configured budget', async () => {
    const res = await mf.dispatchFetch('http://localhost/api/analysis/usage?days=2', { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(res.status).toBe(200);
    const u = AnalysisUsage.parse(await res.json());
    expect(u).toMatchObject({ daily_token_budget: 50_000 });
    expect(u.days).toHaveLength(2);
  });
});
