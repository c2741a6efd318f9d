/**
 * Server-Sent Events over a Web ReadableStream: the same code streams on the Node server, on
 * Vercel (Node runtime) and in workerd. The stream polls (a `step` reads what is new from
 * Postgres and writes it) rather than listening to an in-process bus: another instance's writes
 * are only visible through the database, and Neon's HTTP driver has no LISTEN (ADR 0017).
 */

/** A message: `id` is the cursor a client resumes from (Last-Event-ID); `data` is JSON-encoded. */
export interface SseMessage {
  id?: string;
  event: string;
  data: unknown;
}

export interface SseWriter {
  send(message: SseMessage): void;
}

export interface SseOptions {
  /** The request's signal: a client that goes away must stop the poller. */
  signal?: AbortSignal | undefined;
  /** Pause between steps. */
  pollMs: number;
  /** A `: ping` comment when nothing was written for this long (proxies drop idle connections). */
  heartbeatMs: number;
  /** Close before the platform's wall-clock limit (Vercel's maxDuration), telling the client to reconnect. */
  limitMs?: number | undefined;
  /** The `retry:` hint: how long a client waits before reconnecting. */
  retryMs: number;
  /** Read what is new and write it; true when the stream is complete (then it closes). */
  step: (out: SseWriter) => Promise<boolean>;
  /** A failed step closes the stream (the client reconnects and resumes); this reports why. */
  onError: (err: unknown) => void;
  /** Monotonic-enough clock for the limit and heartbeats; injectable for tests. */
  clock?: () => number;
}

/** One SSE message in wire form. JSON never contains a raw newline, so `data:` is one line. */
export function formatSse(m: SseMessage): string {
  return `${m.id === undefined ? '' : `id: ${m.id}\n`}event: ${m.event}\ndata: ${JSON.stringify(m.data)}\n\n`;
}

export const SSE_HEADERS: Record<string, string> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-store',
  // nginx and some proxies buffer responses unless told not to, which would hold events back.
  'x-accel-buffering': 'no',
};

export function sseStream(o: SseOptions): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const clock = o.clock ?? Date.now;
  // `cancelled`: the reader went away (the controller may no longer be used); `done`: we finished.
  let cancelled = false;
  let done = false;
  let wake: (() => void) | null = null;
  const stop = () => {
    cancelled = true;
    wake?.();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        wake = null;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      wake = finish;
    });

  let started = false;
  // Nothing runs until someone reads: a HEAD request (answered with the headers only, the body
  // never read nor cancelled) or a response dropped unread must not leave a poller behind.
  // highWaterMark 0 keeps the stream from pulling on its own at construction.
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (started) return;
      started = true;
      if (o.signal?.aborted) cancelled = true;
      o.signal?.addEventListener('abort', stop, { once: true });
      let lastWrite = clock();
      const write = (text: string) => {
        if (cancelled || done) return;
        controller.enqueue(encoder.encode(text));
        lastWrite = clock();
      };
      const out: SseWriter = { send: (m) => write(formatSse(m)) };
      const run = async () => {
        const started = clock();
        write(`retry: ${o.retryMs}\n\n`);
        try {
          while (!cancelled) {
            if (await o.step(out)) break;
            if (cancelled) break;
            if (o.limitMs !== undefined && clock() - started >= o.limitMs) {
              write(`: time limit reached, reconnect with Last-Event-ID\nretry: ${o.retryMs}\n\n`);
              break;
            }
            if (clock() - lastWrite >= o.heartbeatMs) write(': ping\n\n');
            await sleep(o.pollMs);
          }
        } catch (err) {
          o.onError(err);
          write(`: storage unavailable, reconnect with Last-Event-ID\nretry: ${o.retryMs}\n\n`);
        } finally {
          o.signal?.removeEventListener('abort', stop);
          done = true;
          try {
            controller.close();
          } catch {
            // the reader cancelled: the stream is already closed
          }
        }
      };
      void run();
    },
    cancel() {
      stop();
    },
  }, { highWaterMark: 0 });
}
