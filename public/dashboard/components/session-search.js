/**
 * "Find a student or session": any part of a name, email, student id or session token
 * (GET /api/sessions?q=), case-insensitive. The query lives in the hash (#/search?q=pri) so a
 * search is a link; the results are the sessions list's table.
 */
import { api, ApiError } from '../api.js';
import { fill, h, notice } from '../dom.js';
import { sessionsTable } from './sessions-table.js';

const LIMIT = 50;

export function sessionSearch({ q, signal, onSearch }) {
  const input = h('input', { name: 'q', id: 'session-q', type: 'search', value: q, placeholder: 'part of a name, email, id or token', autocomplete: 'off', spellcheck: 'false', minlength: 2 });
  const form = h(
    'form',
    { class: 'session-search', id: 'session-search', role: 'search' },
    h('label', { class: 'field' }, h('span', {}, 'Find a student or session'), input),
    h('button', { type: 'submit', class: 'primary' }, 'Find'),
  );
  const results = h('div', { class: 'session-matches', id: 'session-matches' });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    onSearch(input.value.trim());
  });

  if (q) {
    fill(results, notice('Searching…'));
    api
      .sessions({ q, limit: LIMIT }, { signal })
      .then((res) => {
        const n = res.sessions.length;
        fill(
          results,
          h('p', { class: 'muted small', id: 'session-matches-count' }, `${n}${res.next_cursor ? '+' : ''} ${n === 1 && !res.next_cursor ? 'session matches' : 'sessions match'} “${q}”`),
          sessionsTable(res.sessions, { empty: `No session matches “${q}”.` }),
        );
      })
      .catch((err) => {
        if (err?.name === 'AbortError' || err?.status === 401) return;
        fill(results, notice(err instanceof ApiError ? err.message : String(err), 'error'));
      });
  }
  return h('section', { class: 'card', 'aria-label': 'Find a student or session' }, form, results);
}
