import { bearerToken, safeEqual } from '../../util/safe-equal.js';
import { issuesToErrors } from '../../schemas/common.js';
import { SessionDataInput } from '../../schemas/session-data.js';
import type { CallAdapter, CallDelivery, ParseResult } from '../types.js';
import { SERVER_METADATA_KEYS } from '../link.js';

/**
 * The generic session-data webhook: any voice platform posts a finished (or ongoing) call as one
 * JSON document, authenticated by WEBHOOK_TOKEN as a Bearer token. It is a report in the neutral
 * shape: its transcript replaces the session's conversation, its `ended_at` ends the session.
 */
export const sessionDataAdapter: CallAdapter = {
  name: 'session-data',
  async authenticate({ headers }, config) {
    const token = bearerToken(headers.get('authorization'));
    if (config.webhookToken && token && (await safeEqual(token, config.webhookToken))) return { ok: true, via: 'bearer' };
    return { ok: false, reason: 'missing or invalid bearer token (webhook token required)' };
  },
  parse: async (body, now) => parseSessionData(body, now),
  // The reply names the session, so a redelivery must be processed to answer it.
  skipsRedeliveries: false,
};

function parseSessionData(body: unknown, now: Date): ParseResult {
  const parsed = SessionDataInput.safeParse(body);
  if (!parsed.success) {
    const errors = issuesToErrors(parsed.error.issues);
    return { ok: false, detail: `invalid session data: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors };
  }
  const d = parsed.data;
  const startedAt = new Date(Math.min(Date.parse(d.started_at), now.getTime()));
  const endedAt = d.ended_at ? new Date(Math.min(Math.max(Date.parse(d.ended_at), startedAt.getTime()), now.getTime())) : undefined;
  const entries = typeof d.transcript === 'string' ? [] : (d.transcript ?? []);
  const text = typeof d.transcript === 'string' ? d.transcript : entries.map((e) => `${e.speaker}: ${e.text}`).join('\n');
  const delivery: CallDelivery = {
    // The platform the sender names (`retell`, `bland`...): sessions, links and events carry it.
    platform: d.platform,
    callId: d.call_id ?? null,
    identity: { ...(d.session_id ? { sessionId: d.session_id } : {}), ...(d.student_id ? { studentId: d.student_id } : {}) },
    linkStart: startedAt,
    at: endedAt ?? now,
    stamp: d.started_at,
    idScope: { prefix: [d.platform], noCallSuffix: `:${d.started_at}` },
    update: {
      kind: 'report',
      report: {
        startedAt,
        at: endedAt ?? now,
        ...(d.transcript !== undefined
          ? {
              transcript: {
                text,
                lines: entries.map((e) => ({ speaker: e.speaker, text: e.text, at: e.timestamp ? new Date(Math.min(Date.parse(e.timestamp), now.getTime())) : startedAt })),
              },
            }
          : {}),
        toolCalls: (d.tool_calls ?? []).map((t) => ({
          id: t.id,
          name: t.name,
          args: t.arguments ?? {},
          at: t.timestamp ? new Date(Math.min(Date.parse(t.timestamp), now.getTime())) : startedAt,
        })),
        durationSeconds: endedAt ? (endedAt.getTime() - startedAt.getTime()) / 1000 : 0,
        metadata: { ...platformOwn(d.metadata), ...(d.call_id ? { call_id: d.call_id } : {}), platform: d.platform },
        ...(endedAt ? { end: { at: endedAt, reason: 'platform-report', detail: { source: d.platform } } } : {}),
        // Nothing here is live: there are no live lines of this call to replace.
        replacesLive: false,
      },
    },
  };
  return { ok: true, delivery };
}

/** The platform's metadata without the keys this server writes itself (link.ts). */
function platformOwn(metadata: Record<string, unknown> | undefined): Record<string, unknown> {
  const own: Record<string, unknown> = { ...(metadata ?? {}) };
  for (const k of SERVER_METADATA_KEYS) delete own[k];
  return own;
}
