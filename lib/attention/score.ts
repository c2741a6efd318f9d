import type { AttentionReason, AttentionStep, AttentionStudent, ReasonCode } from '../schemas/attention.js';
import { ordinal } from '../util/order.js';
import type { AttentionFacts, RepeatRow, StepRow } from './query.js';

/**
 * The attention score (documented in the README, "Who needs help"). Each reason adds points; the
 * points of an error-driven reason halve every `halfLife` after its latest occurrence, so a fresh
 * problem outranks an old one and a student who recovered drops off by themselves. Being stuck
 * does not decay: it grows with the time on the step.
 */
export const WEIGHTS = {
  /** Same errorType + message ≥ repeat.count times in the window: 50, +10 per extra repeat, at most 80. */
  repeated: { base: 50, perExtra: 10, max: 80, halfLifeMs: 10 * 60_000, /** factor when the student has since moved to another step */ movedOn: 0.3 },
  /** Errors in the last few minutes: 10 each, at most 30. */
  recent: { each: 10, max: 30, halfLifeMs: 5 * 60_000 },
  /** Failed API calls (success=false or status ≥ 400) in the window: 8 each, at most 24. */
  failed: { each: 8, max: 24, halfLifeMs: 10 * 60_000 },
  /** Stuck: 40 at the threshold, +10 per extra multiple of the median, at most 80. */
  stuck: { base: 40, perMultiple: 10, max: 80 },
  /** Nothing since an error: 20, +2 per further minute, at most 40. */
  silent: { base: 20, perMinute: 2, max: 40 },
} as const;

export interface ScoreOptions {
  now: Date;
  repeatCount: number;
  repeatWindowMs: number;
  recentWindowMs: number;
  /** Stuck when time on the step > multiplier × the cohort median ... */
  stuckMultiplier: number;
  /** ... and at least this long ... */
  stuckMinMs: number;
  /** ... and at least this many students passed the step (fewer: no meaningful median). */
  stuckMinPassed: number;
  /** An error followed by this long without any event is "silence after an error". */
  silentAfterMs: number;
}

export interface ScoredStudent extends AttentionStudent {
  /** Set when the stuck reason applies: the step and how far over the median. */
  stuck: { step: string; seconds: number; medianSeconds: number } | null;
}

const decay = (points: number, ageMs: number, halfLifeMs: number) => points * 0.5 ** (Math.max(0, ageMs) / halfLifeMs);
const minutes = (ms: number) => `${Math.max(1, Math.round(ms / 60_000))} min`;
const iso = (v: string) => new Date(v).toISOString();
const NUMERIC = /^-?\d{1,15}(\.\d{1,15})?$/;
// Ties are broken in code-point order, not with localeCompare (lib/util/order.ts). Times the
// database wrote are compared as times (Date.parse): it writes them with its session's UTC
// offset, which changes with daylight saving time.

/** Score every active student; the ones with at least one reason, highest first. */
export function scoreStudents(facts: AttentionFacts, o: ScoreOptions): ScoredStudent[] {
  const now = o.now.getTime();
  const medians = new Map(facts.steps.map((s) => [s.step, s]));
  const repeatsOf = new Map<string, RepeatRow[]>();
  for (const r of facts.repeats) repeatsOf.set(r.token, [...(repeatsOf.get(r.token) ?? []), r]);
  const out: ScoredStudent[] = [];
  for (const a of facts.active) {
    const reasons: Array<AttentionReason & { points: number }> = [];
    // Helped (lib/attention/helped.ts): only what happened after the mark lists the student again.
    // The statement already counts the errors, repeats and failed calls from the mark (ADR 0024,
    // stop 38); `after` still decides silence after an error, and a reason that began before the
    // mark (stuck on the same step) holds since the mark at the earliest (the instructor was there).
    const mark = facts.helped.get(a.token);
    const helpedAt = mark ? Date.parse(mark.at) : Number.NEGATIVE_INFINITY;
    const after = (t: string) => Date.parse(t) > helpedAt;
    const add = (code: ReasonCode, points: number, message: string, since: string, count: number | null) =>
      reasons.push({ code, points, message, since: iso(mark && !after(since) ? mark.at : since), count });
    const stepSince = a.step_since ? new Date(a.step_since).getTime() : null;

    // The worst repeated error (most repeats, then most recent).
    const rep = (repeatsOf.get(a.token) ?? []).filter((r) => after(r.last_at)).sort((x, y) => y.n - x.n || Date.parse(y.last_at) - Date.parse(x.last_at))[0];
    if (rep) {
      const w = WEIGHTS.repeated;
      const last = new Date(rep.last_at).getTime();
      const movedOn = stepSince !== null && stepSince > last;
      const points = decay(Math.min(w.max, w.base + w.perExtra * (rep.n - o.repeatCount)), now - last, w.halfLifeMs) * (movedOn ? w.movedOn : 1);
      const what = rep.message ? `${rep.error_type}: ${rep.message}` : rep.error_type;
      add('repeated_error', points, `Same error ${rep.n}× in ${minutes(o.repeatWindowMs)}: ${clip(what)}${movedOn ? ' (has moved on since)' : ''}`, rep.first_at, rep.n);
    }
    if (a.recent_errors > 0 && a.recent_first && a.recent_last && after(a.recent_last)) {
      const w = WEIGHTS.recent;
      const points = decay(Math.min(w.max, w.each * a.recent_errors), now - new Date(a.recent_last).getTime(), w.halfLifeMs);
      add('recent_errors', points, `${a.recent_errors} error${a.recent_errors === 1 ? '' : 's'} in the last ${minutes(o.recentWindowMs)}`, a.recent_first, a.recent_errors);
    }
    if (a.failed_calls > 0 && a.failed_first && a.failed_last && after(a.failed_last)) {
      const w = WEIGHTS.failed;
      const points = decay(Math.min(w.max, w.each * a.failed_calls), now - new Date(a.failed_last).getTime(), w.halfLifeMs);
      add('failed_api_calls', points, `${a.failed_calls} failed API call${a.failed_calls === 1 ? '' : 's'} in the last ${minutes(o.repeatWindowMs)}`, a.failed_first, a.failed_calls);
    }
    let stuck: ScoredStudent['stuck'] = null;
    const m = a.step !== null ? medians.get(a.step) : undefined;
    if (a.step !== null && stepSince !== null && m && m.median_s !== null && m.passed >= o.stuckMinPassed) {
      const onStepMs = now - stepSince;
      const medianMs = Math.max(1000, m.median_s * 1000);
      const ratio = onStepMs / medianMs;
      // Helped on this step: stuck again only after another full threshold since the mark.
      const sinceHelpMs = helpedAt > stepSince ? now - helpedAt : onStepMs;
      if (ratio > o.stuckMultiplier && onStepMs >= o.stuckMinMs && sinceHelpMs / medianMs > o.stuckMultiplier && sinceHelpMs >= o.stuckMinMs) {
        const w = WEIGHTS.stuck;
        const name = a.step_name ? ` "${clip(a.step_name, 80)}"` : '';
        add(
          'stuck',
          Math.min(w.max, w.base + w.perMultiple * (ratio - o.stuckMultiplier)),
          `On step ${a.step}${name} for ${minutes(onStepMs)}, ${ratio.toFixed(1)}× the median (${minutes(medianMs)}) of ${m.passed} students who passed it`,
          new Date(stepSince).toISOString(),
          null,
        );
        stuck = { step: a.step, seconds: Math.round(onStepMs / 1000), medianSeconds: m.median_s };
      }
    }
    const lastMs = new Date(a.last_at).getTime();
    if (a.last_type === 'error' && now - lastMs >= o.silentAfterMs && after(a.last_at)) {
      const w = WEIGHTS.silent;
      const extraMin = (now - lastMs - o.silentAfterMs) / 60_000;
      add('silent_after_error', Math.min(w.max, w.base + w.perMinute * extraMin), `Nothing for ${minutes(now - lastMs)} since ${clip(a.last_error ?? 'an error')}`, a.last_at, null);
    }
    if (reasons.length === 0) continue;
    const score = Math.round(reasons.reduce((s, r) => s + r.points, 0) * 10) / 10;
    reasons.sort((x, y) => y.points - x.points);
    out.push({
      session_id: a.token,
      student_id: a.student_id,
      student_name: a.student_name,
      student_email: a.student_email,
      current_step: a.step,
      step_name: a.step_name,
      score,
      since: reasons.map((r) => r.since).sort()[0] as string,
      last_activity_at: iso(a.last_at),
      reasons: reasons.map(({ points: _points, ...r }) => r),
      stuck,
      ...(mark ? { helped: { at: iso(mark.at), by: mark.by, note: mark.note } } : {}),
    });
  }
  // Highest score first; equal scores: the longest-standing problem first.
  return out.sort((x, y) => y.score - x.score || ordinal(x.since, y.since) || ordinal(x.session_id, y.session_id));
}

/** Cohort progress: every step seen, in step order (numbered steps by number, others by first seen). */
export function cohortSteps(facts: AttentionFacts, scored: readonly ScoredStudent[]): AttentionStep[] {
  const stuck = new Map<string, number>();
  for (const s of scored) if (s.stuck) stuck.set(s.stuck.step, (stuck.get(s.stuck.step) ?? 0) + 1);
  const order = (x: StepRow, y: StepRow) => {
    const nx = NUMERIC.test(x.step);
    const ny = NUMERIC.test(y.step);
    if (nx && ny) return Number(x.step) - Number(y.step);
    if (nx !== ny) return nx ? -1 : 1;
    return Date.parse(x.first_seen) - Date.parse(y.first_seen);
  };
  return [...facts.steps].sort(order).map((s) => ({
    step: s.step,
    step_name: s.step_name,
    students: facts.onStep.get(s.step) ?? 0,
    stuck: stuck.get(s.step) ?? 0,
    median_seconds: s.median_s === null ? null : Math.round(s.median_s),
  }));
}

function clip(s: string, max = 160): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
