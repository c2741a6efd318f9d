import type { Context } from 'hono';
import type { AppEnv } from '../../http/env.js';
import { describeError } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { readText } from '../../http/body.js';
import { defer } from '../../http/defer.js';
import { issuesToErrors } from '../../schemas/common.js';
import { SessionDataInput } from '../../schemas/session-data.js';
import { countWords } from '../../sessions/rows.js';
import { stableUuid } from '../../util/stable-uuid.js';
import { applyToSession, type SessionEvent } from '../../vapi/apply.js';
import { linkCall } from '../../vapi/link.js';
import { sessionCtx } from '../sessions/shared.js';
import { type OnSessionComplete, processVapiBody } from './vapi.js';

/**
 * POST /api/webhooks/session-data (also /webhook/session-data): a finished (or ongoing) session
 * from any voice platform, matched like a Vapi call. A body carrying a Vapi `message` is handled
 * exactly as the Vapi webhook would.
 */
export function sessionDataWebhook(onComplete?: OnSessionComplete) {
  return async (c: Context<AppEnv>): Promise<Response> => {
    const deps = c.get('deps');
    const raw = await readText(c.req.raw, deps.config.webhookMaxBytes);
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (err) {
      throw new ApiError('BAD_REQUEST', `body is not valid JSON: ${err instanceof Error ? err.message : 'parse error'}`);
    }
    let completed: string | undefined;
    let body: Record<string, unknown>;
    if (json && typeof json === 'object' && 'message' in json) {
      const outcome = await processVapiBody(deps, raw);
      completed = outcome.completedSessionId;
      body = { success: true, session_id: outcome.sessionId ?? null, ...(outcome.body as Record<string, unknown>) };
    } else {
      const parsed = SessionDataInput.safeParse(json);
      if (!parsed.success) {
        const errors = issuesToErrors(parsed.error.issues);
        throw new ApiError('BAD_REQUEST', `invalid session data: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, { errors });
      }
      const d = parsed.data;
      const ctx = sessionCtx(deps);
      const now = ctx.now();
      const startedAt = new Date(Math.min(Date.parse(d.started_at), now.getTime()));
      const endedAt = d.ended_at ? new Date(Math.min(Math.max(Date.parse(d.ended_at), startedAt.getTime()), now.getTime())) : undefined;
      const linked = await linkCall(ctx, {
        platform: d.platform,
        callId: d.call_id ?? null,
        identity: { ...(d.session_id ? { sessionId: d.session_id } : {}), ...(d.student_id ? { studentId: d.student_id } : {}) },
        startedAt,
        matchWindowMs: deps.config.vapi.matchWindowMs,
      });
      const key = d.call_id ?? `${linked.sessionId}:${d.started_at}`;
      const entries = typeof d.transcript === 'string' ? [] : (d.transcript ?? []);
      const text = typeof d.transcript === 'string' ? d.transcript : entries.map((e) => `${e.speaker}: ${e.text}`).join('\n');
      const events: SessionEvent[] = await Promise.all(
        entries.map(async (e, i) => ({
          uuid: await stableUuid(d.platform, key, 'entry', i),
          type: 'transcript',
          data: { speaker: e.speaker, text: e.text, source: d.platform, call_id: d.call_id ?? null },
          at: e.timestamp ? new Date(Math.min(Date.parse(e.timestamp), now.getTime())) : startedAt,
        })),
      );
      if (endedAt) {
        events.push({ uuid: await stableUuid(d.platform, key, 'session_ended'), type: 'session_ended', data: { reason: 'platform-report', source: d.platform, call_id: d.call_id ?? null }, at: endedAt });
      }
      const applied = await applyToSession(ctx.sql, {
        sessionId: linked.sessionId,
        at: endedAt ?? now,
        startedAt,
        events,
        ...(d.transcript !== undefined
          ? {
              conversation: {
                source: d.platform,
                transcript: text,
                word_count: countWords(text),
                duration_seconds: endedAt ? Math.round((endedAt.getTime() - startedAt.getTime()) / 1000) : 0,
              },
            }
          : {}),
        platformMetadata: { ...(d.metadata ?? {}), ...(d.call_id ? { call_id: d.call_id } : {}), platform: d.platform },
        ...(endedAt ? { end: { endedAt, reason: 'platform-report' } } : {}),
        ...(d.call_id && endedAt ? { reportCallId: d.call_id } : {}),
      });
      if (endedAt && applied && (applied.firstReport || !d.call_id)) completed = linked.sessionId;
      body = { success: true, session_id: linked.sessionId, is_new_session: linked.created, matched_by: linked.via };
    }
    if (completed && onComplete) {
      const p = onComplete(deps, completed).catch((err: unknown) => deps.log.error('end-of-session work failed', { error: describeError(err) }));
      defer(c, p);
    }
    return c.json(body);
  };
}
