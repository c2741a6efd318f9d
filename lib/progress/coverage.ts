import type { OutstandingStep, ProgressSession } from '../schemas/progress.js';
import { byName, ordinal } from '../util/order.js';

/** Topic names compare case- and space-insensitively ("Fractions " is "fractions"). */
export const topicKey = (s: string) => s.trim().replace(/\s+/g, ' ').toLowerCase();

export interface Coverage {
  name: string;
  kind: 'subject' | 'topic';
  sessions: number;
  first_seen: string;
  last_seen: string;
  last_session_id: string;
  /** Position of the last session that covered it (oldest = 0). */
  lastIndex: number;
}

/** Every subject and topic of the sessions (oldest first), with where it was last seen. */
export function coverage(sessions: readonly ProgressSession[]): Coverage[] {
  const byKey = new Map<string, Coverage>();
  sessions.forEach((s, i) => {
    const names: Array<[string, 'subject' | 'topic']> = [...s.topics.map((t) => [t, 'topic'] as [string, 'topic']), ...s.subjects.map((t) => [t, 'subject'] as [string, 'subject'])];
    const seen = new Set<string>();
    for (const [name, kind] of names) {
      const key = topicKey(name);
      if (!key || seen.has(key)) continue; // a name that is both subject and topic counts once per session, as a topic
      seen.add(key);
      const c = byKey.get(key);
      if (c) Object.assign(c, { sessions: c.sessions + 1, last_seen: s.start_time, last_session_id: s.session_id, lastIndex: i });
      else byKey.set(key, { name: name.trim(), kind, sessions: 1, first_seen: s.start_time, last_seen: s.start_time, last_session_id: s.session_id, lastIndex: i });
    }
  });
  // start_time is UTC ISO text: newest first; then by name, without localeCompare (lib/util/order.ts).
  return [...byKey.values()].sort((a, b) => ordinal(b.last_seen, a.last_seen) || byName(a.name, b.name));
}

/** Covered, but in none of the last `recent` sessions (nothing when there are no earlier sessions). */
export const notRevisited = (covered: readonly Coverage[], sessionCount: number, recent: number) =>
  covered.filter((c) => c.lastIndex < sessionCount - recent);

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether `text` names `term` as whole words, case-insensitively ("fractions" in "Practise fractions daily"). */
export function names(text: string, term: string): boolean {
  const t = topicKey(term);
  if (t.length < 3) return false; // "a", "UI": too short to mean anything inside a sentence
  return new RegExp(`(^|[^\\p{L}\\p{N}])${escapeRegex(t)}($|[^\\p{L}\\p{N}])`, 'u').test(text.toLowerCase());
}

/** What a session practised or covered: terms a next step may name. */
const sessionTerms = (s: ProgressSession) => [...s.subjects, ...s.topics, ...s.concepts_covered];

/**
 * Next steps suggested by a session's analysis and not addressed since. A step is addressed when a
 * LATER session (one that started after the suggesting one) covered something the step names: one
 * of its subjects or topics, or a concept its analysis lists in concepts_covered, appears as whole
 * words in the step's text. A step suggested again by a later analysis stays outstanding once, dated
 * by its latest suggestion, with the number of times it was suggested. Newest first, at most `limit`.
 */
export function outstandingSteps(sessions: readonly ProgressSession[], limit = 20): OutstandingStep[] {
  const byText = new Map<string, OutstandingStep>();
  sessions.forEach((s, i) => {
    const later = sessions.slice(i + 1).flatMap(sessionTerms);
    for (const step of s.next_steps) {
      const text = step.trim();
      if (!text || later.some((term) => names(text, term))) continue;
      const key = topicKey(text);
      const prev = byText.get(key);
      byText.set(key, { step: text, suggested_in: s.session_id, suggested_at: s.start_time, times_suggested: (prev?.times_suggested ?? 0) + 1 });
    }
  });
  return [...byText.values()].sort((a, b) => ordinal(b.suggested_at, a.suggested_at)).slice(0, limit);
}
