import type { AttentionResponse, HelpedMark } from '../../lib/schemas/attention.js';
import type { Command } from '../command.js';
import { str } from '../command.js';
import { aligned, duration, printJson, table } from '../output.js';
import { helper } from './helped.js';

/** How long ago, as an instructor says it: `45s`, `12 min`, `1h05m`. */
function ago(now: number, iso: string): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)} min` : duration(s);
}

const helpedText = (now: number, m: HelpedMark) => `helped ${ago(now, m.at)} ago by ${helper(m.by)}${m.note ? ` (note: ${m.note})` : ''}`;

/** `sessionlog help-needed`: the Now view's "Needs help" list, for an instructor at a terminal. */
export const helpNeededCommand: Command = {
  name: 'help-needed',
  summary: 'who needs help right now, highest need first',
  help: `Usage: sessionlog help-needed [--workshop <prefix>]

The students of active workshop sessions who need help, highest need first, with why
(GET /api/attention, as the dashboard's Now view shows them). A student listed again after a
helped mark (sessionlog helped) has it at the end of WHY; those marked in the last 30 minutes
with nothing new since are under "Being helped:", after the table.
  --workshop <prefix>   one workshop: session tokens starting with this (e.g. ws_room2_)`,
  options: { workshop: { type: 'string' } },
  positionals: [0, 0],
  async run({ client, flags, json, out }) {
    const workshop = str(flags.workshop);
    const a = await client.json<AttentionResponse>('GET', '/api/attention', { query: { workshop } });
    if (json) {
      printJson(a);
      return 0;
    }
    const now = Date.parse(a.generated_at) || Date.now();
    const room = workshop ? `workshop ${workshop}: ` : '';
    if (!a.students.length) {
      // An empty room is not a room where all is well: say which.
      const helping = a.helped?.length ? `, ${a.helped.length} being helped` : '';
      process.stdout.write(a.active_students ? `${room}nobody needs help (${a.active_students} active${helping})\n` : `${room}no active sessions${workshop ? ' (check the prefix)' : ''}\n`);
    } else {
      process.stdout.write(`${room}${a.students.length} of ${a.active_students} active students need help\n`);
      const body = a.students.map((s, i) => [
        String(i + 1),
        s.student_name ?? s.student_id ?? '(anonymous)',
        s.session_id,
        [s.current_step, s.step_name].filter(Boolean).join(' '),
        duration(Math.max(0, (now - Date.parse(s.since)) / 1000)),
        [out('red', s.reasons[0]?.message ?? ''), ...s.reasons.slice(1).map((r) => r.message), ...(s.helped ? [out('gray', helpedText(now, s.helped))] : [])].join('; '),
      ]);
      process.stdout.write(`${table(['#', 'STUDENT', 'SESSION', 'STEP', 'FOR', 'WHY'], body, out)}\n`);
    }
    // Older deployments answer without `helped`.
    const helped = a.helped ?? [];
    if (helped.length) {
      const rows = helped.map((h) => [h.student_name ?? h.student_id ?? '(anonymous)', h.session_id, `by ${helper(h.by)}`, `${ago(now, h.at)} ago`, h.note ?? '']);
      process.stdout.write(`Being helped:\n${aligned(rows, '  ')}\n`);
    }
    return 0;
  },
};
