/**
 * `sessionlog progress`: a student's progress page at a terminal, read from the real local server
 * (`npm start`'s) on the test database, after `sessionlog demo` filled it through the public API. The
 * one analysis is stored as the analysis run stores a model's output (no OpenAI here).
 */
import pg from 'pg';
import { expect, it, vi } from 'vitest';
import { StudentProgress } from '../../lib/schemas/progress.js';
import { cliWorld, VAPI_SECRET } from '../helpers/cli-world.js';
import { describeWithPostgres, TEST_DATABASE_URL } from '../helpers/servers.js';

vi.setConfig({ testTimeout: 120_000 });

/** A table's or a list's cells: columns are two or more spaces apart. */
const cells = (line: string | undefined) => line?.trim().split(/\s{2,}/);

describeWithPostgres('sessionlog progress against a real server', () => {
  const { cli } = cliWorld();

  it("prints a demo student's trends, latest sessions, topics not revisited and outstanding next steps", async () => {
    const tag = `p${crypto.randomUUID().replaceAll('-', '').slice(0, 10)}`;
    const emma = `${tag}_emma_smith`;
    const demo = await cli(['demo', '--tag', tag, '--vapi-secret', VAPI_SECRET]);
    expect(demo.code, demo.stderr).toBe(0);

    // An analysis of Emma's first sitting suggested a next step no later session took up.
    const before = StudentProgress.parse(JSON.parse((await cli(['progress', emma, '--json'])).stdout));
    expect(before.outstanding_next_steps).toEqual([]);
    const first = before.sessions[0]!;
    const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    try {
      const result = { session_summary: 'Added fractions.', learning_outcomes: [], engagement_score: 0.6, next_steps: ['Explain common denominators aloud'], concepts_covered: ['fractions'], struggles: [], progress_change: null };
      await db.query(
        `INSERT INTO analyses (session_id, template, template_hash, model, trigger, status, result, attempts, completed_at)
         VALUES ($1, 'session_summary', 'h', 'gpt-4o-mini', 'session_complete', 'completed', $2::jsonb, 1, $3)`,
        [first.session_id, JSON.stringify(result), first.end_time ?? first.start_time],
      );
    } finally {
      await db.end();
    }

    const r = await cli(['progress', emma]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`${emma} (Emma Smith, emma.smith@${tag}.example.com): 5 sessions`);
    expect(lines[1]).toBe('Trends over the last 5 sessions:');
    expect(cells(lines[2])).toEqual(['accuracy', '40% → 50%', 'up, improving over 5 sessions']);
    expect(cells(lines[3])).toEqual(['time per attempt', '52s → 31s', 'down, improving over 5 sessions']);
    expect(cells(lines[4])?.[0]).toBe('session length');
    expect(cells(lines[4])?.[2]).toMatch(/^(down|up|flat) over 5 sessions$/);
    expect(cells(lines[5])).toEqual(['engagement', '60%', 'one session']);
    expect(lines[6]).toBe('Latest sessions:');
    expect(cells(lines[7])).toEqual(['SESSION', 'PLATFORM', 'STARTED (UTC)', 'DURATION', 'SUBJECT', 'RIGHT', 'ACCURACY', 'PER ATTEMPT', 'ERRORS']);
    // Newest first: the Vapi call (graded by record_attempt), then the practice sittings.
    const rows = lines.slice(8, 13).map(cells);
    expect(rows.map((c) => c?.[1])).toEqual(['vapi', 'mcp', 'mcp', 'mcp', 'mcp']);
    expect(rows.map((c) => c?.at(-3))).toEqual(['50%', '80%', '67%', '50%', '40%']);
    expect(rows[4]).toEqual([first.session_id, 'mcp', expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/), expect.stringMatching(/^\d+m\d\ds$/), 'Math · Fractions', '2/5', '40%', '52s', '0']);
    expect(lines[13]).toMatch(/^Not revisited in the last 3 sessions: Equivalent fractions \(last \d{4}-\d\d-\d\d\)$/);
    expect(lines[14]).toBe('Outstanding next steps:');
    expect(cells(lines[15])).toEqual(['- Explain common denominators aloud', `suggested 1× · last in ${first.session_id} on ${first.start_time.slice(0, 10)}`]);
    expect(lines).toHaveLength(16);

    const two = await cli(['progress', `emma.smith@${tag}.example.com`, '--sessions', '2', '--last', '2']);
    expect(two.code, two.stderr).toBe(0);
    const twoLines = two.stdout.split('\n');
    expect(twoLines).toContain('Trends over the last 2 sessions:');
    expect(twoLines).toContain('Latest sessions (2 of 5; --sessions for more):');
    expect(cells(twoLines.find((l) => l.trim().startsWith('accuracy')))).toEqual(['accuracy', '80% → 50%', 'down, worsening over 2 sessions']);
  });

  it('a student with one workshop session, an unknown student (exit 1) and a bad flag (exit 2)', async () => {
    const tag = `q${crypto.randomUUID().replaceAll('-', '').slice(0, 10)}`;
    expect((await cli(['demo', '--tag', tag, '--vapi-secret', VAPI_SECRET])).code).toBe(0);
    const priya = await cli(['progress', `priya.raman@${tag}.example.com`]);
    expect(priya.code, priya.stderr).toBe(0);
    const lines = priya.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`priya.raman@${tag}.example.com (Priya Raman): 1 session`);
    expect(lines[1]).toBe('Trends over the last 1 session:');
    expect(cells(lines[2])).toEqual(['accuracy', '—']);
    expect(cells(lines.at(-1))).toEqual([`ws_${tag}_priya_raman`, 'web', expect.any(String), expect.any(String), '5']);

    const none = await cli(['progress', 'nobody_at_all']);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe('sessionlog: GET /api/students/nobody_at_all/progress: 404 student nobody_at_all does not exist\n');
    const bad = await cli(['progress', 'x', '--last', '1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--last must be a whole number from 2 to 100, got "1"');
    expect((await cli(['progress'])).code).toBe(2);
  });
});
