import { StorageUnavailableError } from '../errors.js';
import type { Sql } from '../storage/sql.js';
import { type IngestOutcome, insertEvents, type NewEvent } from './ingest.js';

/** Events one shared statement carries at most (the size of the largest client batch). */
const MAX_GROUP = 500;
/**
 * Statements in flight at once: two, the second only once the queue holds as many events as the
 * smallest statement in flight (#drain). With one, N concurrent clients split into two teams that
 * take turns: while one team's statement runs, the other's requests queue, so each statement carries
 * N/2 events and the database idles between them (measured: exactly 3.99 events per statement at
 * 8 connections, machine CPU ~100% of 200%). A second statement for whatever is queued at once was
 * no better: returning requests then leave one by one and every statement carries one or two.
 * Measured in `npm run bench`, single events, median of 3 rounds against pgbench: 8 connections
 * 0.35× → 0.39×, 32 connections 0.47× → 0.51×; three in flight was no better at 8 (0.36×).
 * A constructor parameter, so the queue's tests can run it with other values.
 */
const MAX_IN_FLIGHT = 2;
/** Events waiting beyond this answer 503 at once: a stalled database must not hold memory without bound. */
const MAX_QUEUED = 10_000;

/** What became of one event: stored now, already stored (its eventId), or refused (IngestOutcome). */
export type Fate = 'inserted' | 'duplicate' | 'refused';

interface Waiter {
  event: NewEvent;
  resolve(fate: Fate): void;
  reject(err: unknown): void;
}

type Insert = (events: readonly NewEvent[]) => Promise<IngestOutcome>;

const fateOf = (outcome: IngestOutcome, uuid: string): Fate =>
  outcome.inserted.has(uuid) ? 'inserted' : outcome.refused.has(uuid) ? 'refused' : 'duplicate';

/**
 * Group commit for single-event ingest: concurrent requests of one process share one statement.
 * While a statement is in flight (MAX_IN_FLIGHT of them), new events queue; when it returns,
 * everything queued goes out as the next one. There is no timer, so an idle server sends each event
 * at once and adds no latency, and a busy one sends bigger statements rather than more of them.
 *
 * Each caller's promise settles only with its own row's fate, after the statement committed.
 * A statement that fails for a reason other than an unreachable database (a row Postgres refused
 * despite validation) is retried row by row, so only the bad row fails. Two callers with the same
 * event uuid never share a statement: the later one waits for the next and is told it is a duplicate.
 */
export class GroupCommit {
  #queue: Waiter[] = [];
  /** The groups whose statements are in flight. */
  #groups = new Set<readonly Waiter[]>();
  /** Statements sent, for tests and the bench's round-trip counts. */
  statements = 0;

  constructor(
    private readonly insert: Insert,
    private readonly maxGroup = MAX_GROUP,
    private readonly maxQueued = MAX_QUEUED,
    private readonly maxInFlight = MAX_IN_FLIGHT,
  ) {}

  /** Resolves with the event's fate once its statement has committed. */
  submit(event: NewEvent): Promise<Fate> {
    if (this.#queue.length >= this.maxQueued) {
      return Promise.reject(new StorageUnavailableError('postgres', 'ingest queue full'));
    }
    return new Promise<Fate>((resolve, reject) => {
      this.#queue.push({ event, resolve, reject });
      this.#drain();
    });
  }

  #drain(): void {
    if (this.#groups.size >= this.maxInFlight || this.#queue.length === 0) return;
    // Another statement beside those in flight only once the queue holds as many events as the
    // smallest of them: otherwise each returning request would leave alone and split the groups.
    if (this.#groups.size > 0 && this.#queue.length < this.#smallestInFlight()) return;
    const group: Waiter[] = [];
    const uuids = new Set<string>();
    const rest: Waiter[] = [];
    for (const w of this.#queue) {
      if (group.length < this.maxGroup && !uuids.has(w.event.eventUuid)) {
        group.push(w);
        uuids.add(w.event.eventUuid);
      } else rest.push(w);
    }
    this.#queue = rest;
    this.#groups.add(group);
    this.statements++;
    void this.#send(group).finally(() => {
      this.#groups.delete(group);
      this.#drain();
    });
  }

  #smallestInFlight(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const g of this.#groups) min = Math.min(min, g.length);
    return min;
  }

  async #send(group: readonly Waiter[]): Promise<void> {
    let outcome: IngestOutcome;
    try {
      outcome = await this.insert(group.map((w) => w.event));
    } catch (err) {
      // Unreachable: every row would fail alone too, and retrying them one by one would pile
      // hundreds of statements on a database that is already struggling.
      if (group.length === 1 || err instanceof StorageUnavailableError) {
        for (const w of group) w.reject(err);
        return;
      }
      await Promise.all(group.map((w) => this.#alone(w)));
      return;
    }
    for (const w of group) w.resolve(fateOf(outcome, w.event.eventUuid));
  }

  async #alone(w: Waiter): Promise<void> {
    this.statements++;
    try {
      w.resolve(fateOf(await this.insert([w.event]), w.event.eventUuid));
    } catch (err) {
      w.reject(err);
    }
  }
}

/** One queue per database handle, i.e. per app instance (see student-cache.ts for the same keying). */
const queues = new WeakMap<Sql, GroupCommit>();

/**
 * On Cloudflare Workers a statement started by one request's handler would carry other requests'
 * events, and that request may finish (its I/O cancelled) before the statement returns: the others
 * would hang. There each request sends its own statement, as before issue 16.
 */
const SHARED_IO_FORBIDDEN = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent === 'Cloudflare-Workers';

/** Store one event through its database's group commit. */
export async function ingestOne(sql: Sql, event: NewEvent): Promise<Fate> {
  if (SHARED_IO_FORBIDDEN) return fateOf(await insertEvents(sql, [event]), event.eventUuid);
  let q = queues.get(sql);
  if (!q) {
    q = new GroupCommit((events) => insertEvents(sql, events));
    queues.set(sql, q);
  }
  return q.submit(event);
}
