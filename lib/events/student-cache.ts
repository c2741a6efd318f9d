import type { Sql } from '../storage/sql.js';
import type { NewEvent } from './new-event.js';

/** Enough for every student of a few large workshops; an entry is two short strings. */
const MAX_ENTRIES = 10_000;

/**
 * Students already stored, by lowercased email → student id, so their events skip the student
 * upsert (ingest-known.ts). A hint only: the statement re-checks every id it is given, so a stale
 * entry (an erasure or an admin's edit on another instance) costs one more statement, never a
 * misfiled event. Bounded: when full, the oldest entry goes (Map keeps insertion order).
 */
export class StudentCache {
  readonly #ids = new Map<string, string>();
  constructor(readonly max = MAX_ENTRIES) {}

  get(email: string): string | undefined {
    return this.#ids.get(email);
  }

  set(email: string, id: string): void {
    if (this.#ids.get(email) === id) return;
    this.#ids.delete(email);
    this.#ids.set(email, id);
    if (this.#ids.size > this.max) {
      const oldest = this.#ids.keys().next();
      if (!oldest.done) this.#ids.delete(oldest.value);
    }
  }

  delete(email: string): void {
    this.#ids.delete(email);
  }

  get size(): number {
    return this.#ids.size;
  }
}

/**
 * One cache per database handle, i.e. per app instance (each door wires one Sql per process, or
 * per isolate on the edge). Keyed weakly so a closed test database takes its cache with it.
 */
const caches = new WeakMap<Sql, StudentCache>();
export function studentCacheFor(sql: Sql): StudentCache {
  let cache = caches.get(sql);
  if (!cache) {
    cache = new StudentCache();
    caches.set(sql, cache);
  }
  return cache;
}

/**
 * Each event's student id as far as the cache can tell without the database: the cached id of its
 * email, or null for an anonymous event (no email, no student id). Null overall when any event is
 * neither (a student the cache does not know yet, or a tutoring student id).
 */
export function cachedOrAnonymous(cache: StudentCache, events: readonly NewEvent[]): (string | null)[] | null {
  const sids: (string | null)[] = [];
  for (const e of events) {
    if (e.studentId !== null) return null;
    if (e.email === null) {
      sids.push(null);
      continue;
    }
    const sid = cache.get(e.email);
    if (sid === undefined) return null;
    sids.push(sid);
  }
  return sids;
}

/**
 * The cached student id of every event, or null unless ALL are known: one statement shape per
 * call keeps a batch's events together (an anonymous event is attributed to the student the same
 * batch names, which only the full statement does).
 */
export function knownStudents(cache: StudentCache, events: readonly NewEvent[]): string[] | null {
  const sids = cachedOrAnonymous(cache, events);
  return sids && !sids.includes(null) ? (sids as string[]) : null;
}

/** After the full statement: the student each inserted event with an email was filed under. */
export function rememberStudents(cache: StudentCache, events: readonly NewEvent[], rows: ReadonlyArray<{ event_uuid: string; student_id: string | null }>): void {
  if (rows.length === 0) return;
  const byUuid = new Map(rows.map((r) => [r.event_uuid, r.student_id]));
  for (const e of events) {
    const sid = e.email !== null && e.studentId === null ? byUuid.get(e.eventUuid) : undefined;
    if (sid) cache.set(e.email as string, sid);
  }
}
