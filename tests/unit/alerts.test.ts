/**
 * Alerts: each rule, the cooldown, JSON and Slack bodies, the signature as a receiver checks it,
 * retries against a receiver that fails first, and an ingest response that never waits for any of it.
 * Events arrive through POST /api/session-log; the webhook receiver is real HTTP on loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { alertsDue } from '../../lib/alerts/evaluate.js';
import { raiseAlerts } from '../../lib/alerts/store.js';
import type { Logger } from '../../lib/deps.js';
import { allFamilies } from '../../lib/families.js';
import { parseConfig } from '../../lib/config.js';
import { runScheduled, SCHEDULES } from '../../lib/scheduled.js';
import { AlertList } from '../../lib/schemas/alerts.js';
import type { Sql } from '../../lib/storage/sql.js';
import { webCall } from '../fixtures/vapi/calls.js';
import { admin, makeDeps, memoryPglite, type TestDeps, tapSql, testConfig } from '../helpers/deps.js';
import { expectProblem } from '../helpers/problem.js';
import { startReceiver } from '../helpers/webhook-receiver.js';
import { room, walk } from '../helpers/workshop.js';

let sql: Sql;
let now = new Date('2026-08-01T09:00:00Z');
beforeAll(async () => {
  sql = await memoryPglite();
});
afterAll(() => sql.close());

const logs: string[] = [];
const capture: Logger = {
  info: (m, f) => logs.push(JSON.stringify({ m, ...f })),
  warn: (m, f) => logs.push(JSON.stringify({ m, ...f })),
  error: (m, f) => logs.push(JSON.stringify({ m, ...f })),
};

/** A fresh app (own config) on the shared database; each test moves the clock on by a day. */
function world(env: Record<string, string> = {}, db: Sql = sql) {
  now = new Date(now.getTime() + 86_400_000);
  const deps: TestDeps = { ...makeDeps({ sql: db, now: () => now, config: testConfig(env) }), log: capture };
  const app = createApp(deps, allFamilies);
  const since = now.toISOString();
  return {
    app,
    deps,
    room: room(app, () => now),
    /** The alerts raised in this test (newest first), after the background work settled. */
    async alerts() {
      await deps.settle();
      const res = await app.request(`/api/alerts?since=${encodeURIComponent(new Date(Date.parse(since) - 3_600_000).toISOString())}`, { headers: admin });
      expect(res.status).toBe(200);
      return AlertList.parse(await res.json()).alerts;
    },
  };
}
const unique = (s: string) => `${s}${crypto.randomUUID().slice(0, 6)}`;

describe('alert rules', () => {
  it('the same error 3× in 10 min: one alert, delivered as signed JSON; the cooldown holds it back, and lets it through after', async () => {
    const receiver = await startReceiver({ secret: 'hook-signing-key' });
    const w = world({ ALERT_WEBHOOK_URL: receiver.url, ALERT_WEBHOOK_SECRET: 'hook-signing-key' });
    const ada = w.room.student('ada');
    const type = unique('TypeError');
    await w.room.post([ada.error(8, 2, type, 'x is undefined'), ada.error(5, 2, type, 'x is undefined')]);
    expect(await w.alerts()).toEqual([]);
    await w.room.post([ada.error(0, 2, type, 'x is undefined')]);
    const [alert, ...more] = await w.alerts();
    expect(more).toEqual([]);
    expect(alert).toMatchObject({ rule: 'repeated_error', key: ada.email, student_id: ada.email, session_id: ada.token, delivery: { status: 'delivered', attempts: 1 } });
    expect(alert?.title).toBe('ada hit the same error 3× in 10 min');
    expect(alert?.detail).toBe(`${type}: x is undefined`);
    expect(receiver.badSignatures).toBe(0);
    expect(receiver.received).toHaveLength(1);
    const got = receiver.received[0];
    expect(got?.headers['content-type']).toBe('application/json');
    expect(got?.headers['x-sessionlog-alert-id']).toBe(alert?.id);
    expect(got?.body).toEqual({
      type: 'sessionlog.alert',
      alert: {
        id: alert?.id, rule: 'repeated_error', key: ada.email, title: alert?.title, detail: alert?.detail, student_id: ada.email, session_id: ada.token, created_at: alert?.created_at,
        data: { error_type: type, message: 'x is undefined', count: 3, first_at: new Date(now.getTime() - 8 * 60_000).toISOString(), last_at: now.toISOString() },
      },
    });

    // More of the same within the cooldown (15 min): nothing new.
    now = new Date(now.getTime() + 5 * 60_000);
    await w.room.post([ada.error(1, 2, type, 'x is undefined'), ada.error(0, 2, type, 'x is undefined')]);
    expect(await w.alerts()).toHaveLength(1);
    // After it: one more.
    now = new Date(now.getTime() + 11 * 60_000);
    await w.room.post([ada.error(2, 2, type, 'x is undefined'), ada.error(1, 2, type, 'x is undefined'), ada.error(0, 2, type, 'x is undefined')]);
    expect((await w.alerts()).map((a) => a.rule)).toEqual(['repeated_error', 'repeated_error']);
    expect(receiver.received).toHaveLength(2);
    await receiver.close();
  });

  it('GET /api/alerts?workshop= lists only the alerts of sessions under that token prefix (the Now view of one room)', async () => {
    const w = world();
    const other = room(w.app, () => now);
    const type = unique('TypeError');
    const ada = w.room.student('ada');
    const bob = other.student('bob');
    await w.room.post([ada.error(2, 2, type, 'x'), ada.error(1, 2, type, 'x'), ada.error(0, 2, type, 'x')]);
    await other.post([bob.error(2, 2, type, 'x'), bob.error(1, 2, type, 'x'), bob.error(0, 2, type, 'x')]);
    expect((await w.alerts()).map((a) => a.session_id).sort()).toEqual([ada.token, bob.token].sort());
    const of = async (workshop: string) => {
      const res = await w.app.request(`/api/alerts?since=2000-01-01T00:00:00Z&workshop=${encodeURIComponent(workshop)}`, { headers: admin });
      expect(res.status).toBe(200);
      return AlertList.parse(await res.json()).alerts.map((a) => a.session_id);
    };
    expect(await of(w.room.prefix)).toEqual([ada.token]);
    expect(await of(other.prefix)).toEqual([bob.token]);
    expect(await of('ws_nosuch_')).toEqual([]);
    await expectProblem(await w.app.request('/api/alerts?workshop=a%20b', { headers: admin }), 400);
  });

  it('throttled per token: after a find, a page that keeps failing is not queried again within the minute', async () => {
    const texts: string[] = [];
    const counting = tapSql(sql, (t) => texts.push(t));
    const w = world({}, counting);
    const kim = w.room.student('kim');
    const type = unique('Loop');
    // Only the alert rule's own statement (tagged /* alerts */): the ingest statement has the same clause.
    const repeatedQueries = () => texts.filter((t) => t.includes('/* alerts */') && t.includes('e.session_token = ANY')).length;
    await w.room.post([kim.error(2, 1, type), kim.error(1, 1, type), kim.error(0, 1, type)]);
    expect(await w.alerts()).toHaveLength(1);
    expect(repeatedQueries()).toBe(1);
    for (let i = 0; i < 5; i++) await w.room.post([kim.error(0, 1, type)]);
    await w.alerts();
    expect(repeatedQueries()).toBe(1);
    now = new Date(now.getTime() + 60_000);
    await w.room.post([kim.error(0, 1, type)]);
    await w.alerts();
    expect(repeatedQueries()).toBe(2);
    expect(await w.alerts()).toHaveLength(1); // still cooling down
  });

  it('the cooldown is a unique key in Postgres: concurrent raises of one (rule, key) record one alert', async () => {
    const key = unique('k');
    const draft = { rule: 'error_spike' as const, key, studentId: null, sessionId: null, title: 't', detail: 'd', data: {} };
    const results = await Promise.all(Array.from({ length: 8 }, () => raiseAlerts(sql, [draft, draft], now, 60_000, false)));
    expect(results.flat()).toHaveLength(1);
    expect(await raiseAlerts(sql, [draft], new Date(now.getTime() + 59_000), 60_000, false)).toEqual([]);
    expect(await raiseAlerts(sql, [draft], new Date(now.getTime() + 60_000), 60_000, false)).toHaveLength(1);
  });

  it('≥ 5 students with the same error type within 5 min: one error_spike alert keyed by the type (4 are not enough)', async () => {
    const w = world();
    const type = unique('ImportError');
    const students = Array.from({ length: 6 }, (_, i) => w.room.student(`p${i}`));
    await w.room.post(students.slice(0, 4).map((s, i) => s.error(4 - i, 1, type, 'no module named x')));
    expect((await w.alerts()).filter((a) => a.rule === 'error_spike')).toEqual([]);
    await w.room.post([students[4]!.error(0, 1, type, 'no module named x')]);
    await w.room.post([students[5]!.error(0, 1, type, 'no module named x')]);
    const spikes = (await w.alerts()).filter((a) => a.rule === 'error_spike');
    expect(spikes).toEqual([expect.objectContaining({ key: type, title: `5 students hit ${type} in the last 5 min`, student_id: null, delivery: { status: 'not_configured', attempts: 0 } })]);
    expect(spikes[0]?.detail).toContain('no module named x');
  });

  it('stuck > 3× the median and ≥ 10 min: found by the cohort pass that any later event triggers (the stuck student posts nothing)', async () => {
    const w = world();
    const cohort = ['a', 'b', 'c'].map((n) => w.room.student(n));
    const sam = w.room.student('sam');
    const almost = w.room.student('al');
    await w.room.post([
      ...cohort.flatMap((s) => walk(s, [1, 2, 3], 2, 9)),
      ...walk(sam, [1, 2], 1, 10), sam.action(2, 2), // on step 2 for 9 min: over 3× the median, not yet 10 min
      ...walk(almost, [1, 2], 1, 6), almost.action(1, 2), // 5 min
    ]);
    expect(await w.alerts()).toEqual([]);
    now = new Date(now.getTime() + 2 * 60_000); // a later minute: a new cohort pass; Sam at 11 min, Al at 7
    await w.room.post([cohort[0]!.action(0, 3)]);
    const stuck = (await w.alerts()).filter((a) => a.rule === 'stuck');
    expect(stuck).toEqual([expect.objectContaining({ key: sam.email, session_id: sam.token, title: 'sam is stuck on step 2 (Step 2)' })]);
    expect(stuck[0]?.detail).toMatch(/^On step 2 "Step 2" for 11 min, 5\.5× the median \(2 min\)/);
  });

  it('stuck, when nobody posts at all: the cron sweep runs the same pass', async () => {
    const w = world({ CRON_SECRET: 'cron-secret-123' });
    const cohort = ['a', 'b', 'c'].map((n) => w.room.student(n));
    const sam = w.room.student('sam');
    await w.room.post([...cohort.flatMap((s) => walk(s, [1, 2, 3], 2, 9)), ...walk(sam, [1, 2], 1, 10), sam.action(2, 2)]);
    expect(await w.alerts()).toEqual([]);
    now = new Date(now.getTime() + 2 * 60_000);
    expect((await w.app.request('/api/cron/sweep', { method: 'POST', headers: { authorization: 'Bearer cron-secret-123' } })).status).toBe(200);
    expect((await w.alerts()).map((a) => [a.rule, a.session_id])).toEqual([['stuck', sam.token]]);
  });

  it('with ALERT_PASS_ON_INGEST=false (the edge default) posted events never run the cohort pass; the every-minute cron does, retries included', async () => {
    const receiver = await startReceiver({ failures: 1 });
    const w = world({ ALERT_PASS_ON_INGEST: 'false', ALERT_WEBHOOK_URL: receiver.url });
    const cohort = ['a', 'b', 'c'].map((n) => w.room.student(n));
    const sam = w.room.student('sam');
    await w.room.post([...cohort.flatMap((s) => walk(s, [1, 2, 3], 2, 9)), ...walk(sam, [1, 2], 1, 10), sam.action(2, 2)]);
    now = new Date(now.getTime() + 2 * 60_000); // Sam at 11 min on step 2: stuck, for a pass that looks
    // The same post that raises the alert with the pass on (the test above): nothing is scheduled.
    const later = cohort[0]!.action(0, 3);
    expect(alertsDue(w.deps, [later as never])).toBe(false);
    await w.room.post([later]);
    expect(await w.alerts()).toEqual([]);

    const outcome = await runScheduled(SCHEDULES.alerts, w.deps);
    expect(outcome).toEqual({ job: 'alerts', result: { raised: 1 } });
    const [stuck] = await w.alerts();
    expect(stuck).toMatchObject({ rule: 'stuck', session_id: sam.token, delivery: { status: 'pending', attempts: 1 } });
    // The same minute again: one pass a minute, so nothing new and no retry yet.
    expect(await runScheduled(SCHEDULES.alerts, w.deps)).toEqual({ job: 'alerts', result: { raised: 0 } });
    expect((await w.alerts())[0]?.delivery).toEqual({ status: 'pending', attempts: 1 });
    // The next minute's trigger retries the delivery the receiver refused, without a posted event.
    now = new Date(now.getTime() + 61_000);
    expect(await runScheduled(SCHEDULES.alerts, w.deps)).toEqual({ job: 'alerts', result: { raised: 0 } });
    expect((await w.alerts())[0]?.delivery).toEqual({ status: 'delivered', attempts: 2 });
    await receiver.close();
  });

  it('ALERT_PASS_ON_INGEST: on by default, off by default on the edge runtime, and either way when set', () => {
    const node = (env: Record<string, string>) => parseConfig({ ADMIN_TOKEN: 'a'.repeat(32), DATA_DIR: '/tmp/sessionlog-test', ...env }).alerts.passOnIngest;
    const edge = (env: Record<string, string>) =>
      parseConfig({ ADMIN_TOKEN: 'a'.repeat(32), DATABASE_URL: 'postgresql://app:pw@ep-x.neon.tech/neondb', ...env }, 'edge').alerts.passOnIngest;
    expect([node({}), node({ ALERT_PASS_ON_INGEST: 'false' }), node({ ALERT_PASS_ON_INGEST: 'true' })]).toEqual([true, false, true]);
    expect([edge({}), edge({ ALERT_PASS_ON_INGEST: 'true' }), edge({ ALERT_PASS_ON_INGEST: 'false' })]).toEqual([false, true, false]);
  });

  it('a voice call that ended with an error endedReason alerts; a normal end does not', async () => {
    const receiver = await startReceiver();
    const w = world({ ALERT_WEBHOOK_URL: receiver.url, ALERT_WEBHOOK_FORMAT: 'slack' });
    const vapi = (body: unknown) => w.app.request('/api/webhooks/vapi', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const student = unique('stu_');
    const bad = webCall({ startedAt: new Date(now.getTime() - 120_000), metadata: { studentId: student } });
    expect((await vapi(bad.report({ endedReason: 'pipeline-error-openai-llm-failed', endAt: 60 }))).status).toBe(200);
    const good = webCall({ startedAt: new Date(now.getTime() - 100_000), metadata: { studentId: unique('stu_') } });
    expect((await vapi(good.report({ endedReason: 'customer-ended-call', endAt: 60 }))).status).toBe(200);
    const alerts = await w.alerts();
    expect(alerts).toEqual([expect.objectContaining({ rule: 'call_error', key: student, student_id: student, delivery: { status: 'delivered', attempts: 1 } })]);
    expect(alerts[0]?.title).toBe(`${student}'s call ended with an error: pipeline-error-openai-llm-failed`);
    // Slack incoming-webhook body: text plus blocks.
    expect(receiver.received[0]?.body).toEqual({
      text: `Sessionlog alert: ${alerts[0]?.title}`,
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: alerts[0]?.title, emoji: true } },
        { type: 'section', text: { type: 'mrkdwn', text: alerts[0]?.detail } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: `rule \`call_error\` · session \`${alerts[0]?.session_id}\` · ${alerts[0]?.created_at}` }] },
      ],
    });
    expect(receiver.received[0]?.headers['x-sessionlog-signature']).toBeUndefined();
    await receiver.close();
  });
});

describe('delivery', () => {
  it('retries with backoff on later evaluations: a receiver that fails first, then succeeds', async () => {
    const receiver = await startReceiver({ failures: 1 });
    const w = world({ ALERT_WEBHOOK_URL: receiver.url });
    const bo = w.room.student('bo');
    const type = unique('E');
    await w.room.post([bo.error(2, 1, type), bo.error(1, 1, type), bo.error(0, 1, type)]);
    expect(await w.alerts()).toEqual([expect.objectContaining({ delivery: { status: 'pending', attempts: 1 } })]);
    // An event in the same minute: no cohort pass, no retry.
    await w.room.post([bo.action(0, 1)]);
    expect((await w.alerts())[0]?.delivery).toEqual({ status: 'pending', attempts: 1 });
    // The next minute, after the 30 s backoff: the pass retries it.
    now = new Date(now.getTime() + 61_000);
    await w.room.post([w.room.student('other').action(0, 1)]);
    expect((await w.alerts())[0]?.delivery).toEqual({ status: 'delivered', attempts: 2 });
    const id = (await w.alerts())[0]?.id;
    expect(receiver.received.filter((r) => (r.body.alert as { id: string }).id === id)).toHaveLength(2);
    await receiver.close();
  });

  it('a receiver that checks the signature refuses a delivery signed with another key', async () => {
    const receiver = await startReceiver({ secret: 'the-receivers-key' });
    const w = world({ ALERT_WEBHOOK_URL: receiver.url, ALERT_WEBHOOK_SECRET: 'some-other-key' });
    const ivy = w.room.student('ivy');
    await w.room.post([ivy.error(2, 1, 'Sig'), ivy.error(1, 1, 'Sig'), ivy.error(0, 1, 'Sig')]);
    expect((await w.alerts())[0]?.delivery).toEqual({ status: 'pending', attempts: 1 });
    expect(receiver.badSignatures).toBe(1);
    expect(receiver.received).toEqual([]);
    await receiver.close();
  });

  it('gives up after max_attempts (config file), and the cron sweep retries too', async () => {
    const receiver = await startReceiver({ failures: 100 });
    const w = world({ ALERT_WEBHOOK_URL: receiver.url, CRON_SECRET: 'cron-secret-123', SESSION_CONFIG: JSON.stringify({ alerts: { max_attempts: 2, rules: { repeated_error: { count: 2 } } } }) });
    const cy = w.room.student('cy');
    await w.room.post([cy.error(1, 1, unique('E')), cy.error(0, 1, 'E'), cy.error(0, 1, 'E')]);
    expect((await w.alerts())[0]?.delivery).toEqual({ status: 'pending', attempts: 1 });
    now = new Date(now.getTime() + 31_000);
    expect((await w.app.request('/api/cron/sweep', { method: 'POST', headers: { authorization: 'Bearer cron-secret-123' } })).status).toBe(200);
    const [alert] = await w.alerts();
    expect(alert?.delivery).toEqual({ status: 'failed', attempts: 2 });
    // Only this alert's attempts: the sweep also retried what earlier tests left pending (one database).
    expect(receiver.received.filter((r) => (r.body.alert as { id: string }).id === alert?.id)).toHaveLength(2);
    await receiver.close();
  });

  it('never slows or fails ingestion: a webhook that hangs or refuses connections', async () => {
    const hanging = await startReceiver({ hang: true });
    const w = world({ ALERT_WEBHOOK_URL: hanging.url });
    const dee = w.room.student('dee');
    const started = performance.now();
    await w.room.post([dee.error(2, 1, 'Hang'), dee.error(1, 1, 'Hang'), dee.error(0, 1, 'Hang')]);
    expect(performance.now() - started).toBeLessThan(2000); // the delivery waits up to 5 s, after the response
    await hanging.close();
    const [a] = await w.alerts();
    expect(a?.delivery).toEqual({ status: 'pending', attempts: 1 });

    const refused = world({ ALERT_WEBHOOK_URL: 'http://127.0.0.1:9/hooks?token=refused-secret-token' });
    const eve = refused.room.student('eve');
    await refused.room.post([eve.error(2, 1, 'Refused'), eve.error(1, 1, 'Refused'), eve.error(0, 1, 'Refused')]);
    expect((await refused.alerts())[0]?.delivery).toEqual({ status: 'pending', attempts: 1 });
  });

  it('secrets stay out of logs and answers; GET /api/alerts is for instructors and validates its query', async () => {
    const receiver = await startReceiver({ failures: 1 });
    logs.length = 0;
    const w = world({ ALERT_WEBHOOK_URL: receiver.url, ALERT_WEBHOOK_SECRET: 'very-secret-signing-key' });
    const fay = w.room.student('fay');
    await w.room.post([fay.error(2, 1, 'S'), fay.error(1, 1, 'S'), fay.error(0, 1, 'S')]);
    const listed = JSON.stringify(await w.alerts());
    expect(logs.some((l) => l.includes('alert delivery failed') && l.includes('HTTP 500'))).toBe(true);
    for (const text of [...logs, listed]) {
      expect(text).not.toContain('receiver-secret-token');
      expect(text).not.toContain('very-secret-signing-key');
      expect(text).not.toContain('127.0.0.1');
    }
    await expectProblem(await w.app.request('/api/alerts'), 401);
    await expectProblem(await w.app.request('/api/alerts?limit=0', { headers: admin }), 400);
    await expectProblem(await w.app.request('/api/alerts?since=today', { headers: admin }), 400);
    const two = AlertList.parse(await (await w.app.request('/api/alerts?limit=2', { headers: admin })).json());
    expect(two.alerts.length).toBeLessThanOrEqual(2);
    await receiver.close();
  });
});

describe('lifecycle', () => {
  it('erasing a student erases their alerts; retention deletes alerts older than RETENTION_DAYS', async () => {
    const w = world({ CRON_SECRET: 'cron-secret-123' });
    const gus = w.room.student('gus');
    await w.room.post([gus.error(2, 1, 'G'), gus.error(1, 1, 'G'), gus.error(0, 1, 'G')]);
    expect((await w.alerts()).map((a) => a.student_id)).toEqual([gus.email]);
    expect((await w.app.request(`/api/students/${gus.email}`, { method: 'DELETE', headers: admin })).status).toBe(200);
    expect(await w.alerts()).toEqual([]);
    expect(await sql.query('SELECT 1 FROM alert_cooldowns WHERE key = $1', [gus.email])).toEqual([]);

    const key = unique('old');
    const draft = { rule: 'error_spike' as const, key, studentId: null, sessionId: null, title: 't', detail: 'd', data: {} };
    const [old] = await raiseAlerts(sql, [draft], new Date(now.getTime() - 91 * 86_400_000), 60_000, false);
    const [recent] = await raiseAlerts(sql, [{ ...draft, key: `${key}_new` }], new Date(now.getTime() - 89 * 86_400_000), 60_000, false);
    expect((await w.app.request('/api/cron/retention', { method: 'POST', headers: { authorization: 'Bearer cron-secret-123' } })).status).toBe(200);
    const left = await sql.query<{ id: string }>('SELECT id::text AS id FROM alerts WHERE id = ANY ($1::bigint[])', [[old?.id, recent?.id]]);
    expect(left.map((r) => r.id)).toEqual([recent?.id]);
  });
});
