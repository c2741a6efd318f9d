/**
 * Terminal output: plain ANSI colours (off when the stream is not a TTY, or NO_COLOR is set —
 * https://no-color.org), aligned tables, and JSON for scripts.
 */
import type { WriteStream } from 'node:tty';

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90, bold: 1 } as const;
export type Colour = keyof typeof CODES;

export function colours(stream: NodeJS.WriteStream | WriteStream, env: Record<string, string | undefined> = process.env) {
  const on = Boolean(stream.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb';
  return (c: Colour, text: string) => (on ? `\u001b[${CODES[c]}m${text}\u001b[0m` : text);
}
export type Paint = ReturnType<typeof colours>;

// ANSI sequences take no columns: measure text without them.
const visible = (s: string) => s.replaceAll(/\u001b\[[0-9;]*m/g, '').length;

/**
 * Characters a terminal obeys instead of showing: the C0 and C1 controls (ESC starts the sequences
 * that move the cursor, erase lines, retitle the window or plant an OSC 8 hyperlink; newline and tab
 * break a one-line entry or a table row) and the bidirectional overrides that reorder what follows.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from the server made safe for a terminal. Students write names, error messages and event
 * data through the public endpoint, unauthenticated: printed as sent, an `actionName` of
 * `\u001b[1A\u001b[2K…` would rewrite the line above in the instructor's `tail`, hide an entry, or
 * make a link say something else. Each such character is shown as its `\uXXXX` escape (as JSON
 * writes it); what `--json` and `export` write is the data as stored, untouched.
 */
export const printable = (s: string): string => s.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** `printable` on every string (keys too) of a parsed JSON answer. */
export function printableDeep<T>(value: T): T {
  if (typeof value === 'string') return printable(value) as T;
  if (Array.isArray(value)) return value.map(printableDeep) as T;
  // fromEntries defines each key as its own property: a `__proto__` key stays data.
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [printable(k), printableDeep(v)])) as T;
  return value;
}

/** Left-aligned columns separated by two spaces; the header row is dimmed. */
export function table(header: string[], rows: string[][], paint: Paint): string {
  const [head = '', ...lines] = columns([header, ...rows]);
  return [paint('gray', head), ...lines].join('\n');
}

/** Left-aligned columns without a header, each line after `indent` (a short list under a title). */
export const aligned = (rows: string[][], indent = '') => columns(rows).map((l) => indent + l).join('\n');

function columns(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const r of rows) for (const [i, c] of r.entries()) widths[i] = Math.max(widths[i] ?? 0, visible(c));
  return rows.map((cells) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(Math.max(0, (widths[i] ?? 0) - visible(c)))))
      .join('  ')
      .trimEnd(),
  );
}

/** `2026-11-30T15:44:55.804Z` → `2026-11-30 15:44:55` (UTC, as stored). */
export const shortTime = (iso: string | null | undefined) => (iso ? iso.replace('T', ' ').slice(0, 19) : '');

export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
