/** One timeline entry as one terminal line, coloured by type; errors stand out. */
import type { Colour, Paint } from './output.js';

export interface TimelineEntry {
  event_id?: string;
  event_type?: string;
  event_data?: Record<string, unknown>;
  created_at?: string;
  student_id?: string | null;
}

const TYPE_COLOUR: Record<string, Colour> = {
  navigation: 'blue',
  action: 'cyan',
  api_call: 'magenta',
  state_change: 'magenta',
  transcript: 'green',
  interaction: 'yellow',
  tool_result: 'yellow',
  attempt: 'cyan',
};

const text = (v: unknown) => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));
const clip = (s: string, n = 160) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function detail(type: string, d: Record<string, unknown>): string {
  switch (type) {
    case 'navigation':
      return `step ${text(d.from)} → ${text(d.to)}${d.toStepName ? ` ${text(d.toStepName)}` : ''}`;
    case 'error':
      return `${text(d.errorType) || 'error'}: ${text(d.errorMessage)}${d.currentStep !== undefined ? ` (step ${text(d.currentStep)})` : ''}`;
    case 'action':
      return text(d.actionName);
    case 'api_call':
      return `${text(d.method)} ${text(d.endpoint)} ${text(d.status)}`.trim();
    case 'transcript':
      return `${text(d.speaker)}: ${text(d.text)}`;
    case 'interaction':
      return `${text(d.function)}(${d.parameters ? text(d.parameters) : ''})`;
    case 'tool_result':
      return `${text(d.name)} → ${d.error !== undefined ? `error: ${text(d.error)}` : text(d.result)}`;
    case 'phase_changed':
      return `${text(d.from) || '∅'} → ${text(d.to)}`;
    case 'call_status':
      return `${text(d.status)}${d.ended_reason ? ` (${text(d.ended_reason)})` : ''}`;
    case 'attention_helped':
      return `helped by ${text(d.by)}${d.note ? ` (${text(d.note)})` : ''}`;
    case 'attention_help_undone':
      return `helped mark undone by ${text(d.by)}`;
    default:
      return Object.keys(d).length ? text(d) : '';
  }
}

/** A failed API call or tool result is an error too, even if its type is not `error`. */
function isError(type: string, d: Record<string, unknown>): boolean {
  if (type === 'error' || type === 'call_hang') return true;
  if (type === 'api_call') return d.success === false || (typeof d.status === 'number' && d.status >= 400);
  if (type === 'tool_result') return d.error !== undefined;
  return false;
}

export function formatEntry(e: TimelineEntry, paint: Paint, fallbackType = 'message'): string {
  const type = e.event_type ?? fallbackType;
  const d = e.event_data ?? {};
  const time = e.created_at ? e.created_at.slice(11, 19) : '        ';
  const body = clip(detail(type, d).replace(/\s+/g, ' '));
  if (isError(type, d)) return `${paint('gray', time)}  ${paint('red', paint('bold', type.padEnd(18)))}  ${paint('red', body)}`;
  const colour = TYPE_COLOUR[type] ?? 'gray';
  return `${paint('gray', time)}  ${paint(colour, type.padEnd(18))}  ${body}`;
}
