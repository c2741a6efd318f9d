import type { ProgressSession, StudentProgress, Trend } from '../../lib/schemas/progress.js';
import type { Command } from '../command.js';
import { intFlag } from '../command.js';
import { aligned, duration, type Paint, printJson, shortTime, table } from '../output.js';

const pct = (v: number) => `${Math.round(v * 100)}%`;
const sessions = (n: number) => `${n} session${n === 1 ? '' : 's'}`;
const secs = (ms: number) => duration(ms / 1000);

/** The trends as the progress page reads them: first → last value, and whether that is good. */
const TRENDS: Array<{ key: keyof Omit<StudentProgress['trends'], 'last'>; label: string; fmt: (v: number) => string }> = [
  { key: 'accuracy', label: 'accuracy', fmt: pct },
  { key: 'time_per_attempt_ms', label: 'time per attempt', fmt: secs },
  { key: 'duration_seconds', label: 'session length', fmt: duration },
  { key: 'engagement', label: 'engagement', fmt: pct },
];

function trendLine(t: Trend, fmt: (v: number) => string, out: Paint): string[] {
  const values = t.values.flatMap((p) => (p.value === null ? [] : [p.value]));
  if (!values.length) return ['—', ''];
  const first = values[0] as number;
  const last = values.at(-1) as number;
  const span = values.length > 1 ? `${fmt(first)} → ${fmt(last)}` : fmt(last);
  // The direction needs two points; whether it is good, a metric that has a better way (not length).
  const word = t.direction === null ? 'one session' : t.improving === null || t.direction === 'flat' ? t.direction : `${t.direction}, ${t.improving ? 'improving' : 'worsening'}`;
  const paint = t.direction === 'flat' || t.improving === null ? 'gray' : t.improving ? 'green' : 'red';
  return [span, out(paint, t.direction === null ? word : `${word} over ${sessions(t.points)}`)];
}

function sessionRow(s: ProgressSession, out: Paint): string[] {
  const what = [s.subject, s.topic].filter(Boolean).join(' · ') || s.topics.concat(s.subjects)[0] || '';
  return [
    s.session_id,
    s.platform,
    shortTime(s.start_time),
    duration(s.duration_seconds),
    what,
    s.attempts ? `${s.correct}/${s.attempts}` : '',
    s.accuracy === null ? '' : pct(s.accuracy),
    s.avg_time_per_attempt_ms === null ? '' : secs(s.avg_time_per_attempt_ms),
    s.errors ? out('red', String(s.errors)) : '0',
  ];
}

/** `sessionlog progress`: the dashboard's student progress page, for an instructor at a terminal. */
export const progressCommand: Command = {
  name: 'progress',
  summary: "a student's progress across sessions: trends, sessions, topics, outstanding next steps",
  help: `Usage: sessionlog progress <student> [--last <n>] [--recent <k>] [--sessions <n>]

A student's sessions of every kind (voice calls, tool calls, practice, workshop pages, explicit
sessions) and how they are going (GET /api/students/{id}/progress, as the dashboard's progress page
shows it): the trends of accuracy, time per attempt, session length and engagement over the last
sessions, the latest sessions with their attempts, the topics not revisited lately, and the next
steps an analysis suggested that no later session took up.
  <student>        the student's id or email (e.g. demo_emma_smith, priya@example.com)
  --last <n>       trends over the last n sessions (2–100, default 10)
  --recent <k>     a topic absent from the last k sessions is "not revisited" (1–50, default 3)
  --sessions <n>   how many of the latest sessions to list (1–200, default 10)

Exit 1 when there is no such student (404).`,
  options: { last: { type: 'string' }, recent: { type: 'string' }, sessions: { type: 'string' } },
  positionals: [1, 1],
  async run({ client, args, flags, json, out }) {
    const [student] = args as [string];
    const last = intFlag(flags, 'last', 2, 100);
    const recent = intFlag(flags, 'recent', 1, 50);
    const shown = intFlag(flags, 'sessions', 1, 200) ?? 10;
    const p = await client.json<StudentProgress>('GET', `/api/students/${encodeURIComponent(student)}/progress`, { query: { last, recent } });
    if (json) {
      printJson(p);
      return 0;
    }
    const who = [p.student.name, p.student.email && p.student.email !== p.student.id ? p.student.email : null].filter(Boolean).join(', ');
    const lines = [`${out('bold', p.student.id)}${who ? ` (${who})` : ''}: ${sessions(p.session_count)}`];
    if (!p.sessions.length) {
      process.stdout.write(`${lines[0]}\n`);
      return 0;
    }
    lines.push(`Trends over the last ${sessions(Math.min(p.trends.last, p.sessions.length))}:`, aligned(TRENDS.map((t) => [t.label, ...trendLine(p.trends[t.key], t.fmt, out)]), '  '));
    const latest = p.sessions.slice(-shown).reverse();
    lines.push(
      `Latest sessions${p.sessions.length > latest.length ? ` (${latest.length} of ${p.session_count}; --sessions for more)` : ''}:`,
      table(['SESSION', 'PLATFORM', 'STARTED (UTC)', 'DURATION', 'SUBJECT', 'RIGHT', 'ACCURACY', 'PER ATTEMPT', 'ERRORS'], latest.map((s) => sessionRow(s, out)), out),
    );
    const stale = p.topics.not_revisited;
    if (stale.length) lines.push(`Not revisited in the last ${sessions(p.topics.recent)}: ${stale.map((t) => `${t.name} (last ${t.last_seen.slice(0, 10)})`).join(', ')}`);
    if (p.outstanding_next_steps.length) {
      lines.push(
        'Outstanding next steps:',
        aligned(p.outstanding_next_steps.map((s) => [`- ${s.step}`, out('gray', `suggested ${s.times_suggested}× · last in ${s.suggested_in} on ${s.suggested_at.slice(0, 10)}`)]), '  '),
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
