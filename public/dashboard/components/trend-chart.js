/**
 * One trend of a student's progress as a small picture: the value of each session as a point on a
 * line (oldest left), the least-squares fit dashed over it, and the direction in words. Inline SVG
 * built with createElementNS and attributes only (the page's CSP allows no inline style).
 */
import { h } from '../dom.js';

const SVG = 'http://www.w3.org/2000/svg';
const W = 300;
const H = 96;
const PAD = { left: 6, right: 6, top: 10, bottom: 10 };

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

const ARROWS = { up: '↗', down: '↘', flat: '→' };

/**
 * trend: { values: [{ session_id, start_time, value }], slope, direction, improving, points }
 * opts: { id, label, format(v) → text, max (fixed top of the scale, e.g. 1 for accuracy),
 *         empty (why no session has a value, shown instead of the chart) }
 */
export function trendChart(trend, { id, label, format, max, empty = 'No values in these sessions.' }) {
  const n = trend.values.length;
  const known = trend.values.map((v, i) => ({ ...v, i })).filter((v) => v.value !== null);
  const top = max ?? (Math.max(...known.map((v) => v.value), 0) * 1.15 || 1);
  const x = (i) => (n <= 1 ? W / 2 : PAD.left + (i * (W - PAD.left - PAD.right)) / (n - 1));
  const y = (v) => H - PAD.bottom - (Math.min(Math.max(v, 0), top) / top) * (H - PAD.top - PAD.bottom);

  const chart = svg('svg', { class: 'trend-svg', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${label} over the last ${n} sessions` });
  chart.appendChild(svg('line', { class: 'trend-axis', x1: 0, y1: H - PAD.bottom, x2: W, y2: H - PAD.bottom }));
  if (known.length > 1) chart.appendChild(svg('polyline', { class: 'trend-line', points: known.map((v) => `${x(v.i)},${y(v.value)}`).join(' ') }));
  if (trend.slope !== null && known.length > 1) {
    // The fit passes through the mean point with the server's slope (per session position).
    const mx = known.reduce((a, v) => a + v.i, 0) / known.length;
    const my = known.reduce((a, v) => a + v.value, 0) / known.length;
    const at = (i) => y(my + trend.slope * (i - mx));
    const a = known[0].i;
    const b = known.at(-1).i;
    chart.appendChild(svg('line', { class: 'trend-fit', x1: x(a), y1: at(a), x2: x(b), y2: at(b) }));
  }
  for (const v of known) {
    const when = new Date(v.start_time).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
    chart.appendChild(svg('circle', { class: 'trend-point', cx: x(v.i), cy: y(v.value), r: 4.5, 'data-session-id': v.session_id, 'data-value': v.value }, svg('title', {}, `${when}: ${format(v.value)}`)));
  }

  const last = known.at(-1);
  const mood = trend.improving === true ? 'better' : trend.improving === false ? 'worse' : 'neutral';
  // "Not enough sessions" only when there are values, too few for a direction: with none, the
  // sessions are there but carry no such value (engagement comes only from an analysis).
  const verdict = trend.direction
    ? `${ARROWS[trend.direction]} ${trend.direction}${trend.improving === true ? ', improving' : trend.improving === false ? ', getting worse' : ''}`
    : known.length
      ? 'not enough sessions yet'
      : 'no values yet';
  return h(
    'figure',
    { class: ['trend', `trend-${mood}`], id, dataset: { points: known.length, direction: trend.direction ?? 'none' } },
    h('figcaption', {}, h('span', { class: 'trend-label' }, label), h('strong', { class: 'trend-last num' }, last ? format(last.value) : '—'), h('span', { class: 'trend-verdict' }, verdict)),
    known.length ? chart : h('p', { class: 'muted small trend-empty' }, empty),
  );
}
