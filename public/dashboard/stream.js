/**
 * Server-Sent Events read with fetch: EventSource cannot send the Authorization header, and the
 * dashboard's token must not go into a URL. Parses `id:`, `event:`, `data:` and `retry:` as the
 * EventSource spec does and hands over the messages of each chunk together, so a burst (a
 * reconnect catching up) renders once.
 */
import { ApiError, refused, token } from './api.js';

/**
 * Read one connection to `path` until the server closes it. Resolves `{ retry }` (the server's
 * reconnect hint) on a normal close; rejects with ApiError for an HTTP error or a broken stream,
 * with AbortError when `signal` aborts. `lastEventId` is sent as Last-Event-ID when given.
 */
export async function readStream(path, { signal, lastEventId, onOpen, onMessages }) {
  const headers = { accept: 'text/event-stream' };
  const t = token.get();
  if (t) headers.authorization = `Bearer ${t}`;
  if (lastEventId) headers['last-event-id'] = lastEventId;
  let res;
  try {
    res = await fetch(path, { headers, signal, cache: 'no-store' });
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
    throw new ApiError(0, 'the stream could not be opened');
  }
  // A refused token is the sign-in form's business, as for every other read: the Now view, which
  // only streams, otherwise stayed on "Loading…".
  if (res.status === 401) throw refused();
  if (!res.ok || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream') || !res.body) {
    const detail = await res.json().then((p) => p?.detail, () => null);
    throw new ApiError(res.status, detail ?? `HTTP ${res.status}`);
  }
  onOpen?.();
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let retry = 2000;
  let msg = { data: [] };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      const batch = [];
      for (const raw of lines) {
        const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
        if (line === '') {
          if (msg.data.length) batch.push({ id: msg.id, event: msg.event ?? 'message', data: JSON.parse(msg.data.join('\n')) });
          msg = { data: [] };
          continue;
        }
        if (line.startsWith(':')) continue;
        const i = line.indexOf(':');
        const field = i === -1 ? line : line.slice(0, i);
        const val = i === -1 ? '' : line.slice(i + 1).replace(/^ /, '');
        if (field === 'id') msg.id = val;
        else if (field === 'event') msg.event = val;
        else if (field === 'data') msg.data.push(val);
        else if (field === 'retry' && /^\d+$/.test(val)) retry = Number(val);
      }
      if (batch.length) onMessages(batch);
    }
  } catch (err) {
    if (err?.name === 'AbortError' || signal?.aborted) throw err.name === 'AbortError' ? err : new DOMException('aborted', 'AbortError');
    throw new ApiError(0, 'the stream broke off');
  }
  return { retry };
}

/**
 * After a stream breaks off (the server restarted, the network dropped, a proxy refuses streams),
 * a view polls and tries the stream again after STREAM_RETRY_MS, then twice as long each time up
 * to STREAM_RETRY_MAX_MS: back to streaming soon after an outage, one request a minute behind a
 * proxy that never passes a stream.
 */
export const STREAM_RETRY_MS = 10_000;
const STREAM_RETRY_MAX_MS = 60_000;
/** The wait after one of `ms` that failed too. */
export const nextRetry = (ms) => Math.min(ms * 2, STREAM_RETRY_MAX_MS);

/** Wait `ms`, or less when `signal` aborts. */
export const pause = (ms, signal) =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
