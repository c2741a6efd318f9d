import { sanitizeJson } from '../schemas/common.js';
import type { Sql } from '../storage/sql.js';

export interface SessionEvent {
  uuid: string;
  type: string;
  data: Record<string, unknown>;
  at: Date;
}

/** The `source` of a platform's live transcript lines (`vapi-live`), which its report replaces. */
export const liveSource = (platform: string) => `${platform}-live`;
/**
 * The `source` of lines taken from a whole-history message (Vapi's conversation-update, or a
 * status-update `ended` carrying the artifact): they replace the live lines, the report replaces them.
 */
export const conversationSource = (platform: string) => `${platform}-conversation`;

export interface SessionChange {
  sessionId: string;
  /** Activity time: last_activity_at moves forward to it. */
  at: Date;
  startedAt?: Date | undefined;
  events?: readonly SessionEvent[];
  /** Merged into platform_metadata (jsonb ||). */
  platformMetadata?: Record<string, unknown>;
  /** Replaces conversation (transcript-level facts). */
  conversation?: Record<string, unknown>;
  /**
   * Before inserting, drop this call's transcript events of these sources (a more authoritative
   * or a newer version arrived). Lines whose ids are among `events` are kept as they are.
   */
  replaceLiveTranscriptOf?: { callId: string; sources: string[] };
  /**
   * A whole-history message of `lines` lines, stored under `source`: when the call already has
   * more lines of that source, this message is older than what is stored (deliveries race), and
   * its transcript lines and conversation are not applied.
   */
  history?: {
    source: string;
    lines: number;
    /**
     * The message's own time (ISO), when it has one: a history older than the last one applied
     * (`platform_metadata.conversation_at`) is not applied either, even with as many lines — a
     * stale copy would undo a line the transcriber revised since.
     */
    at?: string;
  };
  /**
   * The call this delivery is about. Once its report is in, the delivery's metadata only adds
   * keys the session does not have yet: the report's facts (status, ended reason, cost) stand.
   */
  callId?: string | null;
  /** Insert nothing when this call already has transcript events of these sources (a more authoritative version is there). */
  unlessTranscriptFrom?: string[];
  /**
   * The call's creation time (the session of a call is created at it). A session still starting
   * there moves to `startedAt` even when that is later: ringing is not part of the session.
   */
  callCreatedAt?: Date;
  /** `at` is only when the message arrived (it had no time of its own): it never moves activity past the session's end. */
  atIsArrival?: boolean;
  /** End the session: completed at endedAt. */
  end?: { endedAt: Date; reason: string };
  /** Mark the call's report as applied; the result says whether this was the first time. */
  reportCallId?: string;
  /**
   * Store the events, conversation and end only if this call's report has not been applied yet
   * (late live messages, a status-update after the report: the report is the final version).
   */
  unlessReported?: string;
}

/**
 * The session's start after a change: once the call's report is in, only the report sets it
 * (a later message's start is a snapshot's); else the call's own start ($7, e.g. the report's
 * startedAt) where the session still has the start it was created with ($17), else the earlier of
 * the two. The end is clamped to this new start, not to `started_at`: a SET expression reads the
 * row as it was, and a session first heard of after the call ended (a late message, or one dated
 * on arrival) would end at that old start instead of the report's endedAt.
 */
const NEW_START = `CASE
           WHEN (SELECT reported FROM gate) AND $13::text IS NULL THEN started_at
           WHEN $7::timestamptz IS NOT NULL AND started_at = $17::timestamptz THEN $7::timestamptz
           ELSE LEAST(started_at, COALESCE($7::timestamptz, started_at)) END`;

/**
 * Apply one platform delivery to a session in ONE statement: insert its events (deterministic
 * uuids: a redelivery inserts nothing), optionally replace live transcript entries, and update the
 * session's activity, metadata, counters and end. Writes are accepted even on an ended session: a
 * platform's data about a call is never dropped. Returns whether this applied a call's report for
 * the first time, whether it stored the call's session_ended event for the first time (so
 * end-of-session work runs once, after whichever message ends the call), or null when the session
 * does not exist.
 */
export async function applyToSession(
  sql: Sql,
  ch: SessionChange,
): Promise<{ firstReport: boolean; firstEnd: boolean; studentId: string | null } | null> {
  const ev = ch.events ?? [];
  const rows = await sql.query<{ student_id: string | null; first_report: boolean; first_end: boolean }>(
    `WITH s AS (SELECT id, student_id FROM sessions WHERE id = $1),
     -- The call's report is in: later non-report deliveries add facts (metadata) but never
     -- transcript, conversation or an end (they would undo the final version).
     gate AS (
       SELECT ($14::text IS NOT NULL AND EXISTS (SELECT 1 FROM calls WHERE call_id = $14::text AND report_received_at IS NOT NULL)) AS blocked,
              (COALESCE($14::text, $19::text) IS NOT NULL
                AND EXISTS (SELECT 1 FROM calls WHERE call_id = COALESCE($14::text, $19::text) AND report_received_at IS NOT NULL)) AS reported,
              ($20::text IS NOT NULL AND ((
                SELECT count(*) FROM events o, s WHERE o.session_token = s.id AND o.event_type = 'transcript'
                  AND o.event_data->>'source' = $20::text AND o.event_data->>'call_id' = $10::text) > $21::int
                -- ISO strings of one format compare as their times do; a text compare never fails on a bad value.
                OR ($22::text IS NOT NULL AND COALESCE((SELECT sx.platform_metadata->>'conversation_at' FROM sessions sx WHERE sx.id = $1) > $22::text, false)))) AS older
     ),
     -- Lines this change inserts again under the same id are kept: ON CONFLICT below leaves them,
     -- and deleting them too would lose them (the two CTEs run on one snapshot, in no set order).
     del AS (
       DELETE FROM events e USING s, gate
       WHERE $10::text IS NOT NULL AND NOT gate.blocked AND NOT gate.older AND e.session_token = s.id AND e.event_type = 'transcript'
         AND e.event_data->>'source' = ANY($15::text[]) AND e.event_data->>'call_id' = $10::text
         AND e.event_uuid <> ALL($2::uuid[])
       RETURNING 1
     ),
     ins AS (
       INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, created_at)
       SELECT x.u, s.id, s.student_id, x.t, x.d::jsonb, x.c
       FROM s, gate, unnest($2::uuid[], $3::text[], $4::text[], $5::timestamptz[]) AS x(u, t, d, c)
       WHERE NOT gate.blocked
         AND NOT (gate.older AND x.t = 'transcript')
         AND ($16::text[] IS NULL OR NOT EXISTS (
           SELECT 1 FROM events o WHERE o.session_token = s.id AND o.event_type = 'transcript'
             AND o.event_data->>'call_id' = $14::text AND o.event_data->>'source' = ANY($16::text[])))
       ON CONFLICT (event_uuid) DO NOTHING
       RETURNING event_type
     ),
     -- The report is the final word on how the call ended: a session_ended event an earlier
     -- status-update stored (no cost, the status message's time) takes the report's facts and end.
     ended_fix AS (
       UPDATE events e SET event_data = e.event_data || x.d::jsonb, created_at = x.c
       FROM s, unnest($2::uuid[], $3::text[], $4::text[], $5::timestamptz[]) AS x(u, t, d, c)
       WHERE $13::text IS NOT NULL AND x.t = 'session_ended' AND e.event_uuid = x.u AND e.session_token = s.id
     ),
     report AS (
       UPDATE calls SET report_received_at = now(), updated_at = now()
       WHERE $13::text IS NOT NULL AND call_id = $13::text AND report_received_at IS NULL
       RETURNING call_id
     ),
     upd AS (
       UPDATE sessions SET
         last_activity_at = GREATEST(last_activity_at,
           CASE WHEN $18::boolean AND ended_at IS NOT NULL THEN LEAST($6::timestamptz, ended_at) ELSE $6::timestamptz END),
         started_at = ${NEW_START},
         -- A call that ended stays ended: a late or redelivered earlier status (in-progress, ringing)
         -- does not write its status over the end, report or not (the report may never come).
         platform_metadata = CASE WHEN (SELECT reported FROM gate) THEN COALESCE($8::jsonb, '{}'::jsonb) || platform_metadata
                                  WHEN platform_metadata->>'status' = 'ended' AND $8::jsonb->>'status' IS DISTINCT FROM 'ended'
                                  THEN platform_metadata || (COALESCE($8::jsonb, '{}'::jsonb) - 'status')
                                  ELSE platform_metadata || COALESCE($8::jsonb, '{}'::jsonb) END
           -- The time of the newest whole history applied: what orders the next ones (gate.older).
           || CASE WHEN $22::text IS NOT NULL AND NOT (SELECT blocked OR older FROM gate) THEN jsonb_build_object('conversation_at', $22::text) ELSE '{}'::jsonb END,
         conversation = CASE WHEN (SELECT blocked OR older FROM gate) THEN conversation ELSE COALESCE($9::jsonb, conversation) END,
         transcript_count = transcript_count - (SELECT count(*) FROM del)::int
           + (SELECT count(*) FROM ins WHERE event_type = 'transcript')::int,
         interaction_count = interaction_count + (SELECT count(*) FROM ins WHERE event_type = 'interaction')::int,
         -- Ended by the idle sweep while the call went on (a long silence, or only some message
         -- types subscribed): the call's own later activity reopens it, as a page's does.
         status = CASE WHEN $11::timestamptz IS NOT NULL AND NOT (SELECT blocked FROM gate) THEN 'completed'
                       WHEN end_reason = 'timeout' AND NOT $18::boolean AND $6::timestamptz > ended_at AND NOT (SELECT blocked FROM gate) THEN 'active'
                       ELSE status END,
         ended_at = CASE WHEN $11::timestamptz IS NOT NULL AND NOT (SELECT blocked FROM gate) THEN GREATEST($11::timestamptz, ${NEW_START})
                         WHEN end_reason = 'timeout' AND NOT $18::boolean AND $6::timestamptz > ended_at AND NOT (SELECT blocked FROM gate) THEN NULL
                         ELSE ended_at END,
         end_reason = CASE WHEN $11::timestamptz IS NOT NULL AND NOT (SELECT blocked FROM gate) THEN $12::text
                           WHEN end_reason = 'timeout' AND NOT $18::boolean AND $6::timestamptz > ended_at AND NOT (SELECT blocked FROM gate) THEN NULL
                           ELSE end_reason END,
         updated_at = now()
       WHERE id = $1
       RETURNING student_id, started_at
     ),
     -- When a report moves the start, the session_started event moves with it.
     started AS (
       UPDATE events e SET created_at = upd.started_at FROM upd
       WHERE $7::timestamptz IS NOT NULL AND e.session_token = $1 AND e.event_type = 'session_started'
         AND (e.created_at > upd.started_at OR (e.created_at = $17::timestamptz AND upd.started_at <> $17::timestamptz))
     )
     SELECT student_id, EXISTS (SELECT 1 FROM report) AS first_report,
            EXISTS (SELECT 1 FROM ins WHERE event_type = 'session_ended') AS first_end
     FROM upd`,
    [
      ch.sessionId,
      ev.map((e) => e.uuid),
      ev.map((e) => e.type),
      ev.map((e) => JSON.stringify(sanitizeJson(e.data))),
      ev.map((e) => e.at.toISOString()),
      ch.at.toISOString(),
      ch.startedAt ? ch.startedAt.toISOString() : null,
      ch.platformMetadata ? JSON.stringify(sanitizeJson(ch.platformMetadata)) : null,
      ch.conversation ? JSON.stringify(sanitizeJson(ch.conversation)) : null,
      ch.replaceLiveTranscriptOf?.callId ?? null,
      ch.end ? ch.end.endedAt.toISOString() : null,
      ch.end?.reason ?? null,
      ch.reportCallId ?? null,
      ch.unlessReported ?? null,
      ch.replaceLiveTranscriptOf?.sources ?? null,
      ch.unlessReported && ch.unlessTranscriptFrom ? ch.unlessTranscriptFrom : null,
      ch.callCreatedAt ? ch.callCreatedAt.toISOString() : null,
      ch.atIsArrival === true,
      ch.callId ?? null,
      ch.history?.source ?? null,
      ch.history?.lines ?? null,
      ch.history?.at ?? null,
    ],
  );
  const row = rows[0];
  return row ? { firstReport: row.first_report === true, firstEnd: row.first_end === true, studentId: row.student_id } : null;
}
