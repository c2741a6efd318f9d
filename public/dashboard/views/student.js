/**
 * #/student/<id> — one student over time (GET /api/students/{id}/progress): the trends as small
 * charts (accuracy, time per attempt, engagement), the topics (faded when not revisited lately),
 * the next steps still open, and every session as a link, newest first.
 */
import { api, ApiError } from '../api.js';
import { fill, fmtDuration, h, notice, timeEl } from '../dom.js';
import { trendChart } from '../components/trend-chart.js';
import { sessionHref } from '../components/sessions-table.js';

const pct = (v) => `${Math.round(v * 100)}%`;
const secs = (ms) => (ms >= 60_000 ? fmtDuration(ms / 1000) : `${(ms / 1000).toFixed(1)} s`);

export function renderStudent(root, { param: id, query, signal, from }) {
  if (!id) {
    fill(root, notice('No student id in the address.', 'error'));
    return;
  }
  const back = from ?? { hash: '#/sessions', title: 'Sessions' };
  const body = h('div', { class: 'student-progress', id: 'student-progress' }, notice('Loading…'));
  fill(root, h('p', { class: 'crumbs' }, h('a', { href: back.hash, id: 'back-link' }, `← ${back.title}`)), body);

  api
    .progress(id, { last: query.get('last') ?? undefined }, { signal })
    .then((p) => fill(body, ...page(p)))
    .catch((err) => {
      if (err?.name === 'AbortError' || err?.status === 401) return;
      fill(body, h('h1', {}, id), notice(err instanceof ApiError ? err.message : String(err), 'error'));
    });
}

function page(p) {
  const s = p.student;
  const t = p.trends;
  const windowSize = t.accuracy.values.length;
  return [
    h(
      'section',
      { class: 'card student-head' },
      h('h1', { id: 'student-name' }, s.name ?? s.email ?? s.id),
      h('p', { class: 'sub' }, [s.name ? (s.email ?? s.id) : null, `${p.session_count} session${p.session_count === 1 ? '' : 's'}`].filter(Boolean).join(' · ')),
    ),
    h(
      'section',
      { class: 'card', 'aria-label': 'Trends' },
      h('h2', {}, `Trends over the last ${windowSize} session${windowSize === 1 ? '' : 's'}`),
      h(
        'div',
        { class: 'trend-grid', id: 'trends' },
        trendChart(t.accuracy, { id: 'trend-accuracy', label: 'Accuracy', format: pct, max: 1, empty: 'No attempts in these sessions.' }),
        trendChart(t.time_per_attempt_ms, { id: 'trend-time', label: 'Time per attempt', format: secs, empty: 'No timed attempts in these sessions.' }),
        trendChart(t.engagement, {
          id: 'trend-engagement',
          label: 'Engagement',
          format: (v) => v.toFixed(2),
          max: 1,
          empty: 'Engagement comes from a session\'s analysis, and none of these sessions has been analysed yet.',
        }),
      ),
    ),
    h(
      'div',
      { class: 'student-cols' },
      h('section', { class: 'card', 'aria-label': 'Next steps' }, h('h2', {}, 'Open next steps'), steps(p.outstanding_next_steps)),
      h('section', { class: 'card', 'aria-label': 'Topics' }, h('h2', {}, 'Topics'), topics(p.topics)),
    ),
    h('section', { class: 'card', 'aria-label': 'Sessions' }, h('h2', {}, 'Sessions'), sessions(p.sessions)),
  ];
}

function steps(list) {
  if (!list.length) return notice('Nothing open: every suggested next step was followed up by a later session (or none was suggested yet).');
  return h(
    'ul',
    { class: 'next-steps', id: 'open-steps' },
    list.map((s) =>
      h('li', {}, h('span', {}, s.step), h('a', { class: 'sub', href: sessionHref(s.suggested_in) }, `suggested ${new Date(s.suggested_at).toLocaleDateString()}${s.times_suggested > 1 ? ` · ${s.times_suggested}×` : ''}`)),
    ),
  );
}

function topics({ covered, not_revisited, recent }) {
  if (!covered.length) return notice('No subjects or topics recorded yet.');
  const stale = new Set(not_revisited.map((c) => `${c.kind}:${c.name}`));
  return [
    h(
      'ul',
      { class: 'topic-chips', id: 'topics' },
      covered.map((c) =>
        h('li', { class: ['chip', `chip-${c.kind}`, stale.has(`${c.kind}:${c.name}`) && 'chip-stale'], title: `${c.sessions} session${c.sessions === 1 ? '' : 's'}, last ${new Date(c.last_seen).toLocaleDateString()}` }, c.name, c.sessions > 1 ? h('span', { class: 'chip-count' }, `×${c.sessions}`) : null),
      ),
    ),
    not_revisited.length ? h('p', { class: 'muted small', id: 'not-revisited' }, `Faded: not revisited in the last ${recent} sessions.`) : null,
  ];
}

/** Newest first; each with a small accuracy bar (a picture, not a number to read). */
function sessions(list) {
  if (!list.length) return notice('No sessions yet.');
  return h(
    'ol',
    { class: 'student-sessions', id: 'student-sessions' },
    [...list].reverse().map((s) =>
      h(
        'li',
        { class: 'student-session', dataset: { sessionId: s.session_id } },
        h('a', { href: sessionHref(s.session_id), class: 'session-link' }, timeEl(s.start_time)),
        h('span', { class: 'platform' }, s.platform),
        h('span', { class: 'muted small' }, [fmtDuration(s.duration_seconds), [...s.subjects, ...s.topics].slice(0, 3).join(', ')].filter(Boolean).join(' · ')),
        s.accuracy === null
          ? h('span', { class: 'muted small' }, 'no attempts')
          : h('span', { class: 'acc', title: `${s.correct} of ${s.attempts} correct` }, h('meter', { min: 0, max: 1, low: 0.5, high: 0.8, optimum: 1, value: s.accuracy }), pct(s.accuracy)),
      ),
    ),
  );
}
