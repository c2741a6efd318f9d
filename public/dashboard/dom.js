/**
 * DOM building and formatting. Everything the API returns is untrusted (event data is whatever a
 * student's page sent), so nodes are only ever built with createElement + textContent: no HTML
 * string from the API is ever parsed. Nothing here sets inline styles (the page runs under
 * `style-src 'self'`): looks are classes from dashboard.css.
 */

/**
 * Bidi embeddings, overrides and isolates and invisible characters (zero-width space, word joiner,
 * BOM), shown as [U+202E]: left in, they reorder or hide what the instructor reads
 * ("Evil\u202Egnp.exe" reads "Evilexe.png"). Direction marks (U+200E, U+200F, U+061C) stay: the
 * browser's own date and currency formats in Arabic, Hebrew and Persian contain them. ZWNJ and
 * ZWJ (U+200C, U+200D) stay: Persian and Indic names and emoji need them.
 */
const HIDDEN = /[\u200b\u202a-\u202e\u2060\u2066-\u2069\ufeff]/g;
export const visible = (s) => s.replace(HIDDEN, (c) => `[U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}]`);

/**
 * Any value as text: strings as they are, other JSON values as JSON. String() would throw on a
 * stored object like {"toString":"x"} ("Cannot convert object to primitive value").
 */
export function asText(value) {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return String(value);
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * h('tr', { class: 'row', dataset: { id } }, child, 'text', [more]) → an element.
 * Attribute values go through setAttribute / properties, children through text nodes; text and
 * tooltips through visible().
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    else if (key === 'dataset') for (const [k, v] of Object.entries(value)) el.dataset[k] = asText(v);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'text') el.textContent = visible(asText(value));
    else if (key === 'title' || key === 'aria-label') el.setAttribute(key, visible(asText(value)));
    else if (value === true) el.setAttribute(key, '');
    else if (key in el && typeof value !== 'string') el[key] = value;
    else el.setAttribute(key, asText(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(visible(asText(c))));
  }
}

/** Replace an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * A link only for http(s) URLs: a recording URL comes from a webhook payload, and a
 * `javascript:` href would run code when clicked.
 */
export function safeUrl(value) {
  if (typeof value !== 'string') return null;
  try {
    const u = new URL(value);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

const dateTimeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const timeFmt = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });
const shortFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

const toDate = (iso) => (iso instanceof Date ? iso : new Date(iso));

/** Full date and time in the browser's locale and zone. */
export const fmtDateTime = (iso) => (iso ? dateTimeFmt.format(toDate(iso)) : '—');
export const fmtTime = (iso) => (iso ? timeFmt.format(toDate(iso)) : '—');
export const fmtShort = (iso) => (iso ? shortFmt.format(toDate(iso)) : '—');

/**
 * The dashboard's one time format: local time, with the date when it is not today (a workshop
 * runs in one day; yesterday's 10:02 must not read as today's).
 */
export function fmtWhen(iso, now = new Date()) {
  if (!iso) return '—';
  const d = toDate(iso);
  return d.toDateString() === now.toDateString() ? timeFmt.format(d) : shortFmt.format(d);
}

/** A <time> element: readable text, the exact instant in `datetime` and as a tooltip. */
export function timeEl(iso, format = fmtWhen) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: iso, title: fmtDateTime(iso) }, format(iso));
}

/** 0 → "0s", 75 → "1m 15s", 3720 → "1h 2m", 90000 → "1d 1h". */
export function fmtDuration(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m ${s % 60}s` : `${m}m`;
  const hrs = Math.floor(m / 60);
  if (hrs < 24) return m % 60 ? `${hrs}h ${m % 60}m` : `${hrs}h`;
  const d = Math.floor(hrs / 24);
  return hrs % 24 ? `${d}d ${hrs % 24}h` : `${d}d`;
}

/** Vapi reports cost in US dollars. */
export function fmtCost(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '—';
  return new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 4 }).format(value);
}

/** Compact one-line JSON for previews; the full value goes in a <pre>. */
export function jsonPreview(value, max = 160) {
  let s;
  try {
    s = JSON.stringify(value);
  } catch {
    s = asText(value);
  }
  if (s === undefined) return '';
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** Pretty JSON inside a collapsed <details>, as text. */
export function jsonDetails(value, summary = 'data') {
  return h('details', { class: 'json' }, h('summary', {}, summary), h('pre', {}, JSON.stringify(value, null, 2)));
}

/** A status badge: the value is text, its class comes from a fixed list. */
const STATUS_CLASSES = new Set(['waiting', 'active', 'paused', 'completed', 'abandoned']);
export function statusBadge(status) {
  const known = STATUS_CLASSES.has(status) ? status : 'other';
  return h('span', { class: `badge status-${known}` }, status ?? '—');
}

/** Local date "YYYY-MM-DD" (from an <input type=date>) → the ISO instant of that local midnight. */
export function localDayStart(day, plusDays = 0) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day ?? '');
  if (!m) return undefined;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + plusDays).toISOString();
}

/** <input type=datetime-local> value (local wall time) → ISO instant. */
export function localDateTime(value) {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** ISO instant → the value an <input type=datetime-local> shows (local wall time, minutes). */
export function toLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** A message box for errors and empty states. */
export function notice(text, kind = 'info') {
  return h('p', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}
