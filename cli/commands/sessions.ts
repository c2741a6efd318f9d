import type { Command } from '../command.js';
import { intFlag, str } from '../command.js';
import { usage } from '../errors.js';
import { duration, printJson, shortTime, table } from '../output.js';

interface Row {
  session_id: string;
  student_id: string | null;
  student_name: string | null;
  platform: string;
  status: string;
  start_time: string;
  duration_seconds: number;
  phase: string | null;
  event_count?: number;
  error_count?: number;
  current_step: string | null;
  step_name: string | null;
}

const STATUS_COLOUR = { active: 'green', waiting: 'yellow', completed: 'gray', abandoned: 'red' } as const;

export const sessionsCommand: Command = {
  name: 'sessions',
  summary: 'list sessions as a table (newest first)',
  help: `Usage: sessionlog sessions [--active] [--workshop <prefix>] [--student <id>] [--platform <p>] [--status <s>] [--search <text>] [--limit <n>]

Lists sessions, newest first (GET /api/sessions; with --active, GET /api/sessions/active).
  --active             only open sessions (active or waiting), most recently active first
  --workshop <prefix>  one workshop: session ids starting with this (e.g. ws_room2_)
  --student <id>       one student's sessions (student id, e.g. emma_smith or priya@example.com)
  --platform <p>       web, vapi, mcp, superinterface, …
  --status <s>         waiting, active, completed or abandoned
  --search <text>      any part of the student's email, name or id, or of the session id
  --limit <n>          at most n rows (default 50)`,
  options: {
    active: { type: 'boolean' },
    workshop: { type: 'string' },
    student: { type: 'string' },
    platform: { type: 'string' },
    status: { type: 'string' },
    search: { type: 'string' },
    limit: { type: 'string' },
  },
  positionals: [0, 0],
  async run({ client, flags, json, out }) {
    const limit = intFlag(flags, 'limit', 1, 500);
    let rows: Row[];
    if (flags.active && (flags.status || flags.search)) throw usage('--active combines with --workshop, --student, --platform and --limit only');
    const workshop = str(flags.workshop);
    if (flags.active) {
      // The server narrows to the workshop (it lists at most 500 open sessions, and a busy day's
      // rooms can hold more); the student and platform filters are applied to the rest here.
      const res = await client.json<{ sessions: Row[] }>('GET', '/api/sessions/active', { query: { workshop } });
      const student = str(flags.student);
      const platform = str(flags.platform);
      rows = res.sessions.filter((s) => (!student || s.student_id === student) && (!platform || s.platform === platform));
      if (limit) rows = rows.slice(0, limit);
    } else {
      const res = await client.json<{ sessions: Row[] }>('GET', '/api/sessions', {
        query: { student_id: str(flags.student), platform: str(flags.platform), status: str(flags.status), q: str(flags.search), workshop, limit },
      });
      rows = res.sessions;
    }
    if (json) {
      printJson({ count: rows.length, sessions: rows });
      return 0;
    }
    if (!rows.length) {
      process.stdout.write('no sessions\n');
      return 0;
    }
    const body = rows.map((s) => [
      s.session_id,
      s.student_name ? `${s.student_id ?? ''} (${s.student_name})` : (s.student_id ?? ''),
      s.platform,
      out(STATUS_COLOUR[s.status as keyof typeof STATUS_COLOUR] ?? 'bold', s.status),
      shortTime(s.start_time),
      duration(s.duration_seconds),
      String(s.event_count ?? ''),
      s.error_count ? out('red', String(s.error_count)) : String(s.error_count ?? ''),
      [s.current_step, s.step_name].filter(Boolean).join(' ') || (s.phase ?? ''),
    ]);
    process.stdout.write(`${table(['SESSION', 'STUDENT', 'PLATFORM', 'STATUS', 'STARTED (UTC)', 'DURATION', 'EVENTS', 'ERRORS', 'STEP/PHASE'], body, out)}\n`);
    return 0;
  },
};
