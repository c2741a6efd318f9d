/**
 * The Now view's needs-help list: students in active sessions ranked by the API's score (GET
 * /api/attention `students`, highest first), each a link to their session. With 200 students the
 * list stays one scrollable box of at most MAX_ROWS rows, so the rest of the page stays in reach.
 */
import { fmtDateTime, fmtDuration, h, notice } from '../dom.js';

export const MAX_ROWS = 100;

/** Short chip text per reason code; the API's own message goes in the row and the tooltip. */
const REASON_LABEL = {
  repeated_error: (r) => `same error${r.count ? ` ×${r.count}` : ''}`,
  recent_errors: (r) => `${r.count ?? ''} recent error${r.count === 1 ? '' : 's'}`.trim(),
  failed_api_calls: (r) => `${r.count ?? ''} failed API call${r.count === 1 ? '' : 's'}`.trim(),
  stuck: () => 'stuck',
  silent_after_error: () => 'silent after error',
};

/** The reasons as short chips ("same error ×3", "stuck"). */
export const reasonTags = (reasons) => h('span', { class: 'tags' }, reasons.map((r) => h('span', { class: ['tag', `reason-${r.code}`], dataset: { reason: r.code } }, (REASON_LABEL[r.code] ?? (() => r.code))(r))));

/** How long a problem has lasted, in whole minutes (seconds would change on every poll). */
export function fmtFor(since, now) {
  const s = (now - Date.parse(since)) / 1000;
  return s < 60 ? 'under a minute' : fmtDuration(Math.floor(s / 60) * 60);
}

export const studentName = (s) => s.student_name ?? s.student_email ?? s.student_id ?? '(anonymous page)';

/** "3 · Install the SDK", "Install the SDK", "3" or null. */
export function stepLabel(step, name) {
  const parts = [step, name].filter((v) => v !== null && v !== undefined && v !== '');
  return parts.length ? parts.map(String).join(' · ') : null;
}

export function needsHelpList(students, { href, now = Date.now() }) {
  if (!students.length) return notice('Nobody needs help right now.', 'ok');
  const top = students[0]?.score || 1;
  const rows = students.slice(0, MAX_ROWS).map((s, i) => {
    const reasons = Array.isArray(s.reasons) ? s.reasons : [];
    const step = stepLabel(s.current_step, s.step_name);
    // Severity relative to the most urgent student: the colour says "first" without a legend.
    const sev = s.score >= top * 0.66 ? 'high' : s.score >= top * 0.33 ? 'mid' : 'low';
    return h(
      'li',
      { class: ['help-row', `sev-${sev}`], dataset: { sessionId: s.session_id, score: s.score } },
      h(
        'a',
        { href: href(s.session_id), class: 'help-link', title: reasons.map((r) => r.message).join('\n') },
        h('span', { class: 'help-rank num', 'aria-label': `rank ${i + 1}` }, String(i + 1)),
        h(
          'span',
          { class: 'help-who' },
          h('strong', { class: 'help-name' }, studentName(s)),
          s.student_name && s.student_email ? h('span', { class: 'sub', title: s.student_email }, s.student_email) : null,
        ),
        h('span', { class: 'help-step' }, step ? `Step ${step}` : h('span', { class: 'muted' }, 'step unknown')),
        h(
          'span',
          { class: 'help-why' },
          reasonTags(reasons),
          reasons[0]?.message ? h('span', { class: 'help-message' }, reasons[0].message) : null,
        ),
        h('span', { class: 'help-since muted small' }, h('time', { datetime: s.since, title: fmtDateTime(s.since) }, `for ${fmtFor(s.since, now)}`)),
      ),
    );
  });
  return [
    h('ol', { class: 'help-list', id: 'needs-help-list' }, rows),
    students.length > MAX_ROWS ? h('p', { class: 'muted small' }, `…and ${students.length - MAX_ROWS} more with a lower score.`) : null,
  ];
}
