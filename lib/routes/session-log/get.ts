import type { Context } from 'hono';
import type { AppEnv } from '../../http/env.js';
import { ApiError } from '../../errors.js';
import { CSV_HEADER, csvRow, encodeEventCursor, type EventFilter, iterateEvents, listEvents } from '../../events/query.js';
import { eventCursorParam, parseQuery } from '../../http/validate.js';
import { EventListResponse, EventQuery, MAX_EXPORT, MAX_PAGE } from '../../schemas/event.js';

/**
 * GET /api/session-log (admin) — filter, page with an opaque cursor, or export every page for
 * the filter as CSV / NDJSON (streamed, up to 100 000 events).
 */
export async function getSessionLog(c: Context<AppEnv>): Promise<Response> {
  const q = parseQuery(c, EventQuery);
  const filter: EventFilter = {
    sessionToken: q.sessionToken,
    studentEmail: q.studentEmail,
    eventType: q.eventType,
    errorType: q.errorType,
    tokenPrefix: q.workshop,
    since: q.since ? new Date(q.since) : undefined,
    until: q.until ? new Date(q.until) : undefined,
    order: q.order,
  };
  if (filter.since && filter.until && filter.since >= filter.until) {
    throw new ApiError('BAD_REQUEST', 'since must be earlier than until', { errors: [{ path: 'since', message: 'must be earlier than until' }] });
  }
  const after = eventCursorParam(q.cursor, q.order);
  const sql = c.get('deps').sql;

  if (q.format === 'json') {
    const { events, next } = await listEvents(sql, filter, Math.min(q.limit ?? 100, MAX_PAGE), after);
    const body = { success: true as const, count: events.length, events, next_cursor: next ? encodeEventCursor(next) : null };
    EventListResponse.parse(body); // validated; the original is sent (zod's copy would drop a `__proto__` key)
    return c.json(body);
  }

  // Exports: read the first page before answering so an outage is a 503, not a truncated file.
  const max = Math.min(q.limit ?? MAX_EXPORT, MAX_EXPORT);
  const pages = iterateEvents(sql, filter, max);
  const first = await pages.next();
  const csv = q.format === 'csv';
  const encode = (events: readonly Parameters<typeof csvRow>[0][]) =>
    events.map((e) => (csv ? csvRow(e) : `${JSON.stringify(e)}\n`)).join('');
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const head = (csv ? CSV_HEADER : '') + (first.done ? '' : encode(first.value));
      if (head) controller.enqueue(encoder.encode(head));
      if (first.done) controller.close();
    },
    async pull(controller) {
      if (first.done) return;
      const page = await pages.next();
      if (page.done) controller.close();
      else controller.enqueue(encoder.encode(encode(page.value)));
    },
    async cancel() {
      await pages.return(undefined);
    },
  });
  const stamp = new Date().toISOString().replaceAll(':', '-').slice(0, 19);
  return c.body(stream, 200, {
    'content-type': csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
    'content-disposition': `attachment; filename="session-log-${stamp}.${csv ? 'csv' : 'ndjson'}"`,
    'cache-control': 'no-store',
  });
}
