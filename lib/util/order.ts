/**
 * Orders that need no language's rules, for sorts on request paths. Not `localeCompare`: its first
 * call in a process or isolate sets up ICU's collator, ~13 ms of CPU (13.5 ms in a fresh Node on
 * the AMD EPYC machine), more than a request has on Cloudflare's free plan.
 */

/** Code-point order (tokens, ids, and UTC ISO times, which sort as text). */
export const ordinal = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A name as people look it up or say it: accents off and lower case ("Équations" is "equations", "Zoë" is "zoe"). */
export const nameKey = (s: string): string => s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();

/** Names for people to read: by nameKey, then code-point order for names that differ only in case or accents. */
export const byName = (a: string, b: string): number => ordinal(nameKey(a), nameKey(b)) || ordinal(a, b);
