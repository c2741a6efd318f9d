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
 * Cost: a body without a run of 16 digits (every integer of at most 15 digits is exact) is parsed
 * by plain JSON.parse, after one regular-expression scan. Otherwise a reviver compares each number
 * with its literal: the literal itself where the runtime passes it to revivers (JSON.parse source
 * text access: Node 21+, V8 11.4+), else the number literals of the text, read in document order by
 * a scanner of this file and matched to the reviver's numbers, which JSON.parse visits in that order.
 */

/** Integer literals each holder had rounded, by key (an array's by index, as a string). */
const INEXACT = new WeakMap<object, Map<string, string>>();
/** Whether anything was ever recorded: until then `inexactIn` costs a boolean test. */
let recorded = false;

/** The integer literals JSON.parse rounded among `holder`'s own values, by key; undefined when none. */
export function inexactIn(holder: object): ReadonlyMap<string, string> | undefined {
  return recorded ? INEXACT.get(holder) : undefined;
}

/** A run of 16 digits: the shortest integer literal that can be beyond 2^53 (9007199254740993). */
const LONG_DIGITS = /\d{16}/;
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

interface ReviverContext {
  source?: string;
}

/** Whether this runtime gives revivers the literal (JSON.parse source text access). */
export const SOURCE_TEXT_ACCESS: boolean = (() => {
  let seen: unknown;
  JSON.parse('1', (_k, v, ctx?: ReviverContext) => {
    seen = ctx?.source;
    return v;
  });
  return seen === '1';
})();

/**
 * Parse JSON text as JSON.parse does (and throwing what it throws), recording the integer literals
 * it rounded. `scan` forces the scanner where the runtime has source text access (tests).
 */
export function parseJsonExact(text: string, scan = !SOURCE_TEXT_ACCESS): unknown {
  if (!LONG_DIGITS.test(text)) return JSON.parse(text);
  if (!scan) {
    return JSON.parse(text, function (this: object, key: string, value: unknown, ctx?: ReviverContext) {
      if (typeof value === 'number' && ctx?.source !== undefined && roundedInteger(ctx.source, value)) record(this, key, ctx.source);
      return value;
    });
  }
  // Parsed first: the scanner reads only text JSON.parse has accepted.
  const value: unknown = JSON.parse(text);
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
  // One frame per open container: its key path, and the key (object) or index (array) being read.
  const path: string[] = [];
  const isArray: boolean[] = [];
  const index: number[] = [];
  const found = new Map<string, [string[], string]>();
  let expectKey = false;
  const n = text.length;
  let i = 0;
  const readString = (): string => {
    const start = i;
    i++;
    while (i < n) {
      const d = text.charCodeAt(i);
      if (d === 0x5c /* \ */) i += 2;
      else if (d === 0x22 /* " */) break;
      else i++;
    }
    i++;
    return text.slice(start, i);
  };
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const s = readString();
      if (expectKey) {
        path[path.length - 1] = JSON.parse(s) as string;
        expectKey = false;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const arr = c === 0x5b;
      isArray.push(arr);
      index.push(0);
      path.push(arr ? '0' : '');
      expectKey = !arr;
      i++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      isArray.pop();
      index.pop();
      path.pop();
      i++;
    } else if (c === 0x2c /* , */) {
      const top = isArray.length - 1;
      if (isArray[top]) path[path.length - 1] = String(++index[top]!);
      else expectKey = true;
      i++;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        // digits . e E + -
        if ((d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d) i++;
        else break;
      }
      const literal = text.slice(start, i);
      if (path.length === 0) continue;
      const at = path.slice();
      const key = JSON.stringify(at);
      if (roundedInteger(literal, Number(literal))) found.set(key, [at, literal]);
      else if (found.size) found.delete(key);
    } else {
      i++;
    }
  }
  return [...found.values()];
}
