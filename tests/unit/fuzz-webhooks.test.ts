/**
 * Fuzzing the voice-platform webhooks: Vapi server messages (known and unknown `type`s, every
 * field the handler reads with random types) and generic session-data bodies. Properties: always
 * 2xx or a 400 problem, never 5xx; afterwards every session the deliveries made reads back.
 * The bugs it found are kept at the end as regressions.
 *
 * Replay: FC_SEED=<seed> FC_PATH=<path> npx vitest run tests/unit/fuzz-webhooks
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { StorageUnavailableError } from '../../lib/errors.js';
import { ROUTES } from '../../lib/routes/inventory.js';
import { sanitizeJson } from '../../lib/schemas/common.js';
import { SessionDocument, SessionStats } from '../../lib/schemas/session.js';
import type { Kv } from '../../lib/storage/kv.js';
import type { Sql } from '../../lib/storage/sql.js';
import { ADMIN_TOKEN, makeDeps, memoryPglite, type TestDeps, testConfig } from '../helpers/deps.js';
import { counted, runs, SCALE } from '../helpers/fuzz.js';

// Rate limits off: a 429 is a fine answer in general, but these properties count every delivery.
const SECRETS = { SERVICE_TOKEN: 'svc-token-123', CRON_SECRET: 'cron-secret-123', WEBHOOK_TOKEN: 'hook-token-123', VAPI_WEBHOOK_SECRET: 'vapi-secret-123', RATE_LIMITS: 'off' };
const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };
const VAPI: Array<Record<string, string>> = [{ 'x-vapi-secret': 'vapi-secret-123' }, { authorization: 'Bearer vapi-secret-123' }];
/** Every path of each webhook, aliases included, from the route inventory. */
const VAPI_PATHS = ROUTES.filter((d) => d.tag === 'webhooks' && d.auth === 'vapi').map((d) => d.path);
const SESSION_DATA_PATHS = ROUTES.filter((d) => d.tag === 'webhooks' && d.auth === 'webhook').map((d) => d.path);

let sql: Sql;
let deps: TestDeps;
let app: ReturnType<typeof createApp> & { requests: () => number };
/** The same API with Redis gone: every KV call fails (the dedupe mark and call-link cache with it). */
let noKvApp: ReturnType<typeof createApp>;
const downKv = new Proxy({} as Kv, {
  get: (_t, name) => (name === 'driver' ? 'upstash' : () => Promise.reject(new StorageUnavailableError('kv', `${String(name)}: connection refused`))),
});

async function post(path: string, headers: Record<string, string>, body: unknown): Promise<Response> {
  return app.request(path, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}
/** 2xx, or a 400 problem document — nothing else. */
async function twoXxOr400(res: Response, what: string): Promise<void> {
  const text = await res.text();
  if (!(res.status < 300 || res.status === 400)) throw new Error(`${what} → ${res.status} ${text.slice(0, 400)}`);
  if (res.status === 400) {
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const p = JSON.parse(text) as { status?: unknown; detail?: unknown };
    expect(p.status).toBe(400);
    expect(typeof p.detail).toBe('string');
  }
}

// ---- generators ----
const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constantFrom("' OR 1=1 --", '🎓', '\u0000', '\ud800', 'AI: hi\nUser: hello\nBot: ok', '', ' '));
const junk: fc.Arbitrary<unknown> = fc.oneof(text, fc.jsonValue({ maxDepth: 3 }), fc.double(), fc.integer(), fc.boolean(), fc.constant(null));
const maybe = <T>(a: fc.Arbitrary<T>) => fc.oneof({ weight: 5, arbitrary: a }, { weight: 1, arbitrary: junk });
/** For time fields: junk of any type, out-of-range numbers included. */
const maybeTime = <T>(a: fc.Arbitrary<T>) => fc.oneof({ weight: 5, arbitrary: a }, { weight: 1, arbitrary: fc.oneof(text, fc.boolean(), fc.constant(null), fc.array(text, { maxLength: 2 }), fc.double(), fc.constantFrom(1e20, -9e12, -1e20)) });
const TIME_FIELDS = /^(timestamp|startedAt|createdAt|endedAt|time|endTime|secondsFromStart)$/;
const field = (k: string, a: fc.Arbitrary<unknown>) => (TIME_FIELDS.test(k) ? maybeTime(a) : maybe(a));
const opt = (shape: Record<string, fc.Arbitrary<unknown>>) => fc.record(Object.fromEntries(Object.entries(shape).map(([k, a]) => [k, field(k, a)])), { requiredKeys: [] });
/** Times as Vapi sends them (epoch ms, epoch s, ISO) and junk, out-of-range values included. */
const time = fc
  .oneof(
    fc.date({ min: new Date('2000-01-01'), max: new Date(Date.now() + 86_400_000), noInvalidDate: true }).chain((d) => fc.constantFrom<unknown>(d.getTime(), Math.floor(d.getTime() / 1000), d.toISOString(), String(d.getTime()))),
    fc.integer({ min: -1e9, max: 4e12 }),
    fc.double(),
    fc.constantFrom('yesterday', '', '2026-13-45', '1e3', 'NaN', '0', '1e20', '-1e20', '8.64e15', '1e400', 'Infinity', '+275760-09-13T00:00:00Z', '0000-01-01T00:00:00Z'),
    fc.string({ maxLength: 12 }),
  );
const callId = fc.oneof(fc.constantFrom('call-1', 'call-2', 'call-3', 'call-4'), fc.stringMatching(/^[A-Za-z0-9_.:-]{1,60}$/), fc.string({ minLength: 150, maxLength: 400 }));
const sessionRef = fc.constantFrom('vx_shared', 'vx_other', 'ws_page_1', 'a b/c', '🎓');
const studentRef = fc.constantFrom('emma_smith', 'bob', 'ann@home', 'x y');
const metadata = opt({ sessionId: sessionRef, session_id: sessionRef, studentId: studentRef, student_id: studentRef, sessionToken: sessionRef });
const json = fc.jsonValue({ maxDepth: 4 }); // deeper values: see the known-bug test "deep nesting"
const artifactMessage = opt({ role: fc.constantFrom('user', 'bot', 'assistant', 'customer', 'system', 'tool_calls', 'tool_call_result'), message: text, content: text, time, endTime: time, secondsFromStart: fc.double({ min: -1e6, max: 1e6, noNaN: true }), toolCalls: fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 2 }) });
const toolCall = opt({ id: fc.constantFrom('tc-1', 'tc-2', 'tc-3'), type: fc.constant('function'), function: opt({ name: text, arguments: fc.oneof(json.map((j) => JSON.stringify(j)), fc.dictionary(fc.string(), json, { maxKeys: 3 }), text) }) });
const TYPES = ['status-update', 'transcript', 'transcript[transcriptType="final"]', 'transcript[transcriptType="partial"]', 'tool-calls', 'function-call', 'end-of-call-report', 'hang', 'conversation-update', 'speech-update', 'user-interrupted', 'assistant-request'];
const message = fc.record(
  {
    type: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...TYPES) }, { weight: 1, arbitrary: fc.string({ maxLength: 210 }) }, { weight: 1, arbitrary: junk }),
    timestamp: maybeTime(time),
    call: maybe(opt({ id: callId, type: fc.constantFrom('webCall', 'inboundPhoneCall'), status: text, startedAt: time, createdAt: time, metadata, assistantOverrides: opt({ metadata, variableValues: metadata }), customer: opt({ number: fc.constantFrom('+1 555 010 0000', '+15550100001', 'x'), externalId: studentRef }) })),
    assistant: maybe(opt({ id: text, name: text, metadata })),
    customer: maybe(opt({ number: fc.constantFrom('+1 555 010 0000', '(555) 010-0000'), externalId: studentRef })),
    status: maybe(text),
    role: maybe(fc.constantFrom('user', 'assistant', 'bot', 'customer', 'system')),
    transcriptType: maybe(fc.constantFrom('final', 'partial')),
    transcript: maybe(text),
    endedReason: maybe(text),
    startedAt: maybeTime(time),
    endedAt: maybeTime(time),
    cost: maybe(fc.double()),
    costs: maybe(fc.array(json, { maxLength: 2 })),
    costBreakdown: maybe(fc.dictionary(fc.string(), json, { maxKeys: 3 })),
    durationSeconds: maybe(fc.double()),
    durationMs: maybe(fc.double()),
    durationMinutes: maybe(fc.double()),
    summary: maybe(text),
    recordingUrl: maybe(text),
    messages: maybe(fc.array(artifactMessage, { maxLength: 4 })),
    analysis: maybe(opt({ summary: text, structuredData: json, successEvaluation: json })),
    artifact: maybe(opt({ messages: fc.array(artifactMessage, { maxLength: 4 }), transcript: text, recordingUrl: text, recording: opt({ url: text, stereoUrl: text }) })),
    toolCallList: maybe(fc.array(toolCall, { maxLength: 3 })),
    toolCalls: maybe(fc.array(toolCall, { maxLength: 3 })),
    functionCall: maybe(opt({ name: text, parameters: fc.oneof(fc.dictionary(fc.string(), json, { maxKeys: 3 }), text) })),
  },
  { requiredKeys: ['type'] },
);
const iso = fc.oneof(fc.date({ min: new Date('2000-01-01'), max: new Date(Date.now() + 86_400_000), noInvalidDate: true }).map((d) => d.toISOString()), fc.constantFrom('0001-01-01T00:00:00Z', '0000-01-01T00:00:00Z', '2026-01-17T14:30:00+14:00'));
const entry = opt({ speaker: text, text, timestamp: iso });
const sessionData = fc.record(
  { platform: maybe(fc.constantFrom('superinterface', 'vapi', 'web', 'x-1')), session_id: maybe(sessionRef), student_id: maybe(studentRef), call_id: maybe(fc.oneof(callId, fc.constantFrom('sd-1', 'sd-2'))), started_at: maybe(iso), ended_at: maybe(iso), transcript: maybe(fc.oneof(text, fc.array(entry, { maxLength: 4 }))), metadata: maybe(fc.dictionary(fc.string(), json, { maxKeys: 3 })) },
  { requiredKeys: ['platform', 'started_at'] },
);

beforeAll(async () => {
  sql = await memoryPglite();
  deps = makeDeps({ sql, config: testConfig(SECRETS) });
  app = counted(createApp(deps, allFamilies));
  noKvApp = counted(createApp(makeDeps({ sql, kv: downKv, config: testConfig(SECRETS) }), allFamilies));
  const svc = { authorization: 'Bearer svc-token-123' };
  expect((await post('/api/sessions', svc, { participant: 'alice', session_id: 'vx_shared', student_id: 'emma_smith' })).status).toBe(201);
  expect((await post('/api/sessions/interactions', svc, { student_id: 'bob', function: 'f' })).status).toBe(200);
  expect((await app.request('/api/students/bob', { method: 'PUT', headers: { ...ADMIN, 'content-type': 'application/json' }, body: '{"phone_numbers":["+1 555 010 0000"]}' })).status).toBe(200);
});
afterAll(async () => {
  await deps.settle();
  await sql.close();
  if (process.env.FUZZ_STATS) console.log(`fuzz-webhooks: ${app.requests()} requests`);
});

describe('fuzz: webhooks', () => {
  it('Vapi: any message is answered 2xx or 400, never 5xx', { timeout: 120_000 * SCALE }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 9, arbitrary: message.map((m) => ({ message: m })) }, { weight: 1, arbitrary: junk.map((m) => ({ message: m })) }), fc.constantFrom(...VAPI_PATHS), fc.nat(1), async (b, path, i) => {
        const res = await post(path, VAPI[i] ?? {}, b);
        const what = `vapi ${JSON.stringify(b).slice(0, 400)}`;
        const answer = res.status === 200 ? ((await res.clone().json()) as { results?: Array<{ toolCallId?: unknown; result?: unknown; error?: unknown }> }) : {};
        await twoXxOr400(res, what);
        // Vapi reads tool results aloud: every tool call it sent gets a string result or a string error, never both.
        const m = b.message as { type?: unknown; toolCallList?: unknown; toolCalls?: unknown } | null;
        if (res.status === 200 && typeof m?.type === 'string' && m.type.startsWith('tool-calls') && answer.results) {
          // Every call with an id, from the first list that has one (a call without a name is still answered).
          const idsOf = (l: unknown) => (Array.isArray(l) ? l.flatMap((c) => (c && typeof c === 'object' && typeof c.id === 'string' ? [c.id as string] : [])) : []);
          // As the webhook stores them: NULs dropped, lone surrogates replaced (sanitizeJson).
          const ids = ([idsOf(m.toolCallList), idsOf(m.toolCalls)].find((x) => x.length > 0) ?? []).map((id) => sanitizeJson(id));
          expect(answer.results.map((r) => r.toolCallId), what).toEqual(ids);
          for (const r of answer.results) expect([typeof r.result, typeof r.error].sort(), what).toEqual(['string', 'undefined']);
        }
      }),
      runs(350),
    );
  });

  it('session-data: any body (a Vapi message inside too) is answered 2xx or 400', { timeout: 60_000 * SCALE }, async () => {
    const body = fc.oneof({ weight: 5, arbitrary: sessionData }, { weight: 1, arbitrary: message.map((m) => ({ message: m })) }, { weight: 1, arbitrary: junk });
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom(...SESSION_DATA_PATHS), async (b, path) => {
        await twoXxOr400(await post(path, { authorization: 'Bearer hook-token-123' }, b), `session-data ${JSON.stringify(b)?.slice(0, 400)}`);
      }),
      runs(200),
    );
  });

  it('a redelivered message changes nothing, even with Redis gone (same answer, same events)', { timeout: 60_000 * SCALE }, async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(message, async (m) => {
        // A fresh call per run. (A message without call.id and timestamp is keyed by its arrival
        // time — `nocall_<hash of now>` in lib/calls/link.ts — so each redelivery makes a new session.)
        const call = { ...(typeof m.call === 'object' && m.call !== null ? m.call : {}), id: `redeliver-${process.pid}-${++n}` };
        const body = JSON.stringify({ message: { ...m, call } });
        const deliver = () => noKvApp.request('/api/webhooks/session-data', { method: 'POST', headers: { authorization: 'Bearer hook-token-123', 'content-type': 'application/json' }, body });
        const first = await deliver();
        const a = await first.text();
        await twoXxOr400(new Response(a, first), `first ${body.slice(0, 300)}`);
        const sessionId = first.status === 200 ? (JSON.parse(a) as { session_id?: string | null }).session_id : null;
        const events = async () => (sessionId ? ((await (await app.request(`/api/sessions/${encodeURIComponent(sessionId)}/events`, { headers: ADMIN })).json()) as { events?: Array<{ event_id: string }> }).events?.map((e) => e.event_id).sort() : []);
        const before = await events();
        const second = await deliver();
        expect(second.status, body.slice(0, 300)).toBe(first.status);
        if (first.status === 200) expect(await second.json(), body.slice(0, 300)).toEqual(JSON.parse(a));
        expect(await events(), body.slice(0, 300)).toEqual(before);
      }),
      runs(100),
    );
  });

  it('afterwards every session the deliveries made reads back', { timeout: 60_000 * SCALE }, async () => {
    // The newest 100 (each read is four requests; the fuzz makes hundreds of sessions).
    const list = (await (await app.request('/api/sessions?limit=100', { headers: ADMIN })).json()) as { sessions: Array<{ session_id: string }> };
    expect(list.sessions.length).toBeGreaterThan(2);
    for (const { session_id: id } of list.sessions) {
      const at = `/api/sessions/${encodeURIComponent(id)}`;
      const doc = await app.request(at, { headers: ADMIN });
      expect(doc.status, at).toBe(200);
      SessionDocument.parse(await doc.json());
      const stats = await app.request(`${at}/summary`, { headers: ADMIN });
      expect(stats.status, `${at}/summary`).toBe(200);
      SessionStats.parse(await stats.json());
      for (const sub of ['transcript', 'events']) expect((await app.request(`${at}/${sub}`, { headers: ADMIN })).status, `${at}/${sub}`).toBe(200);
    }
  });
});

/** Bugs the fuzzing found, reduced to minimal inputs, kept as regressions. */
describe('regressions found by fuzzing', () => {
  const vapi = (message: unknown) => post('/api/webhooks/vapi', VAPI[0] ?? {}, { message });
  const svc = { authorization: 'Bearer svc-token-123' };

  // An out-of-range Vapi time → 500. vapiTime() (lib/calls/vapi/message.ts) returns `new Date(n)` for
  // any finite number without checking it is a valid Date; unlike `timestamp`/`startedAt` (which
  // clamp() in lib/calls/vapi/parse.ts replaces), endedAt, artifact message times and secondsFromStart
  // reach `.toISOString()` (parse.ts toReport / lib/calls/apply.ts) → RangeError: Invalid time value.
  it.each([
    ['endedAt "-1e20"', { type: 'end-of-call-report', endedAt: '-1e20' }],
    ['artifact.messages[].time 1e20', { type: 'end-of-call-report', artifact: { messages: [{ role: 'user', message: 'hi', time: 1e20 }] } }],
    ['artifact.messages[].secondsFromStart -9e12', { type: 'end-of-call-report', artifact: { messages: [{ role: 'user', message: 'hi', secondsFromStart: -9e12 }] } }],
    ['a tool_calls message with time 1e20', { type: 'end-of-call-report', artifact: { messages: [{ role: 'tool_calls', time: 1e20, toolCalls: [{ id: 't', function: { name: 'f' } }] }] } }],
  ])('an out-of-range Vapi time (%s) is a 2xx/400, not a 500', async (_name, message) => {
    await twoXxOr400(await vapi(message), 'out-of-range time');
  });

  // A non-array `toolCalls` in an end-of-call report's tool_calls message → 500 "TypeError: ... is
  // not iterable". reportToolCalls (lib/calls/vapi/message.ts) passes the raw value to toolCalls()
  // through a cast (`as VapiMessage`) that skips the schema, and toolCalls() iterates it (:196).
  it.each([
    ['0', 0],
    ['{}', {}],
    ['true', true],
  ])('an end-of-call report whose tool_calls message has toolCalls %s is a 2xx/400, not a 500', async (_name, toolCalls) => {
    await twoXxOr400(await vapi({ type: 'end-of-call-report', artifact: { messages: [{ role: 'tool_calls', toolCalls }] } }), 'non-array toolCalls');
  });

  // A call id or student id longer than a btree index row → 500 (SQLSTATE 54000 "index row size
  // exceeds btree version 4 maximum 2704", calls_pkey / sessions_student_activity). Vapi ids are
  // read as z.string().max(100_000) (lib/calls/vapi/message.ts Str) and stored as keys (lib/calls/link.ts).
  // Incompressible (Postgres compresses a repetitive key until it fits): a linear congruential walk.
  let x = 42;
  const next = () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return ((x >> 16) % 36).toString(36);
  };
  const long = Array.from({ length: 3000 }, next).join('');
  it.each([
    ['call.id', { type: 'status-update', call: { id: long } }],
    ['customer.externalId', { type: 'status-update', customer: { externalId: long } }],
    ['call.metadata.studentId', { type: 'status-update', call: { metadata: { studentId: long } } }],
  ])('a 3000-character %s is a 2xx/400, not a 500', async (_name, message) => {
    await twoXxOr400(await vapi(message), 'long id');
  });

  // JSON nested ~10 000 levels deep in a free-form object field → 500 "Maximum call stack size
  // exceeded": the value passes z.record(z.unknown()) and then JSON.stringify() overflows when it
  // is stored (lib/sessions/explicit.ts createSession, lib/sessions/interactions.ts upsert,
  // lib/calls/apply.ts applyToSession). POST /api/session-log refuses nesting > 64 (unstorableJson);
  // these fields do not check it.
  const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
  it.each([
    ['POST /api/sessions metadata', '/api/sessions', svc, `{"participant":"deep_1","metadata":${deep}}`],
    ['POST /api/sessions/interactions parameters', '/api/sessions/interactions', svc, `{"student_id":"deep_2","function":"f","parameters":${deep}}`],
    ['POST /api/webhooks/session-data metadata', '/api/webhooks/session-data', { authorization: 'Bearer hook-token-123' }, `{"platform":"x","started_at":"2026-01-01T00:00:00Z","metadata":${deep}}`],
    ['Vapi analysis.structuredData', '/api/webhooks/vapi', VAPI[0] ?? {}, `{"message":{"type":"end-of-call-report","call":{"id":"deep-3"},"analysis":{"structuredData":${deep}}}}`],
  ])('deep nesting in %s is a 400, not a 500', async (_name, path, headers, body) => {
    const res = await post(path, headers, body);
    expect(res.status).toBeLessThan(500);
  });
});
