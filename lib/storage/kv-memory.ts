import { decideClaim, decodePointer, encodePointer, type Kv } from './kv.js';

interface Entry {
  value: string;
  expiresAt: number | null;
}

/**
 * In-process KV for local runs and unit tests. Every method completes synchronously before its
 * promise resolves, so each operation is atomic the way a single Redis command (or Lua script) is.
 * `now` is injectable so tests can move time without sleeping.
 */
export function createMemoryKv(now: () => number = Date.now): Kv & { clear(): void; dump(): string[] } {
  const strings = new Map<string, Entry>();
  const zsets = new Map<string, Map<string, number>>();

  const live = (key: string): Entry | undefined => {
    const e = strings.get(key);
    if (e && e.expiresAt !== null && e.expiresAt <= now()) {
      strings.delete(key);
      return undefined;
    }
    return e;
  };

  // Write a sitting pointer with its sliding TTL; a sitting already past its timeout keeps none.
  const store = (key: string, setKey: string, p: { id: string; start: number; last: number }, timeoutMs: number, at: number) => {
    const ttl = p.last + timeoutMs - at;
    if (ttl <= 0) return;
    strings.set(key, { value: encodePointer(p.id, p.start, p.last), expiresAt: now() + ttl });
    const z = zsets.get(setKey) ?? new Map<string, number>();
    zsets.set(setKey, z);
    z.set(p.id, p.last);
  };

  return {
    driver: 'memory',
    async get(key) {
      return live(key)?.value ?? null;
    },
    async set(key, value, opts = {}) {
      if (opts.nx && live(key)) return false;
      strings.set(key, { value, expiresAt: opts.ttlMs ? now() + opts.ttlMs : null });
      return true;
    },
    async del(...keys) {
      let n = 0;
      for (const k of keys) {
        if (live(k)) n++;
        if (zsets.has(k)) n++;
        strings.delete(k);
        zsets.delete(k);
      }
      return n;
    },
    async zrem(key, ...members) {
      const z = zsets.get(key);
      if (!z) return 0;
      let n = 0;
      for (const m of members) if (z.delete(m)) n++;
      if (z.size === 0) zsets.delete(key);
      return n;
    },
    async zrangeByScore(key, min, max, limit = Number.POSITIVE_INFINITY) {
      const z = zsets.get(key);
      if (!z) return [];
      return [...z]
        .filter(([, s]) => s >= min && s <= max)
        .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, limit)
        .map(([member, score]) => ({ member, score }));
    },
    async ping() {},
    async claimActive(a) {
      const raw = live(a.key)?.value;
      const { answer, pointer } = decideClaim(raw ? decodePointer(raw) : null, a);
      if (pointer) store(a.key, a.setKey, pointer, a.timeoutMs, a.now);
      return answer;
    },
    async setActive(a) {
      store(a.key, a.setKey, a, a.timeoutMs, a.now);
    },
    async releaseActive(a) {
      if (a.key) {
        const raw = live(a.key)?.value;
        if (raw && decodePointer(raw)?.id === a.id) strings.delete(a.key);
      }
      zsets.get(a.setKey)?.delete(a.id);
    },
    /** Every live key, value and sorted-set member as text: what erasure tests search through. */
    dump() {
      const out: string[] = [];
      for (const k of [...strings.keys()]) {
        const e = live(k);
        if (e) out.push(k, e.value);
      }
      for (const [k, z] of zsets) out.push(k, ...z.keys());
      return out;
    },
    clear() {
      strings.clear();
      zsets.clear();
    },
  };
}
