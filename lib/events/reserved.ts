/**
 * Event types the session records write themselves. A page may not post them: anyone who knows a
 * session id could otherwise forge transcript lines or tool calls into an instructor's view.
 */
export const RESERVED_EVENT_TYPES: ReadonlySet<string> = new Set([
  'interaction', 'transcript', 'session_started', 'session_ended', 'phase_changed', 'participant_joined',
  'summary_updated', 'analysis_completed', 'call_status', 'call_hang', 'tool_result', 'session_assigned',
  'session_paused', 'session_resumed', 'call_transfer', 'call_answer', 'call_error',
  // An instructor's "helped" mark (lib/attention/helped.ts): a page posting one would take itself off the Now view.
  'attention_helped', 'attention_help_undone',
]);
