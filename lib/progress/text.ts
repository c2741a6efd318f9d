import type { StudentProgress, Trend } from '../schemas/progress.js';

/** Sessions listed one per line in the prompt (the latest ones); trends and steps cover more. */
const PROMPT_SESSIONS = 10;

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…` : s);
const pct = (v: number | null) => (v === null ? 'n/a' : `${Math.round(v * 100)}%`);
const secs = (ms: number | null) => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);

function trendLine(label: string, t: Trend, unit: (v: number) => string): string {
  if (t.slope === null || t.direction === null) return `- ${label}: not enough data (${t.points} session${t.points === 1 ? '' : 's'})`;
  const verdict = t.improving === null ? '' : t.improving ? ', improving' : ', getting worse';
  const values = t.values.map((v) => (v.value === null ? '–' : unit(v.value))).join(' → ');
  return `- ${label}: ${t.direction} (${t.slope > 0 ? '+' : ''}${unit(t.slope)} per session${verdict}): ${values}`;
}

/**
 * The student's progress before this session as prompt text: recent sessions, trends, topics left
 * behind and next steps not yet addressed, so the model's next steps build on what came before.
 * Topics and steps come from pages and earlier model answers: the caller puts this in a data block.
 */
export function progressText(p: StudentProgress): string {
  if (!p.sessions.length) return 'none (this is the first session of this student)';
  const lines = [`Earlier sessions: ${p.session_count}${p.sessions.length > PROMPT_SESSIONS ? ` (the latest ${PROMPT_SESSIONS} listed)` : ''}`];
  for (const s of p.sessions.slice(-PROMPT_SESSIONS)) {
    const what = [...s.subjects, ...s.topics].map((x) => clip(x, 60)).join(', ') || 'no subject';
    const attempts = s.attempts ? `${s.correct}/${s.attempts} correct (${pct(s.accuracy)}), ${secs(s.avg_time_per_attempt_ms)} per attempt` : 'no attempts';
    lines.push(`- ${s.start_time.slice(0, 16)}Z ${s.platform}, ${Math.round(s.duration_seconds / 60)} min, ${what}: ${attempts}, engagement ${s.engagement_score ?? 'n/a'}`);
  }
  const t = p.trends;
  lines.push(`Trends over the last ${Math.min(t.last, p.sessions.length)} sessions:`);
  lines.push(trendLine('accuracy', t.accuracy, pct));
  lines.push(trendLine('time per attempt', t.time_per_attempt_ms, secs));
  lines.push(trendLine('duration', t.duration_seconds, (v) => `${Math.round(v)} s`));
  lines.push(trendLine('engagement', t.engagement, (v) => v.toFixed(2)));
  const left = p.topics.not_revisited.map((c) => `${clip(c.name, 60)} (last ${c.last_seen.slice(0, 10)})`);
  lines.push(`Topics not revisited in the last ${p.topics.recent} sessions: ${left.join(', ') || 'none'}`);
  lines.push('Next steps suggested earlier and not yet addressed:');
  if (!p.outstanding_next_steps.length) lines.push('- none');
  for (const s of p.outstanding_next_steps) {
    lines.push(`- ${clip(s.step, 300)} (suggested ${s.suggested_at.slice(0, 10)}${s.times_suggested > 1 ? `, ${s.times_suggested} times` : ''})`);
  }
  return lines.join('\n');
}
