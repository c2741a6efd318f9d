/**
 * GET /api/sessions and /api/sessions/active narrowed to one workshop (`workshop`, a session-id
 * prefix) on real PostgreSQL through the production `pg` driver: the route, the statement and the
 * driver together, as an instructor's `sessionlog sessions --workshop` reaches them.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { loadMigrations } from '../../lib/node/migrations.js';
import { ActiveSessions, SessionPage } from '../../lib/schemas/session-responses.js';
import { migrate } from '../../lib/storage/migrate.js';
import { createPgSql } from '../../lib/storage/sql-pg.js';
import type { Sql } from '../../lib/storage/sql.js';
import { admin, makeDeps, uniqueToken } from '../helpers/deps.js';
import { expectProblem } from '../helpers/problem.js';
import { describeWithPostgres, TEST_DATABASE_URL } from '../helpers/servers.js';

describeWithPostgres('session lists by workshop on PostgreSQL', () => {
  let sql: Sql;
  beforeAll(async () => {
    sql = createPgSql({ connectionString: TEST_DATABASE_URL ?? '', max: 4 });
    await migrate(sql, await loadMigrations());
  });
  afterAll(() => sql.close());

  it('?workshop= keeps the sessions whose id starts with the prefix, in every filter and page', async () => {
    const app = createApp(makeDeps({ sql }), allFamilies);
    const base = uniqueToken('ws_list');
    const room = `${base}_`;
    const decoy = `${base}Xada`; // the room's prefix as a LIKE pattern would take it: `_` matches X
    const other = uniqueToken('ws_list'); // another workshop
    const started = Date.now() - 60_000;
    // One event each, a second apart, so "newest first" is carla, bob, ada.
    const tokens = [`${room}ada`, `${room}bob`, `${room}carla`, decoy, other];
    for (const [i, sessionToken] of tokens.entries()) {
      const res = await app.request('/api/session-log', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sessionToken, eventType: 'action', eventData: { actionName: 'run_code' }, timestamp: new Date(started + i * 1000).toISOString() }),
      });
      expect(res.status).toBe(200);
    }
    expect((await app.request(`/api/sessions/${room}ada/end`, { method: 'POST', headers: admin })).status).toBe(200);

    const list = async (query: string) => {
      const res = await app.request(`/api/sessions?${query}`, { headers: admin });
      expect(res.status).toBe(200);
      return SessionPage.parse(await res.json());
    };
    const ids = (page: { sessions: Array<{ session_id: string }> }) => page.sessions.map((s) => s.session_id);
    const w = encodeURIComponent(room);
    expect(ids(await list(`workshop=${w}`))).toEqual([`${room}carla`, `${room}bob`, `${room}ada`]);
    expect(ids(await list(`workshop=${w}&status=completed`))).toEqual([`${room}ada`]);
    expect(ids(await list(`workshop=${w}&status=active`))).toEqual([`${room}carla`, `${room}bob`]);
    expect(ids(await list(`workshop=${encodeURIComponent(`${room}b`)}`))).toEqual([`${room}bob`]);
    expect(ids(await list(`workshop=${w}zz`))).toEqual([]);
    // A page's cursor carries on within the workshop: the next page is the room's, not the log's.
    const first = await list(`workshop=${w}&limit=2`);
    expect(ids(first)).toEqual([`${room}carla`, `${room}bob`]);
    const second = await list(`workshop=${w}&limit=2&cursor=${encodeURIComponent(first.next_cursor ?? '')}`);
    expect(ids(second)).toEqual([`${room}ada`]);
    expect(second.next_cursor).toBeNull();
    // The decoy is listed without the filter: the prefix, not the data, kept it out.
    expect(ids(await list(`q=${encodeURIComponent(base)}`))).toEqual([decoy, `${room}carla`, `${room}bob`, `${room}ada`]);

    const active = async (query: string) => {
      const res = await app.request(`/api/sessions/active?${query}`, { headers: admin });
      expect(res.status).toBe(200);
      return ActiveSessions.parse(await res.json());
    };
    const open = await active(`workshop=${w}`);
    expect(ids(open)).toEqual([`${room}carla`, `${room}bob`]); // most recently active first; ada has ended
    expect(open.count).toBe(2);
    expect(ids(await active(`workshop=${encodeURIComponent(base)}`))).toEqual([decoy, `${room}carla`, `${room}bob`]);

    for (const path of ['/api/sessions', '/api/sessions/active']) {
      const bad = await expectProblem(await app.request(`${path}?workshop=${encodeURIComponent('ws room')}`, { headers: admin }), 400);
      expect(bad.errors?.map((e) => e.path)).toEqual(['workshop']);
      const empty = await expectProblem(await app.request(`${path}?workshop=`, { headers: admin }), 400);
      expect(new Set(empty.errors?.map((e) => e.path))).toEqual(new Set(['workshop'])); // empty, and so not of the allowed characters
    }
  });
});
