/**
 * JSON.parse that notices integers it cannot keep. A JavaScript number holds integers exactly only
 * up to ±2^53; `JSON.parse('{"orderId":12345678901234567890}')` gives 12345678901234567168, and a
 * body parsed so would be stored as a different number than the client sent, under a success
 * answer. Clients that are not JavaScript (Python ints, Go int64/uint64, database ids) do send such
 * literals. The integer literals JSON.parse rounded are recorded against the object or array that
 * holds them (`inexactIn`), for validation to refuse with the field's path: the client can send the
 * value as a string instead.
 *
 * Only integer literals are checked (no fraction or exponent): a decimal fraction is a
 * floating-point number in every JSON implementation, and a literal written with an exponent asks
 * for one. An integer literal that reads back as written is kept: one a double holds exactly (2^53,
 * 1e16 written out), and a large double as JavaScript writes it (shortest form, below).
 *
 * Cost: a body with no integer literal of 16 digits or more (every integer of at most 15 digits is
 * exact) is parsed by plain JSON.parse, after one regular-expression scan; that is every body a
 * JavaScript page sends, unless it carries a number of at least 1e15. Otherwise the text is also
 * read by a scanner of this file, which follows the keys and indexes down to each long number. One
 * reader for every runtime: JSON.parse's reviver with the literal's source text (Node 21+) gave the
 * same answers, but calling a function for every value of a 1 MB body of small numbers cost several
 * times what the scanner does.
 */

/** Integer literals each holder had rounded, by key (an array's by index, as a string). */
const INEXACT = new WeakMap<object, Map<string, string>>();
/** Whether anything was ever recorded: until then `inexactIn` costs a boolean test. */
let recorded = false;

/** The integer literals JSON.parse rounded among `holder`'s own values, by key; undefined when none. */
export function inexactIn(holder: object): ReadonlyMap<string, string> | undefined {
  return recorded ? INEXACT.get(holder) : undefined;
}

/**
 * What looks like an integer literal of 16 digits or more (the shortest that can be beyond 2^53 is
 * 9007199254740993): the digits between what may stand before a number and what may follow an
 * integer. Inside a string it can match too ("…, 1234567890123456, …"), which costs only the scan.
 */
const LONG_INTEGER = /(?:^|[\s,:[])-?\d{16,}(?:$|[\s,\]}])/;
const INTEGER_LITERAL = /^-?\d+$/;

/**
 * Whether the number JSON.parse made of an integer literal is another number: its shortest form,
 * which JSON.stringify writes and Postgres stores, does not have the literal's value. A JavaScript
 * client's large double (JSON.stringify(3.192812309061059e16) is "31928123090610590") reads back
 * as written; "12345678901234567890" becomes 12345678901234567000.
 */
export function roundedInteger(literal: string, value: number): boolean {
  if (literal.length < 16 || !INTEGER_LITERAL.test(literal) || !Number.isFinite(value)) return false;
  return BigInt(literal) !== integerOf(String(value));
}

/** The integer a number's shortest form writes ("1.5e+21" is 1500000000000000000000n). */
function integerOf(shortest: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e\+?(\d+))?$/.exec(shortest);
  // An integer-valued double always has such a form (with no fraction left once scaled).
  if (!m) return -1n;
  const [, sign = '', whole = '', fraction = '', exp = '0'] = m;
  return BigInt(`${sign}${whole}${fraction}${'0'.repeat(Number(exp) - fraction.length)}`);
}

function record(holder: object, key: string, literal: string): void {
  const keys = INEXACT.get(holder) ?? new Map<string, string>();
  keys.set(key, literal);
  INEXACT.set(holder, keys);
  recorded = true;
}

/**
 * Parse JSON text as JSON.parse does (and throwing what it throws), recording the integer literals
 * it rounded against their holders.
 */
export function parseJsonExact(text: string): unknown {
  const value: unknown = JSON.parse(text);
  if (!LONG_INTEGER.test(text)) return value;
  // The scanner reads only text JSON.parse has accepted.
  for (const [path, literal] of roundedLiterals(text)) {
    let holder: unknown = value;
    for (let i = 0; i < path.length - 1 && holder !== null && typeof holder === 'object'; i++) {
      const k = path[i] as string;
      holder = Object.hasOwn(holder, k) ? (holder as Record<string, unknown>)[k] : undefined;
    }
    const key = path[path.length - 1] as string;
    // A key given twice keeps its last value (the scanner keeps the last literal at each path): a
    // literal whose path now holds something else was replaced.
    if (holder !== null && typeof holder === 'object' && Object.hasOwn(holder, key) && (holder as Record<string, unknown>)[key] === Number(literal)) record(holder, key, literal);
  }
  return value;
}

/**
 * The rounded integer literals of valid JSON text, by path (keys, and array indexes as strings):
 * the last literal written at each path, as JSON.parse keeps the last of a repeated key.
 */
function roundedLiterals(text: string): Array<[string[], string]> {
  // One entry per open container: the key (object) or the index (array, a number: counting the
  // elements of a long array makes no strings) being read.
  const path: Array<string | number> = [];
  const found = new Map<string, [string[], string]>();
  let expectKey = false;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i += 2;
        else if (d === 0x22) break;
        else i++;
      }
      i++;
      if (expectKey) {
        const s = text.slice(start, i);
        path[path.length - 1] = s.includes('\\') ? (JSON.parse(s) as string) : s.slice(1, -1);
        expectKey = false;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      path.push(c === 0x5b ? 0 : '');
      expectKey = c === 0x7b;
      i++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      path.pop();
      i++;
    } else if (c === 0x2c /* , */) {
      const top = path[path.length - 1];
      if (typeof top === 'number') path[path.length - 1] = top + 1;
      else expectKey = true;
      i++;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      let exponent = false;
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        // digits . + - (and e E, noted)
        if ((d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x2b || d === 0x2d) i++;
        else if (d === 0x65 || d === 0x45) {
          exponent = true;
          i++;
        } else break;
      }
      // Below 16 characters, only a literal with an exponent can reach 2^53.
      if (i - start < 16 && !exponent) continue;
      const literal = text.slice(start, i);
      // Only a number of at least 2^53 can be a rounded integer, or replace one (a repeated key):
      // the others cost no path.
      if (path.length === 0 || !(Math.abs(Number(literal)) >= 2 ** 53)) continue;
      const at = path.map(String);
      // A key with a NUL in it is refused whatever its value: the separator cannot mislead.
      const key = at.join('\u0000');
      if (roundedInteger(literal, Number(literal))) found.set(key, [at, literal]);
      else if (found.size) found.delete(key);
    } else {
      i++;
    }
  }
  return [...found.values()];
}
