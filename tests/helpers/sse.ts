/**
 * A test's SSE client: fetch + a line parser, as a CLI or the dashboard reads a stream (the same
 * fields EventSource keeps: id, event, data, retry). Messages are collected as they arrive;
 * `until` waits for one that matches.
 */
export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
  json: unknown;
}

export interface SseClient {
  status: number;
  headers: Headers;
  events: SseEvent[];
  comments: string[];
  retry: number | undefined;
  /** Resolves when the server closed the stream. */
  closed: Promise<void>;
  until(match: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}, fetcher: (url: string, init: RequestInit) => Promise<Response> = fetch): Promise<SseClient> {
  const controller = new AbortController();
  const res = await fetcher(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const waiters = new Set<() => void>();
  const client: SseClient = {
    status: res.status,
    headers: res.headers,
    events,
    comments,
    retry: undefined,
    closed: Promise.resolve(),
    async until(match, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = events.find(match);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching SSE message within ${timeoutMs} ms; got ${JSON.stringify(events.map((e) => [e.id, e.event]))}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 50);
          waiters.add(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    },
    close: () => controller.abort(),
  };
  if (!res.body || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    await res.text().catch(() => '');
    return client;
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  client.closed = (async () => {
    let buf = '';
    let cur: { id?: string; event?: string; data: string[] } = { data: [] };
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let nl = buf.indexOf('\n');
        while (nl !== -1) {
          const line = buf.slice(0, nl).replace(/\r$/, '');
          buf = buf.slice(nl + 1);
          nl = buf.indexOf('\n');
          if (line === '') {
            if (cur.data.length || cur.event) {
              const data = cur.data.join('\n');
              let json: unknown;
              try {
                json = JSON.parse(data);
              } catch {
                json = undefined;
              }
              events.push({ id: cur.id, event: cur.event ?? 'message', data, json });
              for (const w of waiters) w();
              waiters.clear();
            }
            cur = { data: [] };
          } else if (line.startsWith(':')) comments.push(line.slice(1).trim());
          else {
            const i = line.indexOf(':');
            const field = i === -1 ? line : line.slice(0, i);
            const value = i === -1 ? '' : line.slice(i + 1).replace(/^ /, '');
            if (field === 'id') cur.id = value;
            else if (field === 'event') cur.event = value;
            else if (field === 'data') cur.data.push(value);
            else if (field === 'retry') client.retry = Number(value);
          }
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return client;
}

/**
 * Read a response to the end, except a live event stream, which never ends by itself: of that,
 * read the opening chunk and hang up (which must stop the server's poller). Returns the text read.
 */
export async function drain(res: Response): Promise<string> {
  if (!res.ok || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream') || !res.body) return res.text();
  const reader = res.body.getReader();
  const { value } = await reader.read();
  await reader.cancel();
  return new TextDecoder().decode(value);
}
