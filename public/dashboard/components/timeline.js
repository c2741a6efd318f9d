/**
 * The timeline of a session: events sorted by time (ties keep arrival order), rendered once each
 * and inserted in place as the live tail brings more, so open <details> stay open.
 */
import { api, ApiError } from '../api.js';
import { fill, fmtDateTime, fmtShort, fmtTime, h, jsonDetails, notice } from '../dom.js';
import { CATEGORIES, categoryOf, describe, isProblem } from '../events.js';

/** Full-history pages read when the view opens (1000 events each). */
const MAX_PAGES = 20;

export function createTimeline() {
  const list = h('ol', { class: 'timeline', id: 'timeline', 'aria-live': 'polite' });
  const counter = h('span', { class: 'muted small', id: 'timeline-count' });
  const status = h('div', { class: 'timeline-status' }, notice('Loading the timeline…'));
  const empty = h('p', { class: 'notice notice-info', hidden: true }, 'No events yet.');
  const liveBox = h('div', { class: 'live' });
  const toggles = h(
    'div',
    { class: 'timeline-filters', role: 'group', 'aria-label': 'Show' },
    CATEGORIES.map((c) =>
      h('label', { class: 'chip' }, h('input', { type: 'checkbox', checked: true, dataset: { category: c.id }, onchange: (ev) => list.classList.toggle(`hide-${c.id}`, !ev.target.checked) }), c.label),
    ),
    h('label', { class: 'chip chip-problem' }, h('input', { type: 'checkbox', id: 'problems-only', onchange: (ev) => list.classList.toggle('problems-only', ev.target.checked) }), 'Problems only'),
  );
  const section = h(
    'section',
    { class: 'card timeline-card', 'aria-labelledby': 'timeline-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'timeline-title' }, 'Timeline'), counter, liveBox),
    toggles,
    status,
    empty,
    list,
  );

  const t = {
    section,
    liveBox,
    events: [],
    loaded: false,
    ids: new Set(),
    /** Local date of the first event: others on another day show their date too. */
    day: null,
    fail(err) {
      if (err?.name === 'AbortError' || err?.status === 401) return;
      fill(status, notice(err instanceof ApiError ? err.message : String(err), 'error'));
    },
    /** Read the whole history (oldest first, cursor pages) and render it. True on success. */
    async loadAll(id, signal) {
      const all = [];
      let cursor;
      try {
        for (let page = 0; page < MAX_PAGES; page++) {
          const res = await api.timeline(id, { limit: 1000, cursor }, { signal });
          all.push(...res.events);
          cursor = res.next_cursor;
          if (!cursor) break;
        }
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) {
          t.loaded = true;
          status.replaceChildren();
          t.count();
          return true;
        }
        t.fail(err);
        return false;
      }
      t.events = [];
      t.ids = new Set();
      list.replaceChildren();
      t.day = all[0] ? new Date(all[0].created_at).toDateString() : null;
      for (const e of all) t.add(e, false);
      t.loaded = true;
      fill(status, cursor ? notice(`Showing the first ${all.length} events.`, 'info') : null);
      t.count();
      return true;
    },
    /** Take events off the timeline (transcript turns a call report superseded). */
    remove(pred) {
      for (let i = t.events.length - 1; i >= 0; i--) {
        if (!pred(t.events[i])) continue;
        t.events.splice(i, 1);
        list.children[i]?.remove();
      }
      t.count();
    },
    /** Insert one event at its place in time; false when already shown. */
    add(e, fresh) {
      if (t.ids.has(e.event_id)) return false;
      t.ids.add(e.event_id);
      t.day ??= new Date(e.created_at).toDateString();
      const time = Date.parse(e.created_at);
      // Binary search for the first event strictly later: equal times keep arrival order.
      let lo = 0;
      let hi = t.events.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (Date.parse(t.events[mid].created_at) > time) hi = mid;
        else lo = mid + 1;
      }
      const node = timelineItem(e, t.day);
      if (fresh) node.classList.add('tl-new');
      list.insertBefore(node, list.children[lo] ?? null);
      t.events.splice(lo, 0, e);
      return true;
    },
    count() {
      const problems = t.events.filter(isProblem).length;
      counter.textContent = `${t.events.length} event${t.events.length === 1 ? '' : 's'}${problems ? ` · ${problems} problem${problems === 1 ? '' : 's'}` : ''}`;
      empty.hidden = t.events.length > 0;
    },
  };
  return t;
}

function timelineItem(e, firstDay) {
  const cat = categoryOf(e);
  const problem = isProblem(e);
  const { label, text } = describe(e);
  const sameDay = firstDay && new Date(e.created_at).toDateString() === firstDay;
  const classes = ['tl-item', `cat-${cat}`, `type-${e.event_type}`, problem && 'is-problem'];
  if (cat === 'transcript') {
    const who = String(e.event_data?.speaker ?? '').toLowerCase();
    classes.push(who === 'user' || who === 'student' || who === 'a' || who === 'b' ? 'speaker-student' : 'speaker-agent');
  }
  return h(
    'li',
    { class: classes, dataset: { eventId: e.event_id, type: e.event_type, category: cat, ...(problem ? { problem: 'true' } : {}) } },
    h('time', { class: 'tl-time', datetime: e.created_at, title: fmtDateTime(e.created_at) }, sameDay ? fmtTime(e.created_at) : fmtShort(e.created_at)),
    h('span', { class: 'tl-label' }, label),
    h('div', { class: 'tl-body' }, h('span', { class: 'tl-text' }, text), jsonDetails(e.event_data ?? {}, 'data')),
  );
}
