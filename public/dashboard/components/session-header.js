/**
 * The head of the session view: who, status, platform, times and counters. A session record
 * gives most of it; a plain workshop token (no record) is described from its events.
 */
import { fmtDateTime, fmtDuration, h, statusBadge, timeEl } from '../dom.js';
import { studentOf } from '../events.js';

/** A label/value pair of a <dl class="facts"> (a <div> may group a dt and its dd). */
export function fact(label, ...value) {
  return h('div', { class: 'fact' }, h('dt', {}, label), h('dd', {}, ...value));
}

function studentFromEvents(events) {
  for (const e of events) {
    const s = studentOf(e);
    if (s) return s;
  }
  return null;
}

export function sessionHeader(doc, events) {
  const who = doc.student_id ?? (doc.participants.map((p) => p.id).join(', ') || studentFromEvents(events) || '(unknown student)');
  const topic = [doc.subject, doc.topic, doc.subtopic].filter(Boolean).join(' › ');
  const ended = doc.end_time ? timeEl(doc.end_time) : h('span', { class: 'muted' }, `last activity ${fmtDateTime(doc.last_activity)}`);
  return [
    h('div', { class: 'title-row' }, h('h1', { id: 'session-student' }, who), statusBadge(doc.status), h('span', { class: 'platform' }, doc.platform)),
    h('p', { class: 'sub mono', id: 'session-id' }, doc.session_id),
    h(
      'dl',
      { class: 'facts' },
      fact('Started', timeEl(doc.start_time)),
      fact('Ended', ended),
      fact('Duration', fmtDuration(doc.duration_seconds)),
      fact('Events', String(doc.event_count ?? events.length)),
      fact('Errors', h('span', { class: (doc.error_count ?? 0) > 0 ? 'error-count' : '' }, String(doc.error_count ?? 0))),
      doc.participants.length ? fact('Participants', doc.participants.map((p) => `${p.id} (${p.role})`).join(', ')) : null,
      topic ? fact('Topic', topic) : null,
      doc.phase ? fact('Phase', doc.phase) : null,
      doc.end_reason ? fact('End reason', doc.end_reason) : null,
    ),
    doc.summary ? h('p', { class: 'summary' }, doc.summary) : null,
  ];
}

/** A plain workshop token: no record, so what we know comes from its events. */
export function workshopHeader(id, events) {
  const first = events[0];
  const last = events.at(-1);
  const errors = events.filter((e) => e.event_type === 'error').length;
  const span = first && last ? (Date.parse(last.created_at) - Date.parse(first.created_at)) / 1000 : 0;
  return [
    h('div', { class: 'title-row' }, h('h1', { id: 'session-student' }, studentFromEvents(events) ?? '(anonymous)'), h('span', { class: 'badge status-other' }, 'workshop')),
    h('p', { class: 'sub mono', id: 'session-id' }, id),
    h('p', { class: 'muted small' }, 'Workshop session token: events only, no session record (no call or analysis).'),
    h(
      'dl',
      { class: 'facts' },
      fact('First event', timeEl(first?.created_at)),
      fact('Last event', timeEl(last?.created_at)),
      fact('Span', fmtDuration(span)),
      fact('Events', String(events.length)),
      fact('Errors', h('span', { class: errors > 0 ? 'error-count' : '' }, String(errors))),
    ),
  ];
}
