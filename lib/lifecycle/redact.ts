/**
 * What names an erased student, and how to blank it out of text that stays (ADR 0014).
 *
 * A "needle" is a value that identifies them: their id, email, name, aliases and phone numbers,
 * and the ids of their sessions (auto ids embed the student id: `emma_smith_20261130_1413`).
 * A needle matches case-insensitively as a whole token: not preceded or followed by a letter or
 * digit, so `emma_smith` is found inside `emma_smith_20261130_1413` and `/api/students/EMMA@X.COM`
 * but a student called "Al" does not blank every "also".
 */

export const ERASED = '[erased]';

/** Needles shorter than this would match too much text that has nothing to do with them. */
const MIN_NEEDLE = 2;

export interface Person {
  id: string;
  email: string | null;
  name: string | null;
  aliases: readonly string[];
  phones: readonly string[];
  /**
   * Every student row that is theirs: their own, and any whose id or email is their id or email in
   * another case (a tool server that wrote "Kim" once and "kim" once made two). The erasure deletes
   * them all, with their sessions, calls and alerts.
   */
  rowIds: readonly string[];
}

/** The lowercased needles of a person, longest first (so alternation prefers the longest). */
export function needlesOf(p: Person, extra: readonly string[] = []): string[] {
  const phones = p.phones.flatMap((n) => [n, n.replace(/^\+/, '')]);
  const all = [p.id, p.email, p.name, ...p.aliases, ...phones, ...extra].filter((s): s is string => !!s && s.trim().length >= MIN_NEEDLE);
  return [...new Set(all.map((s) => s.trim().toLowerCase()))].sort((a, b) => b.length - a.length);
}

/** What identifies a speaker or participant as them: their id, email, name or an alias, exactly. */
export function selvesOf(p: Person): string[] {
  return [...new Set([p.id, p.email, p.name, ...p.aliases].filter((s): s is string => !!s).map((s) => s.trim().toLowerCase()))];
}

// Only the syntax characters: in unicode mode JS refuses an escaped `-` outside a class.
const escapeRe = (s: string) => s.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');

/**
 * The same rule as a PostgreSQL ARE (for `~*` and `regexp_replace(.., 'gi')`). The escaping is
 * valid in both dialects: a backslash before a non-alphanumeric character is that character.
 */
export function sqlPattern(needles: readonly string[]): string | null {
  if (!needles.length) return null;
  return `(?<![[:alnum:]])(?:${needles.map(escapeRe).join('|')})(?![[:alnum:]])`;
}

export function jsPattern(needles: readonly string[]): RegExp | null {
  if (!needles.length) return null;
  return new RegExp(`(?<![\\p{L}\\p{N}])(?:${needles.map(escapeRe).join('|')})(?![\\p{L}\\p{N}])`, 'giu');
}

export function redactText(s: string, re: RegExp): string {
  return s.replace(re, ERASED);
}

/**
 * Every string value in a JSON value, redacted; keys are left alone (they are the schema, and a
 * student named "Text" must not rename the `text` field of every transcript turn).
 */
export function redactJson(v: unknown, re: RegExp): unknown {
  if (typeof v === 'string') return redactText(v, re);
  if (Array.isArray(v)) return v.map((x) => redactJson(x, re));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactJson(x, re)]));
  return v;
}
