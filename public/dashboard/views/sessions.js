/**
 * #/sessions — who is in a session now (refreshed every 10 s), and the history with filters.
 * Filters live in the hash (#/sessions?student=emma&status=completed) so a filtered list is a link.
 */
import { api, ApiError } from '../api.js';
import { sessionsTable } from '../components/sessions-table.js';
import { fill, fmtDuration, fmtTime, h, localDayStart, notice } from '../dom.js';

const ACTIVE_REFRESH_MS = 10_000;
const PAGE = 50;
const STATUSES = ['waiting', 'active', 'paused', 'completed', 'abandoned'];

function readFilters(query) {
  return {
    student: query.get('student') ?? '',
    platform: query.get('platform') ?? '',
    status: query.get('status') ?? '',
    from: query.get('from') ?? '',
    to: query.get('to') ?? '',
  };
}

export function renderSessions(root, { query, signal, navigate }) {
  const f = readFilters(query);
  const timers = [];

  // ---- headline numbers ----
  const statsBox = h('div', { class: 'stats', 'aria-live': 'polite' });
  const platformList = h('datalist', { id: 'platforms' });

  // ---- active now ----
  const activeBody = h('div', { class: 'active-body' }, notice('Loading…'));
  const activeStamp = h('span', { class: 'muted small', id: 'active-updated' });
  const active = h(
    'section',
    { class: 'card', id: 'active-sessions', 'aria-labelledby': 'active-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'active-title' }, 'Active now'), activeStamp),
    activeBody,
  );

  // ---- history with filters ----
  const input = (name, label, attrs = {}) =>
    h('label', { class: 'field' }, h('span', {}, label), h('input', { name, value: f[name], ...attrs }));
  const form = h(
    'form',
    { class: 'filters', id: 'session-filters', role: 'search' },
    input('student', 'Student', { placeholder: 'student id', autocomplete: 'off', spellcheck: 'false' }),
    input('platform', 'Platform', { list: 'platforms', placeholder: 'any', autocomplete: 'off', spellcheck: 'false' }),
    h(
      'label',
      { class: 'field' },
      h('span', {}, 'Status'),
      h('select', { name: 'status' }, h('option', { value: '' }, 'any'), STATUSES.map((s) => h('option', { value: s, selected: s === f.status }, s))),
    ),
    input('from', 'From', { type: 'date' }),
    input('to', 'To', { type: 'date' }),
    h('div', { class: 'field-actions' }, h('button', { type: 'submit', class: 'primary' }, 'Filter'), h('button', { type: 'reset' }, 'Clear')),
  );
  const listBody = h('div', { class: 'list-body' }, notice('Loading…'));
  const more = h('button', { type: 'button', class: 'more', hidden: true }, 'Load more');
  const history = h(
    'section',
    { class: 'card', id: 'recent-sessions', 'aria-labelledby': 'recent-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'recent-title' }, 'Recent sessions')),
    form,
    listBody,
    more,
  );

  fill(root, h('h1', { class: 'page-title' }, 'Sessions'), statsBox, platformList, active, history);

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const q = new URLSearchParams();
    for (const k of ['student', 'platform', 'status', 'from', 'to']) {
      const v = String(data.get(k) ?? '').trim();
      if (v) q.set(k, v);
    }
    const s = q.toString();
    navigate(`#/sessions${s ? `?${s}` : ''}`);
  });
  form.addEventListener('reset', (ev) => {
    ev.preventDefault();
    navigate('#/sessions');
  });

  const showError = (box, err) => {
    if (err?.name === 'AbortError' || err?.status === 401) return;
    fill(box, notice(err instanceof ApiError ? err.message : String(err), 'error'));
  };

  // Headline numbers and the platform suggestions for the filter.
  api
    .stats({ signal })
    .then((st) => {
      const stat = (label, value) => h('div', { class: 'stat' }, h('span', { class: 'stat-value' }, value), h('span', { class: 'stat-label' }, label));
      fill(
        statsBox,
        stat('active now', String(st.active_sessions)),
        stat('sessions today', String(st.sessions_today)),
        stat('events today', String(st.events_today)),
        stat('average length', st.average_duration_seconds === null ? '—' : fmtDuration(st.average_duration_seconds)),
      );
      fill(platformList, Object.keys(st.sessions_by_platform ?? {}).sort().map((p) => h('option', { value: p })));
    })
    .catch(() => statsBox.replaceChildren());

  async function loadActive() {
    if (document.hidden) return;
    try {
      const res = await api.activeSessions({ signal });
      fill(activeBody, sessionsTable(res.sessions, { empty: 'Nobody is in a session right now.' }));
      activeStamp.textContent = `updated ${fmtTime(new Date())} · refreshes every ${ACTIVE_REFRESH_MS / 1000}s`;
    } catch (err) {
      showError(activeBody, err);
    }
  }
  loadActive();
  timers.push(setInterval(loadActive, ACTIVE_REFRESH_MS));

  const filters = {
    student_id: f.student || undefined,
    platform: f.platform || undefined,
    status: f.status || undefined,
    since: localDayStart(f.from),
    until: localDayStart(f.to, 1),
    limit: PAGE,
  };
  let rows = [];
  let next = null;
  async function loadPage(cursor) {
    more.disabled = true;
    try {
      const res = await api.sessions({ ...filters, cursor }, { signal });
      rows = cursor ? rows.concat(res.sessions) : res.sessions;
      const filtered = Object.values({ ...filters, limit: undefined }).some((v) => v);
      fill(listBody, h('p', { class: 'muted small', id: 'recent-count' }, `${rows.length} session${rows.length === 1 ? '' : 's'}${res.next_cursor ? ' (more available)' : ''}`), sessionsTable(rows, { empty: filtered ? 'No session matches these filters.' : 'No sessions yet.' }));
      next = res.next_cursor;
      more.hidden = !next;
    } catch (err) {
      showError(listBody, err);
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener('click', () => next && loadPage(next));
  loadPage();

  return () => {
    for (const t of timers) clearInterval(t);
  };
}
