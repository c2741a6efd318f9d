import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageUnavailableError } from '../../lib/errors.js';
import { GroupCommit } from '../../lib/events/group-commit.js';
import type { NewEvent } from '../../lib/events/new-event.js';
import type { Sql } from '../../lib/storage/sql.js';
import { memoryPglite } from '../helpers/deps.js';
import { groupCommitCases } from '../helpers/group-commit-suite.js';

let sql: Sql;
beforeAll(async () => {
  sql = await memoryPglite();
});
afterAll(() => sql.close());

describe('group commit on PGlite', () => groupCommitCases(() => sql));

const event = (eventUuid = crypto.randomUUID()): NewEvent => ({
  eventUuid, sessionToken: 't', email: null, name: null, studentId: null, eventType: 'action', eventData: '{}', clientTs: null, createdAt: new Date(),
});

/** A queue whose statements record their sizes and return only when released, in order. */
function gated(maxInFlight: number) {
  const calls: number[] = [];
  const releases: Array<() => void> = [];
  const q = new GroupCommit(async (events) => {
    calls.push(events.length);
    await new Promise<void>((r) => releases.push(r));
    return { inserted: new Set(events.map((e) => e.eventUuid)), refused: new Set<string>() };
  }, 500, 10_000, maxInFlight);
  return { calls, releases, q };
}

describe('GroupCommit queue', () => {
  it('keeps at most maxInFlight statements going; the rest wait as one group', async () => {
    const { calls, releases, q } = gated(2);
    const all = Array.from({ length: 7 }, () => q.submit(event()));
    expect(calls).toEqual([1, 1]);
    releases[0]?.();
    await new Promise((r) => setTimeout(r, 0));
    expect(calls).toEqual([1, 1, 5]);
    for (const r of releases.slice(1)) r();
    expect(await Promise.all(all)).toEqual(Array(7).fill('inserted'));
  });

  it('starts a second statement beside one in flight only once as many events wait as the smaller carries', async () => {
    const { calls, releases, q } = gated(2);
    const tick = () => new Promise((r) => setTimeout(r, 0));
    const all = [q.submit(event()), q.submit(event())];
    expect(calls).toEqual([1, 1]);
    all.push(...Array.from({ length: 4 }, () => q.submit(event())));
    releases[0]?.();
    await tick();
    expect(calls).toEqual([1, 1, 4]); // in flight: 1 and 4
    releases[1]?.();
    await tick();
    // In flight: the group of 4. Three returning requests wait for it rather than leaving alone...
    all.push(q.submit(event()), q.submit(event()), q.submit(event()));
    expect(calls).toEqual([1, 1, 4]);
    // ...and the fourth makes a group as big as it: both run side by side.
    all.push(q.submit(event()));
    expect(calls).toEqual([1, 1, 4, 4]);
    releases[2]?.();
    releases[3]?.();
    expect(await Promise.all(all)).toEqual(Array(10).fill('inserted'));
    expect(calls).toEqual([1, 1, 4, 4]);
  });

  it('sends the first event at once (no timer), queues the rest until that statement returns', async () => {
    const calls: number[] = [];
    let release = () => {};
    const q = new GroupCommit(async (events) => {
      calls.push(events.length);
      if (calls.length === 1) await new Promise<void>((r) => { release = r; });
      return { inserted: new Set(events.map((e) => e.eventUuid)), refused: new Set<string>() };
    }, 500, 10_000, 1);
    const first = q.submit(event());
    expect(calls).toEqual([1]);
    const rest = Array.from({ length: 5 }, () => q.submit(event()));
    expect(calls).toEqual([1]);
    release();
    expect(await Promise.all([first, ...rest])).toEqual(Array(6).fill('inserted'));
    expect(calls).toEqual([1, 5]);
  });

  it('answers 503 beyond its bound instead of queueing without limit, and fails a group together when the database is unreachable', async () => {
    let release = () => {};
    const q = new GroupCommit(async () => {
      await new Promise<void>((r) => { release = r; });
      throw new StorageUnavailableError('postgres', 'down');
    }, 500, 2, 1);
    const inFlight = q.submit(event());
    const queued = [q.submit(event()), q.submit(event())];
    await expect(q.submit(event())).rejects.toBeInstanceOf(StorageUnavailableError);
    release();
    await expect(inFlight).rejects.toBeInstanceOf(StorageUnavailableError);
    await new Promise((r) => setTimeout(r, 0));
    release();
    for (const p of queued) await expect(p).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(q.statements).toBe(2);
  });
});
