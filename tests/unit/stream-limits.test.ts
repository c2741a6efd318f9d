/**
 * The SSE machinery's limits (lib/http/sse.ts): a stream closes before Vercel's maxDuration with
 * a retry hint, sends heartbeats when idle, closes (to be resumed) when storage fails, and stops
 * stepping once the reader hangs up.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sseStream } from '../../lib/http/sse.js';
import { VERCEL_STREAM_LIMIT_MS } from '../../lib/node/vercel.js';

const read = async (s: ReadableStream<Uint8Array>) => new Response(s).text();

describe('stream limits', () => {
  it('Vercel streams close at least 3 s before the functions\' maxDuration in vercel.json', () => {
    const vercel = JSON.parse(readFileSync('vercel.json', 'utf8')) as { functions: Record<string, { maxDuration?: number }> };
    const max = vercel.functions['api/*.ts']?.maxDuration;
    expect(max).toBeDefined();
    expect(VERCEL_STREAM_LIMIT_MS).toBeLessThanOrEqual((max ?? 0) * 1000 - 3_000);
  });

  it('closes at the time limit with a retry hint, heartbeats when idle, and never steps after the limit', async () => {
    let now = 0;
    let steps = 0;
    const text = await read(
      sseStream({ pollMs: 1, heartbeatMs: 10, limitMs: 25, retryMs: 1500, clock: () => now, onError: () => {}, step: async () => {
        now += 5;
        steps++;
        return false;
      } }),
    );
    expect(text.startsWith('retry: 1500\n\n')).toBe(true);
    expect(text).toContain(': ping\n\n');
    expect(text.trimEnd().endsWith('retry: 1500')).toBe(true);
    expect(steps).toBe(5);
  });

  it('a failing step closes the stream (the client resumes) and is reported', async () => {
    const errors: unknown[] = [];
    const text = await read(
      sseStream({ pollMs: 1, heartbeatMs: 1000, retryMs: 100, onError: (e) => errors.push(e), step: async (out) => {
        out.send({ id: '7', event: 'entry', data: { a: 1 } });
        throw new Error('database down');
      } }),
    );
    expect(text).toContain('id: 7\nevent: entry\ndata: {"a":1}\n\n');
    expect(text).toContain('storage unavailable');
    expect(errors).toHaveLength(1);
  });

  it('stops stepping when the reader cancels, and when the request aborts', async () => {
    let steps = 0;
    const s = sseStream({ pollMs: 5, heartbeatMs: 1000, retryMs: 100, onError: () => {}, step: async () => {
      steps++;
      return false;
    } });
    const reader = s.getReader();
    await reader.read();
    await new Promise((r) => setTimeout(r, 30));
    await reader.cancel();
    const atCancel = steps;
    await new Promise((r) => setTimeout(r, 60));
    expect(steps).toBeLessThanOrEqual(atCancel + 1);

    const abort = new AbortController();
    let aborted = 0;
    const t = sseStream({ signal: abort.signal, pollMs: 5, heartbeatMs: 1000, retryMs: 100, onError: () => {}, step: async () => {
      aborted++;
      return false;
    } });
    const done = read(t);
    await new Promise((r) => setTimeout(r, 30));
    abort.abort();
    await done;
    const atAbort = aborted;
    await new Promise((r) => setTimeout(r, 60));
    expect(aborted).toBe(atAbort);
  });

  it('a stream nobody reads (HEAD, a dropped response) never steps', async () => {
    let steps = 0;
    const body = sseStream({ pollMs: 5, heartbeatMs: 1000, retryMs: 100, onError: () => {}, step: async () => {
      steps++;
      return false;
    } });
    const head = new Response(body, { headers: { 'content-type': 'text/event-stream' } });
    await new Promise((r) => setTimeout(r, 50));
    expect(steps).toBe(0);
    // The first read starts it.
    const reader = head.body?.getReader();
    await reader?.read();
    await new Promise((r) => setTimeout(r, 30));
    expect(steps).toBeGreaterThan(0);
    await reader?.cancel();
  });
});
