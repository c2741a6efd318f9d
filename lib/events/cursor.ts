import { decodeCursor, encodeCursor } from '../util/cursor.js';

// Apart from lib/events/query.ts so that reading a cursor (lib/http/validate.ts, which every family
// uses) does not build the event schemas (ADR 0020).

/** Position after the last row of a page: the (created_at, id) keyset. */
export interface Cursor {
  t: string;
  id: string;
  order: 'asc' | 'desc';
}

export const encodeEventCursor = (c: Cursor): string => encodeCursor([c.t, c.id, c.order]);

/** A cursor issued for `order`, or InvalidCursorError (lib/util/cursor.ts). */
export function decodeEventCursor(s: string, order: 'asc' | 'desc'): Cursor {
  return decodeCursor(
    s,
    ([t, id, o]) => (typeof t === 'string' && !Number.isNaN(Date.parse(t)) && typeof id === 'string' && /^\d{1,19}$/.test(id) && o === order ? { t, id, order } : undefined),
    'cursor is not one this API issued for this order',
  );
}
