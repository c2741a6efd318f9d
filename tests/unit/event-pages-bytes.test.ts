/**
 * Event pages are bounded by bytes as well as rows (lib/events/query.ts), on the embedded
 * database: a page stops before the event that would start past the budget, always holds at least
 * one event, and the cursor (or the tail's last_seq) continues exactly where it stopped.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { insertEvents } from '../../lib/events/ingest.js';
import { iterateEvents, listEvents, tailEvents } from '../../lib/events/query.js';
import type { Sql } from '../../lib/storage/sql.js';
import { memoryPglite, uniqueToken } from '../helpers/deps.js';
import { newEvent } from '../helpers/events.js';

let sql: Sql;
const token = uniqueToken('bytes');
// Sizes of each event's `pad` string: pages of 2,500-byte budgets cut between them.
const PADS = [1000, 1000, 1000, 3000, 10, 10, 10, 2000];

beforeAll(async () => {
  sql = await memoryPglite();
  const base = Date.parse('2026-01-01T00:00:00Z');
  const events = PADS.map((n, i) => newEvent({ sessionToken: token, eventData: JSON.stringify({ i, pad: 'x'.repeat(n) }), createdAt: new Date(base + i * 1000) }));
  await insertEvents(sql, events);
});

afterAll(async () => {
  await sql?.close();
});

const ids = (events: Array<{ event_data: Record<string, unknown> }>) => events.map((e) => e.event_data.i);

it('stops a page at the byte budget and continues from its cursor, in both orders', async () => {
  const first = await listEvents(sql, { sessionToken: token, order: 'asc' }, 100, undefined, 2500);
  // 0 and 1 (~1 KB each) start inside 2,500 bytes; 2 starts at ~2 KB, still inside; 3 starts past.
  expect(ids(first.events)).toEqual([0, 1, 2]);
  expect(first.next).not.toBeNull();
  const second = await listEvents(sql, { sessionToken: token, order: 'asc' }, 100, first.next ?? undefined, 2500);
  // An event larger than the budget still makes a page of its own, then the small ones follow it.
  expect(ids(second.events)).toEqual([3]);
  const third = await listEvents(sql, { sessionToken: token, order: 'asc' }, 100, second.next ?? undefined, 2500);
  expect(ids(third.events)).toEqual([4, 5, 6, 7]);
  expect(third.next).toBeNull();

  const desc = await listEvents(sql, { sessionToken: token, order: 'desc' }, 100, undefined, 2500);
  expect(ids(desc.events)).toEqual([7, 6, 5, 4, 3]);
  // The row limit still applies within the budget.
  const limited = await listEvents(sql, { sessionToken: token, order: 'asc' }, 2, undefined, 1_000_000);
  expect(ids(limited.events)).toEqual([0, 1]);
  expect(limited.next).not.toBeNull();
});

it('exports every event once across byte-bounded pages, and the tail resumes after its last event', async () => {
  const all: unknown[] = [];
  for await (const page of iterateEvents(sql, { sessionToken: token, order: 'asc' }, 1000)) all.push(...ids(page));
  expect(all).toEqual(PADS.map((_, i) => i));
  const tail = await tailEvents(sql, token, '0', 100, 2500);
  expect(ids(tail.events)).toEqual([0, 1, 2]);
  const rest = await tailEvents(sql, token, tail.lastSeq, 100, 2500);
  expect(ids(rest.events)).toEqual([3]);
});
