/**
 * Backfill: the `attempt` events of graded tool calls stored before ADR 0030 (ADR 0031). Since
 * 0030 a graded call writes its attempt when it arrives; calls stored before have only their
 * `interaction`, so a tutoring student's progress said "no attempts" for them. This writes the
 * missing attempts from the stored interactions by the same rule (toolCallAttempt), and is safe to
 * run twice, or while calls arrive:
 * - An attempt's id is the one the live path gives the call when it can be derived from what is
 *   stored (a webhook's tool call, by call id and tool call id; a tool server's post with a
 *   tool_call_id), so a redelivery after the backfill inserts nothing; else it is derived from the
 *   interaction's own id, so a second run inserts nothing.
 * - A call that has an attempt already is skipped: one in the same session at the same time, of the
 *   same tool, tool call id and grade (what the live path wrote beside it, whatever its id). Stored
 *   copies of one call (a tool server's retries before ADR 0031, same body and stated time) are one
 *   call by that rule too; two graded calls without a tool call id at the same instant with the same
 *   grade are counted once — the backfill cannot tell them from a retry.
 */
import type { Sql } from '../storage/sql.js';
import { stableUuid } from '../util/stable-uuid.js';
import { toolCallAttempt } from './tool-attempts.js';

export interface BackfillResult {
  /** Interactions of the attempt tools read. */
  scanned: number;
  /** Attempts written (0 on a second run). */
  written: number;
}

export interface BackfillOptions {
  /** Interactions read per statement. @default 500 */
  batch?: number;
  /** Called after each batch (the script prints progress). */
  progress?: (r: BackfillResult) => void;
}

interface Row {
  id: string;
  event_uuid: string;
  session_token: string;
  student_id: string | null;
  created_at: string;
  event_data: Record<string, unknown>;
  subject: string | null;
  topic: string | null;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * The attempt of one stored interaction, with the id the live path gives it where that can be
 * told from the row, or undefined when it is no attempt.
 */
async function attemptOfRow(tools: ReadonlySet<string>, r: Row): Promise<{ uuid: string; data: Record<string, unknown> } | undefined> {
  const d = r.event_data;
  const fn = text(d.function);
  if (!fn || !isRecord(d.parameters)) return undefined;
  const toolCallId = text(d.tool_call_id);
  const callId = text(d.call_id);
  const source = text(d.source);
  let origin: Record<string, unknown>;
  let live: string[] | undefined;
  if (source !== undefined) {
    // A call webhook's (receive.ts): {tool_call_id?, call_id, source}; ids stableUuid(prefix, call, 'attempt', tool call),
    // the prefix being the platform for the session-data webhook's own platforms and none for Vapi.
    origin = { ...(toolCallId ? { tool_call_id: toolCallId } : {}), call_id: d.call_id ?? null, source };
    if (toolCallId && callId) live = [...(source === 'vapi' ? [] : [source]), callId, 'attempt', toolCallId];
  } else {
    // A tool server's post (interactions.ts): keyed as interactionKeys keys it when it had a tool call id.
    origin = { ...(toolCallId ? { tool_call_id: toolCallId } : {}), ...(callId ? { call_id: callId } : {}), source: text(d.platform) ?? 'mcp' };
    const platform = text(d.platform);
    if (toolCallId && callId) live = [...(!platform || platform === 'vapi' || platform === 'mcp' ? [] : [platform]), callId, 'attempt', toolCallId];
    else if (toolCallId && r.student_id) live = ['attempt', 'interaction', r.student_id, 'tool', toolCallId];
  }
  // A tool server's post took subject and topic from its own fields, which are not on the event:
  // the session's (its first post's) stand in.
  const data = toolCallAttempt(tools, fn, d.parameters, origin, source === undefined ? { subject: r.subject, topic: r.topic } : {});
  if (!data) return undefined;
  return { uuid: await stableUuid(...(live ?? ['attempt', 'backfill', r.event_uuid])), data };
}

const PAGE = `
SELECT e.id::text AS id, e.event_uuid::text AS event_uuid, e.session_token, e.student_id,
       to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at, e.event_data, s.subject, s.topic
FROM events e LEFT JOIN sessions s ON s.id = e.session_token
WHERE e.event_type = 'interaction' AND e.event_data->>'function' = ANY($1::text[]) AND jsonb_typeof(e.event_data->'parameters'->'correct') = 'boolean'
  AND e.id > $2::bigint
ORDER BY e.id
LIMIT $3::int`;

/**
 * Insert the candidates that have no attempt yet: none with their id, and none in their session at
 * their time of their tool, tool call id and grade. Returns how many went in.
 */
const INSERT = `
WITH x AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS x(u, session_token, student_id, t, at)),
     c AS (SELECT u, session_token, student_id, t::jsonb AS d, at FROM x)
INSERT INTO events (event_uuid, session_token, student_id, event_type, event_data, created_at)
SELECT c.u, c.session_token, c.student_id, 'attempt', c.d, c.at FROM c
WHERE NOT EXISTS (
  SELECT 1 FROM events a
  WHERE a.session_token = c.session_token AND a.event_type = 'attempt' AND a.created_at = c.at
    AND a.event_data->>'tool' = c.d->>'tool' AND a.event_data->'correct' = c.d->'correct'
    AND (a.event_data->>'tool_call_id') IS NOT DISTINCT FROM (c.d->>'tool_call_id'))
ON CONFLICT (event_uuid) DO NOTHING
RETURNING 1`;

/** Write the missing attempts of every graded interaction of `tools` (ATTEMPT_TOOLS), oldest first. */
export async function backfillAttempts(sql: Sql, tools: ReadonlySet<string>, opts: BackfillOptions = {}): Promise<BackfillResult> {
  const result: BackfillResult = { scanned: 0, written: 0 };
  if (!tools.size) return result;
  const batch = opts.batch ?? 500;
  for (let after = '0'; ; ) {
    const rows = await sql.query<Row>(PAGE, [[...tools], after, batch]);
    if (!rows.length) return result;
    after = rows[rows.length - 1]!.id;
    result.scanned += rows.length;
    // Copies of one call within this page are one attempt (the statement cannot see its own rows).
    const seen = new Set<string>();
    const out: Array<Row & { uuid: string; data: Record<string, unknown> }> = [];
    for (const r of rows) {
      const a = await attemptOfRow(tools, r);
      if (!a) continue;
      const key = JSON.stringify([r.session_token, r.created_at, a.data.tool, a.data.correct, a.data.tool_call_id ?? null]);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ ...r, ...a });
    }
    if (out.length) {
      const inserted = await sql.query(INSERT, [
        out.map((r) => r.uuid),
        out.map((r) => r.session_token),
        out.map((r) => r.student_id),
        out.map((r) => JSON.stringify(r.data)),
        out.map((r) => r.created_at),
      ]);
      result.written += inserted.length;
    }
    opts.progress?.(result);
  }
}
