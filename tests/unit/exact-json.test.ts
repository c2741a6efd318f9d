/**
 * parseJsonExact (lib/util/exact-json.ts): the integer literals JSON.parse rounds are found, at the
 * right holder and key, by its scanner. Documents are generated with their own oracle: repeated keys (the last one wins, as in
 * JSON.parse), integer-like keys (which objects enumerate first), long digit runs inside strings
 * and keys, escaped quotes, and long numbers that are exact or not integers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inexactIn, parseJsonExact, roundedInteger } from '../../lib/util/exact-json.js';

/** A JSON value as written: objects as key/value lists (keys may repeat), numbers as literals. */
type Doc = { num: string } | { str: string } | { lit: 'true' | 'false' | 'null' } | { arr: Doc[] } | { obj: Array<[string, Doc]> };

const ROUNDED = ['9007199254740993', '-9007199254740993', '12345678901234567890', '123456789012345678901234567890', '18446744073709551615'];
const EXACT = ['31928123090610590', '1000000000000000000000', '0', '-0', '7', '-42', '9007199254740991', '9007199254740992', '-9007199254740992', '10000000000000000', '123456789012345', '1.2345678901234567890', '1e25', '12345678901234567890e0', '-1.5E+300', '1234567890123456.5'];
const STRINGS = ['', 'x', '12345678901234567890', 'a"b', 'back\\slash', '9007199254740993', '\u0000', '{"n":12345678901234567890}', 'ünï'];
const KEYS = ['a', 'b', 'id', '0', '1', '10', '12345678901234567890', '__proto__', 'constructor', 'k"q', ''];

const doc: fc.Arbitrary<Doc> = fc.letrec<{ d: Doc }>((tie) => ({
  d: fc.oneof(
    { depthSize: 'small', maxDepth: 4 },
    fc.constantFrom(...ROUNDED, ...EXACT).map((num) => ({ num })),
    fc.integer().map((n) => ({ num: String(n) })),
    // What a JavaScript client writes for any double, large integer-valued ones included.
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => ({ num: JSON.stringify(n) })),
    fc.double({ min: 2 ** 53, max: 1e30, noNaN: true }).map((n) => ({ num: JSON.stringify(Math.round(n)) })),
    fc.constantFrom(...STRINGS).map((str) => ({ str })),
    fc.constantFrom<'true' | 'false' | 'null'>('true', 'false', 'null').map((lit) => ({ lit })),
    fc.array(tie('d'), { maxLength: 4 }).map((arr) => ({ arr })),
    fc.array(fc.tuple(fc.constantFrom(...KEYS), tie('d')), { maxLength: 5 }).map((obj) => ({ obj })),
  ),
})).d;

function write(d: Doc): string {
  if ('num' in d) return d.num;
  if ('str' in d) return JSON.stringify(d.str);
  if ('lit' in d) return d.lit;
  if ('arr' in d) return `[${d.arr.map(write).join(', ')}]`;
  return `{${d.obj.map(([k, v]) => `${JSON.stringify(k)}: ${write(v)}`).join(',')}}`;
}

/** Where a rounded literal stays once parsed (the last of a repeated key), as `path → literal`. */
function expected(d: Doc, path: string, out: Map<string, string>): Map<string, string> {
  if ('arr' in d) for (const [i, v] of d.arr.entries()) visit(v, `${path}[${i}]`, out);
  if ('obj' in d) {
    const last = new Map<string, Doc>();
    for (const [k, v] of d.obj) last.set(k, v);
    for (const [k, v] of last) visit(v, `${path}.${k}`, out);
  }
  return out;
}
function visit(v: Doc, path: string, out: Map<string, string>) {
  if ('num' in v && roundedInteger(v.num, Number(v.num))) out.set(path, v.num);
  else expected(v, path, out);
}

/** What parseJsonExact recorded, as `path → literal`. */
function found(v: unknown, path: string, out: Map<string, string>): Map<string, string> {
  if (v === null || typeof v !== 'object') return out;
  const marks = inexactIn(v);
  for (const k of Object.keys(v)) {
    const p = Array.isArray(v) ? `${path}[${k}]` : `${path}.${k}`;
    const literal = marks?.get(k);
    if (literal !== undefined) out.set(p, literal);
    found((v as Record<string, unknown>)[k], p, out);
  }
  return out;
}

describe('parseJsonExact', () => {
  it('finds exactly the rounded integer literals that stay in the parsed value, at their holder and key', () => {
    fc.assert(
      fc.property(doc, (d) => {
        const text = write(d);
        const value = parseJsonExact(text);
        // The value is JSON.parse's, unchanged.
        expect(value).toEqual(JSON.parse(text));
        // (A document that is one number has no holder to name: nothing is recorded.)
        expect(found(value, '$', new Map())).toEqual(expected(d, '$', new Map()));
      }),
      { numRuns: 400 },
    );
  });

  it('names the holder and key, in arrays too', () => {
    const v = parseJsonExact('{"b": 12345678901234567890, "0": 1, "arr": [1, 9007199254740993], "a": 12345678901234567890, "a": 5}') as Record<string, unknown>;
    expect([...(inexactIn(v) ?? [])]).toEqual([['b', '12345678901234567890']]);
    expect([...(inexactIn(v.arr as object) ?? [])]).toEqual([['1', '9007199254740993']]);
    // A repeated key whose kept literal is exact, and equal to what the replaced one rounded to.
    expect(inexactIn(parseJsonExact('{"a": 9007199254740993, "a": 9007199254740992}') as object)).toBeUndefined();
    expect(inexactIn(parseJsonExact('{"a": 9007199254740992, "a": 9007199254740993}') as object)?.get('a')).toBe('9007199254740993');
  });

  it('throws what JSON.parse throws', () => {
    for (const bad of ['{"a": 12345678901234567890', '[12345678901234567890,]', '12345678901234567890 x']) expect(() => parseJsonExact(bad)).toThrow(SyntaxError);
  });
});

describe('roundedInteger', () => {
  it('is true only for integer literals a double does not hold', () => {
    expect(roundedInteger('9007199254740993', Number('9007199254740993'))).toBe(true);
    expect(roundedInteger('9007199254740992', 9007199254740992)).toBe(false);
    expect(roundedInteger('10000000000000000', 1e16)).toBe(false);
    expect(roundedInteger('1234567890123456.5', 1234567890123456.5)).toBe(false);
    expect(roundedInteger('12345678901234567890e0', Number('12345678901234567890e0'))).toBe(false);
    expect(roundedInteger('1'.repeat(400), Number('1'.repeat(400)))).toBe(false); // Infinity: refused as too large elsewhere
    // Large doubles as JavaScript writes them read back as written, also past 1e21 ("1e+21").
    expect(roundedInteger('31928123090610590', 31928123090610590)).toBe(false);
    expect(roundedInteger('1000000000000000000000', 1e21)).toBe(false);
    expect(roundedInteger('1500000000000000000000', 1.5e21)).toBe(false);
    expect(roundedInteger('1500000000000000000001', 1.5e21)).toBe(true);
    expect(roundedInteger('12345678901234567890', Number('12345678901234567890'))).toBe(true);
  });
});
