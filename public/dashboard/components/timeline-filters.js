/**
 * The timeline's filter bar: a chip per category, "Problems only", and the reading order.
 * The filters only toggle classes on the list (CSS hides rows), so the list is never rebuilt for
 * them; a change of order calls `onOrder(newestFirst)`, and the timeline puts its rows in that
 * order in the DOM (not only on screen: screen readers and Tab follow the DOM).
 */
import { h } from '../dom.js';
import { CATEGORIES } from '../events.js';

/** Categories a workshop page (platform 'web', or a token without a record) never produces. */
const NOT_FOR_WEB = new Set(['tool', 'transcript']);
/** The instructor's last explicit choice of order, for this tab only. */
const ORDER_KEY = 'sessionlog.timelineOrder';

export function createTimelineFilters(list, onOrder) {
  const chips = new Map(
    CATEGORIES.map((c) => [
      c.id,
      h('label', { class: 'chip' }, h('input', { type: 'checkbox', checked: true, dataset: { category: c.id }, onchange: (ev) => list.classList.toggle(`hide-${c.id}`, !ev.target.checked) }), c.label),
    ]),
  );
  const order = h('button', { type: 'button', id: 'newest-first', class: 'chip-button', 'aria-pressed': 'false', onclick: () => f.setNewestFirst(!f.newestFirst, true) }, 'Newest first');
  const f = {
    el: h(
      'div',
      { class: 'timeline-filters', role: 'group', 'aria-label': 'Show' },
      [...chips.values()],
      h('label', { class: 'chip chip-problem' }, h('input', { type: 'checkbox', id: 'problems-only', onchange: (ev) => list.classList.toggle('problems-only', ev.target.checked) }), 'Problems only'),
      order,
    ),
    newestFirst: false,
    setNewestFirst(on, chosen) {
      const changed = on !== f.newestFirst;
      f.newestFirst = on;
      order.setAttribute('aria-pressed', String(on));
      if (chosen) sessionStorage.setItem(ORDER_KEY, on ? 'newest' : 'oldest');
      if (changed) onOrder(on);
    },
    /** Live sessions open newest first (what is happening now is on top), ended ones oldest first. */
    defaultOrder(live) {
      const chosen = sessionStorage.getItem(ORDER_KEY);
      f.setNewestFirst(chosen ? chosen === 'newest' : live, false);
    },
    /** A workshop page hides the chips of what it cannot produce, unless such rows are there. */
    showChips(web, present) {
      for (const [id, chip] of chips) chip.hidden = web && NOT_FOR_WEB.has(id) && !present.has(id);
    },
  };
  return f;
}
