/**
 * Bodies read before their signature is checked (lib/http/body.ts readTextWithin): the budget of
 * unverified bytes is taken as bytes arrive, not as declared, so a connection that declares a large
 * body and sends nothing holds nothing; and a body that stalls is refused with 408 at the deadline.
 */
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../lib/errors.js';
import { ByteBudget, readTextWithin } from '../../lib/http/body.js';

const MB = 1024 * 1024;

/** A POST declaring `declared` bytes whose body sends `chunks` and then, unless `end`, nothing more. */
function post(declared: number, chunks: string[], end: boolean): Request {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const x of chunks) c.enqueue(enc.encode(x));
      if (end) c.close();
    },
  });
  return new Request('http://x/api/webhooks/vapi', { method: 'POST', body, headers: { 'content-length': String(declared) }, duplex: 'half' } as RequestInit);
}

describe('the unverified-body budget', () => {
  it('a body declared at the whole budget that sends a byte holds one byte; others are read meanwhile; at the deadline it is 408 and holds nothing', async () => {
    const budget = new ByteBudget(16 * MB);
    const stalled = readTextWithin(post(16 * MB, ['{'], false), 16 * MB, budget, 300);
    const outcome = stalled.then(
      () => 'read',
      (err: unknown) => err,
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(budget.inUse).toBe(1);
    // A genuine delivery of 1 MB fits beside it.
    const text = '{"message":{"type":"status-update"}}'.padEnd(MB, ' ');
    const ok = await readTextWithin(post(MB, [text], true), 16 * MB, budget, 300);
    expect(ok).toEqual({ text, taken: MB });
    budget.give(ok.taken);

    const err = await outcome;
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('REQUEST_TIMEOUT');
    expect(budget.inUse).toBe(0);
  });

  it('a declared body that cannot fit beside what is held is refused unread (503)', async () => {
    const budget = new ByteBudget(MB);
    expect(budget.take(MB / 2)).toBe(true);
    let pulled = false;
    // highWaterMark 0: the stream is pulled only when someone reads it.
    const body = new ReadableStream<Uint8Array>(
      {
        pull(c) {
          pulled = true;
          c.close();
        },
      },
      { highWaterMark: 0 },
    );
    const req = new Request('http://x/', { method: 'POST', body, headers: { 'content-length': String(MB) }, duplex: 'half' } as RequestInit);
    const err = await readTextWithin(req, 16 * MB, budget, 1000).catch((e: unknown) => e);
    expect((err as ApiError).code).toBe('UNAVAILABLE');
    expect(pulled).toBe(false);
    expect(budget.inUse).toBe(MB / 2);
  });

  it('with a share per key, one key holds at most its share; what it gives back is its own again', () => {
    const budget = new ByteBudget(4, 2);
    expect(budget.take(2, 'a')).toBe(true);
    expect(budget.take(1, 'a')).toBe(false);
    expect(budget.take(2, 'b')).toBe(true);
    // The whole budget is spent: a third key is refused though its share is free.
    expect(budget.take(1, 'c')).toBe(false);
    budget.give(2, 'a');
    expect(budget.heldBy('a')).toBe(0);
    expect(budget.inUse).toBe(2);
    expect(budget.take(2, 'a')).toBe(true);
  });
});
