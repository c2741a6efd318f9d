/**
 * The Now view's most frequent errors of the last 15 minutes (GET /api/attention `top_errors`),
 * most students first: a broken step shows as one error many students hit. Each error type links
 * to exactly its events since `since` (GET /api/session-log?errorType=), of the view's workshop
 * (a session-token prefix) when it has one.
 */
import { h, notice, timeEl } from '../dom.js';

export function nowErrors(rows, { since, workshop }) {
  if (!rows.length) return notice('No errors in the last 15 minutes.', 'ok');
  const max = Math.max(1, ...rows.map((r) => r.students));
  return h(
    'ol',
    { class: 'now-errors', id: 'now-errors-list' },
    rows.map((r) =>
      h(
        'li',
        { class: 'now-error', dataset: { errorType: r.error_type, students: r.students } },
        h(
          'div',
          { class: 'now-error-head' },
          h('a', { class: 'error-type', href: `#/search?${new URLSearchParams({ eventType: 'error', errorType: r.error_type, ...(workshop ? { workshop } : {}), since })}` }, r.error_type),
          h('span', { class: 'bar' }, h('progress', { max, value: r.students }, String(r.students)), h('strong', { class: 'now-error-students' }, `${r.students} student${r.students === 1 ? '' : 's'}`)),
        ),
        r.message ? h('p', { class: 'message small' }, r.message) : null,
        h('p', { class: 'muted small' }, `${r.count} time${r.count === 1 ? '' : 's'} · last `, timeEl(r.last_at)),
      ),
    ),
  );
}
