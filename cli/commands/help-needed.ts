import type { Command } from '../command.js';
import { str } from '../command.js';
import { duration, printJson, table } from '../output.js';

interface Reason {
  code: string;
  message: string;
  since: string;
}
interface Student {
  session_id: string;
  student_id: string | null;
  student_name: string | null;
  current_step: string | null;
  step_name: string | null;
  score: number;
  since: string;
  reasons: Reason[];
}
interface Attention {
  generated_at: string;
  active_students: number;
  students: Student[];
}

/** `sessionlog help-needed`: the Now view's "Needs help" list, for an instructor at a terminal. */
export const helpNeededCommand: Command = {
  name: 'help-needed',
  summary: 'who needs help right now, highest need first',
  help: `Usage: sessionlog help-needed [--workshop <prefix>]

The students of active workshop sessions who need help, highest need first, with why
(GET /api/attention, as the dashboard's Now view shows them).
  --workshop <prefix>   one workshop: session tokens starting with this (e.g. ws_room2_)`,
  options: { workshop: { type: 'string' } },
  positionals: [0, 0],
  async run({ client, flags, json, out }) {
    const workshop = str(flags.workshop);
    const a = await client.json<Attention>('GET', '/api/attention', { query: { workshop } });
    if (json) {
      printJson(a);
      return 0;
    }
    const now = Date.parse(a.generated_at) || Date.now();
    const room = workshop ? `workshop ${workshop}: ` : '';
    if (!a.students.length) {
      // An empty room is not a room where all is well: say which.
      process.stdout.write(a.active_students ? `${room}nobody needs help (${a.active_students} active)\n` : `${room}no active sessions${workshop ? ' (check the prefix)' : ''}\n`);
      return 0;
    }
    process.stdout.write(`${room}${a.students.length} of ${a.active_students} active students need help\n`);
    const body = a.students.map((s, i) => [
      String(i + 1),
      s.student_name ?? s.student_id ?? '(anonymous)',
      s.session_id,
      [s.current_step, s.step_name].filter(Boolean).join(' '),
      duration(Math.max(0, (now - Date.parse(s.since)) / 1000)),
      [out('red', s.reasons[0]?.message ?? ''), ...s.reasons.slice(1).map((r) => r.message)].join('; '),
    ]);
    process.stdout.write(`${table(['#', 'STUDENT', 'SESSION', 'STEP', 'FOR', 'WHY'], body, out)}\n`);
    return 0;
  },
};
