/**
 * The cohort's progress as a picture: one bar per workshop step (in step order) as long as the
 * number of students on it, the stuck ones as a red end of the bar. Bars aggregate, so 200
 * students are as readable as 5. Drawn with SVG attributes (no inline style: the page's CSP).
 * With `href`, each step's name links to the view narrowed to that step (`selected` marks it).
 */
import { fmtDuration, h, notice } from '../dom.js';
import { stepLabel } from './needs-help.js';

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

/** A bar of `students` out of `max`, its last `stuck` units marked. */
function bar(students, stuck, max) {
  const w = (n) => (max ? (n / max) * 100 : 0);
  const ok = Math.max(0, students - stuck);
  return svg(
    'svg',
    { class: 'step-bar', viewBox: '0 0 100 10', preserveAspectRatio: 'none', 'aria-hidden': 'true', focusable: 'false' },
    svg('rect', { class: 'step-bar-track', x: 0, y: 0, width: 100, height: 10, rx: 1.5 }),
    svg('rect', { class: 'step-bar-ok', x: 0, y: 0, width: w(ok), height: 10 }),
    ...(stuck ? [svg('rect', { class: 'step-bar-stuck', x: w(ok), y: 0, width: w(stuck), height: 10 })] : []),
  );
}

export function stepBars(steps, { href, selected } = {}) {
  if (!steps.length) return notice('No workshop steps reported yet (events carry currentStep / stepName).');
  const max = Math.max(1, ...steps.map((s) => s.students));
  return h(
    'ol',
    { class: 'step-bars', id: 'step-bars', 'aria-label': 'Students per step' },
    steps.map((s) => {
      const stuck = Math.min(s.stuck ?? 0, s.students);
      const label = stepLabel(s.step, s.step_name) ?? '?';
      return h(
        'li',
        { class: ['step-row', stuck > 0 && 'has-stuck', selected === s.step && 'is-selected'], dataset: { step: s.step, students: s.students, stuck } },
        href
          ? h('a', { class: 'step-name', href: href(s.step), title: `Who needs help on ${label}`, ...(selected === s.step ? { 'aria-current': 'true' } : {}) }, label)
          : h('span', { class: 'step-name', title: label }, label),
        bar(s.students, stuck, max),
        h(
          'span',
          { class: 'step-count num' },
          h('strong', {}, String(s.students)),
          stuck ? h('span', { class: 'step-stuck' }, ` · ${stuck} stuck`) : null,
        ),
        h('span', { class: 'step-median muted small' }, s.median_seconds === null || s.median_seconds === undefined ? '' : `median ${fmtDuration(s.median_seconds)}`),
      );
    }),
  );
}
