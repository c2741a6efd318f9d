import type { HelpedAnswer } from '../../lib/schemas/attention.js';
import type { Command } from '../command.js';
import { str } from '../command.js';
import { usage } from '../errors.js';
import { printJson } from '../output.js';

/** Who marked it, as instructors call each other: `instructor:ms_lee` → `ms_lee` (`admin` stays). */
export const helper = (by: string) => by.replace(/^instructor:/, '');

/** `sessionlog helped`: the Now view's Helped button, for an instructor at a terminal. */
export const helpedCommand: Command = {
  name: 'helped',
  summary: 'mark a student helped, so help-needed lists them only for what happens next',
  help: `Usage: sessionlog helped <session> [--note <text>] [--undo]

Marks the student of a workshop session helped (POST /api/attention/{id}/helped): help-needed and
the dashboard's Now view stop listing them for what happened before the mark and show them under
"Being helped" for 30 minutes, so the other instructors go to the next student. A new error, a
failed call or being stuck again lists them again, with the mark.
  --note <text>   what was done, for the other instructors and the session's timeline (≤ 500 characters)
  --undo          take the mark back (a mark made by mistake; DELETE …/helped)

Exit 1 when the session does not exist (404) or is not a workshop page's (409).`,
  options: { note: { type: 'string' }, undo: { type: 'boolean' } },
  positionals: [1, 1],
  async run({ client, args, flags, json }) {
    const [sid] = args as [string];
    const note = str(flags.note);
    const undo = flags.undo === true;
    if (undo && note !== undefined) throw usage('--note goes with a mark, not with --undo');
    const path = `/api/attention/${encodeURIComponent(sid)}/helped`;
    const res = undo
      ? await client.json<HelpedAnswer>('DELETE', path)
      : await client.json<HelpedAnswer>('POST', path, note !== undefined ? { body: { note } } : {});
    if (json) printJson(res);
    else if (!res.helped) process.stdout.write(`${res.session_id} helped mark undone\n`);
    else {
      const { at, by, note: said } = res.helped;
      process.stdout.write(`${res.session_id} marked helped by ${helper(by)} at ${at.slice(11, 19)}${said ? ` (note: ${said})` : ''}\n`);
    }
    return 0;
  },
};
