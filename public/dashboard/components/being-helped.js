/**
 * "Being helped (N)" under the Now view's needs-help list: the students an instructor marked
 * helped in the last 30 minutes and who have not been listed since (GET /api/attention `helped`,
 * newest first), so the other instructors and teaching assistants in the room do not walk to the
 * same desk. Each entry: who, "by ms_lee · 3 min ago", the note, and Undo (a mark made by mistake).
 * Compact, and at most SHOWN entries until the instructor asks for the rest: it sits above the
 * step bars and must not push them off a laptop's screen.
 */
import { fmtDateTime, h } from '../dom.js';
import { fmtAgo, markedBy, offAttrs, studentName } from './needs-help.js';

export const SHOWN = 5;

/**
 * entries: [{ session_id, student_name, student_email, student_id, at, by, note, pending? }] —
 * `pending` is a mark this tab is still sending (no Undo yet).
 * onUndo(entry, button); expanded / onToggle: whether the entries past SHOWN are shown; `off`: the
 * id of the line saying why Undo cannot work now (it is aria-disabled).
 */
export function beingHelped(entries, { href, now = Date.now(), onUndo, expanded = false, onToggle, off = null }) {
  if (!entries.length) return null;
  const shown = expanded ? entries : entries.slice(0, SHOWN);
  const rows = shown.map((e) => {
    const who = studentName(e);
    return h(
      'li',
      { class: 'helped-row', dataset: { sessionId: e.session_id } },
      h(
        'span',
        { class: 'helped-text' },
        h('a', { href: href(e.session_id), class: 'helped-name' }, who),
        ' ',
        h(
          'span',
          { class: 'helped-by muted small' },
          e.pending ? 'marking…' : [`by ${markedBy(e.by)} · `, h('time', { datetime: e.at, title: fmtDateTime(e.at) }, fmtAgo(e.at, now))],
        ),
        e.note ? h('span', { class: 'helped-note small', title: e.note }, e.note) : null,
      ),
      h(
        'button',
        { type: 'button', class: 'helped-undo', disabled: Boolean(e.pending), 'aria-label': `Undo the helped mark for ${who}`, ...offAttrs(off), dataset: { focusKey: `undo:${e.session_id}` }, onclick: (ev) => (off ? undefined : onUndo(e, ev.currentTarget)) },
        'Undo',
      ),
    );
  });
  const more = entries.length - SHOWN;
  return h(
    'section',
    { class: 'being-helped', id: 'being-helped', 'aria-labelledby': 'being-helped-title' },
    h('h3', { id: 'being-helped-title' }, `Being helped (${entries.length})`),
    h('ul', { class: 'helped-list', id: 'being-helped-list' }, rows),
    more > 0
      ? h('button', { type: 'button', class: 'helped-more', id: 'being-helped-more', 'aria-expanded': String(expanded), dataset: { focusKey: 'helped-more' }, onclick: onToggle }, expanded ? 'Show fewer' : `Show ${more} more`)
      : null,
  );
}
