/**
 * Every credential Vapi offers (HmacAuthenticationPlan: algorithm sha256/sha512/sha1, hex or
 * base64, signaturePrefix, signatureHeader/timestampHeader; BearerAuthenticationPlan: headerName,
 * bearerPrefixEnabled; the legacy X-Vapi-Secret), replay protection (signed timestamps, tool calls
 * never run twice) and the body not being read before the headers allow it.
 */
import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { sessionsFamily } from '../../lib/routes/sessions/index.js';
import { webhooksFamily } from '../../lib/routes/webhooks/index.js';
import type { Sql } from '../../lib/storage/sql.js';
import { freshStudent, toolUse, webCall } from '../fixtures/vapi/calls.js';
import { type Client, client, ToolResults } from '../fixtures/vapi/http.js';
import { makeDeps, memoryPglite, testConfig } from '../helpers/deps.js';
import { startToolServer, type ToolServer } from '../helpers/tool-server.js';

const SECRET = 'vapi-bearer-secret-7d1e4b-0123456789abcdef';
const HMAC = 'vapi-hmac-secret-c41f08-0123456789abcdef';

let sql: Sql;
const now = new Date('2025-11-01T12:00:00Z');
const servers: ToolServer[] = [];
function build(env: Record<string, string>) {
  const app = createApp(makeDeps({ sql, config: testConfig(env), now: () => now }), [webhooksFamily(), sessionsFamily]);
  return { app, api: client(app) };
}
const appWith = (env: Record<string, string>) => build(env).api;

beforeAll(async () => {
  sql = await memoryPglite();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(() => sql.close());

const sign = (alg: 'sha256' | 'sha512' | 'sha1', payload: string, enc: 'hex' | 'base64' = 'hex', key = HMAC) => createHmac(alg, key).update(payload).digest(enc);
const seconds = (d: Date) => String(Math.floor(d.getTime() / 1000));

function delivery() {
  const student = freshStudent();
  const c = webCall({ startedAt: new Date(now.getTime() - 5000), metadata: { studentId: student } });
  return { student, raw: JSON.stringify(c.status('in-progress', 1)) };
}
async function accepted(api: Client, headers: (raw: string) => Record<string, string>) {
  const d = delivery();
  const res = await api.vapiRaw(d.raw, headers(d.raw));
  expect(res.status, await res.clone().text()).toBe(200);
  expect(await api.sessions({ student_id: d.student })).toHaveLength(1);
}
async function refused(api: Client, headers: (raw: string) => Record<string, string>, send: (raw: string) => string = (raw) => raw) {
  const d = delivery();
  const p = await api.problem(await api.vapiRaw(send(d.raw), headers(d.raw)), 401);
  expect(p.code).toBe('UNAUTHORIZED');
  expect(await api.sessions({ student_id: d.student })).toEqual([]);
}

describe('HMAC plan options (the SDK HmacAuthenticationPlan: secretIsBase64, payloadFormat, messageIdHeader)', () => {
  it('secretIsBase64: the key is the bytes the secret encodes; a signature keyed by the text itself is refused', async () => {
    const bytes = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) % 256));
    const b64 = bytes.toString('base64');
    const api = appWith({ VAPI_HMAC_SECRET: b64, VAPI_HMAC_SECRET_IS_BASE64: 'true' });
    const ts = seconds(now);
    await accepted(api, (raw) => ({ 'x-timestamp': ts, 'x-signature': createHmac('sha256', bytes).update(`${ts}.${raw}`).digest('hex') }));
    await refused(api, (raw) => ({ 'x-timestamp': ts, 'x-signature': createHmac('sha256', b64).update(`${ts}.${raw}`).digest('hex') }));
  });

  it('payloadFormat with {method}, {url}, {svix-id}: that payload is signed; the default one is refused', async () => {
    const api = appWith({ VAPI_HMAC_SECRET: HMAC, VAPI_HMAC_PAYLOAD_FORMAT: '{svix-id}|{method} {url}|{timestamp}|{body}', VAPI_MESSAGE_ID_HEADER: 'Svix-Id' });
    const ts = seconds(now);
    const id = 'msg_2b4Xq1';
    const custom = (raw: string) => `${id}|POST http://localhost/api/webhooks/vapi|${ts}|${raw}`;
    await accepted(api, (raw) => ({ 'svix-id': id, 'x-timestamp': ts, 'x-signature': sign('sha256', custom(raw)) }));
    await refused(api, (raw) => ({ 'svix-id': id, 'x-timestamp': ts, 'x-signature': sign('sha256', `${ts}.${raw}`) }));
    // Another message id than the one signed: refused.
    await refused(api, (raw) => ({ 'svix-id': 'msg_other', 'x-timestamp': ts, 'x-signature': sign('sha256', custom(raw)) }));
  });

  it('a payloadFormat without {timestamp} is refused at start-up unless VAPI_HMAC_REQUIRE_TIMESTAMP=false (replayable), and then verifies without one', async () => {
    expect(() => testConfig({ VAPI_HMAC_SECRET: HMAC, VAPI_HMAC_PAYLOAD_FORMAT: '{body}' })).toThrow(/VAPI_HMAC_PAYLOAD_FORMAT has no \{timestamp\}/);
    expect(() => testConfig({ VAPI_HMAC_SECRET: HMAC, VAPI_HMAC_PAYLOAD_FORMAT: '{timestamp}' })).toThrow(/must contain \{body\}/);
    const api = appWith({ VAPI_HMAC_SECRET: HMAC, VAPI_HMAC_PAYLOAD_FORMAT: 'v1:{body}', VAPI_HMAC_REQUIRE_TIMESTAMP: 'false' });
    await accepted(api, (raw) => ({ 'x-signature': sign('sha256', `v1:${raw}`) }));
    await refused(api, (raw) => ({ 'x-signature': sign('sha256', raw) }));
  });
});

describe('HMAC plans', () => {
  it.each([
    ['sha256', 'hex'],
    ['sha256', 'base64'],
    ['sha512', 'hex'],
    ['sha512', 'base64'],
    ['sha1', 'hex'],
    ['sha1', 'base64'],
  ] as const)('%s in %s over `{timestamp}.{body}` is accepted; tampered, stale or other-algorithm is refused', async (alg, enc) => {
    const api = appWith({ VAPI_HMAC_SECRET: HMAC, VAPI_HMAC_ALGORITHM: alg });
    const ts = seconds(now);
    await accepted(api, (raw) => ({ 'x-timestamp': ts, 'x-signature': sign(alg, `${ts}.${raw}`, enc) }));
    await refused(api, (raw) => ({ 'x-timestamp': ts, 'x-signature': sign(alg, `${ts}.${raw}`, enc) }), (raw) => raw.replace('in-progress', 'ended'));
    const stale = seconds(new Date(now.getTime() - 301_000));
    await refused(api, (raw) => ({ 'x-timestamp': stale, 'x-signature': sign(alg, `${stale}.${raw}`, enc) }));
    const other = alg === 'sha512' ? 'sha256' : 'sha512';
    await refused(api, (raw) => ({ 'x-timestamp': ts, 'x-signature': sign(other, `${ts}.${raw}`, enc) }));
    // Without the timestamp header the signature counts for nothing (by default).
    await refused(api, (raw) => ({ 'x-signature': sign(alg, `${ts}.${raw}`, enc) }));
  });

  it('a timestamp in milliseconds is accepted as well as seconds', async () => {
    const api = appWith({ VAPI_HMAC_SECRET: HMAC });
    const ms = String(now.getTime() - 2000);
    await accepted(api, (raw) => ({ 'x-timestamp': ms, 'x-signature': sign('sha256', `${ms}.${raw}`) }));
  });

  it('a configured prefix (GitHub-style `sha256=`) and custom headers', async () => {
    const api = appWith({ VAPI_HMAC_SECRET: HMAC, VAPI_SIGNATURE_PREFIX: 'v1,', VAPI_SIGNATURE_HEADER: 'X-Hub-Signature', VAPI_TIMESTAMP_HEADER: 'X-Hub-Time' });
    const ts = seconds(now);
    await accepted(api, (raw) => ({ 'X-Hub-Time': ts, 'X-Hub-Signature': `v1,${sign('sha256', `${ts}.${raw}`)}` }));
    await accepted(api, (raw) => ({ 'X-Hub-Time': ts, 'X-Hub-Signature': `sha256=${sign('sha256', `${ts}.${raw}`)}` }));
    // The default headers are not read when others are configured.
    await refused(api, (raw) => ({ 'x-timestamp': ts, 'x-signature': sign('sha256', `${ts}.${raw}`) }));
  });

  it('VAPI_HMAC_REQUIRE_TIMESTAMP=false also accepts a body-only signature (weaker), still not a stale timestamped one', async () => {
    const api = appWith({ VAPI_HMAC_SECRET: HMAC, VAPI_HMAC_REQUIRE_TIMESTAMP: 'false' });
    await accepted(api, (raw) => ({ 'x-vapi-signature': sign('sha256', raw) }));
    const stale = seconds(new Date(now.getTime() - 3_600_000));
    await refused(api, (raw) => ({ 'x-timestamp': stale, 'x-signature': sign('sha256', `${stale}.${raw}`) }));
  });
});

describe('Bearer plans and the legacy secret', () => {
  it('Authorization: Bearer, the token without the prefix, and X-Vapi-Secret', async () => {
    const api = appWith({ VAPI_WEBHOOK_SECRET: SECRET });
    await accepted(api, () => ({ Authorization: `Bearer ${SECRET}` }));
    await accepted(api, () => ({ Authorization: SECRET }));
    await accepted(api, () => ({ 'X-Vapi-Secret': SECRET }));
    await refused(api, () => ({ Authorization: `Bearer ${SECRET.slice(1)}` }));
  });

  it('VAPI_BEARER_HEADER: the credential in a custom header, with or without `Bearer `', async () => {
    const api = appWith({ VAPI_WEBHOOK_SECRET: SECRET, VAPI_BEARER_HEADER: 'X-Sessionlog-Token' });
    await accepted(api, () => ({ 'X-Sessionlog-Token': SECRET }));
    await accepted(api, () => ({ 'X-Sessionlog-Token': `Bearer ${SECRET}` }));
    await refused(api, () => ({ Authorization: `Bearer ${SECRET}` }));
  });
});

/** A request whose body records whether anyone started reading it. */
function watchedRequest(headers: Record<string, string>, bytes: number) {
  const state = { pulled: false };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      state.pulled = true;
      controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
      controller.close();
    },
    // No read-ahead: `pulled` turns true only when someone reads the body.
  }, { highWaterMark: 0 });
  const req = new Request('http://localhost/api/webhooks/vapi', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': String(bytes), ...headers },
    body,
    duplex: 'half',
  } as RequestInit);
  return { req, state };
}

describe('the body is not read before the headers allow it', () => {
  it('no usable credential → 401 without reading a byte', async () => {
    for (const env of [{ VAPI_WEBHOOK_SECRET: SECRET }, { VAPI_HMAC_SECRET: HMAC }, { VAPI_WEBHOOK_SECRET: SECRET, VAPI_HMAC_SECRET: HMAC }] as Array<Record<string, string>>) {
      const { app } = build(env);
      for (const headers of [{}, { Authorization: 'Bearer wrong-token-wrong-token-wrong-token' }, { 'x-signature': 'zz' }, { 'x-signature': 'a'.repeat(64) }] as Array<Record<string, string>>) {
        const { req, state } = watchedRequest(headers, 15 * 1024 * 1024);
        const res = await app.request(req);
        expect(res.status).toBe(401);
        expect(state.pulled).toBe(false);
      }
    }
  });

  it('a stale signed timestamp → 401 without reading the body', async () => {
    const { app } = build({ VAPI_HMAC_SECRET: HMAC });
    const { req, state } = watchedRequest({ 'x-timestamp': seconds(new Date(now.getTime() - 3_600_000)), 'x-signature': 'a'.repeat(64) }, 1024);
    expect((await app.request(req)).status).toBe(401);
    expect(state.pulled).toBe(false);
  });

  it('a plausible signature is read only within the unverified budget: beyond it 503 + Retry-After, unread', async () => {
    const { app } = build({ VAPI_HMAC_SECRET: HMAC, VAPI_UNVERIFIED_BUDGET_MB: '1' });
    const { req, state } = watchedRequest({ 'x-timestamp': seconds(now), 'x-signature': 'a'.repeat(64) }, 2 * 1024 * 1024);
    const res = await app.request(req);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(state.pulled).toBe(false);
    // The budget is given back: a genuine signed delivery still gets through.
    await accepted(client(app), (raw) => {
      const ts = seconds(now);
      return { 'x-timestamp': ts, 'x-signature': sign('sha256', `${ts}.${raw}`) };
    });
  });
});

/**
 * A signed POST from `address` that declares `declared` bytes, sends `sent` of them at once and then
 * nothing until `finish()` closes it (the slow-body attack: bytes held while the body never ends).
 */
function stalledRequest(address: string, declared: number, sent: number) {
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      c.enqueue(new Uint8Array(sent).fill(0x20));
    },
  });
  const req = new Request('http://localhost/api/webhooks/vapi', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': String(declared), 'cf-connecting-ip': address, 'x-timestamp': seconds(now), 'x-signature': 'a'.repeat(64) },
    body,
    duplex: 'half',
  } as RequestInit);
  return { req, finish: () => controller?.close() };
}

describe('the unverified budget per client address', () => {
  it('one address holds at most half of it: its second slow body is refused (503) and signed deliveries from elsewhere still get through', async () => {
    const MB = 1024 * 1024;
    // 2 MB in all, 1 MB per address. Before the share, two slow bodies of one client held it all.
    const { app } = build({ VAPI_HMAC_SECRET: HMAC, VAPI_UNVERIFIED_BUDGET_MB: '2' });
    const first = stalledRequest('203.0.113.9', MB - 16, MB - 32);
    const firstAnswer = app.request(first.req);
    await new Promise((r) => setTimeout(r, 50));
    const second = stalledRequest('203.0.113.9', MB - 16, MB - 32);
    const res = await app.request(second.req);
    const problem = (await res.json()) as { code: string; detail: string };
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(problem.code).toBe('UNAVAILABLE');
    expect(problem.detail).toContain('from this address');
    second.finish();
    // Vapi's deliveries come from another address: read, verified and stored beside the slow body.
    await accepted(client(app), (raw) => {
      const ts = seconds(now);
      return { 'x-timestamp': ts, 'x-signature': sign('sha256', `${ts}.${raw}`) };
    });
    // Another client is not held to the first one's share.
    const other = stalledRequest('198.51.100.7', MB - 16, MB - 32);
    const otherAnswer = app.request(other.req);
    await new Promise((r) => setTimeout(r, 50));
    other.finish();
    first.finish();
    expect((await otherAnswer).status).toBe(401);
    expect((await firstAnswer).status).toBe(401);
  });
});

describe('replays inside the tolerance', () => {
  it('a captured signed tool-calls message replayed is answered the same and never reaches the tool server twice', async () => {
    const server = await startToolServer();
    servers.push(server);
    const api = appWith({ VAPI_HMAC_SECRET: HMAC, TOOL_SERVER_URL: server.url });
    const c = webCall({ startedAt: new Date(now.getTime() - 30_000), metadata: { studentId: freshStudent() } });
    const raw = JSON.stringify(c.toolCalls([toolUse('record_attempt', { answer: '5/6' }, 20)]));
    const ts = seconds(now);
    const headers = { 'x-timestamp': ts, 'x-signature': sign('sha256', `${ts}.${raw}`) };
    const first = ToolResults.parse(await api.vapi(raw, headers));
    const again = ToolResults.parse(await api.vapi(raw, headers));
    expect(again).toEqual(first);
    expect(first.results).toHaveLength(1);
    expect(server.requests).toHaveLength(1);
  });
});
