/**
 * Vapi webhook authentication: X-Vapi-Secret, Bearer, HMAC-SHA256 over the raw body (with and
 * without a signed timestamp, under a configurable header), and what happens with nothing
 * configured. A refused delivery stores nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { sessionsFamily } from '../../lib/routes/sessions/index.js';
import { webhooksFamily } from '../../lib/routes/webhooks/index.js';
import type { Sql } from '../../lib/storage/sql.js';
import { freshStudent, webCall } from '../fixtures/vapi/calls.js';
import { type Client, client, hmacHex } from '../fixtures/vapi/http.js';
import { makeDeps, memoryPglite, testConfig } from '../helpers/deps.js';

const SECRET = 'vapi-shared-secret-8f3a1c-0123456789';
const HMAC = 'vapi-hmac-key-2b7e90d4-0123456789abcdef';
const PRODUCTION = { NODE_ENV: 'production', DATABASE_URL: 'postgres://sessionlog@127.0.0.1:5432/sessionlog' };

let sql: Sql;
const now = new Date('2025-06-01T12:00:00Z');
const appWith = (env: Record<string, string>) => client(createApp(makeDeps({ sql, config: testConfig(env), now: () => now }), [webhooksFamily(), sessionsFamily]));

let secretApp: Client;
let hmacApp: Client;
beforeAll(async () => {
  sql = await memoryPglite();
  secretApp = appWith({ VAPI_WEBHOOK_SECRET: SECRET });
  hmacApp = appWith({ VAPI_HMAC_SECRET: HMAC });
});
afterAll(() => sql.close());

const seconds = (d: Date) => String(Math.floor(d.getTime() / 1000));

/** A fresh status-update (as exact raw text) whose student tells whether it was stored. */
function delivery() {
  const student = freshStudent();
  const c = webCall({ startedAt: new Date(now.getTime() - 5000), metadata: { studentId: student } });
  return { student, raw: JSON.stringify(c.status('in-progress', 1)) };
}

async function accepted(api: Client, headers: (raw: string) => Record<string, string>) {
  const d = delivery();
  const res = await api.vapiRaw(d.raw, headers(d.raw));
  expect(res.status, await res.clone().text()).toBe(200);
  expect(await res.json()).toEqual({});
  expect(await api.sessions({ student_id: d.student })).toHaveLength(1);
}

async function refused(api: Client, headers: (raw: string) => Record<string, string>, send: (raw: string) => string = (raw) => raw) {
  const d = delivery();
  const p = await api.problem(await api.vapiRaw(send(d.raw), headers(d.raw)), 401);
  expect(p.code).toBe('UNAUTHORIZED');
  expect(await api.sessions({ student_id: d.student })).toEqual([]);
}

describe('shared secret (VAPI_WEBHOOK_SECRET)', () => {
  it.each([
    ['X-Vapi-Secret', () => ({ 'X-Vapi-Secret': SECRET })],
    ['Authorization: Bearer', () => ({ Authorization: `Bearer ${SECRET}` })],
  ])('accepts %s', async (_n, headers) => {
    await accepted(secretApp, headers);
  });

  it.each([
    ['no credentials', () => ({})],
    ['a wrong X-Vapi-Secret', () => ({ 'X-Vapi-Secret': `${SECRET}x` })],
    ['a wrong Bearer token', () => ({ Authorization: 'Bearer not-the-secret' })],
    ['the secret under another scheme', () => ({ Authorization: `Basic ${SECRET}` })],
    ['an empty X-Vapi-Secret', () => ({ 'X-Vapi-Secret': '' })],
  ])('refuses %s → 401', async (_n, headers) => {
    await refused(secretApp, headers);
  });

  it('checks credentials before reading the message: bad JSON without a secret is 401, not 400', async () => {
    const p = await secretApp.problem(await secretApp.vapiRaw('{"message": '), 401);
    expect(p.code).toBe('UNAUTHORIZED');
  });
});

describe('HMAC signature (VAPI_HMAC_SECRET)', () => {
  it('refuses the HMAC of the body alone by default (replayable); accepts it with VAPI_HMAC_REQUIRE_TIMESTAMP=false', async () => {
    await refused(hmacApp, (raw) => ({ 'x-vapi-signature': hmacHex(HMAC, raw) }));
    // A body-only signature beside a fresh timestamp: the timestamp is not what was signed.
    await refused(hmacApp, (raw) => ({ 'x-timestamp': seconds(now), 'x-signature': hmacHex(HMAC, raw) }));
    const weak = appWith({ VAPI_HMAC_SECRET: HMAC, VAPI_HMAC_REQUIRE_TIMESTAMP: 'false' });
    await accepted(weak, (raw) => ({ 'x-vapi-signature': hmacHex(HMAC, raw) }));
    await accepted(weak, (raw) => ({ 'x-signature': hmacHex(HMAC, raw) }));
  });

  it.each([
    ['no signature', () => ({}), undefined],
    ['a signature made with another key', (raw: string) => ({ 'x-vapi-signature': hmacHex('another-key', raw) }), undefined],
    ['a tampered body (signature of the original)', (raw: string) => ({ 'x-vapi-signature': hmacHex(HMAC, raw) }), (raw: string) => raw.replace('in-progress', 'ended')],
    ['the same JSON re-serialised (the signature covers the raw bytes)', (raw: string) => ({ 'x-vapi-signature': hmacHex(HMAC, raw) }), (raw: string) => JSON.stringify(JSON.parse(raw), null, 2)],
    ['the HMAC key sent as a Bearer token', () => ({ Authorization: `Bearer ${HMAC}` }), undefined],
    ['a truncated signature', (raw: string) => ({ 'x-vapi-signature': hmacHex(HMAC, raw).slice(0, 32) }), undefined],
  ])('refuses %s → 401', async (_n, headers, send) => {
    await refused(hmacApp, headers, send);
  });

  it('accepts a timestamped signature over `{timestamp}.{body}`', async () => {
    await accepted(hmacApp, (raw) => {
      const ts = seconds(now);
      return { 'x-timestamp': ts, 'x-vapi-signature': hmacHex(HMAC, `${ts}.${raw}`) };
    });
  });

  it.each([
    ['10 minutes old', -600_000],
    ['10 minutes ahead', 600_000],
  ])('refuses a correctly signed timestamp %s → 401', async (_n, offset) => {
    await refused(hmacApp, (raw) => {
      const ts = seconds(new Date(now.getTime() + offset));
      return { 'x-timestamp': ts, 'x-vapi-signature': hmacHex(HMAC, `${ts}.${raw}`) };
    });
  });

  it('refuses a fresh timestamp swapped onto a signature made for another one → 401', async () => {
    await refused(hmacApp, (raw) => ({ 'x-timestamp': seconds(now), 'x-vapi-signature': hmacHex(HMAC, `${seconds(new Date(now.getTime() - 60_000))}.${raw}`) }));
  });

  it('reads the signature and timestamp from the configured headers (VAPI_SIGNATURE_HEADER / VAPI_TIMESTAMP_HEADER)', async () => {
    const custom = appWith({ VAPI_HMAC_SECRET: HMAC, VAPI_SIGNATURE_HEADER: 'X-Webhook-Signature', VAPI_TIMESTAMP_HEADER: 'X-Webhook-Timestamp' });
    await refused(custom, (raw) => ({ 'X-Webhook-Signature': hmacHex(HMAC, raw) }));
    await accepted(custom, (raw) => {
      const ts = String(now.getTime());
      return { 'X-Webhook-Timestamp': ts, 'X-Webhook-Signature': hmacHex(HMAC, `${ts}.${raw}`) };
    });
    await refused(custom, (raw) => {
      const ts = seconds(now);
      return { 'x-timestamp': ts, 'x-vapi-signature': hmacHex(HMAC, `${ts}.${raw}`) };
    });
    await refused(custom, (raw) => {
      const ts = String(now.getTime() - 3_600_000);
      return { 'X-Webhook-Timestamp': ts, 'X-Webhook-Signature': hmacHex(HMAC, `${ts}.${raw}`) };
    });
  });
});

describe('nothing configured', () => {
  it('local mode accepts unauthenticated deliveries', async () => {
    await accepted(appWith({}), () => ({}));
  });

  it('production refuses every delivery, whatever it carries → 401', async () => {
    const prod = appWith(PRODUCTION);
    await refused(prod, () => ({}));
    await refused(prod, (raw) => ({ 'X-Vapi-Secret': SECRET, Authorization: `Bearer ${SECRET}`, 'x-vapi-signature': hmacHex(HMAC, raw) }));
  });

  it('production with a secret configured accepts it and refuses anything else', async () => {
    const prod = appWith({ ...PRODUCTION, VAPI_WEBHOOK_SECRET: SECRET });
    await accepted(prod, () => ({ 'X-Vapi-Secret': SECRET }));
    await refused(prod, () => ({}));
  });
});
