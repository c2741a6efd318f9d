import type { Context } from 'hono';
import type { AppEnv } from '../../http/env.js';
import { runInBackground } from '../../http/background.js';
import { parseBody, parseBodyBy } from '../../http/validate.js';
import { onSessionComplete } from '../session-complete.js';
import {
  AssignInput,
  CloseInput,
  CreateSessionInput,
  InteractionInput,
  JoinInput,
  PhaseInput,
  SummaryInput,
  TranscriptBatchInput,
  TranscriptEntryInput,
} from '../../schemas/session.js';
import { appendTranscript, createSession, endSession, endStudentSession, joinSession, setPhase, setSummary } from '../../sessions/explicit.js';
import { recordInteraction } from '../../sessions/interactions.js';
import { pauseSession, resumeSession } from '../../sessions/pause.js';
import { assignSession } from '../../sessions/students.js';
import { toDocument, toSummaryRow } from '../../sessions/documents.js';
import { ctxOf, sessionIdParam } from './shared.js';
import { ApiError } from '../../errors.js';
import { signWriteToken } from '../../sessions/write-token.js';
import { streamable } from '../../sessions/stream.js';

/** `{write_token}` for session `id`, or nothing when the server has no ADMIN_TOKEN to sign with. */
async function writeTokenOf(c: Context<AppEnv>, id: string): Promise<{ write_token?: string }> {
  const secret = c.get('deps').config.adminToken;
  return secret ? { write_token: await signWriteToken(secret, id) } : {};
}

/** POST /api/sessions/interactions — a tool call, placed in the student's current sitting. */
export async function postInteraction(c: Context<AppEnv>) {
  const input = await parseBody(c, InteractionInput);
  const ctx = ctxOf(c);
  const { row, isNew, duplicate } = await recordInteraction(ctx, input, { attemptTools: c.get('deps').config.attemptTools });
  return c.json({
    session_id: row.id,
    is_new_session: isNew,
    ...(duplicate ? { duplicate: true } : {}),
    ...(await writeTokenOf(c, row.id)),
    session: toSummaryRow(row, ctx.now(), ctx.timeoutMs),
  });
}

/** POST /api/sessions — an explicit session; `waiting` until enough participants joined. */
export async function postSession(c: Context<AppEnv>) {
  const input = await parseBody(c, CreateSessionInput);
  const ctx = ctxOf(c);
  const row = await createSession(ctx, input);
  return c.json({ ...toDocument(row, [], [], ctx.now(), ctx.timeoutMs), ...(await writeTokenOf(c, row.id)) }, 201);
}

export async function postJoin(c: Context<AppEnv>) {
  const id = sessionIdParam(c);
  const { participant } = await parseBody(c, JoinInput);
  const ctx = ctxOf(c);
  const { row, role } = await joinSession(ctx, id, participant);
  return c.json({ session_id: row.id, participant, role, session: toSummaryRow(row, ctx.now(), ctx.timeoutMs) });
}

export async function postTranscript(c: Context<AppEnv>) {
  const id = sessionIdParam(c);
  const hasEntries = (raw: unknown) => typeof raw === 'object' && raw !== null && 'entries' in raw;
  const body = await parseBodyBy(c, (raw) => (hasEntries(raw) ? TranscriptBatchInput : TranscriptEntryInput), 1024 * 1024);
  const entries = 'entries' in body ? body.entries : [body];
  const appended = await appendTranscript(ctxOf(c), id, entries);
  return c.json({ success: true, session_id: id, appended }, 201);
}

export async function postPhase(c: Context<AppEnv>) {
  const id = sessionIdParam(c);
  const { phase } = await parseBody(c, PhaseInput);
  const ctx = ctxOf(c);
  const row = await setPhase(ctx, id, phase);
  return c.json({ session_id: id, phase: row.phase, session: toSummaryRow(row, ctx.now(), ctx.timeoutMs) });
}

export async function putSummary(c: Context<AppEnv>) {
  const id = sessionIdParam(c);
  const { summary } = await parseBody(c, SummaryInput, 1024 * 1024);
  const ctx = ctxOf(c);
  const row = await setSummary(ctx, id, summary);
  return c.json({ session_id: id, summary: row.summary, session: toSummaryRow(row, ctx.now(), ctx.timeoutMs) });
}

/** End-of-session work (analysis) runs after the response, once, when this call ended the session. */
function afterEnd(c: Context<AppEnv>, sessionId: string): void {
  runInBackground(c, 'end-of-session work', () => onSessionComplete(c.get('deps'), sessionId), { sessionId });
}

/** POST /api/sessions/{id}/end — idempotent: ending an ended session answers 200 with the record. */
export async function postEnd(c: Context<AppEnv>) {
  const id = sessionIdParam(c);
  const ctx = ctxOf(c);
  const { row, endedNow } = await endSession(ctx, id);
  if (endedNow) afterEnd(c, row.id);
  return c.json({ session_id: row.id, ended_now: endedNow, session: toSummaryRow(row, ctx.now(), ctx.timeoutMs) });
}

/** POST /api/sessions/{id}/pause — idempotent; 409 once the session is over. */
export async function postPause(c: Context<AppEnv>) {
  const id = sessionIdParam(c);
  const ctx = ctxOf(c);
  const { row, changed } = await pauseSession(ctx, id);
  return c.json({ session_id: row.id, paused_now: changed, session: toSummaryRow(row, ctx.now(), ctx.timeoutMs) });
}

/** POST /api/sessions/{id}/resume — idempotent; 409 once the session is over. */
export async function postResume(c: Context<AppEnv>) {
  const id = sessionIdParam(c);
  const ctx = ctxOf(c);
  const { row, changed } = await resumeSession(ctx, id);
  return c.json({ session_id: row.id, resumed_now: changed, session: toSummaryRow(row, ctx.now(), ctx.timeoutMs) });
}

/** POST /api/sessions/close {session_id} | {student_id}. */
export async function postClose(c: Context<AppEnv>) {
  const input = await parseBody(c, CloseInput);
  const ctx = ctxOf(c);
  const { row, endedNow } = 'session_id' in input ? await endSession(ctx, input.session_id) : await endStudentSession(ctx, input.student_id);
  if (endedNow) afterEnd(c, row.id);
  return c.json({ session_id: row.id, ended_now: endedNow, session: toSummaryRow(row, ctx.now(), ctx.timeoutMs) });
}

/** POST /api/sessions/{id}/assign {student_id} (admin) — attach a session, e.g. an unidentified call. */
export async function postAssign(c: Context<AppEnv>) {
  const id = sessionIdParam(c);
  const { student_id } = await parseBody(c, AssignInput);
  const ctx = ctxOf(c);
  const row = await assignSession(ctx, id, student_id);
  return c.json({ session_id: id, student_id, session: toSummaryRow(row, ctx.now(), ctx.timeoutMs) });
}

/** POST /api/sessions/{id}/write-token — the session's write token (the same every time). */
export async function postWriteToken(c: Context<AppEnv>) {
  const id = sessionIdParam(c);
  const secret = c.get('deps').config.adminToken;
  if (!secret) throw new ApiError('UNAVAILABLE', 'write tokens need ADMIN_TOKEN to be set');
  if (!(await streamable(ctxOf(c), id))) throw new ApiError('NOT_FOUND', `session ${id} does not exist`);
  c.header('cache-control', 'no-store');
  return c.json({ session_id: id, write_token: await signWriteToken(secret, id) });
}
