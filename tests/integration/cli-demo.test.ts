/**
 * `sessionlog demo` against the real local server on the test database: what a new user sees, and
 * a second run that adds nothing (tests/helpers/cli-world.ts runs the real binary and server).
 */
import { expect, it } from 'vitest';
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
    // The finished students' sessions are idle past the timeout: end them now (session_ended events),
    // so the second run meets ended sessions — and must not reopen or add to them either.
    const swept = await api('/api/cron/sweep', { method: 'POST', headers: { authorization: `Bearer ${CRON_SECRET}` } });
    expect((swept.ended_ids as string[]).filter((id) => id.startsWith(`ws_${tag}_`)).length).toBeGreaterThan(5);
    const before = await demoCounts(tag);

    // What a new user sees: 30 workshop students, 3 calls with transcripts and tool calls, a pair with phases.
    expect(before.byPlatform).toEqual({ web: 30, vapi: 3, superinterface: 1 });
    for (const s of before.sessions.filter((x) => x.platform === 'vapi')) {
      expect(s.status).toBe('completed');
      expect(s.student_id).toMatch(new RegExp(`^${tag}_`));
      expect(s.transcript_count).toBeGreaterThan(4);
      expect(s.interaction_count).toBeGreaterThan(0);
    }
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
    const after = await demoCounts(tag);
    expect(after.totals).toEqual(before.totals);
    expect(after.sessions.map((s) => [s.session_id, s.status, s.event_count, s.transcript_count, s.interaction_count])).toEqual(
      before.sessions.map((s) => [s.session_id, s.status, s.event_count, s.transcript_count, s.interaction_count]),
    );
  }, 120_000);

  interface DemoOut {
    anchor: string;
    workshop: { students: number; events: number; accepted: number; duplicates: number };
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
});
