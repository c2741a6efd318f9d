/**
 * `sessionlog tail`: follows a session live. Prefers the push stream (GET /api/sessions/{id}/stream,
 * SSE read over fetch, resumed with Last-Event-ID); a deployment without it (404) is polled the way
 * the dashboard's live tail does, by arrival sequence (`after_seq`), which misses no late event.
 */
import type { Client } from '../client.js';
import type { Command, Context } from '../command.js';
import { str } from '../command.js';
import { CliError, EXIT, usage } from '../errors.js';
import { printable, printableDeep } from '../output.js';
import { readSse } from '../sse.js';
import { formatEntry, type TimelineEntry } from '../timeline-line.js';

interface Timeline {
  events: TimelineEntry[];
  last_seq: string;
}

const OPEN = new Set(['active', 'waiting']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Printer {
  private seen = new Set<string>();
  constructor(private ctx: Context) {}
  /** Prints an entry once (the stream, a catch-up poll and the history may overlap). */
  print(e: TimelineEntry, type?: string): boolean {
    if (e.event_id) {
      if (this.seen.has(e.event_id)) return false;
      this.seen.add(e.event_id);
    }
    // The stream's entries do not come through client.json: made printable here (ADR 0018).
    process.stdout.write(`${this.ctx.json ? JSON.stringify(e) : formatEntry(printableDeep(e), this.ctx.out, type)}\n`);
    return true;
  }
  note(text: string) {
    if (!this.ctx.json) process.stderr.write(`${this.ctx.err('gray', printable(text))}\n`);
  }
}

async function status(client: Client, path: string): Promise<string> {
  return (await client.json<{ status: string }>('GET', path)).status;
}

export const tailCommand: Command = {
  name: 'tail',
  summary: 'follow a session live (stream, or polling on older deployments)',
  help: `Usage: sessionlog tail <session|token> [-n <lines>] [--interval <ms>] [--poll]

Prints the session's last events, then each new one as it is stored, coloured by type (errors in
red), until the session ends (exit 0) or Ctrl-C. A workshop page's session token is its session id.
Uses the live stream (GET /api/sessions/{id}/stream) and falls back to polling
GET /api/sessions/{id}/events?after_seq=… where the deployment has no stream.
  -n, --lines <n>    events of history to print first (default 10; 0 for none)
  --interval <ms>    polling period (default 2000)
  --poll             poll even if the deployment streams
  --json             one JSON timeline entry per line`,
  options: { lines: { type: 'string', short: 'n' }, interval: { type: 'string' }, poll: { type: 'boolean' } },
  positionals: [1, 1],
  async run(ctx) {
    const [sid] = ctx.args as [string];
    const lines = Number(str(ctx.flags.lines) ?? '10');
    const interval = Number(str(ctx.flags.interval) ?? '2000');
    if (!Number.isInteger(lines) || lines < 0 || lines > 1000) throw usage('-n must be a whole number from 0 to 1000');
    if (!Number.isFinite(interval) || interval < 100) throw usage('--interval must be at least 100 (ms)');
    const { client } = ctx;
    const path = `/api/sessions/${encodeURIComponent(sid)}`;
    const printer = new Printer(ctx);

    // The arrival sequence first, then the history: anything stored in between is caught by the
    // follow below and printed once.
    let seq = (await client.json<Timeline>('GET', `${path}/events`, { query: { limit: 1 } })).last_seq;
    const doc = await client.json<{ status: string; platform: string; student_id: string | null }>('GET', path);
    if (lines > 0) {
      const recent = await client.json<{ events: TimelineEntry[] }>('GET', '/api/session-log', { query: { sessionToken: sid, order: 'desc', limit: lines } });
      for (const e of recent.events.reverse()) printer.print(e);
    }
    if (!OPEN.has(doc.status)) {
      printer.note(`— session ${sid} is ${doc.status}: nothing more will arrive`);
      return EXIT.OK;
    }
    printer.note(`— following ${sid} (${doc.platform}, ${doc.student_id ?? 'no student'}); Ctrl-C to stop`);

    const poll = async (): Promise<boolean> => {
      const page = await client.json<Timeline>('GET', `${path}/events`, { query: { after_seq: seq } });
      seq = page.last_seq;
      let ended = false;
      for (const e of page.events) {
        printer.print(e);
        if (e.event_type === 'session_ended') ended = true;
      }
      return ended;
    };

    if (!ctx.flags.poll) {
      const streamed = await followStream(ctx, path, printer, seq);
      if (streamed !== 'unsupported') {
        printer.note(`— session ${sid} ended`);
        return EXIT.OK;
      }
      printer.note('— this deployment has no live stream: polling');
    }
    for (let n = 1; ; n++) {
      if (await poll()) break;
      // An idle session ends by timeout without an event until the sweep runs: ask now and then.
      if (n % 15 === 0 && !OPEN.has(await status(client, path))) break;
      await sleep(interval);
    }
    printer.note(`— session ${sid} ended`);
    return EXIT.OK;
  },
};

/**
 * Follows the SSE stream until `event: end`. A stream closed early (serverless functions end at
 * their maxDuration, networks drop) is reopened with Last-Event-ID. 'unsupported' when the
 * deployment has no stream route.
 */
async function followStream(ctx: Context, path: string, printer: Printer, from: string): Promise<'ended' | 'unsupported'> {
  let lastId: string | undefined;
  let failures = 0;
  let first = true;
  for (;;) {
    let res: Response;
    try {
      // First from the arrival sequence the history ended at (without it the stream replays the
      // whole timeline), then from the last id received.
      res = await ctx.client.raw('GET', `${path}/stream`, {
        query: lastId ? {} : { after: from },
        headers: { accept: 'text/event-stream', ...(lastId ? { 'last-event-id': lastId } : {}) },
      });
    } catch (err) {
      if (!(err instanceof CliError) || err.exitCode !== EXIT.REACH || ++failures > 5) throw err;
      await sleep(500 * 2 ** failures);
      continue;
    }
    // The route is missing (an older deployment), not the session: that was checked before.
    if (first && (res.status === 404 || res.status === 405)) return 'unsupported';
    if (!res.ok) {
      if (res.status >= 500 && ++failures <= 5) {
        await sleep(500 * 2 ** failures);
        continue;
      }
      throw await ctx.client.failure('GET', `${path}/stream`, res, true);
    }
    if (!(res.headers.get('content-type') ?? '').includes('text/event-stream') || !res.body) {
      if (first) return 'unsupported';
      throw new CliError(EXIT.API, `${path}/stream answered ${res.headers.get('content-type') ?? 'no content type'}, not an event stream`);
    }
    first = false;
    failures = 0;
    try {
      for await (const m of readSse(res.body)) {
        if (m.id !== undefined) lastId = m.id;
        if (m.event === 'end') return 'ended';
        if (m.event === 'status') {
          const st = parseJson(m.data) as { status?: string; end_reason?: string | null } | undefined;
          if (st?.status) printer.note(`— status: ${st.status}${st.end_reason ? ` (${st.end_reason})` : ''}`);
          continue;
        }
        if (m.event !== 'entry' && m.event !== 'message') continue;
        const entry = parseJson(m.data) as TimelineEntry | undefined;
        if (entry && typeof entry === 'object') printer.print(entry);
      }
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      // the connection dropped mid-stream: reconnect below
    }
    await sleep(250);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
