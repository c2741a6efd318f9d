import { Redis } from '@upstash/redis/cloudflare';
import { StorageUnavailableError } from '../errors.js';
import { type Breaker, BreakerOpenError, createBreaker } from './breaker.js';
import { encodePointer, type Kv } from './kv.js';

export interface UpstashOptions {
  url: string;
  token: string;
  /**
   * Deadline of one KV request. A Redis (or REST endpoint) that accepts connections but never
   * answers must cost no more than this, after which Postgres decides alone, exactly as when KV is
   * down. @default 1000
   */
  timeoutMs?: number;
  /** Stops waiting on a KV that keeps failing; probes it again later. @default 3 failures, 1 s open */
  breaker?: Breaker;
}

/** Default deadline of one KV request (KV_TIMEOUT_MS). */
export const DEFAULT_KV_TIMEOUT_MS = 1000;

/**
 * Upstash Redis over its REST API (what Vercel's KV integration provisions). We import the
 * fetch-only build so the same adapter runs on Node, Vercel and edge workers. The client holds no
 * connection, so one per process is fine.
 */
export function createUpstashKv(opts: UpstashOptions): Kv & { readonly client: Redis; readonly breaker: Breaker; readonly timeoutMs: number } {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_KV_TIMEOUT_MS;
  const breaker = opts.breaker ?? createBreaker();
  const client = new Redis({
    url: opts.url,
    token: opts.token,
    // Values are plain strings we encode ourselves; auto-JSON would turn "123" into 123.
    automaticDeserialization: false,
    // KV is optional hot state: fail fast and let callers degrade to Postgres instead of waiting
    // through the default five retries (~4 s) when Redis is down.
    retry: { retries: 1, backoff: () => 50 },
    // A fresh deadline per request (a function, so the client does not reuse one spent signal).
    // An aborted request is not retried by the client: the deadline bounds the whole call.
    signal: () => AbortSignal.timeout(timeoutMs),
    enableTelemetry: false,
  });

  const guard = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await breaker.run(run, isUnavailable);
    } catch (err) {
      if (err instanceof BreakerOpenError) throw new StorageUnavailableError('kv', 'circuit open', err);
      if (!isUnavailable(err)) throw err;
      throw new StorageUnavailableError('kv', 'request failed', err);
    }
  };

  return {
    driver: 'upstash',
    client,
    breaker,
    timeoutMs,
    get: (key) => guard(async () => ((await client.get<string>(key)) ?? null)),
    set: (key, value, o = {}) =>
      guard(async () => {
        const base = o.ttlMs ? { px: o.ttlMs } : {};
        const res = o.nx ? await client.set(key, value, { ...base, nx: true }) : await client.set(key, value, base);
        return res === 'OK';
      }),
    del: (...keys) => guard(() => (keys.length ? client.del(...keys) : Promise.resolve(0))),
    zrem: (key, ...members) => guard(() => (members.length ? client.zrem(key, ...members) : Promise.resolve(0))),
    zrangeByScore: (key, min, max, limit) =>
      guard(async () => {
        const flat = (
          limit === undefined
            ? await client.zrange(key, min, max, { byScore: true, withScores: true })
            : await client.zrange(key, min, max, { byScore: true, withScores: true, offset: 0, count: limit })
        ) as Array<string | number>;
        const out: Array<{ member: string; score: number }> = [];
        for (let i = 0; i + 1 < flat.length; i += 2) out.push({ member: String(flat[i]), score: Number(flat[i + 1]) });
        return out;
      }),
    ping: () =>
      guard(async () => {
        await client.ping();
      }),
    claimActive: (a) =>
      guard(async () => {
        const res = await client.eval<string[], [string, number] | null>(
          CLAIM_SCRIPT,
          [a.key, a.setKey],
          [a.candidate, String(Math.round(a.at)), String(Math.round(a.timeoutMs)), String(Math.round(a.now))],
        );
        return res ? { id: String(res[0]), created: Number(res[1]) === 1 } : null;
      }),
    setActive: (a) =>
      guard(async () => {
        const ttl = Math.round(a.last + a.timeoutMs - a.now);
        if (ttl <= 0) return;
        const p = client.multi();
        p.set(a.key, encodePointer(a.id, a.start, a.last), { px: ttl });
        p.zadd(a.setKey, { score: Math.round(a.last), member: a.id });
        await p.exec();
      }),
    releaseActive: (a) =>
      guard(async () => {
        await client.eval<string[], number>(RELEASE_SCRIPT, a.key ? [a.setKey, a.key] : [a.setKey], [a.id]);
      }),
  };
}

/**
 * A Redis-level error (WRONGTYPE, NOSCRIPT, ERR ...) arrives as an UpstashError carrying the
 * server's message: Redis answered, so KV works. A failed or timed-out fetch is a plain
 * TypeError/DOMException, and an unreachable Redis behind the REST endpoint is an UpstashError
 * saying so: both mean "KV unavailable". (The message also quotes the command and its arguments,
 * so match only known prefixes.)
 */
function isUnavailable(err: unknown): boolean {
  const message = err instanceof Error ? err.message : '';
  const upstash = err instanceof Error && err.name === 'UpstashError';
  return !upstash || /^(Service Unavailable|Unauthorized|Server error)/i.test(message);
}

/*
 * decideClaim() from kv.ts, in Lua so the read-decide-write is one atomic step on Redis: 50
 * simultaneous first interactions see one pointer and join one session. Pointer `id|start|last`.
 * Numbers are formatted with %d: Lua's tostring would print 1.7e+12.
 */
const CLAIM_SCRIPT = `
local candidate, at, T, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local cur = redis.call('GET', KEYS[1])
local id, start, last, created = candidate, at, at, 1
if cur then
  local pid, ps, pl = string.match(cur, '^(.+)|(%d+)|(%d+)$')
  ps, pl = tonumber(ps), tonumber(pl)
  if pid and at <= pl + T then
    if at < ps - T then return false end
    id, start, last, created = pid, math.min(ps, at), math.max(pl, at), 0
  end
end
local ttl = last + T - now
if ttl > 0 then
  redis.call('SET', KEYS[1], string.format('%s|%d|%d', id, start, last), 'PX', string.format('%d', ttl))
  redis.call('ZADD', KEYS[2], string.format('%d', last), id)
end
return {id, created}
`;

const RELEASE_SCRIPT = `
if KEYS[2] then
  local cur = redis.call('GET', KEYS[2])
  if cur and string.sub(cur, 1, #ARGV[1] + 1) == ARGV[1] .. '|' then redis.call('DEL', KEYS[2]) end
end
return redis.call('ZREM', KEYS[1], ARGV[1])
`;
