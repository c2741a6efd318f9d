/**
 * The Now view's needs-help list: students in active sessions ranked by the API's score (GET
 * /api/attention `students`, highest first), each a link to their session. With 200 students the
 * list stays one scrollable box of at most MAX_ROWS rows, so the rest of the page stays in reach.
 * With `onHelped`, each row has a Helped button beside its link (a button cannot sit inside a link),
 * and with `onNote` a "+ note" button that marks with a note.
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

/** "just now", "12 min ago", "1h 5m ago": when an instructor marked a student helped. */
export function fmtAgo(at, now) {
  const s = (now - Date.parse(at)) / 1000;
  if (!(s >= 60)) return 'just now';
  return s < 3600 ? `${Math.floor(s / 60)} min ago` : `${fmtDuration(Math.floor(s / 60) * 60)} ago`;
}

/** Who marked it: "admin", or an INSTRUCTOR_TOKENS name without its "instructor:" prefix. */
export const markedBy = (by) => (typeof by === 'string' && by ? by.replace(/^instructor:/, '') : 'someone');

export const studentName = (s) => s.student_name ?? s.student_email ?? s.student_id ?? '(anonymous page)';

/** "3 · Install the SDK", "Install the SDK", "3" or null. */
export function stepLabel(step, name) {
  const parts = [step, name].filter((v) => v !== null && v !== undefined && v !== '');
  return parts.length ? parts.map(String).join(' · ') : null;
}

/**
 * A control that writes (Helped, + note, Undo) while it cannot: `off` is the id of the visible line
 * saying why (the server cannot be reached). aria-disabled, not disabled: it keeps its place in the
 * keyboard order and its description, so the instructor can find out why it does nothing.
 */
export const offAttrs = (off) => (off ? { 'aria-disabled': 'true', 'aria-describedby': off } : {});
const unlessOff = (off, fn) => (ev) => (off ? undefined : fn(ev.currentTarget));

/**
 * A Helped button for the student (`onHelped(student, button)`); `data-focus-key` lets the view put
 * the keyboard focus back on it when an update rebuilds the list.
 */
const helpedButton = (s, onHelped, off) =>
  h('button', { type: 'button', class: 'help-done', 'aria-label': `Mark ${studentName(s)} helped`, title: 'You went to this student: take them off the list until something new happens', ...offAttrs(off), dataset: { focusKey: `helped:${s.session_id}` }, onclick: unlessOff(off, (b) => onHelped(s, b)) }, 'Helped');

/** "+ note": the same mark, with a note said in a dialog first (`onNote(student, button)`). */
const noteButton = (s, onNote, off) =>
  h('button', { type: 'button', class: 'help-note', 'aria-label': `Mark ${studentName(s)} helped, with a note`, 'aria-haspopup': 'dialog', title: 'Mark helped and say what you did', ...offAttrs(off), dataset: { focusKey: `note:${s.session_id}` }, onclick: unlessOff(off, (b) => onNote(s, b)) }, '+ note');

/** `off`: the id of the line saying why Helped and + note cannot work now (they are aria-disabled). */
export function needsHelpList(students, { href, now = Date.now(), onHelped, onNote, off = null }) {
  if (!students.length) return notice('Nobody needs help right now.', 'ok');
  const top = students[0]?.score || 1;
  const rows = students.slice(0, MAX_ROWS).map((s, i) => {
    const reasons = Array.isArray(s.reasons) ? s.reasons : [];
    const step = stepLabel(s.current_step, s.step_name);
    // Severity relative to the most urgent student: the colour says "first" without a legend.
    const sev = s.score >= top * 0.66 ? 'high' : s.score >= top * 0.33 ? 'mid' : 'low';
    return h(
      'li',
      { class: ['help-row', `sev-${sev}`, s.helped?.at && 'helped-again'], dataset: { sessionId: s.session_id, score: s.score } },
      h(
        'a',
        { href: href(s.session_id), class: 'help-link', dataset: { focusKey: `link:${s.session_id}` }, title: reasons.map((r) => r.message).join('\n') },
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
          // Marked helped before, and something new since: the instructor may want to go back.
          s.helped?.at ? h('span', { class: 'help-again small' }, `Helped ${fmtAgo(s.helped.at, now)} by ${markedBy(s.helped.by)} — new since`) : null,
        ),
        h('span', { class: 'help-since muted small' }, h('time', { datetime: s.since, title: fmtDateTime(s.since) }, `for ${fmtFor(s.since, now)}`)),
      ),
      onHelped ? h('span', { class: 'help-actions' }, helpedButton(s, onHelped, off), onNote ? noteButton(s, onNote, off) : null) : null,
    );
  });
  return [
    h('ol', { class: 'help-list', id: 'needs-help-list' }, rows),
    students.length > MAX_ROWS ? h('p', { class: 'muted small' }, `…and ${students.length - MAX_ROWS} more with a lower score.`) : null,
  ];
}
