import { ApiError } from '../errors.js';
import { parseJsonExact } from '../util/exact-json.js';

/**
 * Bytes a process may hold at once for one purpose (bodies not authenticated yet): a reader takes
 * its share before buffering and gives it back when done, so a flood cannot buffer more than this.
 * With a key (the client's address), one key may hold at most `perKey` of it: one client with a few
 * slow bodies could otherwise hold the whole budget and have every other client's body refused.
 */
export class ByteBudget {
  private used = 0;
  private readonly byKey = new Map<string, number>();
  constructor(
    readonly limit: number,
    readonly perKey = limit,
  ) {}
  take(n: number, key?: string): boolean {
    if (!this.fits(n, key)) return false;
    this.used += n;
    if (key !== undefined) this.byKey.set(key, (this.byKey.get(key) ?? 0) + n);
    return true;
  }
  /** Whether `n` more bytes would fit now, for `key` (nothing is taken). */
  fits(n: number, key?: string): boolean {
    return this.used + n <= this.limit && (key === undefined || (this.byKey.get(key) ?? 0) + n <= this.perKey);
  }
  give(n: number, key?: string): void {
    this.used = Math.max(0, this.used - n);
    if (key === undefined) return;
    const left = (this.byKey.get(key) ?? 0) - n;
    if (left > 0) this.byKey.set(key, left);
    else this.byKey.delete(key);
  }
  get inUse(): number {
    return this.used;
  }
  /** What `key` holds now. */
  heldBy(key: string): number {
    return this.byKey.get(key) ?? 0;
  }
}

const overBudget = () => new ApiError('UNAVAILABLE', 'too many unverified request bodies in flight; retry shortly', { headers: { 'retry-after': '1' } });
const overShare = (perKey: number) =>
  new ApiError('UNAVAILABLE', `too many unverified request bodies in flight from this address (at most ${perKey} bytes at once); retry shortly`, { headers: { 'retry-after': '1' } });

/**
 * Read a request body as UTF-8 text, refusing more than `maxBytes` without buffering it all:
 * Content-Length is checked first, and the body is counted as it streams. The bytes are taken from
 * `budget` as they arrive (refused with 503 when it is spent) and the caller gives them back with
 * `budget.give(taken)` once the body is verified or refused. Taking the declared length up front
 * let one connection that declared 16 MB and sent nothing hold the whole budget (every signed
 * delivery answered 503) for as long as it stayed open; and a body that has not arrived within
 * `deadlineMs` is refused with 408, so a stalled sender holds nothing for long. `key` (the client's
 * address) holds at most the budget's `perKey`: give back with `budget.give(taken, key)`.
 */
export async function readTextWithin(req: Request, maxBytes: number, budget: ByteBudget, deadlineMs: number, key?: string): Promise<{ text: string; taken: number }> {
  const declared = Number(req.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) throw new ApiError('PAYLOAD_TOO_LARGE', `request body exceeds ${maxBytes} bytes`);
  // A declared body that cannot fit now is refused unread; one that fits is taken as it arrives.
  // Which limit refused `n` more bytes: this address's share, else the whole budget.
  const refuse = (n: number) => (key !== undefined && budget.heldBy(key) + n > budget.perKey ? overShare(budget.perKey) : overBudget());
  if (Number.isFinite(declared) && !budget.fits(declared, key)) throw refuse(declared);
  let taken = 0;
  const take = (n: number) => {
    if (!budget.take(n, key)) throw refuse(n);
    taken += n;
  };
  try {
    const text = await readText(req, maxBytes, take, deadlineMs);
    return { text, taken };
  } catch (err) {
    budget.give(taken, key);
    throw err;
  }
}

const tooLarge = (maxBytes: number) => new ApiError('PAYLOAD_TOO_LARGE', `request body exceeds ${maxBytes} bytes`);

/**
 * Read a request body as UTF-8 text, refusing more than `maxBytes` without buffering it all:
 * Content-Length is checked first, and a chunked body is counted as it streams.
 */
export async function readText(req: Request, maxBytes: number, onChunk?: (bytes: number) => void, deadlineMs?: number): Promise<string> {
  const declared = Number(req.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  if (Number.isFinite(declared) && !onChunk) {
    // Known length within the limit: one buffered read is much cheaper than pulling the stream
    // (the runtime enforces Content-Length, and the size is re-checked below). Done before touching
    // `req.body`: on @hono/node-server that getter builds a full web Request and stream around the
    // socket (a tenth of a single-event request's CPU), while arrayBuffer() reads the message directly.
    let buf: ArrayBuffer;
    try {
      buf = await req.arrayBuffer();
    } catch {
      throw new ApiError('BAD_REQUEST', 'request body could not be read (connection closed?)');
    }
    if (buf.byteLength > maxBytes) throw tooLarge(maxBytes);
    return decodeUtf8(new Uint8Array(buf));
  }
  if (!req.body) return '';
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const deadline = deadlineMs === undefined ? undefined : Date.now() + deadlineMs;
  for (;;) {
    let res: ReadableStreamReadResult<Uint8Array> | 'late';
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const read = reader.read();
      res = deadline === undefined
        ? await read
        : await Promise.race([read, new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), Math.max(0, deadline - Date.now())); })]);
    } catch {
      throw new ApiError('BAD_REQUEST', 'request body could not be read (connection closed?)');
    } finally {
      clearTimeout(timer);
    }
    if (res === 'late') {
      await reader.cancel().catch(() => {});
      throw new ApiError('REQUEST_TIMEOUT', `request body did not arrive within ${Math.round((deadlineMs ?? 0) / 1000)} s`);
    }
    if (res.done) break;
    size += res.value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    if (onChunk) {
      try {
        onChunk(res.value.byteLength);
      } catch (err) {
        await reader.cancel().catch(() => {});
        throw err;
      }
    }
    chunks.push(res.value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return decodeUtf8(all);
}

/** Reused: a non-streaming decode() starts afresh each call, also after a failed one. */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ApiError('BAD_REQUEST', 'request body is not valid UTF-8');
  }
}

/** Form-encoded is tolerated because `curl -d '{...}'` sends it; the body must still be JSON. */
const JSON_BODY_TYPES: ReadonlySet<string> = new Set(['application/json', 'text/plain', 'application/x-www-form-urlencoded']);

/**
 * Parse a JSON body sent as application/json or text/plain (navigator.sendBeacon sends strings
 * as text/plain, which also avoids a CORS preflight) — or with no content type at all.
 */
export async function readJson(req: Request, maxBytes: number): Promise<unknown> {
  const [rawType = '', ...params] = (req.headers.get('content-type') ?? '').split(';');
  const type = rawType.trim().toLowerCase();
  if (type && !JSON_BODY_TYPES.has(type) && !type.endsWith('+json')) {
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE', `content-type ${type} is not supported; send application/json or text/plain`);
  }
  const charset = params.map((p) => /^\s*charset\s*=\s*"?([^";\s]+)/i.exec(p)?.[1]?.toLowerCase()).find(Boolean);
  if (charset && charset !== 'utf-8' && charset !== 'utf8') {
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE', `charset ${charset} is not supported; send UTF-8`);
  }
  // A compressed body would otherwise be refused as "not valid UTF-8", or parsed as sent.
  const encoding = req.headers.get('content-encoding')?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') {
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE', `content-encoding ${encoding} is not supported; send the body uncompressed`);
  }
  const text = await readText(req, maxBytes);
  if (!text.trim()) throw new ApiError('BAD_REQUEST', 'request body is empty; expected a JSON object');
  try {
    // Integers JSON.parse rounds are recorded, and refused where the body is checked for what
    // Postgres can store (lib/schemas/common.ts): the client meant another number.
    return parseJsonExact(text);
  } catch (err) {
    const reason = err instanceof SyntaxError ? err.message : 'invalid JSON';
    throw new ApiError('BAD_REQUEST', `request body is not valid JSON: ${reason}`);
  }
}
