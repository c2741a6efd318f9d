/**
 * Sessions past their inactivity timeout are ended and analysed by ordinary traffic (no frequent
 * cron): an unrelated request starts the sweep in the background, and however many instances and
 * concurrent requests there are, the session is ended once and analysed once. PGlite, the real
 * openai client against a loopback fake.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { parseConfig } from '../../lib/config.js';
import { allFamilies } from '../../lib/families.js';
import { claimRun } from '../../lib/lifecycle/maintenance.js';
import type { Sql } from '../../lib/storage/sql.js';
import { ADMIN_TOKEN, admin, makeDeps, memoryPglite, type TestDeps } from '../helpers/deps.js';
import { startFakeOpenAI } from '../helpers/fake-openai.js';

const SERVICE = { authorization: 'Bearer svc-token-123', 'content-type': 'application/json' };
let sql: Sql;
let fake: Awaited<ReturnType<typeof startFakeOpenAI>>;
let now: Date;

beforeAll(async () => {
  [sql, fake] = await Promise.all([memoryPglite(), startFakeOpenAI()]);
});
afterAll(async () => {
  await Promise.all([sql.close(), fake.close()]);
});

/** One app instance (a Vercel function instance, say) over the shared database. */
function instance(env: Record<string, string> = {}): { deps: TestDeps; app: ReturnType<typeof createApp> } {
  const config = parseConfig({
    ADMIN_TOKEN,
    SERVICE_TOKEN: 'svc-token-123',
    DATA_DIR: '/tmp/sessionlog-test',
    RATE_LIMITS: 'off',
    SESSION_TIMEOUT_MINUTES: '10',
    ANALYSIS_ENABLED: 'true',
    ANALYSIS_API_KEY: 'sk-test-traffic-sweep-0123456789',
    OPENAI_BASE_URL: fake.baseURL,
    ...env,
  });
  const deps = makeDeps({ sql, config, now: () => now });
  return { deps, app: createApp(deps, allFamilies) };
}

async function startSession(on: ReturnType<typeof createApp>): Promise<string> {
  const student = `stu_${crypto.randomUUID().slice(0, 8)}`;
  const res = await on.request('/api/sessions', { method: 'POST', headers: SERVICE, body: JSON.stringify({ participant: 'tutor_bot', student_id: student, max_participants: 1, subject: 'Math', topic: 'Fractions' }) });
  expect(res.status).toBe(201);
  const { session_id } = (await res.json()) as { session_id: string };
  const t = await on.request(`/api/sessions/${session_id}/transcript`, { method: 'POST', headers: SERVICE, body: JSON.stringify({ entries: [{ speaker: 'student', text: 'Is 2/7 + 3/7 = 5/14?' }] }) });
  expect(t.status).toBeLessThan(300);
  return session_id;
}

const stored = async (id: string) =>
  (await sql.query<{ status: string; end_reason: string | null }>('SELECT status, end_reason FROM sessions WHERE id = $1', [id]))[0];
const endedEvents = async (id: string) =>
  (await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE session_token = $1 AND event_type = 'session_ended'`, [id]))[0]?.n;
const analyses = async (id: string) => sql.query<{ status: string; trigger: string }>('SELECT status, trigger FROM analyses WHERE session_id = $1', [id]);

describe('sweep by traffic', () => {
  it('an unrelated request ends and analyses an idle session, once, with concurrent requests on several instances', async () => {
    now = new Date('2026-03-02T09:00:00Z');
    const setup = instance({ TRAFFIC_SWEEP_SECONDS: '0' });
    const id = await startSession(setup.app);
    await setup.deps.settle();
    expect((await stored(id))?.status).toBe('active');

    // Eleven minutes without activity: past the timeout. Reads already show it ended…
    now = new Date('2026-03-02T09:11:00Z');
    const read = await setup.app.request(`/api/sessions/${id}`, { headers: admin });
    expect(((await read.json()) as { status: string }).status).toBe('completed');
    // …but nothing has been stored yet (the setup instance does not sweep).
    expect((await stored(id))?.status).toBe('active');
    const calls = fake.requests.length;

    // Three instances, twelve concurrent requests that have nothing to do with the session.
    const instances = [instance(), instance(), instance()];
    const responses = await Promise.all(Array.from({ length: 12 }, (_, i) => instances[i % 3]!.app.request(i % 2 ? '/api/health' : '/api/openapi.json')));
    expect(responses.map((r) => r.status)).toEqual(Array(12).fill(200));
    await Promise.all(instances.map((x) => x.deps.settle()));

    expect(await stored(id)).toEqual({ status: 'completed', end_reason: 'timeout' });
    expect(await endedEvents(id)).toBe(1);
    expect(await analyses(id)).toEqual([{ status: 'completed', trigger: 'session_complete' }]);
    expect(fake.requests.length - calls).toBe(1);
    expect(fake.requests.at(-1)?.body.messages.some((m) => m.content.includes('Is 2/7 + 3/7 = 5/14?'))).toBe(true);
  });

  it('runs at most once a minute per deployment, and again once the minute has passed', async () => {
    now = new Date('2026-03-03T09:00:00Z');
    const a = instance();
    const first = await startSession(a.app);
    await a.deps.settle();
    now = new Date('2026-03-03T09:30:00Z');
    const b = instance();
    await b.app.request('/api/health');
    await b.deps.settle();
    expect((await stored(first))?.status).toBe('completed');

    // A session that goes idle now is not swept by traffic within the same minute…
    const second = await startSession(b.app);
    await b.deps.settle();
    now = new Date('2026-03-03T09:40:30Z');
    const c = instance();
    await sql.query(`UPDATE maintenance_runs SET last_run_at = $1 WHERE job = 'sweep'`, ['2026-03-03T09:40:00Z']);
    await c.app.request('/api/health');
    await c.deps.settle();
    expect((await stored(second))?.status).toBe('active');
    // …and is once the last sweep is more than a minute old (c's own gate has passed too).
    now = new Date('2026-03-03T09:41:31Z');
    await c.app.request('/api/health');
    await c.deps.settle();
    expect(await stored(second)).toEqual({ status: 'completed', end_reason: 'timeout' });
  });

  it('TRAFFIC_SWEEP_SECONDS=0 turns it off', async () => {
    now = new Date('2026-03-04T09:00:00Z');
    const off = instance({ TRAFFIC_SWEEP_SECONDS: '0' });
    const id = await startSession(off.app);
    now = new Date('2026-03-04T10:00:00Z');
    await off.app.request('/api/health');
    await off.deps.settle();
    expect((await stored(id))?.status).toBe('active');
  });

  it('the edge worker, whose cron trigger sweeps every 5 minutes, sweeps by traffic only when TRAFFIC_SWEEP_SECONDS is set', () => {
    const edge = (env: Record<string, string>) =>
      parseConfig({ ADMIN_TOKEN: 'a'.repeat(32), DATABASE_URL: 'postgresql://app:pw@ep-x.neon.tech/neondb', ...env }, 'edge').trafficSweepMs;
    expect(edge({})).toBe(0);
    expect(edge({ TRAFFIC_SWEEP_SECONDS: '' })).toBe(0);
    expect(edge({ TRAFFIC_SWEEP_SECONDS: '60' })).toBe(60_000);
    expect(parseConfig({ ADMIN_TOKEN, DATA_DIR: '/tmp/sessionlog-test' }).trafficSweepMs).toBe(60_000);
  });

  it('the lease: one winner among concurrent claims, none within the interval', async () => {
    const at = new Date('2026-03-05T09:00:00Z');
    const job = `test-${crypto.randomUUID()}`;
    const wins = await Promise.all(Array.from({ length: 8 }, () => claimRun(sql, job, at, 60_000)));
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect(await claimRun(sql, job, new Date(at.getTime() + 59_999), 60_000)).toBe(false);
    expect(await claimRun(sql, job, new Date(at.getTime() + 60_000), 60_000)).toBe(true);
  });
});
