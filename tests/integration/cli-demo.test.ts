/**
 * `sessionlog demo` against the real local server on the test database: what a new user sees, and
 * a second run that adds nothing (tests/helpers/cli-world.ts runs the real binary and server).
 */
import { expect, it } from 'vitest';
import { StudentProgress } from '../../lib/schemas/progress.js';
import { CRON_SECRET, cliWorld, VAPI_SECRET } from '../helpers/cli-world.js';
import { describeWithPostgres } from '../helpers/servers.js';

describeWithPostgres('sessionlog demo against a real server', () => {
  const { cli, api } = cliWorld();

  it('demo fills a day through the API and a second run adds nothing', async () => {
    const tag = `t${crypto.randomUUID().replaceAll('-', '').slice(0, 10)}`;
    const refused = await cli(['demo', '--tag', `r${crypto.randomUUID().replaceAll('-', '').slice(0, 10)}`]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('refused the Vapi webhook (401): this deployment needs its Vapi secret');

    const first = await cli(['demo', '--tag', tag, '--vapi-secret', VAPI_SECRET, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const one = JSON.parse(first.stdout) as DemoOut;
    expect(one.workshop).toMatchObject({ students: 30, duplicates: 0 });
    expect(one.workshop.accepted).toBe(one.workshop.events);
    expect(one.pair).toMatchObject({ created: true, status: 'completed' });
    // Practice sittings on earlier days: opened, one interaction per next question, closed.
    expect(one.practice).toMatchObject({ students: 3, sittings: 11, opened: 11, accepted: one.practice.attempts, duplicates: 0 });
    expect(one.practice.interactions).toBe(one.practice.attempts + one.practice.sittings);
    // They end with their last interaction, days ago: none is open on the Now view or in the active list.
    const active = (await api('/api/sessions/active')) as { sessions: Array<{ session_id: string }> };
    expect(active.sessions.filter((s) => one.practice.session_ids.includes(s.session_id))).toEqual([]);
    // The finished students' sessions are idle past the timeout: end them now (session_ended events),
    // so the second run meets ended sessions — and must not reopen or add to them either.
    const swept = await api('/api/cron/sweep', { method: 'POST', headers: { authorization: `Bearer ${CRON_SECRET}` } });
    expect((swept.ended_ids as string[]).filter((id) => id.startsWith(`ws_${tag}_`)).length).toBeGreaterThan(5);
    const before = await demoCounts(tag);
    const progressBefore = await progressOf(tag);

    // What a new user sees: 30 workshop students, 3 calls with transcripts and tool calls, a pair with
    // phases, and the tutoring students' practice sittings before their calls.
    expect(before.byPlatform).toEqual({ web: 30, vapi: 3, superinterface: 1, mcp: 11 });
    for (const s of before.sessions.filter((x) => x.platform === 'vapi')) {
      expect(s.status).toBe('completed');
      expect(s.student_id).toMatch(new RegExp(`^${tag}_`));
      expect(s.transcript_count).toBeGreaterThan(4);
      expect(s.interaction_count).toBeGreaterThan(0);
    }
    // Each tutoring student's progress page has a history: several ended sittings with attempts, a
    // trend in accuracy and in time per attempt, topics; today's call is the latest session, and the
    // answers its tutor graded with record_attempt are attempts too (ADR 0030).
    for (const [student, p] of Object.entries(progressBefore)) {
      const sittings = p.sessions.filter((s) => one.practice.session_ids.includes(s.session_id));
      expect(sittings.length, student).toBeGreaterThanOrEqual(2);
      for (const s of sittings) {
        expect(s, student).toMatchObject({ platform: 'mcp', status: 'completed', errors: 0 });
        expect(s.attempts, s.session_id).toBeGreaterThan(0);
        expect(s.duration_seconds, s.session_id).toBeGreaterThan(120);
        expect(s.topics.length, s.session_id).toBeGreaterThanOrEqual(2);
      }
      expect(p.sessions.at(-1), student).toMatchObject({ platform: 'vapi', attempts: expect.any(Number) });
      expect(p.sessions.at(-1)!.attempts, student).toBeGreaterThan(0);
      expect(p.trends.accuracy.points, student).toBe(sittings.length + 1);
      expect(p.trends.accuracy.direction, student).toMatch(/^(up|down)$/); // not flat
      expect(p.trends.time_per_attempt_ms.points, student).toBeGreaterThanOrEqual(sittings.length);
      expect(p.topics.covered.length, student).toBeGreaterThanOrEqual(3);
    }
    const emma = progressBefore[`${tag}_emma_smith`];
    // Four practice sittings, then the call: 2/5 wrong, then 5/6 after a hint.
    expect(emma?.sessions.filter((s) => s.attempts > 0).map((s) => s.accuracy)).toEqual([0.4, 0.5, 0.667, 0.8, 0.5]);
    expect(emma?.sessions.at(-1)).toMatchObject({ platform: 'vapi', attempts: 2, correct: 1, avg_time_per_attempt_ms: 31_000 });
    expect(emma?.trends.accuracy).toMatchObject({ direction: 'up', improving: true });
    expect(emma?.trends.time_per_attempt_ms).toMatchObject({ direction: 'down', improving: true });
    expect(emma?.topics.not_revisited.map((c) => c.name)).toEqual(['Equivalent fractions']);
    expect(progressBefore[`${tag}_liam_chen`]?.sessions.filter((s) => s.attempts > 0).map((s) => s.accuracy)).toEqual([0.667, 0.833, 0.4, 0.833, 1, 1]);
    expect(progressBefore[`${tag}_liam_chen`]?.sessions.at(-1)).toMatchObject({ attempts: 2, correct: 2, avg_time_per_attempt_ms: 13_500 });
    // Sofia's one graded answer: right, and untimed (no attempt before it in the call).
    expect(progressBefore[`${tag}_sofia_garcia`]?.sessions.at(-1)).toMatchObject({ attempts: 1, correct: 1, accuracy: 1, avg_time_per_attempt_ms: null });
    expect(progressBefore[`${tag}_sofia_garcia`]?.session_count).toBe(3);

    const pair = before.sessions.find((s) => s.platform === 'superinterface');
    expect(pair).toMatchObject({ session_id: `${tag}_study_pair`, phase: 'wrap_up', status: 'completed', transcript_count: 8 });
    const attention = (await api('/api/attention')) as { students: Array<{ session_id: string; reasons: Array<{ code: string }> }>; top_errors: Array<{ error_type: string; students: number }> };
    const stuck = attention.students.find((s) => s.session_id === `ws_${tag}_priya_raman`);
    expect(stuck?.reasons.map((r) => r.code)).toContain('stuck');
    const broken = attention.top_errors.find((e) => e.error_type === 'ModuleNotFoundError');
    expect(broken?.students).toBeGreaterThanOrEqual(10);

    const second = await cli(['demo', '--tag', tag, '--vapi-secret', VAPI_SECRET, '--json']);
    expect(second.code, second.stderr).toBe(0);
    const two = JSON.parse(second.stdout) as DemoOut;
    expect(two.anchor).toBe(one.anchor);
    expect(two.workshop).toMatchObject({ accepted: 0, duplicates: one.workshop.events });
    expect(two.pair).toMatchObject({ created: false, status: 'completed' });
    expect(two.practice).toMatchObject({ sittings: 11, opened: 0, interactions: 0, accepted: 0, duplicates: one.practice.attempts });
    const after = await demoCounts(tag);
    expect(after.totals).toEqual(before.totals);
    expect(await progressOf(tag)).toEqual(progressBefore);
    expect(after.sessions.map((s) => [s.session_id, s.status, s.event_count, s.transcript_count, s.interaction_count])).toEqual(
      before.sessions.map((s) => [s.session_id, s.status, s.event_count, s.transcript_count, s.interaction_count]),
    );
  }, 120_000);

  interface DemoOut {
    anchor: string;
    workshop: { students: number; events: number; accepted: number; duplicates: number };
    practice: { students: number; sittings: number; opened: number; interactions: number; attempts: number; accepted: number; duplicates: number; session_ids: string[] };
    pair: { created: boolean; status: string };
  }
  interface Row {
    session_id: string;
    platform: string;
    status: string;
    student_id: string | null;
    phase: string | null;
    event_count: number;
    transcript_count: number;
    interaction_count: number;
  }

  /** Everything the demo of `tag` stored, read back through the API (ids all carry the tag). */
  async function demoCounts(tag: string) {
    const page = (await api(`/api/sessions?q=${tag}&limit=500`)) as { sessions: Row[] };
    const sessions = page.sessions.sort((a, b) => a.session_id.localeCompare(b.session_id));
    const byPlatform: Record<string, number> = {};
    for (const s of sessions) byPlatform[s.platform] = (byPlatform[s.platform] ?? 0) + 1;
    const totals = {
      sessions: sessions.length,
      events: sessions.reduce((n, s) => n + s.event_count, 0),
      transcript: sessions.reduce((n, s) => n + s.transcript_count, 0),
      interactions: sessions.reduce((n, s) => n + s.interaction_count, 0),
    };
    return { sessions, byPlatform, totals };
  }

  /** GET /api/students/{id}/progress of the demo's three tutoring students, by id. */
  async function progressOf(tag: string): Promise<Record<string, StudentProgress>> {
    const ids = [`${tag}_emma_smith`, `${tag}_liam_chen`, `${tag}_sofia_garcia`];
    return Object.fromEntries(await Promise.all(ids.map(async (id) => [id, StudentProgress.parse(await api(`/api/students/${id}/progress`))] as const)));
  }
});
