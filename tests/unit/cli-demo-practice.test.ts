/**
 * The demo's practice sittings as planned (cli/demo/practice.ts), before anything is sent: the same
 * ids on every run, sittings the interactions endpoint keeps whole and apart, and the story each
 * tutoring student's progress page is to tell. tests/integration/cli-demo.test.ts sends them to the
 * real server and reads the progress back.
 */
import { describe, expect, it } from 'vitest';
import { demoCalls } from '../../cli/demo/calls.js';
import { practiceSittings, type Sitting, sittingId } from '../../cli/demo/practice.js';

const anchor = new Date('2026-11-30T18:49:35.000Z');
const MIN = 60_000;
const at = (body: Record<string, unknown>) => Date.parse(String(body.timestamp));
function byStudent(sittings: Sitting[]): Record<string, Sitting[]> {
  const out: Record<string, Sitting[]> = {};
  for (const s of sittings) out[s.studentId] = [...(out[s.studentId] ?? []), s];
  return out;
}

describe('demo practice sittings', () => {
  it('derive every id and time from the tag and the anchor', () => {
    const plan = practiceSittings('demo', anchor);
    expect(practiceSittings('demo', new Date(anchor))).toEqual(plan);
    const ids = (p: Sitting[]) => p.flatMap((s) => [s.sessionId, ...s.attempts.map((a) => a.eventId)]);
    expect(new Set(ids(plan)).size).toBe(ids(plan).length);
    // Another tag, or another first run of the same tag, shares no id with this one.
    for (const other of [practiceSittings('t2', anchor), practiceSittings('demo', new Date(anchor.getTime() + 86_400_000))]) {
      expect(ids(other).filter((id) => ids(plan).includes(id))).toEqual([]);
    }
    // The id the interactions endpoint gives a new sitting: the UTC minute of its first interaction.
    expect(sittingId('demo_emma_smith', new Date('2026-11-21T13:29:35.000Z'))).toBe('demo_emma_smith_20261121_1329');
    for (const s of plan) expect(s.sessionId).toBe(sittingId(s.studentId, new Date(at(s.interactions[0]!))));
  });

  it('stay whole and apart: no gap in a sitting near a session timeout, days between sittings, all before the calls', () => {
    const firstCall = Math.min(...demoCalls('demo', anchor).map((c) => (c.messages[0] as { message: { timestamp: number } }).message.timestamp));
    for (const [student, sittings] of Object.entries(byStudent(practiceSittings('demo', anchor)))) {
      expect(sittings.length, student).toBeGreaterThanOrEqual(2);
      let previousEnd = 0;
      for (const s of sittings) {
        const times = s.interactions.map(at);
        expect(times, s.sessionId).toEqual([...times].sort((a, b) => a - b));
        expect(Math.max(...times.slice(1).map((t, i) => t - times[i]!)), s.sessionId).toBeLessThan(2 * MIN);
        expect(s.interactions.map((i) => i.function)).toEqual(['start_practice', ...s.attempts.slice(1).map(() => 'next_question'), 'end_practice']);
        for (const a of s.attempts) expect(Date.parse(a.timestamp)).toBeGreaterThan(times[0]!);
        expect(Date.parse(s.attempts.at(-1)!.timestamp)).toBeLessThan(times.at(-1)!);
        // More than the longest session timeout (a day) apart, so no sitting continues another.
        expect(times[0]! - previousEnd, s.sessionId).toBeGreaterThan(24 * 60 * MIN);
        previousEnd = times.at(-1)!;
      }
      expect(previousEnd, student).toBeLessThan(firstCall - 24 * 60 * MIN);
    }
  });

  it("tell each student's story: Emma better and faster each time, Liam steady with a dip, Sofia two sittings", () => {
    const stats = (s: Sitting) => {
      const data = s.attempts.map((a) => a.eventData as { correct: boolean; timeMs: number; topic: string });
      return {
        accuracy: Math.round((data.filter((d) => d.correct).length / data.length) * 1000) / 1000,
        secs: Math.round(data.reduce((n, d) => n + d.timeMs, 0) / data.length / 1000),
        topic: data[0]?.topic,
      };
    };
    const story = byStudent(practiceSittings('demo', anchor));
    expect(story.demo_emma_smith?.map(stats)).toEqual([
      { accuracy: 0.4, secs: 52, topic: 'Equivalent fractions' },
      { accuracy: 0.5, secs: 45, topic: 'Equivalent fractions' },
      { accuracy: 0.667, secs: 38, topic: 'Adding fractions' },
      { accuracy: 0.8, secs: 31, topic: 'Adding fractions' },
    ]);
    expect(story.demo_liam_chen?.map((s) => stats(s).accuracy)).toEqual([0.667, 0.833, 0.4, 0.833, 1]);
    expect(story.demo_sofia_garcia?.map((s) => stats(s).accuracy)).toEqual([0.4, 0.667]);
    // The times vary question by question, not only from sitting to sitting.
    for (const s of practiceSittings('demo', anchor)) expect(new Set(s.attempts.map((a) => a.eventData.timeMs)).size).toBeGreaterThan(1);
  });
});
