/** The one cursor codec (lib/util/cursor.ts) and the two keysets built on it. */
import { describe, expect, it } from 'vitest';
import { decodeEventCursor, encodeEventCursor } from '../../lib/events/query.js';
import { decodeSessionCursor, encodeSessionCursor } from '../../lib/sessions/read.js';
import { decodeCursor, encodeCursor, InvalidCursorError } from '../../lib/util/cursor.js';

const any = (fields: unknown[]) => fields;

describe('cursor codec', () => {
  it('round-trips fields as URL-safe text without padding', () => {
    // '?>?' JSON-encodes to bytes whose base64 holds '/' and '+'; the cursor must not.
    const fields = ['?>?~~~', '12345', 'desc'];
    const s = encodeCursor(fields);
    expect(s).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(s, any)).toEqual(fields);
  });

  it('reads session cursors issued before the codec was shared (plain base64)', () => {
    const old = btoa(JSON.stringify(['2026-01-02T03:04:05.000Z', 'sess?>?~'])).replaceAll('=', '');
    expect(old).toMatch(/[+/]/);
    expect(decodeSessionCursor(old)).toEqual({ t: '2026-01-02T03:04:05.000Z', id: 'sess?>?~' });
  });

  it('refuses text that is not base64 JSON of an array, or fields of the wrong shape', () => {
    for (const bad of ['', '%%%', btoa('not json'), btoa('{"t":1}')]) expect(() => decodeCursor(bad, any)).toThrow(InvalidCursorError);
    expect(() => decodeSessionCursor(encodeCursor(['yesterday', 5]))).toThrow('cursor is not one this API issued');
    const asc = encodeEventCursor({ t: '2026-01-02T03:04:05.000Z', id: '42', order: 'asc' });
    expect(decodeEventCursor(asc, 'asc')).toEqual({ t: '2026-01-02T03:04:05.000Z', id: '42', order: 'asc' });
    expect(() => decodeEventCursor(asc, 'desc')).toThrow('cursor is not one this API issued for this order');
    expect(encodeSessionCursor({ t: '2026-01-02T03:04:05.000Z', id: 'a' })).not.toContain('=');
  });
});
