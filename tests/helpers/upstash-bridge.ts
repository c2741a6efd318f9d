/**
 * A local implementation of the Upstash Redis REST API on top of a real Redis (via ioredis), so the
 * real `Redis` client from @upstash/redis (Node or /cloudflare build) can be tested end to end.
 *
 * Wire format, as sent by @upstash/redis 1.39 (chunk-*.mjs, class HttpClient):
 *   - every call is `POST`, JSON body, `Authorization: Bearer <token>`:
 *       `POST /`            body ["set","k","v","ex",10]       -> {result} | 4xx {error}
 *       `POST /pipeline`    body [["incr","a"],["get","a"]]    -> [{result} | {error}, ...] (not atomic)
 *       `POST /multi-exec`  same body, run in MULTI/EXEC       -> [{result} | {error}, ...]
 *     The client auto-pipelines by default (enableAutoPipelining), so most single calls actually
 *     arrive at /pipeline; only scan/keys/hgetall/smembers/lrange/... go to `/`.
 *   - `Upstash-Encoding: base64` (the default responseEncoding) asks for every string in `result`
 *     to be base64 (nested arrays too); numbers and null stay JSON. The client decodes strings and
 *     arrays of strings/arrays; a bare top-level "OK" is also accepted unencoded, but "OK" inside
 *     an array is not, so we simply encode every string.
 *   - `upstash-sync-token` (read-your-writes) is sent back on every response; telemetry headers
 *     (Upstash-Telemetry-*) are ignored.
 *   - a non-2xx response must carry JSON `{error}`: the client throws
 *     UpstashError(`${error}, command was: ${body}`); wrong/missing token is 401 {error:"Unauthorized"}.
 * Arguments arrive as JSON strings, numbers or booleans (objects are JSON-stringified by the client).
 *
 * Pointing a client at it: `new Redis({ url: bridge.url, token: bridge.token })` — http:// is
 * accepted by the client's URL check.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis as IORedis } from 'ioredis';

export interface UpstashBridgeOptions {
  redisUrl: string;
  /** Bearer token clients must send; a random one is generated when omitted. */
  token?: string;
}

export interface UpstashBridge {
  /** Base URL for `new Redis({ url })`, e.g. http://127.0.0.1:PORT */
  url: string;
  token: string;
  close(): Promise<void>;
}

type Json = string | number | null | Json[];
type Entry = { result: Json } | { error: string };

// Everything shares one Redis connection, so commands that change connection state (db, client
// mode, transactions) would leak into other requests; real Upstash does not offer them either.
const REJECTED = new Set(['select', 'subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe',
  'monitor', 'multi', 'exec', 'discard', 'watch', 'unwatch', 'quit', 'reset', 'hello', 'auth', 'client']);

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export async function startUpstashBridge(opts: UpstashBridgeOptions): Promise<UpstashBridge> {
  const token = opts.token ?? randomBytes(16).toString('hex');
  // No offline queue and few retries: if Redis is down, requests fail fast (503) instead of hanging.
  const redis = new IORedis(opts.redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  redis.on('error', () => {}); // reconnect errors are reported per request; don't crash the process
  // Fail start-up loudly if Redis is not there, and stop ioredis' background reconnect loop.
  await redis.connect().catch((err: unknown) => {
    redis.disconnect();
    throw new Error(`upstash bridge: cannot connect to Redis at ${opts.redisUrl}`, { cause: err });
  });
  let syncToken = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://x');
    // Upstash also accepts ?_token=..., handy for curl.
    const given = req.headers.authorization?.replace(/^Bearer\s+/i, '') ?? url.searchParams.get('_token');
    if (given !== token) throw new HttpError(401, 'Unauthorized');
    if (req.method !== 'POST') throw new HttpError(405, 'only POST is supported by this bridge');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new HttpError(400, 'ERR failed to parse request body as JSON');
    }
    const b64 = String(req.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64';
    const send = (payload: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json', 'upstash-sync-token': String(++syncToken) });
      res.end(JSON.stringify(payload));
    };

    switch (url.pathname) {
      case '/': {
        const [name, args] = parseCommand(body);
        // Redis errors on a single command are an HTTP 400 with {error}, as on Upstash.
        const reply = await redis.callBuffer(name, ...args).catch((e: unknown) => {
          throw isReplyError(e) ? new HttpError(400, e.message) : e;
        });
        send({ result: encode(reply, b64) });
        return;
      }
      case '/pipeline': {
        const cmds = parseBatch(body);
        // Issued back to back on one connection, so Redis runs them in order (not atomically).
        const settled = await Promise.allSettled(cmds.map(([name, args]) => redis.callBuffer(name, ...args)));
        // Redis errors stay per command; a connection failure fails the whole request (503).
        const fatal = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected' && !isReplyError(s.reason));
        if (fatal) throw fatal.reason;
        send(settled.map((s): Entry => (s.status === 'fulfilled' ? { result: encode(s.value, b64) } : { error: (s.reason as Error).message })));
        return;
      }
      case '/multi-exec': {
        const multi = redis.multi();
        for (const [name, args] of parseBatch(body)) multi.callBuffer(name, ...args);
        // A queue-time error aborts the whole transaction (EXECABORT): reported as a 400 {error}.
        const replies = await multi.exec().catch((e: unknown) => {
          throw isReplyError(e) ? new HttpError(400, e.message) : e;
        });
        if (!replies) throw new HttpError(400, 'ERR transaction aborted');
        send(replies.map(([err, value]): Entry => (err ? { error: err.message } : { result: encode(value, b64) })));
        return;
      }
      default:
        throw new HttpError(404, `ERR unsupported path ${url.pathname} (bridge serves /, /pipeline, /multi-exec)`);
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // Redis unreachable (or a bridge bug): 503 {error}. The client drops the status and keeps only
      // this text, so say plainly that this is an outage and not a Redis error reply.
      const message = err instanceof Error ? err.message : String(err);
      const http = err instanceof HttpError;
      if (!res.headersSent) res.writeHead(http ? err.status : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: http ? message : `Service Unavailable: Redis unreachable from REST bridge (${message})` }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    async close() {
      server.closeAllConnections(); // the client uses keep-alive; don't wait for idle sockets
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

type Command = [name: string, args: string[]];

/*
 * Upstash's Redis accepts the script flag `allow-key-locking` (@upstash/ratelimit's scripts declare
 * it); Redis 7.0 refuses unknown flags. The bridge drops it, as a compatibility shim, and maps the
 * SHA the client computed from its original script to the SHA of what Redis actually cached.
 */
const shaOf = (s: string) => createHash('sha1').update(s).digest('hex');
const scriptShas = new Map<string, string>();
function compatScript(script: string): string {
  return script.replace(/^#!lua flags=([^\n]*)/, (_m, flags: string) => {
    const kept = flags.split(',').map((f) => f.trim()).filter((f) => f && f !== 'allow-key-locking');
    return kept.length ? `#!lua flags=${kept.join(',')}` : '#!lua';
  });
}

function parseCommand(raw: unknown): Command {
  if (!Array.isArray(raw) || raw.length === 0 || typeof raw[0] !== 'string') {
    throw new HttpError(400, 'ERR command must be a non-empty JSON array starting with the command name');
  }
  const name = raw[0].toLowerCase();
  if (REJECTED.has(name)) throw new HttpError(400, `ERR command '${name}' is not supported by the REST bridge`);
  const args = raw.slice(1).map((a: unknown) => (typeof a === 'string' ? a : typeof a === 'object' ? JSON.stringify(a) : String(a)));
  if ((name === 'eval' || name === 'eval_ro') && typeof args[0] === 'string') {
    const fixed = compatScript(args[0]);
    if (fixed !== args[0]) scriptShas.set(shaOf(args[0]), shaOf(fixed));
    args[0] = fixed;
  }
  if ((name === 'evalsha' || name === 'evalsha_ro') && typeof args[0] === 'string') args[0] = scriptShas.get(args[0]) ?? args[0];
  // Upper-case on purpose: ioredis applies reply transformers by lower-case name (e.g. hgetall
  // -> object), and we want the raw RESP reply.
  return [name.toUpperCase(), args];
}

function parseBatch(raw: unknown): Command[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new HttpError(400, 'ERR expected a non-empty array of commands');
  return raw.map(parseCommand);
}

function isReplyError(e: unknown): e is Error {
  // Errors sent by Redis itself (ERR, WRONGTYPE, NOSCRIPT, EXECABORT ...), as opposed to connection errors.
  return e instanceof Error && e.name === 'ReplyError';
}

/** RESP reply (Buffers via callBuffer) to Upstash JSON; strings base64 when the client asked. */
function encode(v: unknown, b64: boolean): Json {
  if (Buffer.isBuffer(v)) return b64 ? v.toString('base64') : v.toString('utf8');
  if (typeof v === 'string') return b64 ? Buffer.from(v).toString('base64') : v;
  if (typeof v === 'number') return v;
  if (Array.isArray(v)) return v.map((x) => encode(x, b64));
  // An error nested in an array reply (e.g. from a Lua table) becomes its message string.
  if (v instanceof Error) return encode(v.message, b64);
  return null;
}
