/**
 * Practice sittings of the three tutoring students on the days before their calls, so each one's
 * progress (GET /api/students/{id}/progress, the dashboard's #/student/<id>) has a history to draw:
 * accuracy, time per attempt and topics over several sessions. Emma gets better at fractions day by
 * day (40% → 80%, faster each time); Liam is steady but for a dip on a new topic; Sofia has two.
 *
 * Posted as a tool server and its practice page post them (README "Student progress"): the tool
 * server's interactions (POST /api/sessions/interactions with past timestamps) open the sitting,
 * fetch each next question and close it; the page posts each answer as an `attempt` event with the
 * sitting's write token. Interactions carry no id to de-duplicate on, so a sitting that exists
 * (its id follows from its first interaction's time) gets only the interactions it lacks; the
 * attempts carry derived event ids and are simply sent again.
 */
import type { Client } from '../client.js';
import { CliError, EXIT } from '../errors.js';
import { type DemoStudent, demoStudents } from './calls.js';
import { demoUuid, seeded } from './ids.js';
import { readSession } from './pair.js';

interface SittingPlan {
  /** Whole days before the anchor… */
  days: number;
  /** …and minutes before the anchor's time of day: the student's usual slot, near their call's. */
  minutes: number;
  /** The sitting's subtopic, and the topic of its attempts. */
  skill: string;
  /** One character per question, in order: 1 right, 0 wrong. */
  marks: string;
  /** Average seconds per question. */
  secs: number;
}

interface StudentPlan {
  student: DemoStudent;
  subject: string;
  topic: string;
  sittings: SittingPlan[];
}

function plans(tag: string): StudentPlan[] {
  const [emma, liam, sofia] = demoStudents(tag) as [DemoStudent, DemoStudent, DemoStudent];
  // At least two days apart: even the longest session timeout (a day) cannot join two sittings.
  return [
    {
      student: emma, subject: 'Math', topic: 'Fractions',
      sittings: [
        { days: 9, minutes: 320, skill: 'Equivalent fractions', marks: '10010', secs: 52 },
        { days: 7, minutes: 305, skill: 'Equivalent fractions', marks: '101100', secs: 45 },
        { days: 4, minutes: 335, skill: 'Adding fractions', marks: '110110', secs: 38 },
        { days: 2, minutes: 310, skill: 'Adding fractions', marks: '11011', secs: 31 },
      ],
    },
    {
      student: liam, subject: 'Science', topic: 'Biology',
      sittings: [
        { days: 12, minutes: 190, skill: 'Cells', marks: '110110', secs: 26 },
        { days: 10, minutes: 200, skill: 'Cells', marks: '111011', secs: 24 },
        { days: 8, minutes: 195, skill: 'Respiration', marks: '10010', secs: 37 },
        { days: 5, minutes: 185, skill: 'Photosynthesis', marks: '110111', secs: 25 },
        { days: 3, minutes: 190, skill: 'Photosynthesis', marks: '111111', secs: 23 },
      ],
    },
    {
      student: sofia, subject: 'Math', topic: 'Linear equations',
      sittings: [
        { days: 6, minutes: 100, skill: 'One-step equations', marks: '10100', secs: 74 },
        { days: 3, minutes: 95, skill: 'Two-step equations', marks: '110101', secs: 63 },
      ],
    },
  ];
}

export interface Sitting {
  /** The id the interactions endpoint gives it (sittingId). */
  sessionId: string;
  studentId: string;
  /** Bodies for POST /api/sessions/interactions, in time order: open, one per next question, close. */
  interactions: Array<Record<string, unknown>>;
  /** The page's `attempt` events, for POST /api/session-log with the sitting's write token. */
  attempts: Array<{ eventId: string; eventType: 'attempt'; eventData: Record<string, unknown>; timestamp: string }>;
}

const DAY = 86_400_000;
const MIN = 60_000;
const iso = (t: number) => new Date(t).toISOString();

/** `<student>_<YYYYMMDD>_<HHMM>`, the UTC minute of the first interaction (README "Automatic sessions"). */
export function sittingId(studentId: string, at: Date): string {
  const iso = at.toISOString();
  return `${studentId}_${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}_${iso.slice(11, 13)}${iso.slice(14, 16)}`;
}

/** Every sitting, oldest first per student; the same ids, times and answers on every run. */
export function practiceSittings(tag: string, anchor: Date): Sitting[] {
  return plans(tag).flatMap(({ student, subject, topic, sittings }) =>
    sittings.map((p, n) => {
      const start = anchor.getTime() - p.days * DAY - p.minutes * MIN;
      const sessionId = sittingId(student.id, new Date(start));
      const base = { student_id: student.id, timestamp: iso(start) };
      // Each question's time varies, but their mean is the plan's: the trend shows what the plan says.
      const rnd = seeded(tag, 'practice', student.id, n);
      const weights = [...p.marks].map(() => 0.8 + rnd() * 0.4);
      const mean = weights.reduce((a, w) => a + w, 0) / weights.length;
      const interactions: Sitting['interactions'] = [
        { ...base, function: 'start_practice', parameters: { skill: p.skill, questions: p.marks.length }, subject, topic, subtopic: p.skill },
      ];
      const attempts: Sitting['attempts'] = [];
      let t = start + 1500;
      [...p.marks].forEach((mark, k) => {
        const timeMs = Math.round((p.secs * 10 * weights[k]!) / mean) * 100;
        t += timeMs;
        attempts.push({
          eventId: demoUuid(tag, 'practice', sessionId, k),
          eventType: 'attempt',
          eventData: { correct: mark === '1', timeMs, subject, topic: p.skill, question: k + 1 },
          timestamp: iso(t),
        });
        t += 1500;
        // A question at a time: the sitting's interactions are never further apart than one answer.
        if (k < p.marks.length - 1) interactions.push({ ...base, function: 'next_question', parameters: { skill: p.skill, question: k + 2 }, timestamp: iso(t) });
      });
      const correct = [...p.marks].filter((m) => m === '1').length;
      interactions.push({ ...base, function: 'end_practice', parameters: { skill: p.skill, answered: p.marks.length, correct }, timestamp: iso(t + 2000) });
      return { sessionId, studentId: student.id, interactions, attempts };
    }),
  );
}

interface Ingested {
  accepted: number;
  duplicates: number;
}

/** Posts the sittings (what is missing of them) and their attempts; counts what was stored. */
export async function postPractice(client: Client, tag: string, anchor: Date) {
  const sittings = practiceSittings(tag, anchor);
  const total = { students: new Set(sittings.map((s) => s.studentId)).size, sittings: sittings.length, opened: 0, interactions: 0, attempts: 0, accepted: 0, duplicates: 0 };
  for (const s of sittings) {
    const interact = async (i: number) => {
      const body = s.interactions[i]!;
      const res = await client.json<{ session_id: string; write_token?: string }>('POST', '/api/sessions/interactions', { body });
      // Another session would break the demo's idempotence: the next run looks for this id.
      if (res.session_id !== s.sessionId) {
        throw new CliError(
          EXIT.API,
          `the practice sitting ${s.sessionId} did not take its ${String(body.function)} interaction (${String(body.timestamp)}), ${res.session_id} did: does ${s.studentId} have another session then, or is SESSION_TIMEOUT_MINUTES under 2?`,
        );
      }
      total.interactions++;
      return res;
    };
    const existing = await readSession(client, s.sessionId);
    let done = existing?.interaction_count ?? 0;
    let writeToken: string | undefined;
    if (!existing) {
      writeToken = (await interact(0)).write_token;
      total.opened++;
      done = 1;
    }
    writeToken ??= (await client.json<{ write_token: string }>('POST', `/api/sessions/${s.sessionId}/write-token`)).write_token;
    // As the practice page posts: the public endpoint, no API token, the sitting's write token.
    const res = await client.json<Ingested>('POST', '/api/session-log', { auth: false, body: { sessionToken: s.sessionId, writeToken, events: s.attempts } });
    total.attempts += s.attempts.length;
    total.accepted += res.accepted;
    total.duplicates += res.duplicates;
    // Past the last interaction the sitting reads as ended (idle since), and the sweep ends it.
    for (let i = done; i < s.interactions.length; i++) await interact(i);
  }
  return { ...total, session_ids: sittings.map((s) => s.sessionId) };
}
