/**
 * The narrow KV port: hot, rebuildable state only (active-session pointers with TTL, call→session
 * links, de-duplication keys, rate-limit counters). Postgres is the source of truth; losing
 * everything behind this port must never lose data.
 *
 * Two adapters: kv-upstash.ts (Upstash/Vercel KV over REST, production) and kv-memory.ts (one
 * process, local). tests/storage/kv-contract.test.ts runs the same cases against both.
 * Values are strings; callers JSON-encode what they need.
 */
export interface Kv {
  readonly driver: 'upstash' | 'memory';
  get(key: string): Promise<string | null>;
  /** Returns false when `nx` was asked and the key already existed. */
  set(key: string, value: string, opts?: { ttlMs?: number; nx?: boolean }): Promise<boolean>;
  del(...keys: string[]): Promise<number>;
  /** Increment a counter; the TTL is set when the counter is created (fixed window). */
  incr(key: string, ttlMs?: number): Promise<number>;
  /** Remaining time to live in ms; -1 without expiry, -2 when the key does not exist. */
  pttl(key: string): Promise<number>;
  zadd(key: string, score: number, member: string): Promise<void>;
  zrem(key: string, ...members: string[]): Promise<number>;
  /** Members with min <= score <= max, ascending by score, at most `limit`. */
  zrangeByScore(key: string, min: number, max: number, limit?: number): Promise<Array<{ member: string; score: number }>>;
  ping(): Promise<void>;
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
    incr: (key, ttlMs) => kv.incr(k(key), ttlMs),
    pttl: (key) => kv.pttl(k(key)),
    zadd: (key, score, member) => kv.zadd(k(key), score, member),
    zrem: (key, ...members) => kv.zrem(k(key), ...members),
    zrangeByScore: (key, min, max, limit) => kv.zrangeByScore(k(key), min, max, limit),
    ping: () => kv.ping(),
  };
}
