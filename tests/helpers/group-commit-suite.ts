/**
 * Group commit and the student cache, through the real route and a real database (PGlite in
 * tests/unit/group-commit.test.ts, PostgreSQL in tests/integration/group-commit-pg.test.ts).
 * Statements are counted by wrapping the Sql the app is given, so what is counted is what ran.
 */
import { expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { SingleIngestResponse } from '../../lib/schemas/event.js';
import type { Sql } from '../../lib/storage/sql.js';
import { admin, makeDeps, uniqueToken } from './deps.js';
import { countingSql } from './ingest-statements.js';

/**
 * A CHECK constraint no validation knows about, so one row can pass the route and still be
 * refused by Postgres inside a shared statement (23514).
 */
export const POISON_CHECK = `ALTER TABLE events ADD CONSTRAINT events_test_poison CHECK (NOT (event_data ? 'poisonForGroupCommitTest'))`;
export const DROP_POISON = 'ALTER TABLE events DROP CONSTRAINT IF EXISTS events_test_poison';

export function groupCommitCases(db: () => Sql): void {
  const setup = () => {
    const counts = { full: 0, known: 0, lean: 0, page: 0 };
    const sql = countingSql(db(), (shape) => counts[shape]++);
    const app = createApp(makeDeps({ sql }), allFamilies);
    const post = async (body: unknown) =>
      app.request('/api/session-log', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const stored = async (token: string) =>
      db().query<{ event_uuid: string; student_id: string | null }>('SELECT event_uuid::text, student_id FROM events WHERE session_token = $1', [token]);
    return { app, post, stored, counts };
  };

  it('stores N concurrent single events in fewer statements than N; acknowledged = stored; duplicates answered as such', async () => {
    const { post, stored, counts } = setup();
    const token = uniqueToken();
    const email = `${token}@example.com`;
    const earlier = crypto.randomUUID();
    expect((await post({ sessionToken: token, studentEmail: email, eventType: 'action', eventId: earlier })).status).toBe(200);
    const before = counts.full + counts.known + counts.lean + counts.page;

    const twin = crypto.randomUUID();
    const bodies = [
      ...Array.from({ length: 40 }, (_, i) => ({ sessionToken: token, studentEmail: email, eventType: 'action', eventData: { i }, eventId: crypto.randomUUID() })),
      { sessionToken: token, studentEmail: email, eventType: 'action', eventId: twin },
      { sessionToken: token, studentEmail: email, eventType: 'action', eventId: twin },
      { sessionToken: token, studentEmail: email, eventType: 'action', eventId: earlier },
    ];
    const answers = await Promise.all(
      bodies.map(async (b) => {
        const res = await post(b);
        expect(res.status).toBe(200);
        return SingleIngestResponse.parse(await res.json());
      }),
    );
    const statements = counts.full + counts.known + counts.lean + counts.page - before;
    expect(statements).toBeGreaterThan(0);
    expect(statements).toBeLessThan(bodies.length / 4);

    const acknowledgedNew = answers.filter((a) => !a.duplicate).map((a) => a.eventId);
    const rows = await stored(token);
    expect(new Set(rows.map((r) => r.event_uuid))).toEqual(new Set([earlier, ...acknowledgedNew]));
    expect(rows).toHaveLength(42); // earlier + 40 + one twin
    expect(answers.filter((a) => a.eventId === twin).map((a) => Boolean(a.duplicate)).sort()).toEqual([false, true]);
    expect(answers.find((a) => a.eventId === earlier)?.duplicate).toBe(true);
    expect(rows.every((r) => r.student_id === email)).toBe(true);

    const [session] = await db().query<{ event_count: number }>('SELECT event_count FROM sessions WHERE id = $1', [token]);
    expect(session?.event_count).toBe(42);
  });

  it('many students at once, new and known: every event stored, none refused (no deadlock)', async () => {
    const { post, counts } = setup();
    const tag = uniqueToken('gcs');
    const tokens = Array.from({ length: 30 }, (_, i) => `${tag}_${i}`);
    const email = (i: number) => `${tag}_${i % 15}@example.com`;
    const send = (i: number) => post({ sessionToken: tokens[i % 30], studentEmail: email(i), eventType: 'action', eventData: { i } });
    // The first 15 students exist and are cached; the other 15 are new in this wave.
    for (let i = 0; i < 8; i++) expect((await send(i)).status).toBe(200);
    for (let round = 0; round < 3; round++) {
      const statuses = await Promise.all(Array.from({ length: 120 }, (_, i) => send(i + round).then((r) => r.status)));
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
    }
    const [n] = await db().query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE session_token LIKE $1', [`${tag}_%`]);
    expect(n?.n).toBe(8 + 360);
    expect(counts.known).toBeGreaterThan(0);
  });

  it('a row Postgres refuses inside a shared statement fails alone; the others are stored', async () => {
    const { post, stored } = setup();
    const token = uniqueToken();
    await db().query(POISON_CHECK);
    try {
      const bodies = Array.from({ length: 20 }, (_, i) => ({
        sessionToken: token,
        studentEmail: `${token}@example.com`,
        eventType: 'action',
        eventData: i === 7 ? { poisonForGroupCommitTest: true } : { i },
        eventId: crypto.randomUUID(),
      }));
      const statuses = await Promise.all(bodies.map(async (b) => (await post(b)).status));
      expect(statuses[7]).toBeGreaterThanOrEqual(500);
      expect(statuses.filter((s, i) => i !== 7 && s === 200)).toHaveLength(19);
      const rows = new Set((await stored(token)).map((r) => r.event_uuid));
      expect(rows.size).toBe(19);
      expect(rows.has(bodies[7]?.eventId ?? '')).toBe(false);
    } finally {
      await db().query(DROP_POISON);
    }
  });

  it('known students take the lean insert; one erased meanwhile is recreated, not misfiled', async () => {
    const { app, post, stored, counts } = setup();
    const token = uniqueToken();
    const email = `${token}@example.com`;
    const send = async () => expect((await post({ sessionToken: token, studentEmail: email, studentName: 'Ada', eventType: 'action' })).status).toBe(200);
    await send(); // new student: the full statement, which fills the cache
    const before = { ...counts };
    await send();
    expect(counts).toEqual({ ...before, lean: before.lean + 1 });

    // Erased through the API (this instance) and then straight in SQL (as another instance would):
    // both times the cache still holds the id, and the next event must recreate the student.
    for (const erase of [
      async () => expect((await app.request(`/api/students/${encodeURIComponent(email)}`, { method: 'DELETE', headers: admin })).status).toBe(200),
      async () => void (await db().query('DELETE FROM students WHERE id = $1', [email])),
    ]) {
      await erase();
      expect(await stored(token)).toHaveLength(0);
      const full0 = counts.full;
      await send();
      expect(counts.full).toBeGreaterThan(full0);
      const rows = await stored(token);
      expect(rows).toHaveLength(1);
      expect(rows[0]?.student_id).toBe(email);
      const [student] = await db().query<{ id: string; name: string | null }>('SELECT id, name FROM students WHERE email = $1', [email]);
      expect(student).toEqual({ id: email, name: 'Ada' });
    }
  });

  it('in shared statements, events into a sitting without its write token are refused alone (403); with it, and workshop events, stored', async () => {
    const { app, post, stored, counts } = setup();
    const opened = await app.request('/api/sessions/interactions', {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ student_id: uniqueToken('stu'), function: 'start_quiz' }),
    });
    expect(opened.status).toBe(200);
    const { session_id: sitting, write_token: writeToken } = (await opened.json()) as { session_id: string; write_token: string };
    const page = uniqueToken();
    const email = `${page}@example.com`;
    // The student is stored first, so the shared statements are both kinds (full and known-student).
    expect((await post({ sessionToken: page, studentEmail: email, eventType: 'action' })).status).toBe(200);
    const before = { ...counts };
    const bodies = Array.from({ length: 36 }, (_, i) => {
      const base = { eventType: 'attempt', studentEmail: i % 2 ? email : `${page}-${i}@example.com`, eventId: crypto.randomUUID() };
      if (i % 3 === 0) return { ...base, sessionToken: sitting };
      if (i % 3 === 1) return { ...base, sessionToken: sitting, writeToken };
      return { ...base, sessionToken: page };
    });
    const statuses = await Promise.all(bodies.map(async (b) => (await post(b)).status));
    expect(statuses).toEqual(bodies.map((b) => (b.sessionToken === sitting && !('writeToken' in b) ? 403 : 200)));
    expect(counts.full - before.full).toBeGreaterThan(0);
    // One at a time, a known student's event takes the lean statement. It leaves the one without
    // the token to the known-student statement, which refuses it; the one with it is stored there.
    const one = { ...counts };
    const alone = { sessionToken: sitting, studentEmail: email, eventType: 'attempt' };
    const refusedAlone = { ...alone, eventId: crypto.randomUUID() };
    const allowedAlone = { ...alone, eventId: crypto.randomUUID(), writeToken };
    expect((await post(refusedAlone)).status).toBe(403);
    expect(counts).toEqual({ ...one, lean: one.lean + 1, known: one.known + 1 });
    expect((await post(allowedAlone)).status).toBe(200);
    expect(counts).toEqual({ ...one, lean: one.lean + 2, known: one.known + 1 });

    const ours = new Set<string>([...bodies, refusedAlone, allowedAlone].map((b) => b.eventId));
    const storedIds = new Set((await stored(sitting)).map((r) => r.event_uuid).filter((id) => ours.has(id)));
    expect(storedIds).toEqual(new Set([...bodies, allowedAlone].filter((b) => 'writeToken' in b).map((b) => b.eventId)));
    expect((await stored(page)).length).toBe(1 + 12);
  });
}
