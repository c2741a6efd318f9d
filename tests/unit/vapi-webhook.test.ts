/**
 * POST /api/webhooks/vapi: a call's whole life folded into ONE session, redeliveries and
 * concurrent deliveries with one effect, tolerant parsing, and a fast acknowledgement with the
 * end-of-session work after the response — in-process on PGlite with an injected clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import type { OnSessionComplete } from '../../lib/routes/webhooks/vapi.js';
import { sessionsFamily } from '../../lib/routes/sessions/index.js';
import { webhooksFamily } from '../../lib/routes/webhooks/index.js';
import type { Sql } from '../../lib/storage/sql.js';
import { expectedEntries, freshStudent, phoneCall, transcriptText, tutoringTools, tutoringTurns, webCall } from '../fixtures/vapi/calls.js';
import { client } from '../fixtures/vapi/http.js';
import { makeDeps, memoryPglite, testConfig } from '../helpers/deps.js';

let sql: Sql;
let now: Date;
const completions: string[] = [];

function build(onComplete: OnSessionComplete = async (_d, id) => completions.push(id)) {
  const deps = makeDeps({ sql, config: testConfig(), now: () => now });
  const app = createApp(deps, [webhooksFamily(onComplete), sessionsFamily]);
  return { deps, app, api: client(app) };
}

let main: ReturnType<typeof build>;
beforeAll(async () => {
  sql = await memoryPglite();
  main = build();
});
afterAll(() => sql.close());

const words = (s: string) => s.split(/\s+/).filter(Boolean).length;
const count = (events: Array<{ event_type: string }>, type: string) => events.filter((e) => e.event_type === type).length;

/** Deliver a message with the clock just after its own timestamp, as in production. */
async function deliver(call: ReturnType<typeof webCall>, at: number, body: unknown, api = main.api) {
  now = call.at(at + 0.4);
  return api.vapi(body);
}

describe('a web call from first status to end-of-call report', () => {
  it('ends as ONE completed session holding the report (live entries replaced, nothing twice)', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-04-01T15:00:00Z'), overridesMetadata: { studentId: student } });
    const turns = tutoringTurns();
    const tools = tutoringTools();
    const live = (i: number) => c.transcript(turns[i]!.role === 'bot' ? 'assistant' : 'user', turns[i]!.text, turns[i]!.at + 2);

    expect(await deliver(c, 0, c.status('in-progress', 0))).toEqual({});
    await deliver(c, 4, c.transcript('user', 'Yes, can I', 4, { transcriptType: 'partial' }));
    for (const i of [0, 1]) await deliver(c, turns[i]!.at + 2, live(i));

    const [row] = await main.api.sessions({ student_id: student });
    const during = await main.api.doc(row!.session_id);
    expect(during).toMatchObject({ status: 'active', platform: 'vapi', student_id: student, end_time: null });
    expect(during.conversation.entries.map((e) => e.text)).toEqual([turns[0]!.text, turns[1]!.text]);
    expect(during.platform_metadata).toMatchObject({ call_id: c.id, status: 'in-progress' });

    const answer = await deliver(c, 31, c.toolCalls(tools));
    expect(answer.results).toEqual([{ toolCallId: tools[0]!.id, name: 'get_next_problem', error: expect.any(String) }]);
    for (const i of [2, 3, 4, 5]) await deliver(c, turns[i]!.at + 2, live(i));
    await deliver(c, 95.4, c.status('ended', 95.4, 'assistant-ended-call'));
    const report = c.report({ turns, tools });
    expect(await deliver(c, 97, report)).toEqual({});

    const sessions = await main.api.sessions({ student_id: student });
    expect(sessions).toHaveLength(1);
    const d = await main.api.doc(row!.session_id);
    const text = transcriptText(turns);
    expect(d).toMatchObject({ status: 'completed', end_time: c.at(95.4).toISOString(), transcript_count: turns.length, interaction_count: 1 });
    expect(d.conversation).toEqual({ transcript: text, entries: expectedEntries(turns, c.start), source: 'vapi', word_count: words(text), duration_seconds: 95 });
    expect(d.conversation.entries.some((e) => e.text === 'Yes, can I')).toBe(false);
    expect(d.platform_metadata).toMatchObject({
      call_id: c.id,
      call_type: 'webCall',
      cost: 0.1342,
      cost_breakdown: { transport: 0, stt: 0.0213, llm: 0.0451, tts: 0.0298, vapi: 0.038, total: 0.1342 },
      usage: { llmPromptTokens: 2311, llmCompletionTokens: 187, ttsCharacters: 1021 },
      ended_reason: 'assistant-ended-call',
      recording_url: report.message.artifact.recordingUrl,
      vapi_summary: report.message.analysis.summary,
      success_evaluation: 'true',
      structured_data: { topic: 'fractions', problems_attempted: 1, mastery: 'developing' },
    });
    expect(d.mcp_interactions).toEqual([
      { timestamp: c.at(31).toISOString(), function: 'get_next_problem', parameters: { topic: 'fractions', difficulty: 2 }, data_provided: [], subjects_accessed: [] },
    ]);
    const { events } = await main.api.timeline(row!.session_id);
    expect(count(events, 'transcript')).toBe(turns.length);
    expect(count(events, 'interaction')).toBe(1);
    expect(count(events, 'session_started')).toBe(1);
    expect(count(events, 'session_ended')).toBe(1);
    expect(events.some((e) => e.event_data.status === 'in-progress')).toBe(true);
    await main.deps.settle();
    expect(completions.filter((id) => id === row!.session_id)).toHaveLength(1);
  });

  it('status-updates of a phone call update the session as they come', async () => {
    const student = freshStudent();
    const c = phoneCall({ startedAt: new Date('2025-04-01T17:00:00Z'), externalId: student });
    const seen: string[] = [];
    for (const [i, status] of ['queued', 'ringing', 'in-progress', 'forwarding'].entries()) {
      await deliver(c, i * 2, c.status(status, i * 2));
      const [row] = await main.api.sessions({ student_id: student });
      const d = await main.api.doc(row!.session_id);
      expect(d).toMatchObject({ status: 'active', last_activity: c.at(i * 2).toISOString(), platform_metadata: { status, call_type: 'inboundPhoneCall' } });
      seen.push(status);
      const logged = (await main.api.timeline(row!.session_id)).events.map((e) => e.event_data.status).filter(Boolean);
      expect(logged).toEqual(seen);
    }
  });

  // Vapi sends the last utterance and the report at nearly the same moment: a late live line must not duplicate.
  it('a live transcript that arrives after the report does not duplicate the entry', async () => {
    const c = webCall({ startedAt: new Date('2025-04-01T16:00:00Z'), metadata: { studentId: freshStudent() } });
    const turns = tutoringTurns();
    await deliver(c, 97, c.report({ turns }));
    now = c.at(97.6); // arrives just after the report, stamped when it was spoken
    await main.api.vapi(c.transcript('user', turns.at(-1)!.text, 90));
    const [row] = await main.api.sessions({ student_id: String(c.call.metadata?.studentId) });
    const d = await main.api.doc(row!.session_id);
    expect(d.conversation.entries).toEqual(expectedEntries(turns, c.start));
    expect(d.transcript_count).toBe(turns.length);
  });
});

describe('redeliveries', () => {
  async function snapshot(id: string) {
    return { doc: await main.api.doc(id), events: (await main.api.timeline(id)).events.map((e) => e.event_id).sort() };
  }

  it('the same report again — byte-identical or re-serialised — changes nothing and completes once', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-04-02T09:00:00Z'), metadata: { student_id: student } });
    const report = c.report({ tools: tutoringTools() });
    const raw = JSON.stringify(report);
    await deliver(c, 97, raw);
    const [row] = await main.api.sessions({ student_id: student });
    const first = await snapshot(row!.session_id);
    expect(first.doc.status).toBe('completed');
    await deliver(c, 160, raw);
    await deliver(c, 400, JSON.stringify(report, null, 2));
    expect(await snapshot(row!.session_id)).toEqual(first);
    expect(await main.api.sessions({ student_id: student })).toHaveLength(1);
    await main.deps.settle();
    expect(completions.filter((id) => id === row!.session_id)).toHaveLength(1);
  });

  it('simultaneous deliveries of one report (identical and re-serialised) make one session, one effect', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-04-02T10:00:00Z'), assistantMetadata: { studentId: student } });
    const report = c.report();
    now = c.at(98);
    const bodies = [report, report, JSON.stringify(report, null, 1), JSON.stringify(report, null, 2)];
    expect(await Promise.all(bodies.map((b) => main.api.vapi(b)))).toEqual(bodies.map(() => ({})));
    const sessions = await main.api.sessions({ student_id: student });
    expect(sessions).toHaveLength(1);
    const { events } = await main.api.timeline(sessions[0]!.session_id);
    expect(count(events, 'transcript')).toBe(tutoringTurns().length);
    expect(count(events, 'session_started')).toBe(1);
    expect(count(events, 'session_ended')).toBe(1);
    await main.deps.settle();
    expect(completions.filter((id) => id === sessions[0]!.session_id)).toHaveLength(1);
  });

  // Live messages and the report must agree on the session even when they race.
  it('simultaneous first messages of one call make one session', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-04-02T11:00:00Z'), assistantMetadata: { studentId: student } });
    now = c.at(98);
    await Promise.all([main.api.vapi(c.status('in-progress', 0)), main.api.vapi(c.report())]);
    expect(await main.api.sessions({ student_id: student })).toHaveLength(1);
  });
});

describe('what Vapi sends that is not stored, or not well-formed', () => {
  it.each([
    ['truncated JSON', '{"message": {"type": "status-update", '],
    ['not JSON at all', 'message=status-update'],
    ['an empty body', ''],
  ])('%s → 400 problem+json', async (_n, body) => {
    const p = await main.api.problem(await main.api.vapiRaw(body), 400);
    expect(p.code).toBe('BAD_REQUEST');
  });

  it.each(['speech-update', 'user-interrupted', 'model-output', 'voice-input', 'assistant.started', 'a-type-from-the-future'])(
    'unknown or unstored type %s → 200 {} and no session',
    async (type) => {
      const student = freshStudent();
      const c = webCall({ startedAt: new Date('2025-04-03T08:00:00Z'), metadata: { studentId: student } });
      expect(await deliver(c, 5, c.message(type, 5, { status: 'started', role: 'user', messages: [] }))).toEqual({});
      expect(await main.api.sessions({ student_id: student })).toEqual([]);
    },
  );

  it('a partial transcript → 200 {} and nothing stored; hang → 200 {}', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-04-03T08:10:00Z'), metadata: { studentId: student } });
    expect(await deliver(c, 5, c.transcript('user', 'I think it', 5, { transcriptType: 'partial' }))).toEqual({});
    expect(await main.api.sessions({ student_id: student })).toEqual([]);
    expect(await deliver(c, 30, c.message('hang', 30))).toEqual({});
  });

  it.each([
    ['status-update', { status: 'in-progress' }],
    ['end-of-call-report', { endedReason: 'customer-ended-call', artifact: { messages: [], transcript: '' } }],
    ['speech-update', { status: 'started', role: 'assistant' }],
  ])('%s without a call → 200 {}', async (type, fields) => {
    now = new Date('2025-04-03T09:00:00Z');
    expect(await main.api.vapi({ message: { type, timestamp: now.getTime() - 1000, ...fields } })).toEqual({});
  });

  it('transcript[transcriptType="final"] is a final transcript; every documented path accepts it', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-04-03T10:00:00Z'), metadata: { studentId: student } });
    now = c.at(10);
    await main.api.vapi(c.transcript('user', 'One half is bigger.', 8, { typeForm: true }));
    await main.api.vapi(c.transcript('assistant', 'Correct, well done.', 9, { typeForm: true }), {}, '/webhook/vapi');
    await main.api.vapi(c.transcript('user', 'Next one please.', 9.5), {}, '/webhook/vapi/session-complete');
    const [row] = await main.api.sessions({ student_id: student });
    const d = await main.api.doc(row!.session_id);
    expect(d.conversation.entries).toEqual([
      { speaker: 'user', text: 'One half is bigger.', timestamp: c.at(8).toISOString() },
      { speaker: 'assistant', text: 'Correct, well done.', timestamp: c.at(9).toISOString() },
      { speaker: 'user', text: 'Next one please.', timestamp: c.at(9.5).toISOString() },
    ]);
  });
});

describe('acknowledgement and end-of-session work', () => {
  it('answers the report well under Vapi’s 20 s and runs onComplete only after the response', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const ran: string[] = [];
    const { api, deps } = build(async (_d, id) => {
      await gate;
      ran.push(id);
    });
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-04-04T12:00:00Z'), metadata: { studentId: student } });
    now = c.at(98);
    const started = performance.now();
    const res = await api.vapiRaw(c.report({ tools: tutoringTools() }));
    const elapsed = performance.now() - started;
    expect(res.status).toBe(200);
    expect(elapsed).toBeLessThan(2000);
    // The response came back while the hook was still blocked: it was not awaited before answering.
    expect(ran).toEqual([]);
    const [row] = await api.sessions({ student_id: student });
    expect((await api.doc(row!.session_id)).status).toBe('completed');
    release();
    await deps.settle();
    expect(ran).toEqual([row!.session_id]);
  });

  it('a failing onComplete never turns the acknowledgement into an error', async () => {
    const { api, deps } = build(async () => {
      throw new Error('analysis service down');
    });
    const c = webCall({ startedAt: new Date('2025-04-04T13:00:00Z') });
    now = c.at(98);
    expect(await api.vapi(c.report())).toEqual({});
    await expect(deps.settle()).resolves.toBeUndefined();
  });
});
