/**
 * The timeline of a session: events sorted by time (ties keep arrival order), rendered once each
 * and inserted in place as the live tail brings more, so open <details> stay open.
 *
 * The list's DOM order is the order on screen, newest first or oldest first as the instructor
 * picked: screen readers and Tab read what the eye reads (it used to be reversed on screen only,
 * by CSS). `events` and `nodes` stay in time order whatever the order shown; an insertion goes
 * next to its neighbour in time on the side the order puts it, and a change of order moves the
 * rows (the same nodes, so open <details> stay open). Filters only hide rows (CSS classes).
 */
import { api, ApiError } from '../api.js';
import { fill, fmtDateTime, fmtWhen, h, jsonDetails, notice } from '../dom.js';
import { categoryOf, describe, isProblem } from '../events.js';
import { speakerNamer, speakerSide } from './speakers.js';
import { createTimelineFilters } from './timeline-filters.js';

/** Full-history pages read when the view opens (1000 events each). */
const MAX_PAGES = 20;

export function createTimeline() {
  const list = h('ol', { class: 'timeline', id: 'timeline', 'aria-live': 'polite' });
  const counter = h('span', { class: 'muted small', id: 'timeline-count' });
  const status = h('div', { class: 'timeline-status' }, notice('Loading the timeline…'));
  const empty = h('p', { class: 'notice notice-info', hidden: true }, 'No events yet.');
  const liveBox = h('div', { class: 'live' });
  /** The rows of `t.events`, index for index (time order). */
  let nodes = [];
  const filters = createTimelineFilters(list, (newestFirst) => {
    // The same rows, moved: a screen reader told of each as new would read out the whole list.
    list.setAttribute('aria-busy', 'true');
    const rows = document.createDocumentFragment();
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[newestFirst ? nodes.length - 1 - i : i];
      n.classList.remove('tl-new'); // a moved row would flash again
      rows.append(n);
    }
    list.append(rows);
    requestAnimationFrame(() => requestAnimationFrame(() => list.removeAttribute('aria-busy')));
  });
  const section = h('section', { class: 'card timeline-card', 'aria-labelledby': 'timeline-title' }, h('div', { class: 'card-head' }, h('h2', { id: 'timeline-title' }, 'Timeline'), counter, liveBox), filters.el, status, empty, list);

  const t = {
    section,
    liveBox,
    events: [],
    loaded: false,
    ids: new Set(),
    get newestFirst() {
      return filters.newestFirst;
    },
    /** True for a workshop page: chips for what it cannot produce are hidden while empty. */
    web: false,
    speaker: speakerNamer(null, null),
    fail(err) {
      if (err?.name === 'AbortError' || err?.status === 401) return;
      fill(status, notice(err instanceof ApiError ? err.message : String(err), 'error'));
    },
    /** Live sessions open newest first, ended ones oldest first (unless the tab chose). */
    defaultOrder: (live) => filters.defaultOrder(live),
    /** Bring the newest event into view (first on screen when newest first, else last). */
    scrollToNewest() {
      const newest = nodes.at(-1);
      (newest ?? section).scrollIntoView({ block: t.newestFirst ? 'start' : 'end' });
      newest?.classList.remove('tl-new');
      void newest?.offsetWidth; // restart the highlight so the eye finds the row
      newest?.classList.add('tl-new');
    },
    setWeb(web) {
      t.web = web;
      t.count();
    },
    /** Name the speakers of transcript turns (the session record may arrive after the events). */
    setSpeakers(namer) {
      t.speaker = namer;
      for (const [i, e] of t.events.entries()) {
        if (categoryOf(e) === 'transcript') nodes[i]?.querySelector('.tl-label')?.replaceChildren(namer(e.event_data?.speaker));
      }
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
      nodes = [];
      list.replaceChildren();
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
        nodes.splice(i, 1)[0]?.remove();
      }
      t.count();
    },
    /** Insert one event at its place in time; false when already shown. */
    add(e, fresh) {
      if (t.ids.has(e.event_id)) return false;
      t.ids.add(e.event_id);
      const time = Date.parse(e.created_at);
      // Binary search for the first event strictly later: equal times keep arrival order.
      let lo = 0;
      let hi = t.events.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (Date.parse(t.events[mid].created_at) > time) hi = mid;
        else lo = mid + 1;
      }
      const node = timelineItem(e, t.speaker);
      if (fresh) node.classList.add('tl-new');
      // Before the later neighbour in time order; newest first, before the earlier one (at the
      // end when there is none), so a live event lands on top.
      list.insertBefore(node, (t.newestFirst ? nodes[lo - 1] : nodes[lo]) ?? null);
      t.events.splice(lo, 0, e);
      nodes.splice(lo, 0, node);
      return true;
    },
    count() {
      const problems = t.events.filter(isProblem).length;
      counter.textContent = `${t.events.length} event${t.events.length === 1 ? '' : 's'}${problems ? ` · ${problems} problem${problems === 1 ? '' : 's'}` : ''}`;
      empty.hidden = t.events.length > 0;
      const present = new Set(t.events.map(categoryOf));
      filters.showChips(t.web, present);
    },
  };
  return t;
}

function timelineItem(e, speaker) {
  const cat = categoryOf(e);
  const problem = isProblem(e);
  const { label, text } = describe(e);
  const classes = ['tl-item', `cat-${cat}`, `type-${e.event_type}`, problem && 'is-problem'];
  if (cat === 'transcript') classes.push(speakerSide(e.event_data?.speaker));
  return h(
    'li',
    { class: classes, dataset: { eventId: e.event_id, type: e.event_type, category: cat, ...(problem ? { problem: 'true' } : {}) } },
    h('time', { class: 'tl-time', datetime: e.created_at, title: fmtDateTime(e.created_at) }, fmtWhen(e.created_at)),
    h('span', { class: 'tl-label' }, cat === 'transcript' ? speaker(e.event_data?.speaker) : label),
    h('div', { class: 'tl-body' }, h('span', { class: 'tl-text' }, text), jsonDetails(e.event_data ?? {}, 'data')),
  );
}
