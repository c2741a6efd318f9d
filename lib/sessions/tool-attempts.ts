/**
 * A graded tool call is an attempt (ADR 0030). Voice tutors grade answers through a tool (the
 * demo's Emma calls `record_attempt` with {problem, answer, correct}); practice pages post `attempt`
 * events. So that the summary, progress and everything else that reads attempts count both the same
 * way (lib/sessions/attempts.ts), a tool call of one of the configured tools (ATTEMPT_TOOLS) whose
 * arguments carry a boolean `correct` is also written as an `attempt` event beside its
 * `interaction`, in the same statement, under an id derived from the call's: a redelivery, or the
 * same call in a live message and in the report, writes it once.
 */
import { MAX_ATTEMPT_MS } from './attempts.js';

/** Longest subject or topic an attempt carries (AttemptData's limit for pages). */
const MAX_LABEL = 200;

/** A trimmed, non-empty string of at most MAX_LABEL characters; anything else is not a label. */
function label(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t && t.length <= MAX_LABEL ? t : undefined;
}

/** Milliseconds in [0, a day], as the attempt rule reads `timeMs`; anything else is no time. */
function millis(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_ATTEMPT_MS ? v : undefined;
}

/**
 * The `attempt` event data of a tool call, or undefined when the call is not an attempt: its tool is
 * not one of `tools`, or its arguments have no boolean `correct` (`"true"`, `1`, a missing value:
 * not an attempt; the call is still stored as an interaction). `subject`, `topic` and `timeMs` (or
 * `time_ms`) are taken from the arguments when they have the attempt's types, else `subject` and
 * `topic` from `fallback` (an interaction's own fields); `origin` says where the call came from
 * (`tool_call_id`, `call_id`, `source`).
 */
export function toolCallAttempt(
  tools: ReadonlySet<string>,
  tool: string,
  args: Record<string, unknown>,
  origin: Record<string, unknown>,
  fallback: { subject?: string | null | undefined; topic?: string | null | undefined } = {},
): Record<string, unknown> | undefined {
  if (!tools.has(tool) || typeof args.correct !== 'boolean') return undefined;
  const subject = label(args.subject) ?? label(fallback.subject);
  const topic = label(args.topic) ?? label(fallback.topic);
  const timeMs = millis(args.timeMs) ?? millis(args.time_ms);
  return {
    correct: args.correct,
    ...(subject !== undefined ? { subject } : {}),
    ...(topic !== undefined ? { topic } : {}),
    ...(timeMs !== undefined ? { timeMs } : {}),
    tool,
    ...origin,
  };
}
