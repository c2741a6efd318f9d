/**
 * The sessions table (Sessions, Active now, Find a session): one row per session, one card per
 * row on a phone. A row links to its session.
 */
import { fmtDuration, h, notice, statusBadge, timeEl } from '../dom.js';

export const sessionHref = (id) => `#/session/${encodeURIComponent(id)}`;
export const studentHref = (id) => `#/student/${encodeURIComponent(id)}`;
/** Calls nobody identified belong to the placeholder student `unknown`: no progress page for it. */
export const hasStudentPage = (id) => Boolean(id) && id !== 'unknown';

/** Who a session is about: the student's name, email or id, else its participants. */
function studentLabel(s) {
  const known = s.student_name ?? s.student_email ?? s.student_id;
  if (known) return known;
  const ids = (s.participants ?? []).map((p) => p.id).filter(Boolean);
  return ids.length ? ids.join(', ') : '(no student)';
}

/** A table that becomes one card per row on a phone (labels come from data-label in CSS). */
export function sessionsTable(rows, { empty = 'No sessions.' } = {}) {
  if (!rows.length) return notice(empty);
  const cell = (label, ...content) => h('td', { 'data-label': label }, ...content);
  return h(
    'table',
    { class: 'table sessions-table' },
    h('thead', {}, h('tr', {}, ['Student', 'Platform', 'Status', 'Started', 'Duration', 'Events', 'Errors'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.map(sessionRow)),
  );

  function sessionRow(s) {
    const errors = s.error_count ?? 0;
    return h(
      'tr',
      { class: ['session-row', errors > 0 && 'has-errors'], dataset: { sessionId: s.session_id, status: s.status } },
      h(
        'td',
        { 'data-label': 'Student', class: 'cell-main' },
        h('a', { href: sessionHref(s.session_id), class: 'session-link' }, studentLabel(s)),
        s.current_step || s.step_name ? h('span', { class: 'sub session-step' }, `Step ${[s.current_step, s.step_name].filter(Boolean).join(' · ')}`) : null,
        h('span', { class: 'sub mono' }, s.session_id),
        hasStudentPage(s.student_id) ? h('a', { href: studentHref(s.student_id), class: 'sub student-link' }, 'Progress over time ›') : null,
      ),
      cell('Platform', h('span', { class: 'platform' }, s.platform)),
      cell('Status', statusBadge(s.status)),
      cell('Started', timeEl(s.start_time)),
      cell('Duration', fmtDuration(s.duration_seconds)),
      cell('Events', h('span', { class: 'num' }, String(s.event_count ?? '—'))),
      cell('Errors', h('span', { class: ['num', errors > 0 && 'error-count'] }, String(s.error_count ?? '—'))),
    );
  }
}

