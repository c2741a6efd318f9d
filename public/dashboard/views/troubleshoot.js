/**
 * #/troubleshoot — who is stuck: the students who hit errors in a recent window and the most
 * frequent error types across all students (GET /api/session-log/stats?since=). Refreshes itself.
 */
import { api, ApiError } from '../api.js';
import { fill, fmtTime, h, notice, timeEl } from '../dom.js';
import { sessionHref } from '../components/sessions-table.js';

const WINDOWS = [
  { id: '15m', label: 'last 15 minutes', ms: 15 * 60_000 },
  { id: '1h', label: 'last hour', ms: 3_600_000 },
  { id: '24h', label: 'last 24 hours', ms: 86_400_000 },
  { id: '7d', label: 'last 7 days', ms: 7 * 86_400_000 },
];
const REFRESH_MS = 30_000;

export function renderTroubleshoot(root, { query, signal, navigate }) {
  const win = WINDOWS.find((w) => w.id === query.get('window')) ?? WINDOWS[1];
  const select = h(
    'select',
    { id: 'window', name: 'window', onchange: (ev) => navigate(`#/troubleshoot?window=${encodeURIComponent(ev.target.value)}`) },
    WINDOWS.map((w) => h('option', { value: w.id, selected: w === win }, w.label)),
  );
  const refresh = h('button', { type: 'button', id: 'refresh' }, 'Refresh');
  const stamp = h('span', { class: 'muted small', role: 'status' });
  const students = h('div', {}, notice('Loading…'));
  const errors = h('div', {}, notice('Loading…'));
  const byType = h('div', {});

  fill(
    root,
    h('div', { class: 'title-row' }, h('h1', { class: 'page-title' }, 'Troubleshooting'), h('label', { class: 'inline-field' }, 'Window ', select), refresh, stamp),
    h(
      'section',
      { class: 'card', id: 'students-with-errors', 'aria-labelledby': 'swe-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'swe-title' }, `Students who hit errors in the ${win.label}`)),
      students,
    ),
    h(
      'section',
      { class: 'card', id: 'top-errors', 'aria-labelledby': 'top-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'top-title' }, 'Most frequent error types')),
      errors,
    ),
    h('section', { class: 'card', id: 'events-by-type', 'aria-labelledby': 'ebt-title' }, h('div', { class: 'card-head' }, h('h2', { id: 'ebt-title' }, 'Events by type')), byType),
  );

  async function load() {
    if (document.hidden) return;
    refresh.disabled = true;
    const since = new Date(Date.now() - win.ms).toISOString();
    try {
      const st = await api.logStats({ since }, { signal });
      fill(students, studentsTable(st.students_with_errors, since));
      fill(errors, topErrorsTable(st.top_errors, since));
      const types = Object.entries(st.by_type).sort((a, b) => b[1] - a[1]);
      fill(
        byType,
        types.length
          ? h(
              'p',
              { class: 'tags' },
              types.map(([t, n]) => h('a', { class: ['tag', t === 'error' && 'tag-problem'], href: `#/search?${new URLSearchParams({ eventType: t, since })}` }, `${t} · ${n}`)),
            )
          : notice('No events in this window.'),
        h('p', { class: 'muted small' }, `${st.total} events in total.`),
      );
      stamp.textContent = `updated ${fmtTime(new Date())}`;
    } catch (err) {
      if (err?.name === 'AbortError' || err?.status === 401) return;
      fill(students, notice(err instanceof ApiError ? err.message : String(err), 'error'));
      errors.replaceChildren();
    } finally {
      refresh.disabled = false;
    }
  }
  refresh.addEventListener('click', load);
  load();
  const timer = setInterval(load, REFRESH_MS);
  return () => clearInterval(timer);
}

function studentsTable(rows, since) {
  if (!rows.length) return notice('Nobody hit an error in this window.', 'ok');
  const cell = (label, ...content) => h('td', { 'data-label': label }, ...content);
  return h(
    'table',
    { class: 'table', id: 'students-table' },
    h('thead', {}, h('tr', {}, ['Student', 'Session', 'Errors', 'Last error', 'Message'].map((t) => h('th', { scope: 'col' }, t)))),
    h(
      'tbody',
      {},
      rows.map((s) => {
        const who = s.student_email ?? s.student_id;
        const search = new URLSearchParams({ ...(s.student_email ? { studentEmail: s.student_email } : { sessionToken: s.session_token }), eventType: 'error', since });
        return h(
          'tr',
          { class: 'student-row', dataset: { student: who ?? '', session: s.session_token } },
          h(
            'td',
            { 'data-label': 'Student', class: 'cell-main' },
            who ? h('span', { class: 'student' }, who) : h('span', { class: 'muted' }, '(anonymous page)'),
            s.student_name ? h('span', { class: 'sub' }, s.student_name) : null,
          ),
          cell('Session', h('a', { href: sessionHref(s.session_token), class: 'mono' }, s.session_token)),
          cell('Errors', h('a', { href: `#/search?${search}`, class: 'error-count' }, String(s.errors))),
          cell('Last error', timeEl(s.last_error_at)),
          h('td', { 'data-label': 'Message', class: 'cell-wide' }, h('span', { class: 'message' }, s.last_error ?? '—')),
        );
      }),
    ),
  );
}

function topErrorsTable(rows, since) {
  if (!rows.length) return notice('No errors in this window.', 'ok');
  const max = Math.max(...rows.map((r) => r.count));
  const cell = (label, ...content) => h('td', { 'data-label': label }, ...content);
  return h(
    'table',
    { class: 'table', id: 'top-errors-table' },
    h('thead', {}, h('tr', {}, ['Error type', 'Count', 'Students', 'Last seen'].map((t) => h('th', { scope: 'col' }, t)))),
    h(
      'tbody',
      {},
      rows.map((r) =>
        h(
          'tr',
          { class: 'error-type-row', dataset: { errorType: r.error_type } },
          h('td', { 'data-label': 'Error type', class: 'cell-main' }, h('a', { href: `#/search?${new URLSearchParams({ eventType: 'error', errorType: r.error_type, since })}`, class: 'error-type' }, r.error_type)),
          cell('Count', h('span', { class: 'bar' }, h('progress', { max, value: r.count }, String(r.count)), h('strong', {}, String(r.count)))),
          cell('Students', String(r.students)),
          cell('Last seen', timeEl(r.last_seen)),
        ),
      ),
    ),
  );
}
