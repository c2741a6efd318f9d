/**
 * #/search — find a session by any part of a name, email, id or token (#/search?q=pri), and the
 * event log (GET /api/session-log) by session token, workshop (token prefix), student email, event
 * type, error type and time range; the query is the hash
 * (#/search?eventType=error&errorType=TypeError&workshop=ws_room2&since=…) so a search is a link.
 * CSV and JSON exports are built from exactly the rows on screen.
 */
import { api, ApiError } from '../api.js';
import { fill, h, jsonDetails, localDateTime, notice, timeEl, toLocalInput } from '../dom.js';
import { describe, isProblem, studentOf } from '../events.js';
import { sessionSearch } from '../components/session-search.js';
import { download, exportName, toCsv, toJson } from '../export.js';
import { sessionHref } from '../components/sessions-table.js';

const KNOWN_TYPES = ['navigation', 'error', 'action', 'api_call', 'state_change', 'interaction', 'tool_result', 'transcript', 'session_started', 'session_ended', 'phase_changed', 'call_status', 'analysis_completed'];
const TEXT_FIELDS = ['sessionToken', 'workshop', 'studentEmail', 'eventType', 'errorType'];
const PAGE_SIZES = ['50', '100', '500', '1000'];

export function renderSearch(root, { query, signal, navigate }) {
  const q = {
    sessionToken: query.get('sessionToken') ?? '',
    workshop: query.get('workshop') ?? '',
    studentEmail: query.get('studentEmail') ?? '',
    eventType: query.get('eventType') ?? '',
    errorType: query.get('errorType') ?? '',
    since: query.get('since') ?? '',
    until: query.get('until') ?? '',
    order: query.get('order') === 'asc' ? 'asc' : 'desc',
    limit: PAGE_SIZES.includes(query.get('limit') ?? '') ? query.get('limit') : '100',
  };

  const text = (name, label, attrs = {}) =>
    h('label', { class: 'field' }, h('span', {}, label), h('input', { name, value: q[name], autocomplete: 'off', spellcheck: 'false', ...attrs }));
  const sinceInput = h('input', { name: 'since', type: 'datetime-local', value: toLocalInput(q.since) });
  const untilInput = h('input', { name: 'until', type: 'datetime-local', value: toLocalInput(q.until) });
  const quick = (label, ms) =>
    h(
      'button',
      {
        type: 'button',
        class: 'chip-button',
        onclick: () => {
          sinceInput.value = toLocalInput(new Date(Date.now() - ms).toISOString());
          untilInput.value = '';
        },
      },
      label,
    );
  const form = h(
    'form',
    { class: 'filters', id: 'search-form', role: 'search' },
    text('sessionToken', 'Session token', { placeholder: 'ws_…' }),
    text('workshop', 'Workshop', { placeholder: 'token prefix' }),
    text('studentEmail', 'Student email', { type: 'email', placeholder: 'student@example.com' }),
    text('eventType', 'Event type', { list: 'event-types', placeholder: 'any' }),
    text('errorType', 'Error type', { placeholder: 'any, e.g. TypeError' }),
    h('datalist', { id: 'event-types' }, KNOWN_TYPES.map((t) => h('option', { value: t }))),
    h('label', { class: 'field' }, h('span', {}, 'From'), sinceInput),
    h('label', { class: 'field' }, h('span', {}, 'Until'), untilInput),
    h(
      'label',
      { class: 'field' },
      h('span', {}, 'Order'),
      h('select', { name: 'order' }, h('option', { value: 'desc', selected: q.order === 'desc' }, 'newest first'), h('option', { value: 'asc', selected: q.order === 'asc' }, 'oldest first')),
    ),
    h('label', { class: 'field' }, h('span', {}, 'Page size'), h('select', { name: 'limit' }, PAGE_SIZES.map((n) => h('option', { value: n, selected: n === q.limit }, n)))),
    h(
      'div',
      { class: 'field-actions wide' },
      h('button', { type: 'submit', class: 'primary' }, 'Search'),
      h('button', { type: 'reset' }, 'Clear'),
      h('span', { class: 'quick' }, 'From:', quick('Last hour', 3_600_000), quick('Last 24 h', 86_400_000)),
    ),
  );

  const summary = h('p', { class: 'muted small', id: 'search-count', role: 'status' });
  const csvButton = h('button', { type: 'button', id: 'export-csv', disabled: true }, 'Export CSV');
  const jsonButton = h('button', { type: 'button', id: 'export-json', disabled: true }, 'Export JSON');
  const results = h('div', { class: 'results' }, notice('Searching…'));
  const more = h('button', { type: 'button', class: 'more', hidden: true }, 'Load more');

  fill(
    root,
    h('h1', { class: 'page-title' }, 'Search'),
    sessionSearch({ q: query.get('q') ?? '', signal, onSearch: (v) => navigate(v ? `#/search?${new URLSearchParams({ q: v })}` : '#/search') }),
    h('section', { class: 'card', 'aria-labelledby': 'log-title' }, h('div', { class: 'card-head' }, h('h2', { id: 'log-title' }, 'Search the event log')), form),
    h('section', { class: 'card', 'aria-labelledby': 'results-title' }, h('div', { class: 'card-head' }, h('h2', { id: 'results-title' }, 'Events'), summary, h('div', { class: 'actions' }, csvButton, jsonButton)), results, more),
  );

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const p = new URLSearchParams();
    for (const k of TEXT_FIELDS) {
      const v = String(data.get(k) ?? '').trim();
      if (v) p.set(k, v);
    }
    // Keep the exact instant from the link while its (minute-precision) input is unchanged.
    const instant = (input, original) => (input.value && input.value === toLocalInput(original) ? original : localDateTime(input.value));
    const since = instant(sinceInput, q.since);
    const until = instant(untilInput, q.until);
    if (since) p.set('since', since);
    if (until) p.set('until', until);
    if (data.get('order') === 'asc') p.set('order', 'asc');
    if (data.get('limit') !== '100') p.set('limit', String(data.get('limit')));
    const s = p.toString();
    navigate(`#/search${s ? `?${s}` : ''}`);
  });
  form.addEventListener('reset', (ev) => {
    ev.preventDefault();
    navigate('#/search');
  });

  /** The rows on screen, in screen order: what the exports contain. */
  let shown = [];
  let next = null;
  const filters = {
    sessionToken: q.sessionToken,
    workshop: q.workshop,
    studentEmail: q.studentEmail,
    eventType: q.eventType,
    errorType: q.errorType,
    since: q.since,
    until: q.until,
    order: q.order,
    limit: q.limit,
  };

  async function load(cursor) {
    more.disabled = true;
    try {
      const res = await api.events({ ...filters, cursor }, { signal });
      shown = cursor ? shown.concat(res.events) : res.events;
      next = res.next_cursor;
      fill(results, shown.length ? eventsTable(shown) : notice('No events match this search.'));
      summary.textContent = `${shown.length} event${shown.length === 1 ? '' : 's'} shown${next ? ' · more available' : ''}`;
      more.hidden = !next;
      csvButton.disabled = shown.length === 0;
      jsonButton.disabled = shown.length === 0;
    } catch (err) {
      if (err?.name === 'AbortError' || err?.status === 401) return;
      fill(results, notice(err instanceof ApiError ? err.message : String(err), 'error'));
      summary.textContent = '';
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener('click', () => next && load(next));
  csvButton.addEventListener('click', () => download(toCsv(shown), exportName('csv'), 'text/csv;charset=utf-8'));
  jsonButton.addEventListener('click', () => download(toJson(shown), exportName('json'), 'application/json'));
  load();
}

function eventsTable(events) {
  const cell = (label, ...content) => h('td', { 'data-label': label }, ...content);
  return h(
    'table',
    { class: 'table events-table', id: 'search-results' },
    h('thead', {}, h('tr', {}, ['Time', 'Type', 'Session', 'Student', 'Details'].map((t) => h('th', { scope: 'col' }, t)))),
    h(
      'tbody',
      {},
      events.map((e) => {
        const problem = isProblem(e);
        const { text } = describe(e);
        return h(
          'tr',
          { class: ['event-row', problem && 'is-problem'], dataset: { eventId: e.event_id, type: e.event_type } },
          cell('Time', timeEl(e.created_at)),
          cell('Type', h('span', { class: ['type', problem && 'problem-type'] }, e.event_type)),
          cell('Session', h('a', { href: sessionHref(e.session_token), class: 'mono' }, e.session_token)),
          h('td', { 'data-label': 'Student', class: 'cell-student' }, studentOf(e) ?? h('span', { class: 'muted' }, '—')),
          h('td', { 'data-label': 'Details', class: 'cell-details cell-wide' }, h('span', { class: 'tl-text' }, text), jsonDetails(e.event_data ?? {}, 'data')),
        );
      }),
    ),
  );
}
