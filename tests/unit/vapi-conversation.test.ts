/**
 * The transcript does not depend on one delivery (issue 13): conversation-update and a
 * status-update `ended` (with its artifact) keep the session current and end it; the report, when
 * it comes, replaces what came before; end-of-session work runs once per call, whichever ended it.
 * Plus the fields as Vapi sends them today (recording, costs, times, nulls, artifact tool results,
 * transfers). Payloads follow the server SDK's ServerMessage* / Artifact / Recording types.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { sessionsFamily } from '../../lib/routes/sessions/index.js';
import { webhooksFamily } from '../../lib/routes/webhooks/index.js';
import type { Sql } from '../../lib/storage/sql.js';
import { expectedEntries, freshStudent, phoneCall, type Turn, toolUse, transcriptText, tutoringTurns, webCall } from '../fixtures/vapi/calls.js';
import { client } from '../fixtures/vapi/http.js';
import { makeDeps, memoryPglite, testConfig } from '../helpers/deps.js';

let sql: Sql;
let now: Date;
const completions: string[] = [];
let api: ReturnType<typeof client>;
let settle: () => Promise<void>;

beforeAll(async () => {
  sql = await memoryPglite();
  const deps = makeDeps({ sql, config: testConfig(), now: () => now });
  settle = deps.settle;
  api = client(createApp(deps, [webhooksFamily(async (_d, id) => completions.push(id)), sessionsFamily]));
});
afterAll(() => sql.close());

type Call = ReturnType<typeof webCall>;
async function deliver(c: Call, at: number, body: unknown) {
  now = c.at(at + 0.4);
  return api.vapi(body);
}
const count = (events: Array<{ event_type: string }>, type: string) => events.filter((e) => e.event_type === type).length;
async function onlySession(student: string) {
  const sessions = await api.sessions({ student_id: student });
  expect(sessions).toHaveLength(1);
  return api.doc(sessions[0]!.session_id);
}

describe('a call with only status and conversation updates (no report)', () => {
  it('keeps the transcript current, ends at status-update ended with its reason, completes once; a late report replaces, never duplicates', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-09-01T14:00:00Z'), metadata: { studentId: student } });
    const turns = tutoringTurns();
    await deliver(c, 0, c.status('in-progress', 0));
    // A live transcript line first (subscribed too), then the history: the line is not doubled.
    await deliver(c, 3, c.transcript('assistant', turns[0]!.text, 3));
    await deliver(c, 7, c.conversationUpdate(turns.slice(0, 2), 7));
    let d = await onlySession(student);
    expect(d.conversation.entries.map((e) => e.text)).toEqual([turns[0]!.text, turns[1]!.text]);
    expect(d.status).toBe('active');
    // A live line after a conversation-update waits for the next history (which repeats it).
    await deliver(c, 34, c.transcript('assistant', turns[2]!.text, 34));
    await deliver(c, 50, c.conversationUpdate(turns.slice(0, 4), 50));
    await deliver(c, 89, c.conversationUpdate(turns, 89));
    // An older history delivered late adds nothing and removes nothing.
    await deliver(c, 90, c.conversationUpdate(turns.slice(0, 2), 7));
    d = await onlySession(student);
    expect(d.conversation.entries).toEqual(expectedEntries(turns, c.start));
    expect(d.transcript_count).toBe(turns.length);

    await deliver(c, 95.4, c.statusEnded(95.4, 'customer-ended-call'));
    d = await onlySession(student);
    expect(d).toMatchObject({ status: 'completed', end_time: c.at(95.4).toISOString(), end_reason: 'call-ended' });
    expect(d.platform_metadata).toMatchObject({ status: 'ended', ended_reason: 'customer-ended-call' });
    expect(d.conversation.entries).toEqual(expectedEntries(turns, c.start));
    await settle();
    expect(completions.filter((id) => id === d.session_id)).toHaveLength(1);

    // A late earlier status (re-serialised, so not skipped as a byte-identical redelivery) and a
    // stale one do not undo the end before the report comes, nor after it.
    await deliver(c, 96, { ...c.status('in-progress', 0), extra: 'late' });
    await deliver(c, 96.2, c.status('ringing', 96.1));
    // A message carrying no metadata at all after the end (a late live line) keeps it too.
    expect(await deliver(c, 96.3, c.transcript('user', 'Bye!', 96.3))).toEqual({});
    d = await onlySession(student);
    expect(d).toMatchObject({ status: 'completed', platform_metadata: { status: 'ended', ended_reason: 'customer-ended-call' } });

    // The report arrives after all: authoritative, replacing the interim lines, completing nothing again.
    const report = c.report({ turns, endAt: 95.1 });
    await deliver(c, 97, report);
    d = await onlySession(student);
    expect(d.conversation).toMatchObject({ transcript: transcriptText(turns), entries: expectedEntries(turns, c.start), source: 'vapi' });
    expect(d.transcript_count).toBe(turns.length);
    expect(d.end_time).toBe(c.at(95.1).toISOString());
    const { events } = await api.timeline(d.session_id);
    expect(count(events, 'transcript')).toBe(turns.length);
    expect(events.filter((e) => e.event_type === 'transcript').every((e) => e.event_data.source === 'vapi')).toBe(true);
    expect(count(events, 'session_ended')).toBe(1);
    // Nothing after the report changes its transcript.
    await deliver(c, 99, c.conversationUpdate(turns.slice(0, 3), 99));
    await deliver(c, 99.5, c.transcript('user', 'one more thing', 99.5));
    expect((await api.doc(d.session_id)).conversation.entries).toEqual(expectedEntries(turns, c.start));
    await settle();
    expect(completions.filter((id) => id === d.session_id)).toHaveLength(1);
  });

  it('a conversation-update with only messagesOpenAIFormatted (required in the SDK, messages optional) gives the conversation; system and tool messages are not lines', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-09-01T14:30:00Z'), metadata: { studentId: student } });
    const turns = tutoringTurns().slice(0, 4);
    const { messages: _messages, messagesOpenAIFormatted: openAi, ...rest } = c.conversationUpdate(turns, 50).message;
    // OpenAI format: the assistant's tool call (content null) and the tool's answer sit between the turns.
    const toolCall = { role: 'assistant', content: null, tool_calls: [{ id: 'tc-1', type: 'function', function: { name: 'get_next_problem', arguments: '{}' } }] };
    const toolAnswer = { role: 'tool', content: '{"problem":"1/2 + 1/3"}', tool_call_id: 'tc-1' };
    await deliver(c, 50, { message: { ...rest, messagesOpenAIFormatted: [...openAi.slice(0, 3), toolCall, toolAnswer, ...openAi.slice(3)] } });
    const d = await onlySession(student);
    expect(openAi[0]).toMatchObject({ role: 'system' });
    expect(d.conversation.entries.map(({ speaker, text }) => ({ speaker, text }))).toEqual(expectedEntries(turns, c.start).map(({ speaker, text }) => ({ speaker, text })));
    expect(d.conversation.transcript).toBe(transcriptText(turns));
    expect(d.transcript_count).toBe(turns.length);
    expect(d.status).toBe('active');
  });

  it('lines without times (messagesOpenAIFormatted only) keep the history\'s order when a line is revised after the reply to it was stored', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-09-01T14:40:00Z'), metadata: { studentId: student } });
    const openAiOnly = (turns: Array<{ role: 'bot' | 'user'; text: string; at: number }>, at: number) => {
      const { messages: _messages, ...rest } = c.conversationUpdate(turns, at).message;
      return { message: rest };
    };
    const a1 = { role: 'bot' as const, text: 'Hi! What shall we practise today?', at: 1 };
    const u1 = { role: 'user' as const, text: 'Fractions I', at: 4 };
    const u1Revised = { ...u1, text: 'Fractions, I think.' };
    const a2 = { role: 'bot' as const, text: 'Great, fractions it is.', at: 6 };
    const u2 = { role: 'user' as const, text: 'Can we start with adding them?', at: 9 };
    await deliver(c, 5, openAiOnly([a1, u1], 5));
    await deliver(c, 7, openAiOnly([a1, u1, a2], 7));
    // The platform revises the caller's line after the reply to it went out.
    await deliver(c, 10, openAiOnly([a1, u1Revised, a2, u2], 10));
    const d = await onlySession(student);
    const expected = [a1, u1Revised, a2, u2].map((t) => t.text);
    expect(d.conversation.entries.map((e: { text: string }) => e.text)).toEqual(expected);
    const { events } = await api.timeline(d.session_id);
    expect(events.filter((e) => e.event_type === 'transcript').map((e) => e.event_data.text)).toEqual(expected);
  });

  it('a status-update ended carrying the artifact alone gives the transcript and the recording', async () => {
    const student = freshStudent();
    const c = phoneCall({ startedAt: new Date('2025-09-01T15:00:00Z'), externalId: student });
    const turns = tutoringTurns();
    await deliver(c, 0.2, c.status('in-progress', 0.2));
    const ended = c.statusEnded(96, 'assistant-ended-call', turns);
    await deliver(c, 96, ended);
    const d = await onlySession(student);
    expect(d).toMatchObject({ status: 'completed', end_time: c.at(96).toISOString() });
    expect(d.conversation.entries).toEqual(expectedEntries(turns, c.start));
    expect(d.conversation.transcript).toBe(transcriptText(turns));
    expect(d.platform_metadata).toMatchObject({
      ended_reason: 'assistant-ended-call',
      recording_url: ended.message.artifact?.recording.mono.combinedUrl,
      stereo_recording_url: ended.message.artifact?.recording.stereoUrl,
    });
    // The status line is on the timeline too.
    const { events } = await api.timeline(d.session_id);
    expect(events.some((e) => e.event_type === 'call_status' && e.event_data.status === 'ended' && e.event_data.ended_reason === 'assistant-ended-call')).toBe(true);
  });
});

describe('fields as Vapi sends them today', () => {
  it('a phone call with a stereo-only recording (artifact.recording, no deprecated recordingUrl)', async () => {
    const student = freshStudent();
    const c = phoneCall({ startedAt: new Date('2025-10-02T09:00:00Z'), externalId: student });
    const report = c.report({ recording: 'stereo' });
    expect(report.message.artifact).not.toHaveProperty('recordingUrl');
    await deliver(c, 97, report);
    const d = await onlySession(student);
    const stereo = (report.message.artifact as unknown as { recording: { stereoUrl: string } }).recording.stereoUrl;
    expect(d.platform_metadata).toMatchObject({ stereo_recording_url: stereo, recording_url: stereo });
    expect(d.platform_metadata).not.toHaveProperty('recording_assistant_url');
  });

  it('a current report: mono channel urls are kept, the deprecated fields are not needed', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-10-02T10:00:00Z'), metadata: { studentId: student } });
    const report = c.report({ recording: 'artifact' });
    await deliver(c, 97, report);
    const rec = (report.message.artifact as unknown as { recording: { stereoUrl: string; mono: { combinedUrl: string; assistantUrl: string; customerUrl: string } } }).recording;
    expect((await onlySession(student)).platform_metadata).toMatchObject({
      recording_url: rec.mono.combinedUrl,
      stereo_recording_url: rec.stereoUrl,
      recording_assistant_url: rec.mono.assistantUrl,
      recording_customer_url: rec.mono.customerUrl,
    });
  });

  it('tool results only in the report’s artifact (role tool_call_result) are stored like live ones', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-10-02T11:00:00Z'), metadata: { studentId: student } });
    const ok = toolUse('get_next_problem', { topic: 'decimals' }, 20, '{"problem":"0.5 + 0.25"}');
    await deliver(c, 97, c.report({ tools: [ok] }));
    const d = await onlySession(student);
    const { events } = await api.timeline(d.session_id);
    const results = events.filter((e) => e.event_type === 'tool_result');
    expect(results).toHaveLength(1);
    expect(results[0]!.event_data).toMatchObject({ toolCallId: ok.id, name: 'get_next_problem', result: '{"problem":"0.5 + 0.25"}', call_id: c.id });
    expect(results[0]!.event_data).not.toHaveProperty('error');
    expect(results[0]!.created_at).toBe(c.at(20.42).toISOString());
    expect(count(events, 'interaction')).toBe(1);
    // Redelivered: still one.
    await deliver(c, 98, c.report({ tools: [ok] }));
    expect(count((await api.timeline(d.session_id)).events, 'tool_result')).toBe(1);
  });

  it('a report whose artifact holds the messages only in OpenAI format (every Artifact field is optional): its lines, tool calls and results', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-10-02T11:30:00Z'), metadata: { studentId: student } });
    const turns = tutoringTurns().slice(0, 4);
    const graded = toolUse('record_attempt', { problem: '1/2 + 1/3', answer: '5/6', correct: true }, 50, '{"recorded":true}');
    const report = c.report({ turns }).message as Record<string, unknown> & { artifact: { messagesOpenAIFormatted: Array<Record<string, unknown>> } };
    const openAi = report.artifact.messagesOpenAIFormatted;
    // The assistant's tool call (content null, arguments as JSON text) and the tool's answer, between the turns.
    const toolCall = { role: 'assistant', content: null, tool_calls: [{ id: graded.id, type: 'function', function: { name: graded.name, arguments: JSON.stringify(graded.args) } }] };
    const toolAnswer = { role: 'tool', content: graded.result, tool_call_id: graded.id };
    const artifact = { messagesOpenAIFormatted: [...openAi.slice(0, 4), toolCall, toolAnswer, ...openAi.slice(4)] };
    await deliver(c, 97, { message: { ...report, artifact } });
    const d = await onlySession(student);
    expect(d.conversation.entries.map(({ speaker, text }) => ({ speaker, text }))).toEqual(expectedEntries(turns, c.start).map(({ speaker, text }) => ({ speaker, text })));
    expect(d.conversation.transcript).toBe(transcriptText(turns));
    expect(d.status).toBe('completed');
    const { events } = await api.timeline(d.session_id);
    expect(events.filter((e) => e.event_type === 'interaction').map((e) => e.event_data)).toEqual([
      expect.objectContaining({ function: 'record_attempt', tool_call_id: graded.id, parameters: graded.args, call_id: c.id }),
    ]);
    expect(events.filter((e) => e.event_type === 'tool_result').map((e) => e.event_data)).toEqual([
      expect.objectContaining({ toolCallId: graded.id, name: 'record_attempt', result: '{"recorded":true}', call_id: c.id }),
    ]);
    expect(count(events, 'attempt')).toBe(1);
    // Redelivered: nothing twice.
    await deliver(c, 98, { message: { ...report, artifact } });
    const again = (await api.timeline(d.session_id)).events;
    expect([count(again, 'interaction'), count(again, 'tool_result'), count(again, 'attempt'), count(again, 'transcript')]).toEqual([1, 1, 1, turns.length]);
  });

  it('nulls stay null; cost_breakdown (money) and usage (counts) have one shape from costBreakdown or summed from costs[]', async () => {
    const a = freshStudent();
    const ca = webCall({ startedAt: new Date('2025-10-03T09:00:00Z'), metadata: { studentId: a } });
    await deliver(ca, 97, ca.report({ nulls: true, costsOnly: true }));
    const da = await onlySession(a);
    expect(da.platform_metadata.success_evaluation).toBeNull();
    expect(da.platform_metadata.structured_data).toBeNull();
    expect(da.platform_metadata.vapi_summary).toBeNull();
    const summed = da.platform_metadata.cost_breakdown as Record<string, number>;
    expect(Object.keys(summed).sort()).toEqual(['llm', 'stt', 'total', 'tts', 'vapi']);
    expect(summed.total).toBeCloseTo(0.0213 + 0.0451 + 0.0298 + 0.038, 10);

    const b = freshStudent();
    const cb = webCall({ startedAt: new Date('2025-10-03T10:00:00Z'), metadata: { studentId: b } });
    const report = cb.report();
    await deliver(cb, 97, report);
    const metaB = (await onlySession(b)).platform_metadata;
    const given = metaB.cost_breakdown as Record<string, number>;
    // Vapi's costBreakdown mixes token and character counts in among the prices: they go to usage.
    const { llmPromptTokens, llmCompletionTokens, ttsCharacters, ...prices } = report.message.costBreakdown ?? { llmPromptTokens: -1, llmCompletionTokens: -1, ttsCharacters: -1 };
    expect(given).toEqual(prices);
    for (const k of Object.keys(summed)) expect(given).toHaveProperty(k);
    const usage = { llmPromptTokens, llmCompletionTokens, ttsCharacters };
    expect(usage).toEqual({ llmPromptTokens: 2311, llmCompletionTokens: 187, ttsCharacters: 1021 });
    expect(metaB.usage).toEqual(usage);
    // From costs[] alone, the same counts, taken from its model and voice items.
    expect(da.platform_metadata.usage).toEqual(usage);
  });

  it('times: the session starts at startedAt (not createdAt), duration from durationMs, no last_activity past the end', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2025-10-04T09:00:00Z'), metadata: { studentId: student } });
    // The first message comes while ringing: the session is created at call.createdAt.
    await deliver(c, -1, c.status('ringing', -1));
    expect((await onlySession(student)).start_time).toBe(new Date(c.call.createdAt).toISOString());
    await deliver(c, 97, c.report({ durationMsOnly: true, endAt: 61.5 }));
    let d = await onlySession(student);
    expect(d.start_time).toBe(c.start.toISOString());
    const started = (await api.timeline(d.session_id)).events.filter((e) => e.event_type === 'session_started');
    expect(started.map((e) => e.created_at)).toEqual([c.start.toISOString()]);
    expect(d.conversation.duration_seconds).toBe(62);
    expect(d.last_activity).toBe(c.at(61.5).toISOString());
    // A message without a timestamp, long after: on the timeline, but the call stays ended at its end.
    const late = c.transferUpdate(120, '+15550109999');
    delete (late.message as { timestamp?: unknown }).timestamp;
    now = c.at(600);
    await api.vapi(late);
    d = await onlySession(student);
    expect(d.last_activity).toBe(c.at(61.5).toISOString());
  });

  it('transfer-update lands on the timeline with its destination', async () => {
    const student = freshStudent();
    const c = phoneCall({ startedAt: new Date('2025-10-05T09:00:00Z'), externalId: student });
    await deliver(c, 0, c.status('in-progress', 0));
    await deliver(c, 40, c.transferUpdate(40, '+15550104242'));
    await deliver(c, 40, c.transferUpdate(40, '+15550104242'));
    const d = await onlySession(student);
    const { events } = await api.timeline(d.session_id);
    const transfers = events.filter((e) => e.event_type === 'call_transfer');
    expect(transfers).toHaveLength(1);
    expect(transfers[0]!.event_data).toMatchObject({ destination: { type: 'number', number: '+15550104242' }, from_assistant: 'Fraction Tutor', call_id: c.id });
    expect(transfers[0]!.created_at).toBe(c.at(40).toISOString());
    expect(d.platform_metadata.transferred_to).toBe('+15550104242');
  });
});

describe('the 2024 layout of a report alone', () => {
  it('still reads top-level messages and recordingUrl', async () => {
    const student = freshStudent();
    const c = webCall({ startedAt: new Date('2024-05-05T09:00:00Z'), metadata: { studentId: student }, layout: '2024' } as Parameters<typeof webCall>[0]);
    const turns: Turn[] = tutoringTurns().slice(0, 3);
    const report = c.report({ turns });
    await deliver(c, 97, report);
    const d = await onlySession(student);
    expect(d.conversation.entries).toEqual(expectedEntries(turns, c.start));
    expect(d.platform_metadata.recording_url).toBe((report.message as { recordingUrl?: string }).recordingUrl);
  });
});
