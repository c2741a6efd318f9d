/**
 * The narrow KV port: hot, rebuildable state only (active-session pointers with TTL, call→session
 * links, de-duplication keys; rate limits have their own port, lib/ratelimit). Postgres is the source of truth; losing
 * everything behind this port must never lose data.
 *
 * Two adapters: kv-upstash.ts (Upstash/Vercel KV over REST, production) and kv-memory.ts (one
 * process, local). tests/integration/kv-contract.test.ts runs the same cases against both.
 * Values are strings; callers JSON-encode what they need.
 */
export interface Kv {
  readonly driver: 'upstash' | 'memory';
  get(key: string): Promise<string | null>;
  /** Returns false when `nx` was asked and the key already existed. */
  set(key: string, value: string, opts?: { ttlMs?: number; nx?: boolean }): Promise<boolean>;
  del(...keys: string[]): Promise<number>;
  zrem(key: string, ...members: string[]): Promise<number>;
  /** Members with min <= score <= max, ascending by score, at most `limit`. */
  zrangeByScore(key: string, min: number, max: number, limit?: number): Promise<Array<{ member: string; score: number }>>;
  ping(): Promise<void>;

  /**
   * Session boundary detection, atomically (a Lua script on Redis; synchronous code in memory).
   * The pointer at `key` names the student's current sitting and the span of its activity.
   * An activity at time `at`:
   *  - within `timeoutMs` of the pointed sitting → that sitting continues (span widened);
   *  - after the sitting's last activity + timeout, or with no pointer → `candidate` becomes the
   *    new sitting (`created: true`);
   *  - before the sitting's start − timeout (arrived out of order) → null: ask Postgres.
   * The pointer expires `timeoutMs` after the sitting's last activity (a sliding TTL), and the
   * sitting is scored in the `setKey` sorted set by its last activity.
   */
  claimActive(a: { key: string; setKey: string; candidate: string; at: number; timeoutMs: number; now: number }): Promise<{ id: string; created: boolean } | null>;
  /** Point `key` at a known sitting (after Postgres corrected the choice, or an explicit session). */
  setActive(a: { key: string; setKey: string; id: string; start: number; last: number; timeoutMs: number; now: number }): Promise<void>;
  /** Forget sitting `id`: delete the pointer only if it still names `id`, and unscore it. */
  releaseActive(a: { key: string | null; setKey: string; id: string }): Promise<void>;
}

/** Pointer value: `id|start|last` (ms). Session ids never contain `|`. */
export function encodePointer(id: string, start: number, last: number): string {
  return `${id}|${Math.round(start)}|${Math.round(last)}`;
}

export function decodePointer(v: string): { id: string; start: number; last: number } | null {
  const m = /^(.+)\|(\d+)\|(\d+)$/.exec(v);
  return m ? { id: m[1] ?? '', start: Number(m[2]), last: Number(m[3]) } : null;
}

/**
 * The claim rule shared by both adapters (the Lua script in kv-upstash.ts mirrors it line by line).
 * Returns the pointer to store (or null to leave it) and the answer.
 */
export function decideClaim(
  current: { id: string; start: number; last: number } | null,
  a: { candidate: string; at: number; timeoutMs: number },
): { answer: { id: string; created: boolean } | null; pointer: { id: string; start: number; last: number } | null } {
  if (current && a.at <= current.last + a.timeoutMs) {
    if (a.at < current.start - a.timeoutMs) return { answer: null, pointer: null };
    const pointer = { id: current.id, start: Math.min(current.start, a.at), last: Math.max(current.last, a.at) };
    return { answer: { id: current.id, created: false }, pointer };
  }
  return { answer: { id: a.candidate, created: true }, pointer: { id: a.candidate, start: a.at, last: a.at } };
}

/**
 * Namespace every key (KV_PREFIX) so several deployments, or parallel test files, can share one
 * Redis without seeing each other's state.
 */
export function withPrefix<K extends Kv>(kv: K, prefix: string): Kv {
  if (!prefix) return kv;
  const k = (key: string) => prefix + key;
  return {
    driver: kv.driver,
    get: (key) => kv.get(k(key)),
    set: (key, value, opts) => kv.set(k(key), value, opts),
    del: (...keys) => kv.del(...keys.map(k)),
    zrem: (key, ...members) => kv.zrem(k(key), ...members),
    zrangeByScore: (key, min, max, limit) => kv.zrangeByScore(k(key), min, max, limit),
    ping: () => kv.ping(),
    claimActive: (a) => kv.claimActive({ ...a, key: k(a.key), setKey: k(a.setKey) }),
    setActive: (a) => kv.setActive({ ...a, key: k(a.key), setKey: k(a.setKey) }),
    releaseActive: (a) => kv.releaseActive({ ...a, key: a.key === null ? null : k(a.key), setKey: k(a.setKey) }),
  };
}
