/**
 * Vapi `tool-calls` and legacy `function-call`: stored as interactions, forwarded unchanged to a
 * real local tool server (TOOL_SERVER_URL), its answer relayed in the shape Vapi reads, and every
 * failure (slow, 500, malformed, unreachable, unset) turned into a result Vapi can speak.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { sessionsFamily } from '../../lib/routes/sessions/index.js';
import { webhooksFamily } from '../../lib/routes/webhooks/index.js';
import type { Sql } from '../../lib/storage/sql.js';
import { freshStudent, type ToolUse, toolUse, webCall } from '../fixtures/vapi/calls.js';
import { client, ToolResults } from '../fixtures/vapi/http.js';
import { makeDeps, memoryPglite, testConfig } from '../helpers/deps.js';
import { replies, startToolServer, type ToolHandler, type ToolRequest, type ToolServer, toolCallsOf } from '../helpers/tool-server.js';

let sql: Sql;
let now: Date;
const servers: ToolServer[] = [];
const appWith = (env: Record<string, string> = {}) => client(createApp(makeDeps({ sql, config: testConfig(env), now: () => now }), [webhooksFamily(), sessionsFamily]));

beforeAll(async () => {
  sql = await memoryPglite();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(() => sql.close());

/** A tool server with `handler` and an app forwarding to it. */
async function withServer(handler?: ToolHandler, env: Record<string, string> = {}) {
  const server = await startToolServer(handler);
  servers.push(server);
  return { server, api: appWith({ TOOL_SERVER_URL: server.url, ...env }) };
}

/** A call with two tool calls: arguments as an object, and as the JSON text models often emit. */
function scenario(start: string) {
  const student = freshStudent();
  const c = webCall({ startedAt: new Date(start), metadata: { studentId: student } });
  const uses = [toolUse('get_next_problem', { topic: 'fractions', difficulty: 2 }, 31), toolUse('record_attempt', '{"answer":"5/6","correct":true}', 31)];
  now = c.at(31.5);
  return { student, c, uses, body: c.toolCalls(uses) };
}

async function sessionOf(api: ReturnType<typeof appWith>, student: string) {
  const [s] = await api.sessions({ student_id: student });
  return { doc: await api.doc(s!.session_id), timeline: await api.timeline(s!.session_id) };
}

describe('tool-calls without a tool server', () => {
  it('answers every call with a string saying none is configured, and stores both interactions with parsed arguments', async () => {
    const api = appWith();
    const { student, c, uses, body } = scenario('2025-08-01T10:00:00Z');
    const { results } = ToolResults.parse(await api.vapi(body));
    expect(results.map((r) => [r.toolCallId, r.name])).toEqual(uses.map((u) => [u.id, u.name]));
    for (const r of results) expect(r).toEqual({ toolCallId: r.toolCallId, name: r.name, error: expect.stringMatching(/no tool server/i) });
    const { doc } = await sessionOf(api, student);
    expect(doc.mcp_interactions).toEqual([
      { timestamp: c.at(31).toISOString(), function: 'get_next_problem', parameters: { topic: 'fractions', difficulty: 2 }, data_provided: [], subjects_accessed: [] },
      { timestamp: c.at(31).toISOString(), function: 'record_attempt', parameters: { answer: '5/6', correct: true }, data_provided: [], subjects_accessed: [] },
    ]);
  });
});

describe('tool-calls forwarded to TOOL_SERVER_URL', () => {
  it('sends the raw message with the token, relays the results as strings and logs them as events', async () => {
    const { server, api } = await withServer(
      replies.results((name) => (name === 'get_next_problem' ? { problem: '1/2 + 1/3' } : 'Attempt saved.')),
      { TOOL_SERVER_TOKEN: 'tool-token-42' },
    );
    const { student, uses, body } = scenario('2025-08-01T11:00:00Z');
    const raw = JSON.stringify(body);
    const { results } = ToolResults.parse(await api.vapi(raw));

    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({ method: 'POST', body: raw, headers: { authorization: 'Bearer tool-token-42' } });
    expect(server.requests[0]!.headers['content-type']).toContain('application/json');
    expect(results).toEqual([
      expect.objectContaining({ toolCallId: uses[0]!.id, name: 'get_next_problem', result: JSON.stringify({ problem: '1/2 + 1/3' }) }),
      expect.objectContaining({ toolCallId: uses[1]!.id, name: 'record_attempt', result: 'Attempt saved.' }),
    ]);
    const { doc, timeline } = await sessionOf(api, student);
    expect(doc.interaction_count).toBe(2);
    for (const r of results) expect(timeline.events.some((e) => e.event_data.toolCallId === r.toolCallId && 'result' in r && e.event_data.result === r.result)).toBe(true);
  });

  it('a redelivered tool-calls message is answered again from the stored results, stored once, and never runs the tool twice', async () => {
    const { server, api } = await withServer();
    const { student, body } = scenario('2025-08-01T12:00:00Z');
    const first = ToolResults.parse(await api.vapi(body));
    const again = ToolResults.parse(await api.vapi(body));
    expect(again).toEqual(first);
    expect(server.requests).toHaveLength(1);
    const { doc } = await sessionOf(api, student);
    expect(doc.mcp_interactions).toHaveLength(2);
  });

  it('concurrent deliveries of one message run each tool call once: the others wait for its stored result', async () => {
    const { server, api } = await withServer(replies.slow(300, replies.results((name) => `done:${name}`)));
    const { student, body } = scenario('2025-08-01T12:30:00Z');
    const answers = await Promise.all([api.vapi(body), api.vapi(body), api.vapi(body)]);
    expect(server.requests).toHaveLength(1);
    const [first, ...rest] = answers.map((a) => ToolResults.parse(a));
    expect(first!.results.map((r) => 'result' in r && r.result)).toEqual(['done:get_next_problem', 'done:record_attempt']);
    for (const r of rest) expect(r).toEqual(first);
    const { timeline } = await sessionOf(api, student);
    expect(timeline.events.filter((e) => e.event_type === 'tool_result')).toHaveLength(2);
  });

  it('a run whose delivery died is taken over once its window (the tool server timeout + 2 s) has passed; until then the call is not run again', async () => {
    const { server, api } = await withServer(replies.results((name) => `done:${name}`), { TOOL_SERVER_TIMEOUT_MS: '200' });
    const { c, body } = scenario('2025-08-01T12:40:00Z');
    ToolResults.parse(await api.vapi(body));
    expect(server.requests).toHaveLength(1);
    // As if that delivery had died between asking the tool server and storing its answer.
    await sql.query(`DELETE FROM events WHERE event_type = 'tool_result' AND event_data->>'call_id' = $1`, [c.id]);
    const mark = (agoMs: number) =>
      sql.query(
        `UPDATE events SET event_data = event_data || jsonb_build_object('run_started_at', to_char((now() - $2::int * interval '1 millisecond') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
         WHERE event_type = 'interaction' AND event_data->>'call_id' = $1`,
        [c.id, agoMs],
      );
    await mark(0);
    const waited = ToolResults.parse(await api.vapi(body));
    expect(server.requests).toHaveLength(1);
    for (const r of waited.results) expect(r).toMatchObject({ error: expect.stringContaining('not run twice') });
    await mark(2_300);
    const taken = ToolResults.parse(await api.vapi(body));
    expect(server.requests).toHaveLength(2);
    expect(taken.results.map((r) => 'result' in r && r.result)).toEqual(['done:get_next_problem', 'done:record_attempt']);
    // Stored this time: the next redelivery is answered from storage.
    expect(ToolResults.parse(await api.vapi(body))).toEqual(taken);
    expect(server.requests).toHaveLength(2);
  });

  it('message and metadata of a result reach Vapi as sent, are stored, and a redelivery answers the same', async () => {
    const done = { type: 'request-complete', content: 'All done, Emma!' };
    const failed = { type: 'request-failed', content: 'That did not save, let us try again.' };
    const { server, api } = await withServer((req) => {
      const [a, b] = toolCallsOf(req);
      return {
        body: {
          results: [
            { toolCallId: a!.id, name: 'get_next_problem', result: 'done', message: done, metadata: { lessonId: 42 } },
            // Both: read as a failure, its message kept; a message that is not an object is not passed on.
            { toolCallId: b!.id, name: 'record_attempt', result: 'saved?', error: 'Database is read-only', message: failed, metadata: 'not an object' },
          ],
        },
      };
    });
    const { student, uses, body } = scenario('2025-08-01T12:30:00Z');
    const expected = [
      { toolCallId: uses[0]!.id, name: 'get_next_problem', result: 'done', message: done, metadata: { lessonId: 42 } },
      { toolCallId: uses[1]!.id, name: 'record_attempt', error: 'Database is read-only', message: failed },
    ];
    expect(ToolResults.parse(await api.vapi(body)).results).toEqual(expected);
    // Answered from storage: the same words, the tool not run again.
    expect(ToolResults.parse(await api.vapi(body)).results).toEqual(expected);
    expect(server.requests).toHaveLength(1);
    const { timeline } = await sessionOf(api, student);
    const stored = timeline.events.filter((e) => e.event_type === 'tool_result').map((e) => e.event_data);
    expect(stored).toHaveLength(2);
    for (const r of expected) expect(stored).toContainEqual(expect.objectContaining(r));
  });

  it('a top-level {"error"} with no results (HTTP 200) is every call’s error', async () => {
    const { api } = await withServer(() => ({ body: { error: 'Top-level tool failure' } }));
    const { student, uses, body } = scenario('2025-08-01T12:45:00Z');
    const { results } = ToolResults.parse(await api.vapi(body));
    expect(results).toEqual(uses.map((u) => ({ toolCallId: u.id, name: u.name, error: 'Top-level tool failure' })));
    const { timeline } = await sessionOf(api, student);
    expect(timeline.events.filter((e) => e.event_type === 'tool_result').map((e) => e.event_data.error)).toEqual(['Top-level tool failure', 'Top-level tool failure']);
  });

  it('with results for some calls, a top-level {"error"} is the error of the others', async () => {
    const { api } = await withServer((req) => ({ body: { results: [{ toolCallId: toolCallsOf(req)[1]!.id, result: 'Attempt saved.' }], error: 'Problem bank offline' } }));
    const { uses, body } = scenario('2025-08-01T12:47:00Z');
    expect(ToolResults.parse(await api.vapi(body)).results).toEqual([
      { toolCallId: uses[0]!.id, name: uses[0]!.name, error: 'Problem bank offline' },
      { toolCallId: uses[1]!.id, name: uses[1]!.name, result: 'Attempt saved.' },
    ]);
  });

  it('a replay adding a new call answers the old one from storage and sends the tool server only the new one; results in the order sent', async () => {
    let run = 0;
    const { server, api } = await withServer((req) => {
      run += 1;
      return { body: { results: toolCallsOf(req).map((c) => ({ toolCallId: c.id, result: `run${run}:${c.function?.name}` })) } };
    });
    const { student, c, uses } = scenario('2025-08-01T12:50:00Z');
    const [old, added] = uses as [ToolUse, ToolUse];
    expect(ToolResults.parse(await api.vapi(c.toolCalls([old]))).results).toEqual([{ toolCallId: old.id, name: old.name, result: `run1:${old.name}` }]);

    // The new call first: the answer follows the message's order, not the order of running.
    const replay = c.toolCalls([added, old]);
    const withLegacyList = { message: { ...replay.message, toolCalls: replay.message.toolCallList } };
    expect(ToolResults.parse(await api.vapi(withLegacyList)).results).toEqual([
      { toolCallId: added.id, name: added.name, result: `run2:${added.name}` },
      { toolCallId: old.id, name: old.name, result: `run1:${old.name}` },
    ]);
    expect(server.requests).toHaveLength(2);
    const sent = server.requests[1]!.json as { message: typeof withLegacyList.message };
    expect(sent.message.toolCallList.map((t) => t.id)).toEqual([added.id]);
    expect(sent.message.toolCalls.map((t) => t.id)).toEqual([added.id]);
    expect(sent.message.toolWithToolCallList.map((t) => t.toolCall.id)).toEqual([added.id]);
    // Everything else as Vapi sent it.
    const { toolCallList: _a, toolCalls: _b, toolWithToolCallList: _c, ...restSent } = sent.message;
    const { toolCallList: _d, toolCalls: _e, toolWithToolCallList: _f, ...restReplay } = withLegacyList.message;
    expect(restSent).toEqual(restReplay);

    const { doc, timeline } = await sessionOf(api, student);
    expect(doc.interaction_count).toBe(2);
    const stored = timeline.events.filter((e) => e.event_type === 'tool_result').map((e) => [e.event_data.toolCallId, e.event_data.result]);
    expect(stored).toHaveLength(2);
    expect(stored).toEqual(expect.arrayContaining([[old.id, `run1:${old.name}`], [added.id, `run2:${added.name}`]]));
  });

  it('a slow tool server → a timeout result per call, answered long before Vapi gives up', async () => {
    const { api } = await withServer(replies.slow(5_000), { TOOL_SERVER_TIMEOUT_MS: '150' });
    const { student, uses, body } = scenario('2025-08-01T13:00:00Z');
    const started = performance.now();
    const { results } = ToolResults.parse(await api.vapi(body));
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(results.map((r) => r.toolCallId)).toEqual(uses.map((u) => u.id));
    for (const r of results) expect(r).toEqual({ toolCallId: r.toolCallId, name: r.name, error: expect.stringMatching(/in time|timed? ?out/i) });
    expect((await sessionOf(api, student)).doc.interaction_count).toBe(2);
  });

  it.each<[string, ToolHandler, RegExp]>([
    ['HTTP 500', replies.status(500), /fail|error/i],
    ['a malformed answer', replies.malformed(), /.+/],
    ['results in the wrong shape', () => ({ body: { answer: 42 } }), /unexpected|format/i],
  ])('%s → an error result per call, still a 200 answer', async (_n, handler, message) => {
    const { api } = await withServer(handler);
    const { uses, body } = scenario('2025-08-01T14:00:00Z');
    const { results } = ToolResults.parse(await api.vapi(body));
    expect(results.map((r) => r.toolCallId)).toEqual(uses.map((u) => u.id));
    for (const r of results) {
      expect(r).toEqual({ toolCallId: r.toolCallId, name: r.name, error: expect.stringMatching(message) });
      expect('error' in r ? r.error : '').not.toContain('"toolCallId"');
    }
  });

  it('a call the tool server left unanswered gets an error result; the others are relayed', async () => {
    const { api } = await withServer((req) => {
      const list = (req.json as { message: { toolCallList: Array<{ id: string }> } }).message.toolCallList;
      return { body: { results: [{ toolCallId: list[1]!.id, result: 'Attempt saved.' }] } };
    });
    const { uses, body } = scenario('2025-08-01T15:00:00Z');
    const { results } = ToolResults.parse(await api.vapi(body));
    expect(results.find((r) => r.toolCallId === uses[1]!.id)).toEqual({ toolCallId: uses[1]!.id, name: uses[1]!.name, result: 'Attempt saved.' });
    expect(results.find((r) => r.toolCallId === uses[0]!.id)).toEqual({ toolCallId: uses[0]!.id, name: uses[0]!.name, error: expect.stringMatching(/no result/i) });
  });

  it('an unreachable tool server → an error result per call', async () => {
    const gone = await startToolServer();
    await gone.close();
    const api = appWith({ TOOL_SERVER_URL: gone.url });
    const { uses, body } = scenario('2025-08-01T16:00:00Z');
    const { results } = ToolResults.parse(await api.vapi(body));
    expect(results).toHaveLength(uses.length);
    for (const r of results) expect(r).toEqual({ toolCallId: r.toolCallId, name: r.name, error: expect.stringMatching(/could not be reached/i) });
  });
});

describe('tool call shapes (SDK ServerMessageToolCalls, Vapi docs server-url/events)', () => {
  /** A tool server answering each call by id, whatever shape it came in. */
  const byId = (ids: (req: ToolRequest) => string[]): ToolHandler => (req) => ({ body: { results: ids(req).map((id) => ({ toolCallId: id, result: `ran:${id}` })) } });
  const idsIn = (key: 'toolCallList' | 'toolWithToolCallList') => (req: ToolRequest) =>
    ((req.json as { message: Record<string, Array<{ id?: string; toolCall?: { id: string } }>> }).message[key] ?? []).map((c) => c.id ?? c.toolCall!.id);

  it('the docs’ shape (toolCallList items {id, name, parameters}, toolWithToolCallList {name, toolCall}) is answered, stored and logged', async () => {
    const { server, api } = await withServer(byId(idsIn('toolCallList')));
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-08-03T10:00:00Z'), metadata: { studentId: student } });
    now = c.at(12.5);
    const parameters = { emailAddress: 'john@example.com', message: 'Hi!' };
    const body = c.message('tool-calls', 12, {
      toolWithToolCallList: [{ name: 'sendEmail', toolCall: { id: 'abc123', parameters } }],
      toolCallList: [{ id: 'abc123', name: 'sendEmail', parameters }],
    });
    expect(ToolResults.parse(await api.vapi(body)).results).toEqual([{ toolCallId: 'abc123', name: 'sendEmail', result: 'ran:abc123' }]);
    expect(server.requests).toHaveLength(1);
    const { doc, timeline } = await sessionOf(api, student);
    expect(doc.mcp_interactions).toEqual([{ timestamp: c.at(12).toISOString(), function: 'sendEmail', parameters, data_provided: [], subjects_accessed: [] }]);
    expect(timeline.events.filter((e) => e.event_type === 'tool_result').map((e) => e.event_data)).toEqual([expect.objectContaining({ toolCallId: 'abc123', name: 'sendEmail', result: 'ran:abc123' })]);
  });

  it('with toolCallList empty, the calls of toolWithToolCallList (SDK ToolCall inside, or the docs’ flat one) are answered in order', async () => {
    const { api } = await withServer(byId(idsIn('toolWithToolCallList')));
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-08-03T11:00:00Z'), metadata: { studentId: student } });
    now = c.at(20.5);
    const body = c.message('tool-calls', 20, {
      toolCallList: [],
      toolWithToolCallList: [
        {
          type: 'function',
          function: { name: 'get_next_problem', parameters: { type: 'object', properties: {} } },
          toolCall: { id: 'tc-sdk', type: 'function', function: { name: 'get_next_problem', arguments: '{"topic":"fractions"}' } },
        },
        { name: 'record_attempt', toolCall: { id: 'tc-docs', parameters: { answer: '5/6' } } },
      ],
    });
    expect(ToolResults.parse(await api.vapi(body)).results).toEqual([
      { toolCallId: 'tc-sdk', name: 'get_next_problem', result: 'ran:tc-sdk' },
      { toolCallId: 'tc-docs', name: 'record_attempt', result: 'ran:tc-docs' },
    ]);
    const { doc } = await sessionOf(api, student);
    expect(doc.mcp_interactions.map((i) => [i.function, i.parameters])).toEqual([
      ['get_next_problem', { topic: 'fractions' }],
      ['record_attempt', { answer: '5/6' }],
    ]);
  });

  it('a tool-calls message without `type` (optional in the SDK) is a tool-calls message; another message without one is still a 400', async () => {
    const { server, api } = await withServer();
    const { student, uses, body } = scenario('2025-08-03T12:00:00Z');
    const { type: _type, ...untyped } = body.message;
    const raw = JSON.stringify({ message: untyped });
    const { results } = ToolResults.parse(await api.vapi(raw));
    expect(results).toEqual(uses.map((u) => ({ toolCallId: u.id, name: u.name, result: `ok:${u.name}` })));
    expect(server.requests.map((r) => r.body)).toEqual([raw]);
    expect((await sessionOf(api, student)).doc.interaction_count).toBe(2);

    const { type: _t, ...status } = webCall({ startedAt: new Date('2025-08-03T12:00:00Z') }).status('in-progress', 0).message;
    const p = await api.problem(await api.vapiRaw({ message: status }), 400);
    expect(p.errors?.map((e) => e.path)).toEqual(['message.type']);
  });
});

describe('legacy function-call', () => {
  it('without a tool server: {result} saying none is configured; the call is stored as an interaction', async () => {
    const api = appWith();
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-08-02T10:00:00Z'), metadata: { studentId: student } });
    now = c.at(20.5);
    const answer = await api.vapi(c.functionCall('get_next_problem', { topic: 'decimals' }, 20));
    expect(answer).toEqual({ result: expect.stringMatching(/no tool server/i) });
    expect((await sessionOf(api, student)).doc.mcp_interactions).toEqual([
      { timestamp: c.at(20).toISOString(), function: 'get_next_problem', parameters: { topic: 'decimals' }, data_provided: [], subjects_accessed: [] },
    ]);
  });

  it('a redelivery (even a concurrent one) is answered from the stored result and never runs the function twice', async () => {
    const { server, api } = await withServer(() => ({ body: { result: 'What is 0.5 + 0.25?' }, delayMs: 200 }));
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-08-02T12:00:00Z'), metadata: { studentId: student } });
    now = c.at(20.5);
    const raw = JSON.stringify(c.functionCall('get_next_problem', { topic: 'decimals' }, 20));
    expect(await Promise.all([api.vapi(raw), api.vapi(raw)])).toEqual([{ result: 'What is 0.5 + 0.25?' }, { result: 'What is 0.5 + 0.25?' }]);
    expect(await api.vapi(raw)).toEqual({ result: 'What is 0.5 + 0.25?' });
    expect(server.requests).toHaveLength(1);
    const { doc, timeline } = await sessionOf(api, student);
    expect(doc.mcp_interactions).toHaveLength(1);
    expect(timeline.events.filter((e) => e.event_type === 'tool_result').map((e) => e.event_data)).toEqual([
      expect.objectContaining({ name: 'get_next_problem', result: 'What is 0.5 + 0.25?', call_id: c.id }),
    ]);
    // Another call of the same function later in the call is another call: it runs.
    now = c.at(40.5);
    expect(await api.vapi(c.functionCall('get_next_problem', { topic: 'decimals' }, 40))).toEqual({ result: 'What is 0.5 + 0.25?' });
    expect(server.requests).toHaveLength(2);
  });

  it('with a tool server: the raw message is forwarded and its {result} relayed', async () => {
    const { server, api } = await withServer(() => ({ body: { result: 'What is 0.5 + 0.25?' } }));
    const c = webCall({ startedAt: new Date('2025-08-02T11:00:00Z'), metadata: { studentId: freshStudent() } });
    now = c.at(20.5);
    const raw = JSON.stringify(c.functionCall('get_next_problem', { topic: 'decimals' }, 20));
    expect(await api.vapi(raw)).toEqual({ result: 'What is 0.5 + 0.25?' });
    expect(server.requests.map((r) => r.body)).toEqual([raw]);
  });
});
