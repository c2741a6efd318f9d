/**
 * `sessionlog tail` on a deployment that streams (GET /api/sessions/{id}/stream, SSE), and the
 * pieces it is made of. The stream endpoint is being built in parallel (issue 14, "Sessions pushed
 * live"): until it is merged, a loopback server speaks its protocol as the issue and the brief
 * define it — `id:`/`event:`/`data:` lines, `data` a timeline entry, `event: end` when the session
 * ends, resumption with `Last-Event-ID` — so the CLI's reader, resumption and de-duplication are
 * exercised over real HTTP. tests/integration/cli.test.ts runs the same binary against the real
 * server (polling today, the stream once it exists).
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSse } from '../../cli/sse.js';
import { formatEntry } from '../../cli/timeline-line.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const entry = (n: number, type = 'transcript', data: Record<string, unknown> = { speaker: 'A', text: `line ${n}` }) => ({
  event_id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  session_token: 's1',
  event_type: type,
  event_data: data,
  created_at: `2026-11-30T10:00:${String(n).padStart(2, '0')}.000Z`,
  student_id: null,
  student_email: null,
  student_name: null,
  claimed: null,
});

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const chunk of chunks) c.enqueue(enc.encode(chunk));
      c.close();
    },
  });
}

describe('readSse', () => {
  it('reads id/event/data across arbitrary chunk boundaries, CRLF, comments and multi-line data', async () => {
    const text = ': heartbeat\r\nid: 7\r\nevent: entry\r\ndata: {"a":\r\ndata: 1}\r\n\r\n: ping\n\nid: 8\ndata: x\n\nevent: end\ndata: {}\n\n';
    // Chunks of 1 split every CRLF in two; 3 and 7 split lines and fields at other places.
    for (const size of [1, 3, 7, text.length]) {
      const chunks = Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size));
      const got = [];
      for await (const m of readSse(streamOf(chunks))) got.push(m);
      expect(got, `chunks of ${size}`).toEqual([
        { id: '7', event: 'entry', data: '{"a":\n1}' },
        { id: '8', event: 'message', data: 'x' },
        { id: '8', event: 'end', data: '{}' },
      ]);
    }
  });
});

describe('formatEntry', () => {
  const on = (c: string, t: string) => `<${c}>${t}</${c}>`;
  it('colours by type and shows errors (and failed API calls and tools) in red', () => {
    expect(formatEntry(entry(1), on)).toBe('<gray>10:00:01</gray>  <green>transcript        </green>  A: line 1');
    const error = formatEntry(entry(2, 'error', { errorType: 'TypeError', errorMessage: 'x is undefined', currentStep: 2 }), on);
    expect(error).toBe('<gray>10:00:02</gray>  <red><bold>error             </bold></red>  <red>TypeError: x is undefined (step 2)</red>');
    expect(formatEntry(entry(3, 'api_call', { method: 'POST', endpoint: '/x', status: 500, success: false }), on)).toContain('<red>POST /x 500</red>');
    expect(formatEntry(entry(4, 'tool_result', { name: 'save', error: 'timeout' }), on)).toContain('<red>save → error: timeout</red>');
    expect(formatEntry(entry(5, 'api_call', { method: 'GET', endpoint: '/y', status: 200, success: true }), on)).toContain('<magenta>');
  });
  it("reads an instructor's helped mark and its undo as a line, not JSON", () => {
    expect(formatEntry(entry(6, 'attention_helped', { by: 'instructor:ms_lee', note: 'missing key' }), on)).toMatch(/ {2}helped by instructor:ms_lee \(missing key\)$/);
    expect(formatEntry(entry(7, 'attention_help_undone', { by: 'admin' }), on)).toMatch(/ {2}helped mark undone by admin$/);
  });
});

describe('sessionlog tail over a stream', () => {
  const connections: Array<{ lastEventId: string | undefined; after: string | null }> = [];
  const polls: string[] = [];
  let base = '';
  const sse = (n: number) => `id: ${n}\nevent: entry\ndata: ${JSON.stringify(n === 4 ? entry(4, 'error', { errorType: 'E', errorMessage: 'boom' }) : entry(n))}\n\n`;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.headers.authorization !== 'Bearer stream-test-token') return res.writeHead(401, { 'content-type': 'application/problem+json' }).end('{"status":401}');
    if (u.pathname === '/api/sessions/s1') return json({ session_id: 's1', status: 'active', platform: 'web', student_id: 'ada' });
    if (u.pathname === '/api/session-log') return json({ success: true, count: 1, events: [entry(1)], next_cursor: null });
    if (u.pathname === '/api/sessions/s1/events') {
      polls.push(u.searchParams.get('after_seq') ?? 'start');
      return json({ session_id: 's1', count: 0, events: [], next_cursor: null, last_seq: '1' });
    }
    if (u.pathname === '/api/sessions/s1/stream') {
      connections.push({ lastEventId: req.headers['last-event-id'] as string | undefined, after: u.searchParams.get('after') });
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      const status = (st: string) => `event: status\ndata: ${JSON.stringify({ session_id: 's1', status: st, end_time: null, end_reason: null })}\n\n`;
      if (connections.length === 1) {
        // Entry 2 was stored between the history and the stream's start; then the function hits
        // its time limit and the connection closes without `end`.
        res.end(`${status('active')}: ping\n\n${sse(2)}${sse(3)}${sse(4)}: time limit reached, reconnect with Last-Event-ID\nretry: 2000\n\n`);
      } else {
        // A resumed stream that repeats the entry at the boundary: the CLI prints it once.
        res.end(`${sse(4)}${sse(5)}${status('completed')}event: end\ndata: ${JSON.stringify({ session_id: 's1', status: 'completed', end_time: null, end_reason: 'explicit' })}\n\n`);
      }
      return;
    }
    res.writeHead(404, { 'content-type': 'application/problem+json' }).end('{"status":404}');
  });

  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it('prints history, then each streamed entry once, resumes with Last-Event-ID, and exits 0 on `end`', async () => {
    const proc = spawn(process.execPath, ['bin/sessionlog.mjs', 'tail', 's1', '--json', '--url', base, '--token', 'stream-test-token'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    proc.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const code = await new Promise<number | null>((r) => proc.once('close', r));
    expect(err).toBe('');
    expect(code).toBe(0);
    const printed = out.trim().split('\n').map((l) => (JSON.parse(l) as { event_id: string }).event_id);
    expect(printed).toEqual([1, 2, 3, 4, 5].map((n) => entry(n).event_id));
    // Starts where the history ended, resumes after the last id received; never polls.
    expect(connections).toEqual([
      { lastEventId: undefined, after: '1' },
      { lastEventId: '4', after: null },
    ]);
    expect(polls).toEqual(['start']);
  });
});
