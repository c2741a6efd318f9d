/**
 * Client-side exports of the rows on screen. The columns and quoting match the API's own CSV
 * export (lib/events/query.ts), so a file from either place reads the same.
 */

export const CSV_COLUMNS = ['event_id', 'created_at', 'session_token', 'event_type', 'student_id', 'student_email', 'student_name', 'event_data'];

/**
 * One RFC 4180 cell. A cell a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets
 * a leading apostrophe: an export must never execute what a student typed.
 */
export function csvCell(value) {
  if (value === null || value === undefined) return '';
  let s = typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Header + one CRLF-terminated line per event. */
export function toCsv(events) {
  const lines = [CSV_COLUMNS.join(',')];
  for (const e of events) lines.push(CSV_COLUMNS.map((k) => csvCell(k === 'event_data' ? JSON.stringify(e.event_data ?? {}) : e[k])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export const toJson = (events) => `${JSON.stringify(events, null, 2)}\n`;

/** `session-log-2026-03-01T09-30-00.csv` */
export function exportName(ext, now = new Date()) {
  return `session-log-${now.toISOString().replaceAll(':', '-').slice(0, 19)}.${ext}`;
}

/** Save text as a file: a Blob URL on a temporary <a download>, revoked once clicked. */
export function download(text, filename, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.appendChild(a);
  a.click();
  a.remove();
  // Revoke after the click has been handled; revoking synchronously can cancel the download.
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
