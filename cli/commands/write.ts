/**
 * The writes: ending and assigning sessions, and the two-participant flow of the session-management
 * design's interactive CLI (create → join → say → phase → summary → end).
 */
import type { Command, Context } from '../command.js';
import { intFlag, str } from '../command.js';
import { printJson } from '../output.js';

const id = (s: string) => encodeURIComponent(s);

/** Prints the JSON answer with --json, else one human line. */
function done(ctx: Context, body: unknown, line: string): number {
  if (ctx.json) printJson(body);
  else process.stdout.write(`${line}\n`);
  return 0;
}

interface SessionDoc {
  session_id: string;
  status: string;
  participants: Array<{ id: string; role: string }>;
}

export const endCommand: Command = {
  name: 'end',
  summary: 'end a session (idempotent)',
  help: `Usage: sessionlog end <session>

Ends the session now (POST /api/sessions/{id}/end). Ending an ended session changes nothing.`,
  positionals: [1, 1],
  async run(ctx) {
    const [sid] = ctx.args as [string];
    const res = await ctx.client.json<{ ended_now?: boolean; session?: SessionDoc; status?: string }>('POST', `/api/sessions/${id(sid)}/end`);
    return done(ctx, res, res.ended_now === false ? `${sid} was already ended` : `${sid} ended`);
  },
};

export const assignCommand: Command = {
  name: 'assign',
  summary: 'attach a session (e.g. an unidentified call) to a student',
  help: `Usage: sessionlog assign <session> <student>

Attaches the session to the student (POST /api/sessions/{id}/assign; admin token).`,
  positionals: [2, 2],
  async run(ctx) {
    const [sid, student] = ctx.args as [string, string];
    const res = await ctx.client.json('POST', `/api/sessions/${id(sid)}/assign`, { body: { student_id: student } });
    return done(ctx, res, `${sid} assigned to ${student}`);
  },
};

export const createCommand: Command = {
  name: 'create',
  summary: 'create a two-participant session; prints its id',
  help: `Usage: sessionlog create <participant> [--id <session>] [--subject <s>] [--topic <t>] [--platform <p>] [--max <n>]

Creates an explicit session with <participant> as A (POST /api/sessions). It waits for the second
participant (sessionlog join). Prints the session id alone, so SID=$(sessionlog create alice) works.
  --id <session>   choose the session id (default: <participant>_<YYYYMMDD>_<HHMM>)
  --max <n>        participants before it is active (default 2)`,
  options: { id: { type: 'string' }, subject: { type: 'string' }, topic: { type: 'string' }, platform: { type: 'string' }, max: { type: 'string' } },
  positionals: [1, 1],
  async run(ctx) {
    const [participant] = ctx.args as [string];
    const f = ctx.flags;
    const body: Record<string, unknown> = { participant };
    for (const [flag, field] of [['id', 'session_id'], ['subject', 'subject'], ['topic', 'topic'], ['platform', 'platform']] as const) {
      if (str(f[flag])) body[field] = str(f[flag]);
    }
    const max = intFlag(f, 'max', 1, 26);
    if (max !== undefined) body.max_participants = max;
    const res = await ctx.client.json<SessionDoc>('POST', '/api/sessions', { body });
    return done(ctx, res, res.session_id);
  },
};

export const joinCommand: Command = {
  name: 'join',
  summary: 'join a session as its next participant',
  help: `Usage: sessionlog join <session> <participant>

Joins as the next participant (POST /api/sessions/{id}/join): B, then C… A full session is a 409 (exit 1).`,
  positionals: [2, 2],
  async run(ctx) {
    const [sid, participant] = ctx.args as [string, string];
    const res = await ctx.client.json<{ role: string; session: SessionDoc }>('POST', `/api/sessions/${id(sid)}/join`, { body: { participant } });
    return done(ctx, res, `${participant} joined ${sid} as ${res.role} (session ${res.session.status})`);
  },
};

export const sayCommand: Command = {
  name: 'say',
  summary: 'append a line to the transcript',
  help: `Usage: sessionlog say <session> <speaker> <text>

Appends one transcript entry (POST /api/sessions/{id}/transcript). Speaker is a participant's role
(A, B…), a participant id, or "agent". Quote the text.`,
  positionals: [3, 3],
  async run(ctx) {
    const [sid, speaker, text] = ctx.args as [string, string, string];
    const res = await ctx.client.json('POST', `/api/sessions/${id(sid)}/transcript`, { body: { speaker, text } });
    return done(ctx, res, `${speaker}: ${text}`);
  },
};

export const phaseCommand: Command = {
  name: 'phase',
  summary: "change a session's phase",
  help: `Usage: sessionlog phase <session> <phase>

Sets the phase (POST /api/sessions/{id}/phase), e.g. intro, deep_dive, wrap_up.`,
  positionals: [2, 2],
  async run(ctx) {
    const [sid, phase] = ctx.args as [string, string];
    const res = await ctx.client.json('POST', `/api/sessions/${id(sid)}/phase`, { body: { phase } });
    return done(ctx, res, `${sid} phase: ${phase}`);
  },
};

export const summaryCommand: Command = {
  name: 'summary',
  summary: "set a session's summary",
  help: `Usage: sessionlog summary <session> <text>

Sets the summary (PUT /api/sessions/{id}/summary). Quote the text.`,
  positionals: [2, 2],
  async run(ctx) {
    const [sid, summary] = ctx.args as [string, string];
    const res = await ctx.client.json('PUT', `/api/sessions/${id(sid)}/summary`, { body: { summary } });
    return done(ctx, res, `${sid} summary set`);
  },
};

export const writeCommands = [endCommand, assignCommand, createCommand, joinCommand, sayCommand, phaseCommand, summaryCommand];
