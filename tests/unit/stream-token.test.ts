import { describe, expect, it } from 'vitest';
import { signStreamToken, verifyStreamToken } from '../../lib/http/stream-token.js';

const ADMIN = 'admin-token-for-stream-token-tests-0123456789';
const now = new Date('2026-11-30T12:00:00Z');

describe('stream tokens', () => {
  it('accepts the token as issued and refuses every other spelling of its MAC, the spare bits of the last character included', async () => {
    const { token } = await signStreamToken(ADMIN, 'sess_1', now);
    expect(await verifyStreamToken(ADMIN, token, 'sess_1', now)).toEqual({ ok: true });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = token.at(-1) ?? '';
    // A 32-byte MAC is 43 characters: the last one carries 4 bits, so 3 other characters decode to the same bytes.
    for (const ch of alphabet.replace(last, '')) {
      const other = `${token.slice(0, -1)}${ch}`;
      expect((await verifyStreamToken(ADMIN, other, 'sess_1', now)).ok, other).toBe(false);
    }
  });
});
