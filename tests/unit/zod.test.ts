/** lib/util/zod.ts: zod/mini as lib/ uses it (ADR 0026) — English messages, and objects that parse as classic zod's. */
import { describe, expect, it } from 'vitest';
import { EventInput } from '../../lib/schemas/event.js';
import * as z from '../../lib/util/zod.js';

describe('the zod lib/ uses', () => {
  it("speaks English, as classic zod did (our problem documents quote zod's messages)", () => {
    const r = z.strictObject({ n: z.number(), s: z.string().check(z.maxLength(2)) }).safeParse({ n: 'x', s: 'abc', extra: 1 });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message)).toEqual([
      'Invalid input: expected number, received string',
      'Too big: expected string to have <=2 characters',
      'Unrecognized key: "extra"',
    ]);
  });

  it("compiles objects as classic zod does ($ZodObjectJIT), through extend and in lib's schemas", () => {
    const jit = (s: { _zod: { traits: Set<string> } }) => s._zod.traits.has('$ZodObjectJIT');
    const o = z.object({ a: z.string() });
    expect([jit(o), jit(z.strictObject({})), jit(z.looseObject({})), jit(z.extend(o, { b: z.number() })), jit(EventInput)]).toEqual([true, true, true, true, true]);
    // Still mini's object: its trait, its `shape`, and the fallback without eval parses the same.
    expect(o).toBeInstanceOf(z.ZodMiniObject);
    expect(Object.keys(o.shape)).toEqual(['a']);
    const input = { a: 'x', dropped: 1 };
    expect(o.parse(input)).toEqual({ a: 'x' });
    expect(o.parse(input, { jitless: true })).toEqual({ a: 'x' });
    expect(o.safeParse({ a: 1 }).error?.issues[0]?.path).toEqual(['a']);
  });
});
