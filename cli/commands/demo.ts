/**
 * `sessionlog demo`: a realistic day in any deployment, through its public API only — so a new
 * user opens the dashboard and sees it working. Idempotent: every id is derived from the tag, and
 * the times from the moment of the first run (kept in the pair session's metadata), so a second run
 * sends the same events and calls and the deployment's de-duplication stores nothing new. What
 * carries no id to de-duplicate on (a practice sitting's interactions, the pair's transcript) is
 * sent only where it is still missing.
 */
import type { Client } from '../client.js';
import type { Command } from '../command.js';
import { str } from '../command.js';
import { CliError, EXIT, usage } from '../errors.js';
import { printJson } from '../output.js';
import { demoCalls, demoStudents } from '../demo/calls.js';
import { finishPair, startPair } from '../demo/pair.js';
import { postPractice } from '../demo/practice.js';
import { STEPS, workshop } from '../demo/workshop.js';

interface Ingested {
  accepted: number;
  duplicates: number;
}

async function postWorkshop(client: Client, tag: string, anchor: Date) {
  const room = workshop(tag, anchor);
  const total: Ingested = { accepted: 0, duplicates: 0 };
  for (const s of room) {
    // One batch per student, as the logging client flushes; public endpoint, so no token.
    const res = await client.json<Ingested>('POST', '/api/session-log', {
      auth: false,
      body: { sessionToken: s.sessionToken, studentEmail: s.studentEmail, studentName: s.studentName, events: s.events },
    });
    total.accepted += res.accepted;
    total.duplicates += res.duplicates;
  }
  return { students: room.length, events: room.reduce((n, s) => n + s.events.length, 0), ...total };
}

async function deliverCalls(client: Client, tag: string, anchor: Date, secret: string | undefined) {
  const calls = demoCalls(tag, anchor);
  let deliveries = 0;
  for (const c of calls) {
    for (const m of c.messages) {
      try {
        await client.json('POST', '/api/webhooks/vapi', { auth: false, body: m, headers: secret ? { 'x-vapi-secret': secret } : {} });
      } catch (err) {
        if (err instanceof CliError && err.exitCode === EXIT.REACH && /\(401\)|refused/.test(err.message)) {
          throw new CliError(
            EXIT.REACH,
            `${client.target.url} refused the Vapi webhook (401): ${secret ? 'the Vapi secret was refused' : 'this deployment needs its Vapi secret'} — pass --vapi-secret or set VAPI_SECRET to the deployment's VAPI_WEBHOOK_SECRET.`,
          );
        }
        throw err;
      }
      deliveries++;
    }
  }
  return { calls: calls.length, deliveries, call_ids: calls.map((c) => c.callId) };
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'fill the deployment with a realistic day (idempotent)',
  help: `Usage: sessionlog demo [--tag <name>] [--vapi-secret <secret>]

Fills the deployment with a day of demo data through its API (also: npm run demo):
  - a workshop: 30 students on 6 steps, one stuck at step 3 repeating an error, and a broken step 5
    (most of the room hits the same ModuleNotFoundError) — see the dashboard's Now view;
  - three tutoring calls sent to POST /api/webhooks/vapi as Vapi sends them (status update and
    end-of-call report with transcript, tool calls and results, recording, costs); the tutors'
    record_attempt calls grade the students' answers, so each call counts in their accuracy;
  - before them, 11 practice sittings of those three students on earlier days (tool-call
    interactions and answered questions), so each student's progress page shows trends;
  - a two-participant session with phases, transcript and summary.
Running it again adds nothing: ids are derived from the tag and times from the first run.
Students, emails and session ids all carry the tag (default "demo"), e.g. ws_demo_ada_lovelace.
  --tag <name>            namespace for ids (lowercase letters and digits, up to 16; default demo)
  --vapi-secret <secret>  the deployment's VAPI_WEBHOOK_SECRET (env VAPI_SECRET or
                          VAPI_WEBHOOK_SECRET); a local server without one accepts webhooks
The token must be an admin token (students are created with PUT /api/students).`,
  options: { tag: { type: 'string' }, 'vapi-secret': { type: 'string' } },
  positionals: [0, 0],
  async run(ctx) {
    const tag = str(ctx.flags.tag) ?? 'demo';
    if (!/^[a-z][a-z0-9]{0,15}$/.test(tag)) throw usage('--tag must be 1–16 lowercase letters and digits, starting with a letter');
    const secret = str(ctx.flags['vapi-secret']) ?? ctx.env.VAPI_SECRET ?? ctx.env.VAPI_WEBHOOK_SECRET;
    const { client } = ctx;
    const say = (line: string) => {
      if (!ctx.json) process.stderr.write(`${line}\n`);
    };

    const pair = await startPair(client, tag);
    const anchor = pair.anchor;
    say(`demo "${tag}" in ${client.target.url}, day anchored at ${anchor.toISOString()}${pair.existed ? ' (from the first run)' : ''}`);

    for (const s of demoStudents(tag)) {
      const { id, ...body } = s;
      await client.json('PUT', `/api/students/${encodeURIComponent(id)}`, { body });
    }
    const ws = await postWorkshop(client, tag, anchor);
    say(`  workshop: ${ws.students} students × ${STEPS.length} steps, ${ws.events} events → ${ws.accepted} stored, ${ws.duplicates} already there`);
    const practice = await postPractice(client, tag, anchor);
    const added = practice.interactions ? `${practice.opened} opened, ${practice.interactions} interactions` : 'all there already';
    say(`  practice: ${practice.students} students, ${practice.sittings} sittings on earlier days (${added}), ${practice.attempts} attempts → ${practice.accepted} stored, ${practice.duplicates} already there`);
    const calls = await deliverCalls(client, tag, anchor, secret);
    say(`  calls:    ${calls.calls} tutoring calls, ${calls.deliveries} Vapi messages delivered (re-deliveries change nothing)`);
    const done = await finishPair(client, tag);
    say(`  pair:     ${done.sessionId} ${done.ran ? 'created, joined, 3 phases, summary, ended' : `already there (${done.status})`}`);
    const [emma] = demoStudents(tag);
    say(`open ${client.target.url}/dashboard/ (${emma?.name}'s progress: ${client.target.url}/dashboard/#/student/${emma?.id})`);
    if (ctx.json) printJson({ tag, anchor: anchor.toISOString(), workshop: ws, practice, calls, pair: { session_id: done.sessionId, created: !pair.existed, status: done.status } });
    return 0;
  },
};
