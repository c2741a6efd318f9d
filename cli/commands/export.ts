/**
 * `sessionlog export`: the event log (GET /api/session-log, streamed by the server as CSV or NDJSON)
 * or one session's transcript, to stdout. Progress goes to stderr so `> file` stays clean.
 */
import type { Command, Context } from '../command.js';
import { intFlag, str } from '../command.js';
import { usage } from '../errors.js';

const FORMATS = ['csv', 'ndjson'] as const;
type Format = (typeof FORMATS)[number];

/** RFC 4180, with the same formula guard as the server's CSV (a cell must not run in a spreadsheet). */
function csvCell(v: string): string {
  const s = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * Counts records as they pass: newlines outside quoted CSV cells (a quoted cell may hold newlines),
 * every newline in NDJSON.
 */
class RecordCounter {
  records = 0;
  private quoted = false;
  constructor(private csv: boolean) {}
  feed(text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.csv && c === 34) this.quoted = !this.quoted;
      else if (c === 10 && !this.quoted) this.records++;
    }
  }
}

/**
 * Progress on stderr: a counter redrawn in place on a terminal; otherwise a line every 10,000
 * records (CI logs, `2> log`) so a long export is visibly alive without flooding the log.
 */
function progress(ctx: Context) {
  const tty = Boolean(process.stderr.isTTY);
  const started = Date.now();
  let lastDraw = 0;
  let lastLogged = 0;
  return {
    update(n: number) {
      if (ctx.flags.quiet) return;
      const now = Date.now();
      if (tty && now - lastDraw > 100) {
        lastDraw = now;
        process.stderr.write(`\r${ctx.err('gray', `exporting… ${n.toLocaleString('en-US')} events`)}`);
      } else if (!tty && n - lastLogged >= 10_000) {
        lastLogged = n - (n % 10_000);
        process.stderr.write(`exporting… ${lastLogged.toLocaleString('en-US')} events\n`);
      }
    },
    done(n: number, what: string) {
      if (ctx.flags.quiet) return;
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      process.stderr.write(`${tty ? '\r\u001b[K' : ''}exported ${n.toLocaleString('en-US')} ${n === 1 ? what.replace(/s$/, '') : what} in ${secs} s\n`);
    },
  };
}

async function exportTranscript(ctx: Context, sid: string, format: Format): Promise<number> {
  const res = await ctx.client.json<{ session_id: string; entries: Array<{ speaker: string; text: string; timestamp: string }> }>(
    'GET',
    `/api/sessions/${encodeURIComponent(sid)}/transcript`,
    { asStored: true },
  );
  const rows =
    format === 'csv'
      ? ['timestamp,session_id,speaker,text\r\n', ...res.entries.map((e) => `${[e.timestamp, res.session_id, e.speaker, e.text].map(csvCell).join(',')}\r\n`)]
      : res.entries.map((e) => `${JSON.stringify({ timestamp: e.timestamp, session_id: res.session_id, speaker: e.speaker, text: e.text })}\n`);
  process.stdout.write(rows.join(''));
  progress(ctx).done(res.entries.length, 'transcript lines');
  return 0;
}

export const exportCommand: Command = {
  name: 'export',
  summary: 'export events (CSV/NDJSON) or a session transcript to stdout',
  help: `Usage: sessionlog export [<session>] [filters] --format csv|ndjson > file
       sessionlog export <session> --transcript --format csv > transcript.csv

Streams every matching event of the log (GET /api/session-log?format=…), oldest first, to stdout.
Filters (combine freely):
  <session>, --session <t> one session / workshop session token (--token is the API token, as
                           for every command, not a filter)
  --student <email>        one student's events
  --type <type>            one event type (error, navigation, transcript…)
  --error-type <type>      error events of this errorType only, as the top errors name it
                           (e.g. TypeError; '(unspecified)' for errors that gave none)
  --workshop <prefix>      one workshop: session tokens starting with this (e.g. ws_room2_)
  --since <iso>            from this time (inclusive), e.g. 2026-11-30T00:00:00Z
  --until <iso>            before this time (exclusive)
  --limit <n>              at most n events (server default and maximum: 100000)
  --transcript             the session's transcript instead, as timestamp,session_id,speaker,text
  --format csv|ndjson      required
  --quiet                  no progress on stderr
Progress: a live counter on stderr when it is a terminal, else a line every 10,000 events, and a
final "exported N events" line.`,
  options: {
    format: { type: 'string' },
    session: { type: 'string' },
    student: { type: 'string' },
    type: { type: 'string' },
    'error-type': { type: 'string' },
    workshop: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    limit: { type: 'string' },
    transcript: { type: 'boolean' },
    quiet: { type: 'boolean' },
  },
  positionals: [0, 1],
  async run(ctx) {
    // The export is its own format: --json would be ignored, so it is refused rather than seem to work.
    if (ctx.json) throw usage('export writes CSV or NDJSON, not one JSON document: drop --json (NDJSON is --format ndjson)');
    const format = str(ctx.flags.format);
    if (!format) throw usage('export needs --format csv or --format ndjson');
    if (!FORMATS.includes(format as Format)) throw usage(`--format must be csv or ndjson, got ${JSON.stringify(format)}`);
    const [positional] = ctx.args;
    // --token stays the API credential for every command; the session filter is <session> or --session.
    const sessionToken = positional ?? str(ctx.flags.session);
    if (ctx.flags.transcript) {
      if (!sessionToken) throw usage('--transcript needs the session: sessionlog export <session> --transcript --format csv');
      return exportTranscript(ctx, sessionToken, format as Format);
    }
    const res = await ctx.client.fetch('GET', '/api/session-log', {
      headers: { accept: format === 'csv' ? 'text/csv' : 'application/x-ndjson' },
      query: {
        format,
        order: 'asc',
        sessionToken,
        studentEmail: str(ctx.flags.student),
        eventType: str(ctx.flags.type),
        errorType: str(ctx.flags['error-type']),
        workshop: str(ctx.flags.workshop),
        since: str(ctx.flags.since),
        until: str(ctx.flags.until),
        limit: intFlag(ctx.flags, 'limit', 1, 100_000),
      },
    });
    const counter = new RecordCounter(format === 'csv');
    const shown = progress(ctx);
    const decoder = new TextDecoder();
    for await (const chunk of (res.body ?? []) as unknown as AsyncIterable<Uint8Array>) {
      counter.feed(decoder.decode(chunk, { stream: true }));
      if (!process.stdout.write(chunk)) await new Promise((r) => process.stdout.once('drain', r));
      shown.update(Math.max(0, counter.records - (format === 'csv' ? 1 : 0)));
    }
    shown.done(Math.max(0, counter.records - (format === 'csv' ? 1 : 0)), 'events');
    return 0;
  },
};
