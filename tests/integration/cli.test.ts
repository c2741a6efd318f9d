/**
 * The command line, as users run it: the real binary (`node bin/sessionlog.mjs`, and `npx sessionlog`
 * once) as a child process against the real local server (`node --import tsx server.ts`, as
 * `npm start` runs it) on the test database. Nothing is faked: the CLI only speaks HTTP.
 *
 * `tail` is checked by what it prints when an event is posted while it runs, so the test holds for
 * the polling fallback and for the push stream (GET /api/sessions/{id}/stream) alike.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it, vi } from 'vitest';
import { uniqueToken } from '../helpers/deps.js';
import { cliWorld } from '../helpers/cli-world.js';
import { describeWithPostgres } from '../helpers/servers.js';
import { parseCsv } from '../helpers/csv.js';

// Each CLI run is a fresh process through tsx (~1 s of CPU): a test that runs ten of them needs
// more than the default 30 s on a loaded 2-core machine.
vi.setConfig({ testTimeout: 120_000 });

const COMMANDS = ['help-needed', 'helped', 'sessions', 'progress', 'tail', 'export', 'end', 'assign', 'create', 'join', 'say', 'phase', 'summary', 'demo'];

describeWithPostgres('sessionlog command line against a real server', () => {
  const { start, cli, api } = cliWorld();

  it('--help for every command: exit 0 and the usage of that command', async () => {
    const main = await cli(['--help']);
    expect(main.code).toBe(0);
    for (const name of COMMANDS) expect(main.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    expect(main.stdout).toContain('Exit codes: 0 ok');
    const runs = await Promise.all(COMMANDS.map((name) => cli([name, '--help'])));
    runs.forEach((r, i) => {
      expect(r.code, COMMANDS[i]).toBe(0);
      expect(r.stdout, COMMANDS[i]).toMatch(new RegExp(`^Usage: sessionlog ${COMMANDS[i]}\\b`));
      expect(r.stdout).toContain('--url <url>');
    });
  });

  it('runs as `npx sessionlog` from the repository', async () => {
    const r = await start(['sessions', '--search', 'nobody-has-this-id', '--json'], {}, ['npx', '--offline', 'sessionlog']).done;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ count: 0, sessions: [] });
  });

  it('usage errors exit 2 and say what is wrong', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['nonsense'], /unknown command "nonsense"/],
      [['sessions', '--bogus'], /Unknown option '--bogus'/],
      [['end'], /end: expected 1 argument, got 0/],
      [['export', 'ws_x'], /export needs --format csv or --format ndjson/],
      [['export', 'ws_x', '--format', 'xml'], /--format must be csv or ndjson/],
      [['export', 'ws_x', '--format', 'csv', '--json'], /export writes CSV or NDJSON, not one JSON document: drop --json/],
      [['tail', 'x', '-n', 'many'], /-n must be a whole number/],
      [['sessions', '--url', 'not a url'], /is not a URL/],
      [['demo', '--tag', 'Bad Tag'], /--tag must be/],
      [['sessions', '--limit', '0'], /--limit must be a whole number from 1 to 500, got "0"/],
      [['sessions', '--active', '--status', 'completed'], /--active combines with --workshop, --student, --platform and --limit only/],
      [['create', 'x', '--max', 'two'], /--max must be a whole number/],
      [['helped'], /helped: expected 1 argument, got 0/],
      [['helped', 'ws_x', '--undo', '--note', 'pip install'], /--note goes with a mark, not with --undo/],
      [['helped', 'ws_x', '--note'], /Option '--note <value>' argument missing/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });

  it('a wrong URL exits 3: nothing listening, or something that is not Sessionlog', async () => {
    const other = createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not here</h1>'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const port = (other.address() as AddressInfo).port;
    try {
      const html = await cli(['sessions', '--url', `http://127.0.0.1:${port}`]);
      expect(html.code).toBe(3);
      expect(html.stderr).toContain(`http://127.0.0.1:${port} does not look like a Sessionlog deployment: GET /api/sessions answered 404 text/html`);
    } finally {
      await new Promise((r) => other.close(r));
    }
    // The same port, now closed: connection refused.
    const refused = await cli(['sessions', '--url', `http://127.0.0.1:${port}`]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(`cannot reach http://127.0.0.1:${port} (ECONNREFUSED)`);
    const json = await cli(['sessions', '--url', `http://127.0.0.1:${port}`, '--json']);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stderr)).toMatchObject({ exit_code: 3, error: expect.stringContaining('cannot reach') });
  });

  it('a wrong token exits 3, naming where the token came from and never printing it', async () => {
    const wrong = await cli(['sessions'], { SESSIONLOG_TOKEN: 'sl_admin_not-the-token' });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain('refused the request (401): the token from SESSIONLOG_TOKEN was refused');
    expect(wrong.stderr + wrong.stdout).not.toContain('sl_admin_not-the-token');
    const flag = await cli(['sessions', '--token', 'nope-nope']);
    expect(flag.code).toBe(3);
    expect(flag.stderr).toContain('the token from --token was refused');
  });

  it('a session that does not exist exits 1', async () => {
    const end = await cli(['end', uniqueToken('nosuch')]);
    expect(end.code).toBe(1);
    expect(end.stderr).toMatch(/404 .*does not exist/);
    const tail = await cli(['tail', uniqueToken('nosuch')]);
    expect(tail.code).toBe(1);
  });

  it('sessions: a table with the workshop session just posted, filters and --json', async () => {
    const token = uniqueToken('ws_cli');
    const email = `${token.toLowerCase().replaceAll('_', '-')}@example.com`;
    await api('/api/session-log', {
      method: 'POST',
      body: JSON.stringify({ sessionToken: token, studentEmail: email, studentName: 'Table Student', eventType: 'error', eventData: { errorType: 'TypeError', errorMessage: 'x is undefined', currentStep: 2, stepName: 'Set up keys' } }),
    });
    const table = await cli(['sessions', '--search', token]);
    expect(table.code).toBe(0);
    const [header, row, ...rest] = table.stdout.trimEnd().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual(['SESSION', 'STUDENT', 'PLATFORM', 'STATUS', 'STARTED (UTC)', 'DURATION', 'EVENTS', 'ERRORS', 'STEP/PHASE']);
    expect(rest).toEqual([]);
    expect(row?.split(/\s{2,}/)).toEqual([token, `${email} (Table Student)`, 'web', 'active', expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/), '0s', '1', '1', '2 Set up keys']);
    // No colour codes when stdout is not a terminal.
    expect(table.stdout).not.toContain('\u001b[');

    const active = await cli(['sessions', '--active', '--student', email, '--json']);
    expect(active.code).toBe(0);
    const parsed = JSON.parse(active.stdout) as { count: number; sessions: Array<{ session_id: string; status: string }> };
    expect(parsed.sessions.map((s) => s.session_id)).toEqual([token]);
    const none = await cli(['sessions', '--student', 'nobody_at_all', '--json']);
    expect(JSON.parse(none.stdout)).toEqual({ count: 0, sessions: [] });
  });

  it('sessions --workshop: one room\'s sessions only, with --status and with --active', async () => {
    const base = uniqueToken('ws_cli_list');
    const room = `${base}_`;
    const decoy = `${base}Xada`; // the room's prefix as a LIKE pattern would take it: `_` matches X
    for (const token of [`${room}ada`, `${room}bob`, decoy, uniqueToken('ws_cli_list')]) {
      await api('/api/session-log', { method: 'POST', body: JSON.stringify({ sessionToken: token, eventType: 'action', eventData: { actionName: 'run_code' } }) });
    }
    await api(`/api/sessions/${room}ada/end`, { method: 'POST' });
    const ids = async (...args: string[]) => {
      const r = await cli(['sessions', ...args, '--json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return (JSON.parse(r.stdout) as { sessions: Array<{ session_id: string }> }).sessions.map((s) => s.session_id);
    };
    expect(await ids('--workshop', room)).toEqual([`${room}bob`, `${room}ada`]); // newest first
    expect(await ids('--workshop', room, '--status', 'completed')).toEqual([`${room}ada`]);
    expect(await ids('--workshop', room, '--active')).toEqual([`${room}bob`]);
    expect(await ids('--workshop', `${room}zz`)).toEqual([]);
    const table = await cli(['sessions', '--workshop', room, '--active']);
    expect(table.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(/\s{2,}/)[0])).toEqual([`${room}bob`]);
    const bad = await cli(['sessions', '--workshop', 'not a prefix']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('workshop');
    expect((await cli(['sessions', '--help'])).stdout).toContain('--workshop <prefix>');
  });

  it('help-needed: the students who need help in a workshop, highest need first, with why; an unknown prefix says so', async () => {
    const room = `${uniqueToken('ws_cli_room')}_`;
    const post = (token: string, name: string, eventType: string, eventData: Record<string, unknown>) =>
      api('/api/session-log', { method: 'POST', body: JSON.stringify({ sessionToken: token, studentName: name, studentEmail: `${token.toLowerCase().replaceAll('_', '-')}@example.com`, eventType, eventData }) });
    for (let i = 0; i < 3; i++) await post(`${room}ada`, 'Ada Stuck', 'error', { errorType: 'ImportError', errorMessage: 'No module named vapi', currentStep: 2, stepName: 'Install the SDK' });
    await post(`${room}bob`, 'Bob Fine', 'action', { actionName: 'run_code', currentStep: 3 });
    const r = await cli(['help-needed', '--workshop', room]);
    expect(r.code).toBe(0);
    const [head, header, row, ...rest] = r.stdout.trimEnd().split('\n');
    expect(head).toBe(`workshop ${room}: 1 of 2 active students need help`);
    expect(header?.split(/\s{2,}/)).toEqual(['#', 'STUDENT', 'SESSION', 'STEP', 'FOR', 'WHY']);
    expect(row?.split(/\s{2,}/)).toEqual(['1', 'Ada Stuck', `${room}ada`, '2 Install the SDK', expect.stringMatching(/^\d+s$/), expect.stringContaining('Same error 3× in 10 min: ImportError: No module named vapi')]);
    expect(rest).toEqual([]);
    const json = await cli(['help-needed', '--workshop', room, '--json']);
    expect((JSON.parse(json.stdout) as { students: Array<{ session_id: string }> }).students.map((s) => s.session_id)).toEqual([`${room}ada`]);
    const none = await cli(['help-needed', '--workshop', 'ws_no_such_room_']);
    expect(none.stdout).toBe('workshop ws_no_such_room_: no active sessions (check the prefix)\n');
  });

  it('helped: the student leaves the table for "Being helped:", is listed again with the mark after a new error, and --undo puts them back', async () => {
    const room = `${uniqueToken('ws_cli_helped')}_`;
    const post = (eventData: Record<string, unknown>) =>
      api('/api/session-log', { method: 'POST', body: JSON.stringify({ sessionToken: `${room}ada`, studentName: 'Ada Helped', studentEmail: `${room.toLowerCase().replaceAll('_', '-')}ada@example.com`, eventType: 'error', eventData }) });
    for (let i = 0; i < 3; i++) await post({ errorType: 'ImportError', errorMessage: 'No module named vapi', currentStep: 2 });
    const rows = async () => {
      const r = await cli(['help-needed', '--workshop', room]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return r.stdout.trimEnd().split('\n');
    };
    expect((await rows())[2]).toMatch(new RegExp(`^1\\s+Ada Helped\\s+${room}ada\\s`));

    const marked = await cli(['helped', `${room}ada`, '--note', 'pip install vapi_server_sdk']);
    expect(marked.stderr).toBe('');
    expect(marked.code).toBe(0);
    expect(marked.stdout).toMatch(new RegExp(`^${room}ada marked helped by admin at \\d\\d:\\d\\d:\\d\\d \\(note: pip install vapi_server_sdk\\)\\n$`));
    const [head, title, helped, ...rest] = await rows();
    expect(head).toBe(`workshop ${room}: nobody needs help (1 active, 1 being helped)`);
    expect(title).toBe('Being helped:');
    expect(helped?.trim().split(/\s{2,}/)).toEqual(['Ada Helped', `${room}ada`, 'by admin', expect.stringMatching(/^\d+(s| min) ago$/), 'pip install vapi_server_sdk']);
    expect(rest).toEqual([]);

    // Something new after the mark lists the student again, with the mark at the end of WHY.
    await post({ errorType: 'ImportError', errorMessage: 'cannot import name Vapi', currentStep: 2 });
    const again = await rows();
    expect(again[0]).toBe(`workshop ${room}: 1 of 1 active students need help`);
    expect(again[2]).toMatch(/; helped \d+(s| min) ago by admin \(note: pip install vapi_server_sdk\)$/);
    expect(again.slice(3)).toEqual([]);

    const undone = await cli(['helped', `${room}ada`, '--undo', '--json']);
    expect(undone.code).toBe(0);
    expect(JSON.parse(undone.stdout)).toEqual({ session_id: `${room}ada`, helped: null });
    const back = await rows();
    expect(back[2]).toContain('Same error 3× in 10 min: ImportError: No module named vapi');
    expect(back[2]).not.toMatch(/helped \d/);
    expect(back).not.toContain('Being helped:');
    expect((await cli(['helped', `${room}ada`, '--undo'])).stdout).toBe(`${room}ada helped mark undone\n`);
  });

  it('helped: an unknown session exits 1 with the 404, one that is not a workshop page\'s with the 409', async () => {
    const sid = uniqueToken('ws_nosuch');
    const missing = await cli(['helped', sid]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`POST /api/attention/${sid}/helped: 404 no session ${sid}`);
    const pair = uniqueToken('cli_helped_pair');
    await api('/api/sessions', { method: 'POST', body: JSON.stringify({ participant: 'helped_a', session_id: pair }) });
    const notWorkshop = await cli(['helped', pair, '--undo']);
    expect(notWorkshop.code).toBe(1);
    expect(notWorkshop.stderr).toContain(`DELETE /api/attention/${pair}/helped: 409 session ${pair} is not a workshop page's session`);
  });

  it('two-participant flow: create, join, say, phase, summary, end, assign; transcript export in timestamp,session_id,speaker,text', async () => {
    const sid = uniqueToken('cli_pair');
    const created = await cli(['create', 'cli_alice', '--id', sid, '--subject', 'Physics']);
    expect(created.code).toBe(0);
    expect(created.stdout).toBe(`${sid}\n`);
    expect((await cli(['join', sid, 'cli_bob'])).stdout).toBe(`cli_bob joined ${sid} as B (session active)\n`);
    expect((await cli(['say', sid, 'A', 'Hello, Bob'])).code).toBe(0);
    expect((await cli(['say', sid, 'B', 'Hi "Alice" =1+1'])).code).toBe(0);
    expect((await cli(['phase', sid, 'deep_dive'])).code).toBe(0);
    expect((await cli(['summary', sid, 'Covered vectors.'])).code).toBe(0);
    const third = await cli(['join', sid, 'cli_carol']);
    expect(third.code).toBe(1); // full: 409
    expect(third.stderr).toContain('409');

    const csv = await cli(['export', sid, '--transcript', '--format', 'csv']);
    expect(csv.code).toBe(0);
    const lines = csv.stdout.split('\r\n');
    expect(lines[0]).toBe('timestamp,session_id,speaker,text');
    expect(lines.slice(1, 3).map((l) => l.replace(/^[^,]+,/, ''))).toEqual([`${sid},A,"Hello, Bob"`, `${sid},B,"Hi ""Alice"" =1+1"`]);
    expect(lines[1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z,/);
    expect(lines.slice(3)).toEqual(['']);

    const ended = await cli(['end', sid, '--json']);
    expect(ended.code).toBe(0);
    expect(JSON.parse(ended.stdout)).toMatchObject({ session_id: sid, ended_now: true, session: { status: 'completed' } });
    expect((await cli(['end', sid])).stdout).toBe(`${sid} was already ended\n`);
    expect((await cli(['assign', sid, 'cli_alice'])).code).toBe(0);
    const doc = await api(`/api/sessions/${sid}`);
    expect(doc).toMatchObject({ status: 'completed', phase: 'deep_dive', summary: 'Covered vectors.', student_id: 'cli_alice', subject: 'Physics' });
    expect((doc.conversation as { entries: unknown[] }).entries).toHaveLength(2);
  });

  it('tail prints history, then an event posted while it runs, and stops when the session ends', async () => {
    const sid = uniqueToken('cli_tail');
    await api('/api/sessions', { method: 'POST', body: JSON.stringify({ participant: 'tail_a', session_id: sid, max_participants: 1 }) });
    await api(`/api/sessions/${sid}/transcript`, { method: 'POST', body: JSON.stringify({ speaker: 'A', text: 'before the tail' }) });
    const tail = start(['tail', sid, '--interval', '200']);
    await tail.waitFor(/following/, 'stderr');
    expect(tail.out()).toMatch(/transcript\s+A: before the tail/);
    const posted = Date.now();
    await api(`/api/sessions/${sid}/transcript`, { method: 'POST', body: JSON.stringify({ speaker: 'A', text: 'posted while tailing' }) });
    await tail.waitFor(/transcript\s+A: posted while tailing/);
    const latency = Date.now() - posted;
    expect(latency).toBeLessThan(3000);
    await api(`/api/sessions/${sid}/end`, { method: 'POST' });
    const r = await tail.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/session_ended/);
    expect(r.stderr).toContain(`session ${sid} ended`);
    // Each event once, whichever way it arrived.
    expect(r.stdout.match(/posted while tailing/g)).toHaveLength(1);
  });

  it('tail of a workshop token prints a posted error; --json gives timeline entries', async () => {
    const token = uniqueToken('ws_tail');
    await api('/api/session-log', { method: 'POST', body: JSON.stringify({ sessionToken: token, eventType: 'navigation', eventData: { from: 1, to: 2 } }) });
    const tail = start(['tail', token, '--json', '--interval', '200']);
    try {
      await tail.waitFor(/"event_type":"navigation"/);
      await new Promise((r) => setTimeout(r, 300));
      const { eventId } = (await api('/api/session-log', {
        method: 'POST',
        body: JSON.stringify({ sessionToken: token, eventType: 'error', eventData: { errorType: 'ImportError', errorMessage: 'No module named vapi' } }),
      })) as { eventId: string };
      await tail.waitFor(/"event_type":"error"/);
      const entries = tail.out().trim().split('\n').map((l) => JSON.parse(l) as { event_id: string; event_type: string; event_data: unknown });
      expect(entries.map((e) => e.event_type)).toEqual(['navigation', 'error']);
      expect(entries[1]).toMatchObject({ event_id: eventId, event_data: { errorType: 'ImportError', errorMessage: 'No module named vapi' } });
    } finally {
      tail.proc.kill('SIGINT');
      await tail.done;
    }
  });

  it('what students wrote is shown, never obeyed: control characters print as their escapes; --json keeps them as stored', async () => {
    // A public, unauthenticated page writes names, error messages and event data. Printed as sent,
    // ESC sequences would move the instructor's cursor, erase the line above, retitle the window or
    // plant a hyperlink; a newline would forge a second timeline line; U+202E would reorder the rest.
    const token = uniqueToken('ws_esc');
    const email = `${token.toLowerCase().replaceAll('_', '-')}@example.com`;
    const name = 'Eve\u001b]0;owned\u0007\u001b[2J';
    const action = 'run\u001b[1A\u001b[2K\u001b]8;;https://evil.example\u0007click\u001b]8;;\u0007';
    const message = 'fine\n09:00:00 error forged\u202eline';
    await api('/api/session-log', {
      method: 'POST',
      body: JSON.stringify({ sessionToken: token, studentEmail: email, studentName: name, events: [{ eventType: 'action', eventData: { actionName: action } }, { eventType: 'error', eventData: { errorType: 'E\u009b31m', errorMessage: message } }] }),
    });
    const controls = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
    const table = await cli(['sessions', '--search', token]);
    expect(table.code).toBe(0);
    expect(table.stdout).not.toMatch(controls);
    expect(table.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(table.stdout).toContain(`${email} (Eve\\u001b]0;owned\\u0007\\u001b[2J)`);

    const tail = start(['tail', token, '-n', '5', '--interval', '200']);
    try {
      await tail.waitFor(/following/, 'stderr');
      await tail.waitFor(/forged/);
      expect(tail.out()).not.toMatch(controls);
      expect(tail.err()).not.toMatch(controls);
      const lines = tail.out().trimEnd().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/action\s+run\\u001b\[1A\\u001b\[2K\\u001b\]8;;https:\/\/evil\.example\\u0007click\\u001b\]8;;\\u0007$/);
      expect(lines[1]).toContain('E\\u009b31m: fine\\u000a09:00:00 error forged\\u202eline');
    } finally {
      tail.proc.kill('SIGINT');
      await tail.done;
    }
    // Scripts and exports get the data as stored.
    const sid = uniqueToken('cli_esc');
    const said = 'line one\nline two\u001b[0m\u202e';
    await api('/api/sessions', { method: 'POST', body: JSON.stringify({ participant: 'esc_a', session_id: sid, max_participants: 1 }) });
    await api(`/api/sessions/${sid}/transcript`, { method: 'POST', body: JSON.stringify({ speaker: 'A', text: said }) });
    const transcript = await cli(['export', sid, '--transcript', '--format', 'ndjson']);
    expect(transcript.code).toBe(0);
    expect(JSON.parse(transcript.stdout)).toMatchObject({ session_id: sid, speaker: 'A', text: said });
    const json = start(['tail', token, '-n', '5', '--json', '--interval', '200']);
    try {
      await json.waitFor(/"event_type":"error"/);
      const entries = json.out().trim().split('\n').map((l) => JSON.parse(l) as { event_data: Record<string, unknown> });
      expect(entries.map((e) => e.event_data)).toEqual([{ actionName: action }, { errorType: 'E\u009b31m', errorMessage: message }]);
    } finally {
      json.proc.kill('SIGINT');
      await json.done;
    }
  });

  it('export: CSV and NDJSON of exactly the filtered events, progress on stderr only', async () => {
    const token = uniqueToken('ws_export');
    const events = [
      { eventType: 'navigation', eventData: { from: 1, to: 2 }, eventId: crypto.randomUUID(), timestamp: '2026-01-17T14:30:00Z' },
      { eventType: 'error', eventData: { errorType: 'TypeError', errorMessage: 'a, "quoted"\nmultiline message' }, eventId: crypto.randomUUID(), timestamp: '2026-01-17T14:30:01Z' },
      { eventType: 'action', eventData: { actionName: '=HYPERLINK("x")' }, eventId: crypto.randomUUID(), timestamp: '2026-01-17T14:30:02Z' },
    ];
    await api('/api/session-log', { method: 'POST', body: JSON.stringify({ sessionToken: token, studentEmail: 'export@example.com', events }) });

    const csv = await cli(['export', token, '--format', 'csv']);
    expect(csv.code).toBe(0);
    expect(csv.stderr).toMatch(/^exported 3 events in \d+\.\d s\n$/);
    const rows = parseCsv(csv.stdout);
    expect(rows[0]).toEqual(['event_id', 'created_at', 'session_token', 'event_type', 'student_id', 'student_email', 'student_name', 'event_data']);
    expect(rows.slice(1).map((r) => r[0])).toEqual(events.map((e) => e.eventId)); // oldest first
    expect(JSON.parse(rows[2]?.[7] ?? '')).toEqual(events[1]?.eventData);

    const errorsOnly = await cli(['export', '--session', token, '--type', 'error', '--format', 'ndjson']);
    const lines = errorsOnly.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event_id: string });
    expect(lines.map((l) => l.event_id)).toEqual([events[1]?.eventId]);
    const ranged = await cli(['export', token, '--since', '2026-01-17T14:30:01Z', '--until', '2026-01-17T14:30:02Z', '--format', 'ndjson', '--quiet']);
    expect(ranged.stderr).toBe('');
    expect(ranged.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { event_id: string }).event_id)).toEqual([events[1]?.eventId]);
    const bad = await cli(['export', '--student', 'not-an-email', '--format', 'csv']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('studentEmail');
  });

  it('export: --workshop and --error-type narrow it to exactly one room, one error type', async () => {
    const room = `${uniqueToken('ws_cli_export')}_`;
    const outside = uniqueToken('ws_cli_export'); // same start as the room's tokens, not its prefix
    const ev = (eventType: string, eventData: Record<string, unknown>, second: number) => ({ eventType, eventData, eventId: crypto.randomUUID(), timestamp: `2026-01-18T09:00:0${second}Z` });
    const ada = [
      ev('navigation', { from: 1, to: 2 }, 0),
      ev('error', { errorType: 'TypeError', errorMessage: 'x is undefined' }, 1),
      ev('error', { errorType: 'ImportError', errorMessage: 'No module named vapi' }, 2),
      ev('error', { errorMessage: 'something failed' }, 3),
    ];
    const bob = [ev('error', { errorType: 'TypeError', errorMessage: 'y is undefined' }, 4)];
    const other = [ev('error', { errorType: 'TypeError', errorMessage: 'z is undefined' }, 5)];
    for (const [sessionToken, events] of [[`${room}ada`, ada], [`${room}bob`, bob], [outside, other]] as const) {
      await api('/api/session-log', { method: 'POST', body: JSON.stringify({ sessionToken, events }) });
    }
    const ids = async (...args: string[]) => {
      const r = await cli(['export', ...args, '--format', 'ndjson', '--quiet']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return r.stdout.trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { event_id: string }).event_id);
    };
    const id = (e: { eventId: string } | undefined) => e?.eventId;

    expect(await ids('--workshop', room)).toEqual([...ada, ...bob].map(id));
    expect(await ids('--workshop', room, '--error-type', 'TypeError')).toEqual([ada[1], bob[0]].map(id));
    expect(await ids('--workshop', room, '--error-type', '(unspecified)')).toEqual([id(ada[3])]);
    expect(await ids('--session', outside, '--error-type', 'TypeError')).toEqual([id(other[0])]);
    expect(await ids('--workshop', room, '--error-type', 'RangeError')).toEqual([]);
    const csv = await cli(['export', '--workshop', room, '--error-type', 'ImportError', '--format', 'csv', '--quiet']);
    expect(parseCsv(csv.stdout).slice(1).map((r) => r[0])).toEqual([id(ada[2])]);

    const help = await cli(['export', '--help']);
    expect(help.stdout).toContain('--error-type <type>');
    expect(help.stdout).toContain('--workshop <prefix>');
  });
});

