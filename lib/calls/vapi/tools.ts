import * as z from '../../util/zod.js';
import type { Logger } from '../../deps.js';
import { describeError } from '../../deps.js';
import type { ToolResult } from '../types.js';

export interface ToolServer {
  url: string;
  token: string | undefined;
  timeoutMs: number;
  /** Also sent (the upstream tap adds X-Vapi-Secret). */
  headers?: Record<string, string>;
}

/** An object passed on as sent; anything else reads as absent (it is not worth failing the result for). */
const Extra = z.catch(z.optional(z.record(z.string(), z.unknown())), undefined);

/** ServerMessageResponseToolCalls: `results`, or a top-level `error` for the whole message. */
const Answer = z.looseObject({
  results: z.optional(
    z.array(
      z.looseObject({ toolCallId: z.string(), name: z.optional(z.string()), result: z.optional(z.unknown()), error: z.optional(z.unknown()), message: Extra, metadata: Extra }),
    ),
  ),
  error: z.optional(z.unknown()),
});

const asText = (v: unknown): string => (typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v));

/**
 * POST the raw Vapi body to the tool server. Returns the parsed JSON (undefined when it is not
 * JSON) or a sentence saying what went wrong — a failure Vapi can read aloud.
 */
async function callToolServer(server: ToolServer, rawBody: string, log: Logger): Promise<{ body: unknown } | { failure: string }> {
  try {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...server.headers, ...(server.token ? { authorization: `Bearer ${server.token}` } : {}) },
      body: rawBody,
      signal: AbortSignal.timeout(server.timeoutMs),
    });
    if (!res.ok) {
      log.warn('tool server answered an error', { status: res.status });
      return { failure: `The tool server failed (HTTP ${res.status}).` };
    }
    return { body: await res.json().catch(() => undefined) };
  } catch (err) {
    const timeout = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    log.warn('tool server unreachable', { error: describeError(err) });
    return { failure: timeout ? 'The tool server did not answer in time.' : 'The tool server could not be reached.' };
  }
}

const NOT_CONFIGURED = 'No tool server is configured for this assistant (TOOL_SERVER_URL is unset).';
const UNEXPECTED = 'The tool server answered in an unexpected format.';

/**
 * Forward a Vapi `tool-calls` message (the raw body, unchanged) to the tool server and return its
 * results in the shape Vapi expects — every tool call answered, `result` always a string, `message`
 * and `metadata` passed on when they are objects. A
 * failing, slow or malformed tool server yields an error result per call rather than an error
 * response: Vapi reads the results aloud, it does not retry.
 */
export async function forwardToolCalls(
  server: ToolServer | undefined,
  rawBody: string,
  calls: ReadonlyArray<{ id: string; name: string }>,
  log: Logger,
): Promise<ToolResult[]> {
  // Failures are `error` only: Vapi reads any `result` as the tool's success.
  const fallback = (message: string): ToolResult[] => calls.map((c) => ({ toolCallId: c.id, name: c.name, error: message }));
  if (!server) return fallback(NOT_CONFIGURED);
  const answer = await callToolServer(server, rawBody, log);
  if ('failure' in answer) return fallback(answer.failure);
  const parsed = Answer.safeParse(answer.body);
  if (!parsed.success) return fallback(UNEXPECTED);
  const { results, error } = parsed.data;
  // A top-level error is the tool server's answer for every call it gave no result of.
  const failed = error !== undefined && error !== null ? asText(error) : undefined;
  if (!results) return fallback(failed ?? UNEXPECTED);
  const byId = new Map(results.map((r) => [r.toolCallId, r]));
  return calls.map((c): ToolResult => {
    const r = byId.get(c.id);
    if (!r) return { toolCallId: c.id, name: c.name, error: failed ?? 'The tool server returned no result for this call.' };
    const name = r.name ?? c.name;
    // Vapi speaks `message` and hands `metadata` to the client: dropping them changes what the caller hears.
    const extra = { ...(r.message ? { message: r.message } : {}), ...(r.metadata ? { metadata: r.metadata } : {}) };
    // A tool server that sends both is read as failing: passing its `result` on would tell Vapi it worked.
    if (r.error !== undefined && r.error !== null) return { toolCallId: c.id, name, error: asText(r.error), ...extra };
    return { toolCallId: c.id, name, result: asText(r.result), ...extra };
  });
}

/**
 * The raw message with only these calls left in its tool call lists (toolCallList, toolCalls and
 * toolWithToolCallList, where the id is the item's `toolCall.id`): what the tool server is sent
 * when the other calls were answered before. Everything else is kept as Vapi sent it.
 */
export function withOnlyCalls(rawBody: string, ids: ReadonlySet<string>): string {
  const body = JSON.parse(rawBody) as { message: Record<string, unknown> };
  const message = { ...body.message };
  const keep = (key: string, idOf: (item: unknown) => unknown) => {
    const list = message[key];
    if (Array.isArray(list)) message[key] = list.filter((item) => ids.has(idOf(item) as string));
  };
  const id = (item: unknown) => (item as { id?: unknown } | null)?.id;
  keep('toolCallList', id);
  keep('toolCalls', id);
  keep('toolWithToolCallList', (item) => id((item as { toolCall?: unknown } | null)?.toolCall));
  return JSON.stringify({ ...body, message });
}

/** Legacy `function-call`: forward and return `{result}` (a string). */
export async function forwardFunctionCall(server: ToolServer | undefined, rawBody: string, log: Logger): Promise<{ result: string }> {
  if (!server) return { result: NOT_CONFIGURED };
  const answer = await callToolServer(server, rawBody, log);
  if ('failure' in answer) return { result: answer.failure };
  if (answer.body === undefined) return { result: UNEXPECTED };
  return { result: asText((answer.body as { result?: unknown } | null)?.result ?? answer.body) };
}
