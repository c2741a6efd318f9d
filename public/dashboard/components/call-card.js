/** The call behind a voice session: cost, why it ended, the recording. */
import { asText, fmtCost, fmtDuration, h, jsonDetails, safeUrl } from '../dom.js';
import { fact } from './session-header.js';

/** The card, or null when the session has no call data. */
export function callCard(doc) {
  const m = doc.platform_metadata ?? {};
  const has = ['call_id', 'cost', 'ended_reason', 'recording_url'].some((k) => m[k] !== undefined && m[k] !== null);
  if (!has) return null;
  const recording = safeUrl(m.recording_url);
  const rows = [
    fact('Cost', h('span', { id: 'call-cost' }, fmtCost(m.cost))),
    fact('Ended reason', h('span', { id: 'call-ended-reason' }, m.ended_reason ?? '—')),
    fact(
      'Recording',
      recording
        ? h('a', { href: recording, id: 'call-recording', target: '_blank', rel: 'noopener noreferrer' }, 'Listen to the recording')
        : h('span', { class: 'muted' }, m.recording_url ? 'recording URL is not an http(s) link' : '—'),
    ),
    m.call_type ? fact('Call type', m.call_type) : null,
    m.call_id ? fact('Call id', h('span', { class: 'mono' }, m.call_id)) : null,
    m.phone_number ? fact('Phone', m.phone_number) : null,
    typeof m.duration_seconds === 'number' ? fact('Call length', fmtDuration(m.duration_seconds)) : null,
    m.success_evaluation !== undefined ? fact('Success evaluation', asText(m.success_evaluation)) : null,
  ];
  return h(
    'section',
    { class: 'card call-card', id: 'call-card', 'aria-labelledby': 'call-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'call-title' }, 'Call')),
    h('dl', { class: 'facts' }, rows),
    m.vapi_summary ? h('p', { class: 'summary' }, m.vapi_summary) : null,
    m.cost_breakdown ? jsonDetails(m.cost_breakdown, 'Cost breakdown') : null,
    m.usage ? jsonDetails(m.usage, 'Usage (tokens, characters)') : null,
    m.structured_data ? jsonDetails(m.structured_data, 'Structured data') : null,
  );
}
