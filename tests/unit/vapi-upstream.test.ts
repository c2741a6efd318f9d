/**
 * Sessionlog as a tap in front of the customer's own Vapi server (VAPI_UPSTREAM_URL), against a
 * real local HTTP server: every message forwarded unchanged with the upstream secret, answers Vapi
 * reads relayed (status and body), a slow or dead upstream answered with the default assistant
 * (VAPI_ASSISTANT_ID) or else an error Vapi can speak, and the defaults without an upstream
 * (VAPI_ASSISTANT_ID, destination errors). Every answer
 * Sessionlog makes up or completes (an upstream's page that is no JSON, a handoff without its
 * destination) is checked against the Vapi server SDK's response type for its message.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { sessionsFamily } from '../../lib/routes/sessions/index.js';
import { webhooksFamily } from '../../lib/routes/webhooks/index.js';
import type { Sql } from '../../lib/storage/sql.js';
import { freshStudent, type Turn, toolUse, webCall } from '../fixtures/vapi/calls.js';
import { client, Problem, ToolResults, VapiAnswers } from '../fixtures/vapi/http.js';
import { makeDeps, memoryPglite, testConfig } from '../helpers/deps.js';
import { replies, startToolServer, type ToolHandler, type ToolServer } from '../helpers/tool-server.js';

const UPSTREAM_SECRET = 'customer-server-secret-0a9b8c7d6e5f4a3b';
let sql: Sql;
let now: Date;
const servers: ToolServer[] = [];

beforeAll(async () => {
  sql = await memoryPglite();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(() => sql.close());

function build(env: Record<string, string>) {
  const deps = makeDeps({ sql, config: testConfig(env), now: () => now });
  return { deps, api: client(createApp(deps, [webhooksFamily(), sessionsFamily])) };
}
/**
 * An app relaying to a real local upstream. The deadline is short only where a test waits for it
 * (a slow upstream): elsewhere 300 ms was missed by a loaded machine's first request now and then.
 */
async function upstream(handler: ToolHandler, timeoutMs = 5_000, env: Record<string, string> = {}) {
  const server = await startToolServer(handler);
  servers.push(server);
  return { server, ...build({ VAPI_UPSTREAM_URL: server.url, VAPI_UPSTREAM_SECRET: UPSTREAM_SECRET, VAPI_UPSTREAM_TIMEOUT_MS: String(timeoutMs), ...env }) };
}
const DEFAULT_ASSISTANT = { VAPI_ASSISTANT_ID: 'asst_default_42' };
const call = () => {
  const student = freshStudent();
  const c = webCall({ startedAt: new Date('2025-11-10T10:00:00Z'), metadata: { studentId: student } });
  now = c.at(1);
  return { student, c };
};

const TURNS: Turn[] = [
  { role: 'bot', text: 'Which is bigger, two thirds or five sixths?', at: 1 },
  { role: 'user', text: 'I think five sixths because', at: 2.5 },
];

describe('with an upstream', () => {
  it('an assistant-request gets the upstream’s status and body back; the choice lands on the timeline', async () => {
    const chosen = { assistantId: 'asst_customer_0123', assistantOverrides: { variableValues: { name: 'Emma' } } };
    const { server, api, deps } = await upstream(() => ({ body: chosen }));
    const { student, c } = call();
    const raw = JSON.stringify(c.message('assistant-request', 0));
    const res = await api.vapiRaw(raw);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(chosen);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.body).toBe(raw);
    expect(server.requests[0]!.headers['x-vapi-secret']).toBe(UPSTREAM_SECRET);
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${UPSTREAM_SECRET}`);
    await deps.settle();
    const [s] = await api.sessions({ student_id: student });
    const { events } = await api.timeline(s!.session_id);
    expect(events.find((e) => e.event_type === 'call_answer')?.event_data).toMatchObject({ request: 'assistant-request', assistant_id: 'asst_customer_0123', upstream_status: 200 });
  });

  it('an upstream error status is relayed as is', async () => {
    const { api } = await upstream(replies.status(404, { error: 'unknown number' }));
    const { c } = call();
    const res = await api.vapiRaw(c.message('transfer-destination-request', 3));
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'unknown number' });
  });

  it('a slow upstream → an error Vapi speaks, within the deadline', async () => {
    const { api } = await upstream(replies.slow(3_000, () => ({ body: { assistantId: 'late' } })), 300);
    const { c } = call();
    const t = performance.now();
    const res = await api.vapiRaw(c.message('assistant-request', 0));
    expect(performance.now() - t).toBeLessThan(2_000);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ error: expect.stringMatching(/in time/) });
  });

  it('an upstream that is down, without VAPI_ASSISTANT_ID → an error Vapi speaks; the failure on the timeline', async () => {
    const { server, api, deps } = await upstream(() => ({ body: {} }));
    await server.close();
    const { student, c } = call();
    const res = await api.vapiRaw(c.message('assistant-request', 0));
    const reached = expect.stringMatching(/could not be reached/);
    expect(VapiAnswers['assistant-request'].parse(await res.json())).toEqual({ error: reached });
    await deps.settle();
    const [s] = await api.sessions({ student_id: student });
    const { events } = await api.timeline(s!.session_id);
    const answered = events.filter((e) => e.event_type === 'call_answer').map((e) => e.event_data);
    expect(answered).toEqual([expect.objectContaining({ request: 'assistant-request', error: reached })]);
    expect(answered[0]).not.toHaveProperty('assistant_id');
  });

  it('an upstream that is down, with VAPI_ASSISTANT_ID → {"assistantId"}: the student’s call goes ahead with the default assistant; the failure logged and on the timeline', async () => {
    const { server, api, deps } = await upstream(() => ({ body: {} }), 5_000, DEFAULT_ASSISTANT);
    await server.close();
    const warned: string[] = [];
    deps.log = { info: () => {}, error: () => {}, warn: (msg) => warned.push(msg) };
    const { student, c } = call();
    const reached = expect.stringMatching(/could not be reached/);
    expect(VapiAnswers['assistant-request'].parse(await api.vapi(c.message('assistant-request', 0)))).toEqual({ assistantId: 'asst_default_42' });
    expect(warned).toContain('vapi upstream unreachable');
    // Only the assistant-request has a default to fall back to: a transfer still gets the reason.
    expect(VapiAnswers['transfer-destination-request'].parse(await api.vapi(c.transferRequest(2)))).toEqual({ error: reached });
    await deps.settle();
    const [s] = await api.sessions({ student_id: student });
    const { events } = await api.timeline(s!.session_id);
    const answered = events.filter((e) => e.event_type === 'call_answer').map((e) => e.event_data);
    expect(answered).toEqual([
      expect.objectContaining({ request: 'assistant-request', error: reached, assistant_id: 'asst_default_42' }),
      expect.objectContaining({ request: 'transfer-destination-request', error: reached }),
    ]);
    expect(answered[1]).not.toHaveProperty('assistant_id');
  });

  it('a slow upstream, or a 2xx that is not a JSON object, with VAPI_ASSISTANT_ID → {"assistantId"}; an error status is still relayed as is', async () => {
    const slow = await upstream(replies.slow(3_000, () => ({ body: { assistantId: 'late' } })), 300, DEFAULT_ASSISTANT);
    expect(VapiAnswers['assistant-request'].parse(await slow.api.vapi(call().c.message('assistant-request', 0)))).toEqual({ assistantId: 'asst_default_42' });
    const page = await upstream(replies.malformed('<html><body>Bad gateway</body></html>'), 5_000, DEFAULT_ASSISTANT);
    const { student, c } = call();
    expect(VapiAnswers['assistant-request'].parse(await page.api.vapi(c.message('assistant-request', 0)))).toEqual({ assistantId: 'asst_default_42' });
    await page.deps.settle();
    const [s] = await page.api.sessions({ student_id: student });
    const { events } = await page.api.timeline(s!.session_id);
    expect(events.find((e) => e.event_type === 'call_answer')?.event_data).toMatchObject({
      request: 'assistant-request',
      upstream_status: 200,
      error: expect.stringMatching(/not answer with a JSON object/),
      assistant_id: 'asst_default_42',
    });
    // The customer's server refusing the call is its answer, not a failure to answer.
    const refusing = await upstream(replies.status(403, { error: 'unknown number' }), 5_000, DEFAULT_ASSISTANT);
    const warned: Array<{ msg: string; fields: Record<string, unknown> | undefined }> = [];
    refusing.deps.log = { info: () => {}, error: () => {}, warn: (msg, fields) => warned.push({ msg, fields }) };
    const res = await refusing.api.vapiRaw(call().c.message('assistant-request', 0));
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: 'unknown number' });
    expect(warned).toEqual([]);
    // A 5xx is relayed too, but it is the upstream failing, and the server log says so (no body).
    const failing = await upstream(replies.status(502, { error: 'secret stack trace' }), 5_000, DEFAULT_ASSISTANT);
    failing.deps.log = refusing.deps.log;
    const down = await failing.api.vapiRaw(call().c.message('assistant-request', 0));
    expect(down.status).toBe(502);
    expect(warned).toEqual([{ msg: 'vapi upstream failed a request', fields: { status: 502, request: 'assistant-request' } }]);
  });

  it('an upstream that is down → each message’s answer of its SDK type, with the reason where the type has a field for it', async () => {
    const { server, api, deps } = await upstream(() => ({ body: {} }));
    await server.close();
    const { student, c } = call();
    const reached = expect.stringMatching(/could not be reached/);
    expect(VapiAnswers['handoff-destination-request'].parse(await api.vapi(c.handoffRequest(2)))).toEqual({ destination: {}, error: reached });
    expect(VapiAnswers['transfer-destination-request'].parse(await api.vapi(c.transferRequest(2)))).toEqual({ error: reached });
    expect(VapiAnswers['knowledge-base-request'].parse(await api.vapi(c.knowledgeBaseRequest(TURNS, 3)))).toEqual({});
    expect(VapiAnswers['call.endpointing.request'].parse(await api.vapi(c.endpointingRequest(TURNS, 3)))).toEqual({ timeoutSeconds: 1.5 });
    const voice = await api.vapiRaw(c.voiceRequest('Let’s try five sixths.', 4));
    expect(voice.status).toBe(503);
    expect(Problem.parse(await voice.json()).detail).toMatch(/could not be reached/);
    // What was answered is on the timeline as before, the upstream's failure included.
    await deps.settle();
    const [s] = await api.sessions({ student_id: student });
    const { events } = await api.timeline(s!.session_id);
    const answered = events.filter((e) => e.event_type === 'call_answer').map((e) => e.event_data);
    expect(answered).toHaveLength(5);
    for (const a of answered) expect(a).toMatchObject({ error: reached });
  });

  it('a 2xx answer that is not a JSON object (a proxy’s page) → the answer without an upstream, of the SDK type; the reason on the timeline and in the log', async () => {
    const { api, deps } = await upstream(replies.malformed('<html><body>Bad gateway</body></html>'));
    const warned: Array<{ msg: string; fields: Record<string, unknown> | undefined }> = [];
    deps.log = { info: () => {}, error: () => {}, warn: (msg, fields) => warned.push({ msg, fields }) };
    const { student, c } = call();
    const unreadable = expect.stringMatching(/not answer with a JSON object/);
    expect(VapiAnswers['assistant-request'].parse(await api.vapi(c.message('assistant-request', 0)))).toEqual({ error: unreadable });
    expect(VapiAnswers['handoff-destination-request'].parse(await api.vapi(c.handoffRequest(2)))).toEqual({ destination: {}, error: unreadable });
    expect(VapiAnswers['knowledge-base-request'].parse(await api.vapi(c.knowledgeBaseRequest(TURNS, 3)))).toEqual({});
    expect(VapiAnswers['call.endpointing.request'].parse(await api.vapi(c.endpointingRequest(TURNS, 3)))).toEqual({ timeoutSeconds: 1.5 });
    await deps.settle();
    const [s] = await api.sessions({ student_id: student });
    const { events } = await api.timeline(s!.session_id);
    const answered = events.filter((e) => e.event_type === 'call_answer').map((e) => e.event_data);
    expect(answered).toHaveLength(4);
    for (const a of answered) expect(a).toMatchObject({ upstream_status: 200, error: unreadable });
    // One line per unreadable answer, as an unreachable upstream gets one: its status, never the page.
    expect(warned).toEqual(Array.from({ length: 4 }, () => ({ msg: 'vapi upstream answered no JSON object', fields: { status: 200 } })));
  });

  it('a handoff declined with {"error"} alone (as Vapi’s handoff docs show) gets the `destination` the SDK requires, the error kept', async () => {
    const { api, deps } = await upstream(() => ({ body: { error: 'Nobody from the maths team is free.' } }));
    const { student, c } = call();
    const answer = VapiAnswers['handoff-destination-request'].parse(await api.vapi(c.handoffRequest(2)));
    expect(answer).toEqual({ destination: {}, error: 'Nobody from the maths team is free.' });
    await deps.settle();
    const [s] = await api.sessions({ student_id: student });
    const { events } = await api.timeline(s!.session_id);
    expect(events.find((e) => e.event_type === 'call_answer')?.event_data).toMatchObject({ upstream_status: 200, error: 'Nobody from the maths team is free.' });
  });

  it('an endpointing answer without a number of seconds → 1.5 s; one beyond the SDK’s 0–15 s is held to it', async () => {
    const answers = [{}, { timeoutSeconds: '0.8' }, { timeoutSeconds: 40 }, { timeoutSeconds: -1 }, { timeoutSeconds: 0.8 }];
    let asked = 0;
    // One request at a time below: the upstream's answers come in this order.
    const { api } = await upstream(() => ({ body: answers[asked++] }));
    const { c } = call();
    const got = [];
    for (let i = 0; i < answers.length; i++) got.push(VapiAnswers['call.endpointing.request'].parse(await api.vapi(c.endpointingRequest(TURNS, 3 + i))));
    expect(got).toEqual([{ timeoutSeconds: 1.5 }, { timeoutSeconds: 1.5 }, { timeoutSeconds: 15 }, { timeoutSeconds: 0 }, { timeoutSeconds: 0.8 }]);
  });

  it('messages Vapi needs no answer to are acknowledged at once and forwarded unchanged after the response', async () => {
    const { server, api, deps } = await upstream(replies.slow(2_000, () => ({ body: {} })));
    const { student, c } = call();
    const raw = JSON.stringify(c.status('in-progress', 0.5));
    const t = performance.now();
    expect(await api.vapi(raw)).toEqual({});
    // The upstream takes 2 s: the acknowledgement does not wait for it.
    expect(performance.now() - t).toBeLessThan(1_500);
    await deps.settle();
    expect(server.requests.map((r) => r.body)).toEqual([raw]);
    expect(await api.sessions({ student_id: student })).toHaveLength(1);
  });

  it('tool calls are answered by the upstream when TOOL_SERVER_URL is unset, and logged', async () => {
    const { server, api } = await upstream(replies.results((name) => `upstream:${name}`));
    const { student, c } = call();
    const use = toolUse('get_next_problem', { topic: 'fractions' }, 5);
    const { results } = ToolResults.parse(await api.vapi(c.toolCalls([use])));
    expect(results).toEqual([{ toolCallId: use.id, name: 'get_next_problem', result: 'upstream:get_next_problem' }]);
    expect(server.requests).toHaveLength(1);
    const [s] = await api.sessions({ student_id: student });
    const { events } = await api.timeline(s!.session_id);
    expect(events.some((e) => e.event_type === 'tool_result' && e.event_data.result === 'upstream:get_next_problem')).toBe(true);
  });

  it('a tool-calls message without `type` reaches the upstream once, as sent, and is answered from it', async () => {
    const { server, api, deps } = await upstream(replies.results((name) => `upstream:${name}`));
    const { c } = call();
    const use = toolUse('get_next_problem', { topic: 'fractions' }, 5);
    const { type: _type, ...untyped } = c.toolCalls([use]).message;
    const raw = JSON.stringify({ message: untyped });
    expect(ToolResults.parse(await api.vapi(raw)).results).toEqual([{ toolCallId: use.id, name: 'get_next_problem', result: 'upstream:get_next_problem' }]);
    await deps.settle();
    // Not forwarded again after the response as a message needing no answer.
    expect(server.requests.map((r) => r.body)).toEqual([raw]);
  });

  it('TOOL_SERVER_URL wins over the upstream for tools', async () => {
    const tools = await startToolServer(replies.results(() => 'from-tool-server'));
    servers.push(tools);
    const up = await startToolServer(replies.results(() => 'from-upstream'));
    servers.push(up);
    const { api, deps } = build({ VAPI_UPSTREAM_URL: up.url, TOOL_SERVER_URL: tools.url });
    const { c } = call();
    const use = toolUse('record_attempt', { answer: '5/6' }, 5);
    const { results } = ToolResults.parse(await api.vapi(c.toolCalls([use])));
    expect(results[0]).toMatchObject({ result: 'from-tool-server' });
    await deps.settle();
    expect(up.requests).toHaveLength(0);
  });
});

describe('without an upstream', () => {
  it('assistant-request → {"assistantId": VAPI_ASSISTANT_ID}, else {"error"}; transfer-destination-request → {"error"}', async () => {
    const { c } = call();
    const withId = build({ VAPI_ASSISTANT_ID: 'asst_default_42' }).api;
    expect(VapiAnswers['assistant-request'].parse(await withId.vapi(c.message('assistant-request', 0)))).toEqual({ assistantId: 'asst_default_42' });
    const none = build({}).api;
    expect(VapiAnswers['assistant-request'].parse(await none.vapi(c.message('assistant-request', 0)))).toEqual({ error: expect.stringMatching(/no assistant/i) });
    expect(VapiAnswers['transfer-destination-request'].parse(await none.vapi(c.transferRequest(2)))).toEqual({ error: expect.any(String) });
    expect(VapiAnswers['knowledge-base-request'].parse(await none.vapi(c.knowledgeBaseRequest(TURNS, 2)))).toEqual({});
  });

  it('handoff-destination-request → an empty destination and the error (the SDK requires `destination`); the error is on the timeline', async () => {
    const { deps, api } = build({});
    const { student, c } = call();
    const answer = VapiAnswers['handoff-destination-request'].parse(await api.vapi(c.handoffRequest(2)));
    expect(answer).toEqual({ destination: {}, error: expect.stringMatching(/no destination server/i) });
    await deps.settle();
    const [s] = await api.sessions({ student_id: student });
    const { events } = await api.timeline(s!.session_id);
    expect(events.find((e) => e.event_type === 'call_answer')?.event_data).toMatchObject({ request: 'handoff-destination-request', error: answer.error });
  });

  it('call.endpointing.request → {"timeoutSeconds": 1.5} (required by the SDK; Vapi’s wait for speech without punctuation)', async () => {
    const { c } = call();
    const answer = await build({}).api.vapi(c.endpointingRequest(TURNS, 3));
    expect(VapiAnswers['call.endpointing.request'].parse(answer)).toEqual({ timeoutSeconds: 1.5 });
  });

  it('voice-request → a 503 problem, not JSON that Vapi would play as audio', async () => {
    const { c } = call();
    const res = await build({}).api.vapiRaw(c.voiceRequest('Let’s try five sixths.', 3));
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.headers.get('retry-after')).toBeNull();
    expect(Problem.parse(await res.json()).detail).toMatch(/voice-request.*VAPI_UPSTREAM_URL/);
  });
});
