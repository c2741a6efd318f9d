import type { Sql } from '../storage/sql.js';
import { nameKey } from '../util/order.js';
import type { CallUpdate, TranscriptLine } from './types.js';

/**
 * Who is calling, from what was said: the last step of identification, after metadata, the phone
 * map and call links have all failed (issue 13). A caller introduces themselves in their first
 * turns ("hi, this is Emma", "my name is Emma Smith"); a name or alias of exactly one student
 * assigns the call, several record suggestions and leave the call `unknown`.
 *
 * Only introductions count — the words after "this is", "my name is", "I'm"... or a short turn
 * that is nothing but a name ("Emma.", "hi, Emma here") — never a name met anywhere in a sentence:
 * "can we read Anna Karenina" must not hand the call to a student called Anna.
 */

/** Turns of the caller (platforms name them differently). */
export const USER_SPEAKER = /^(user|customer|student|caller|human)$/i;
/** How many of the caller's turns are read: people say who they are at the start. */
export const FIRST_USER_TURNS = 3;
/** Words read after an introduction cue (a first name, a last name, maybe a middle one). */
const NAME_WORDS = 4;

export type Identification = { kind: 'none' } | { kind: 'one'; studentId: string } | { kind: 'many'; studentIds: string[] };

/**
 * Lower case, diacritics off ("Zoë" is said and transcribed "Zoe"), everything that is not a
 * letter or digit a word break; the words. Word lists are what names are compared as, so "Ann"
 * never matches inside "Anna".
 */
export function words(s: string): string[] {
  return nameKey(s)
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/** Cues as words after folding ("I'm" is ["i", "m"], "name's" is ["name", "s"]). */
const CUES: readonly string[][] = [
  ['this', 'is'], ['my', 'name', 'is'], ['name', 'is'], ['name', 's'], ['names'], ['i', 'am'], ['i', 'm'], ['im'],
  ['it', 'is'], ['it', 's'], ['its'], ['call', 'me'],
].map((c) => c.map(String));
/** Openers stripped before a short turn is taken as a bare name ("hi, Emma here"). */
const OPENERS = new Set(['hi', 'hello', 'hey', 'hiya', 'yes', 'yeah', 'yep', 'ok', 'okay', 'um', 'uh', 'so', 'oh', 'well', 'good', 'morning', 'afternoon', 'evening', 'there']);
/** A bare-name turn has at most this many words once openers are stripped ("Emma Smith here"). */
const BARE_TURN_WORDS = 3;

/** The word sequences where a name may start, from the caller's first turns. */
export function nameSpots(turns: readonly string[]): string[][] {
  const spots: string[][] = [];
  for (const turn of turns.slice(0, FIRST_USER_TURNS)) {
    const w = words(turn);
    for (let i = 0; i < w.length; i++) {
      for (const cue of CUES) {
        if (cue.every((c, k) => w[i + k] === c)) {
          const after = w.slice(i + cue.length, i + cue.length + NAME_WORDS);
          if (after.length) spots.push(after);
        }
      }
    }
    let start = 0;
    while (start < w.length && OPENERS.has(w[start] as string)) start++;
    const rest = w.slice(start);
    if (rest.length > 0 && rest.length <= BARE_TURN_WORDS) spots.push(rest);
  }
  return spots;
}

export interface NamedStudent {
  id: string;
  name: string | null;
  aliases: readonly string[];
}

const startsWith = (spot: readonly string[], form: readonly string[]) => form.length > 0 && form.every((w, i) => spot[i] === w);

/**
 * The students the spots name. A student is named by their full name or an alias (scored by its
 * length in words, plus one for being whole) or by the first word of a longer name (its length).
 * Only the best score counts, so "my name is Emma Smith" picks Emma Smith over Emma Jones, and
 * "this is Emma" is ambiguous between them — unless a student is called just "Emma".
 */
export function match(spots: readonly string[][], students: readonly NamedStudent[]): string[] {
  let best = 0;
  let ids = new Set<string>();
  const consider = (id: string, score: number) => {
    if (score > best) {
      best = score;
      ids = new Set([id]);
    } else if (score === best && score > 0) ids.add(id);
  };
  for (const s of students) {
    const full = [s.name ?? '', ...s.aliases].map(words).filter((f) => f.length > 0);
    const name = words(s.name ?? '');
    const first = name.length > 1 ? [name.slice(0, 1)] : [];
    for (const spot of spots) {
      for (const f of full) if (startsWith(spot, f)) consider(s.id, f.length * 2 + 1);
      for (const f of first) if (startsWith(spot, f)) consider(s.id, f.length * 2);
    }
  }
  return [...ids].sort();
}

/** The caller's first turns in a delivery: a report's transcript, or one live line. */
export function userTurnsOf(update: CallUpdate): string[] {
  if (update.kind === 'transcript') return USER_SPEAKER.test(update.speaker) ? [update.text] : [];
  if (update.kind !== 'report' || !update.report.transcript) return [];
  const { lines, text } = update.report.transcript;
  return firstUserTurns(lines.length ? lines : parseLines(text));
}

export function firstUserTurns(lines: readonly Pick<TranscriptLine, 'speaker' | 'text'>[]): string[] {
  return lines.filter((l) => USER_SPEAKER.test(l.speaker)).slice(0, FIRST_USER_TURNS).map((l) => l.text);
}

/** "User: hi, this is Emma" lines of a plain-text transcript (platforms that send only text). */
function parseLines(text: string): Array<{ speaker: string; text: string }> {
  return text
    .split(/\r?\n/)
    .map((l) => /^\s*([A-Za-z]+)\s*:\s*(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ speaker: m[1] ?? '', text: m[2] ?? '' }));
}

/**
 * Identify the caller from their first turns against every named student. Students are read only
 * when a turn holds an introduction; they are compared in code because the comparison folds
 * diacritics, which Postgres cannot without the unaccent extension. Fine for the thousands of
 * students of a school; a much larger roster would want a folded-name column with an index.
 */
export async function identifyFromTurns(sql: Sql, turns: readonly string[]): Promise<Identification> {
  const spots = nameSpots(turns);
  if (spots.length === 0) return { kind: 'none' };
  const students = await sql.query<NamedStudent>(
    "SELECT id, name, aliases FROM students WHERE id <> 'unknown' AND (name IS NOT NULL OR cardinality(aliases) > 0)",
  );
  return fromIds(match(spots, students));
}

/** The same rule for a name given directly (the analysis model's `student_name`). */
export async function identifyFromName(sql: Sql, name: string): Promise<Identification> {
  const spot = words(name).slice(0, NAME_WORDS);
  if (spot.length === 0) return { kind: 'none' };
  const students = await sql.query<NamedStudent>(
    "SELECT id, name, aliases FROM students WHERE id <> 'unknown' AND (name IS NOT NULL OR cardinality(aliases) > 0)",
  );
  return fromIds(match([spot], students));
}

function fromIds(ids: string[]): Identification {
  if (ids.length === 0) return { kind: 'none' };
  if (ids.length === 1) return { kind: 'one', studentId: ids[0] as string };
  return { kind: 'many', studentIds: ids };
}
