/**
 * How one stored event reads in a timeline or a search result: its category (for the timeline's
 * filters), a short label, a one-line text, and whether it is a problem. Pure functions of the
 * event; the caller builds nodes from the returned strings with textContent.
 */
import { fmtCost, jsonPreview } from './dom.js';

/** Session-record events (lib/sessions, lib/calls, lib/analysis) and what kind of row they are. */
const CATEGORY = {
  interaction: 'tool',
  tool_result: 'tool',
  transcript: 'transcript',
  session_started: 'status',
  session_ended: 'status',
  session_assigned: 'status',
  participant_joined: 'status',
  phase_changed: 'status',
  summary_updated: 'status',
  call_status: 'status',
  call_hang: 'status',
  analysis_completed: 'status',
  attention_helped: 'status',
  attention_help_undone: 'status',
};

export const CATEGORIES = [
  { id: 'web', label: 'Web events' },
  { id: 'tool', label: 'Tool calls' },
  { id: 'transcript', label: 'Transcript' },
  { id: 'status', label: 'Status' },
];

/**
 * Workshop pages may post any type; whatever is not a session event is a web event. An attempt a
 * tutor's graded tool call wrote (ADR 0030: it names its `tool`) is filed with the tool calls.
 */
export const categoryOf = (e) => CATEGORY[e.event_type] ?? (e.event_type === 'attempt' && typeof e.event_data?.tool === 'string' ? 'tool' : 'web');

/** Text of a stored value; objects as JSON (a template literal would throw on {"toString":1}). */
const str = (v) => (v === undefined || v === null || v === '' ? null : typeof v === 'string' ? v : jsonPreview(v, 120));
const join = (...parts) => parts.filter((p) => p !== null && p !== undefined && p !== '').join(' ');

/** True for rows an instructor should see first: errors, failed API and tool calls. */
export function isProblem(e) {
  const d = e.event_data ?? {};
  if (e.event_type === 'error') return true;
  if (e.event_type === 'api_call') return d.success === false || (typeof d.status === 'number' && d.status >= 400);
  if (e.event_type === 'tool_result') return d.error !== undefined && d.error !== null;
  return false;
}

/** { label, text } for an event. */
export function describe(e) {
  const d = e.event_data ?? {};
  switch (e.event_type) {
    case 'navigation': {
      const from = str(d.fromStepName) ?? str(d.from);
      const to = str(d.toStepName) ?? str(d.to);
      return { label: 'Navigation', text: from || to ? `${from ?? '?'} → ${to ?? '?'}` : jsonPreview(d) };
    }
    case 'error': {
      const head = join(str(d.errorType) ?? 'Error', d.statusCode !== undefined ? `(${str(d.statusCode)})` : null);
      const msg = str(d.errorMessage);
      return { label: 'Error', text: msg ? `${head}: ${msg}` : head };
    }
    case 'action':
      return { label: 'Action', text: str(d.actionName) ?? jsonPreview(d) };
    case 'api_call': {
      const status = d.status !== undefined ? `→ ${str(d.status)}` : d.success === false ? '→ failed' : d.success === true ? '→ ok' : null;
      return { label: 'API call', text: join(str(d.method), str(d.endpoint) ?? '(endpoint?)', status) };
    }
    case 'attempt': {
      // A practice page's answer, or a tutor's graded tool call (its `tool`): right or wrong first.
      const verdict = d.correct === true ? 'correct' : d.correct === false ? 'incorrect' : 'not graded';
      const secs = typeof d.timeMs === 'number' ? `${Math.round(d.timeMs / 100) / 10} s` : null;
      const about = [str(d.subject), str(d.topic)].filter(Boolean).join(' · ');
      return { label: 'Attempt', text: join(verdict, about ? `· ${about}` : null, secs ? `· ${secs}` : null, typeof d.tool === 'string' ? `· by ${str(d.tool)}` : null) };
    }
    case 'attention_helped':
      return { label: 'Helped', text: join(`by ${str(d.by) ?? '?'}`, d.note ? `· ${str(d.note)}` : null) };
    case 'attention_help_undone':
      return { label: 'Help mark undone', text: `by ${str(d.by) ?? '?'}` };
    case 'state_change':
      return { label: 'State', text: `${str(d.stateName) ?? 'state'}: ${str(d.oldValue) ?? '∅'} → ${str(d.newValue) ?? '∅'}` };
    case 'interaction': {
      const provided = Array.isArray(d.data_provided) && d.data_provided.length ? `provided ${d.data_provided.map(str).join(', ')}` : null;
      const params = d.parameters && Object.keys(d.parameters).length ? jsonPreview(d.parameters, 100) : null;
      return { label: 'Tool call', text: join(str(d.function) ?? '(function?)', params, provided ? `· ${provided}` : null) };
    }
    case 'tool_result':
      return { label: 'Tool result', text: join(str(d.name), d.error ? `failed: ${str(d.error)}` : str(d.result)) };
    case 'transcript':
      return { label: str(d.speaker) ?? 'speaker?', text: str(d.text) ?? '' };
    case 'session_started':
      return { label: 'Session started', text: join(str(d.platform), d.call_id ? `call ${str(d.call_id)}` : null) };
    case 'session_ended':
      return {
        label: 'Session ended',
        text: join(str(d.reason), d.ended_reason ? `(${str(d.ended_reason)})` : null, typeof d.cost === 'number' ? `· cost ${fmtCost(d.cost)}` : null),
      };
    case 'session_assigned':
      return { label: 'Assigned', text: `to ${str(d.student_id) ?? '?'}` };
    case 'participant_joined':
      return { label: 'Joined', text: join(str(d.participant), d.role ? `as ${str(d.role)}` : null) };
    case 'phase_changed':
      return { label: 'Phase', text: `${str(d.from) ?? '∅'} → ${str(d.to) ?? '?'}` };
    case 'summary_updated':
      return { label: 'Summary updated', text: typeof d.length === 'number' ? `${d.length} characters` : '' };
    case 'call_status':
      return { label: 'Call status', text: join(str(d.status), d.ended_reason ? `(${str(d.ended_reason)})` : null) };
    case 'call_hang':
      return { label: 'Call hang', text: 'the assistant did not answer in time' };
    case 'analysis_completed':
      return {
        label: 'Analysis',
        text: join(str(d.summary), typeof d.engagement_score === 'number' ? `· engagement ${Math.round(d.engagement_score * 100)}%` : null),
      };
    default:
      return { label: e.event_type, text: jsonPreview(d) };
  }
}

/** Who an event is about, for tables: email, else name, else student id. */
export const studentOf = (e) => e.student_email ?? e.student_name ?? e.student_id ?? null;
