/**
 * Issue 12 "erasure that erases": a student goes through everything the service records — a
 * workshop page with claims and an alert, a Vapi phone call with transcript and tool calls, tutoring
 * interactions, two explicit sessions shared with someone else (one joined, one they created), an
 * analysis, admin reads that put their id and upper-cased email in audit paths and queries — and
 * is erased. Afterwards their id, email, name and phone occur, in any case, in NO row of ANY table
 * of the schema and in NO key, value or sorted-set member of the KV; the other participant's turns
 * are still there. Shared by the unit suite (PGlite + memory KV) and the integration suite (real
 * PostgreSQL + real Redis through the Upstash client).
 */
import { expect } from 'vitest';
import { createApp } from '../../lib/app.js';
import { parseConfig } from '../../lib/config.js';
import { allFamilies } from '../../lib/families.js';
import { Erased } from '../../lib/schemas/responses.js';
import type { Kv } from '../../lib/storage/kv.js';
import type { Sql } from '../../lib/storage/sql.js';
import { randomPhone, tutoringTools, vapiCall } from '../fixtures/vapi/calls.js';
import { ADMIN_TOKEN, admin, makeDeps } from './deps.js';
import { startFakeOpenAI } from './fake-openai.js';

const SERVICE = { authorization: 'Bearer erase-svc-token-0123456789' };

/** Per table of the current schema, how many rows contain `needle` (case-insensitive) in any column. */
export async function tablesNaming(sql: Sql, needle: string): Promise<Record<string, number>> {
  const tables = await sql.query<{ t: string }>(
    `SELECT DISTINCT table_name AS t FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name IN (SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE')
     ORDER BY 1`,
  );
  const out: Record<string, number> = {};
  for (const { t } of tables) {
    // The whole row as text: every column of every type, jsonb and arrays included.
    const [r] = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${t.replace(/"/g, '""')}" x WHERE strpos(lower(x::text), $1) > 0`, [needle.toLowerCase()]);
    if (r?.n) out[t] = r.n;
  }
  return out;
}

export async function erasesEveryTrace(sql: Sql, kv: Kv, dumpKv: () => Promise<string[]>): Promise<void> {
  const fake = await startFakeOpenAI();
  try {
    await run(sql, kv, dumpKv, fake.baseURL);
  } finally {
    await fake.close();
  }
}

async function run(sql: Sql, kv: Kv, dumpKv: () => Promise<string[]>, openaiBaseURL: string): Promise<void> {
  const config = parseConfig(
    { ADMIN_TOKEN, SERVICE_TOKEN: SERVICE.authorization.slice(7), DATA_DIR: '/tmp/sessionlog-test', ANALYSIS_ENABLED: 'true', ANALYSIS_API_KEY: 'sk-erase-test', OPENAI_BASE_URL: openaiBaseURL },
    'node',
  );
  const now = new Date();
  const deps = makeDeps({ sql, kv, config, now: () => now });
  const app = createApp(deps, allFamilies);
  const call = (method: string, path: string, headers: Record<string, string>, body?: unknown) =>
    app.request(path, { method, headers: { ...headers, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const ok = async (res: Response | Promise<Response>) => {
    const r = await res;
    expect(r.status, `${r.url} ${await r.clone().text()}`).toBeLessThan(300);
    return r.json() as Promise<Record<string, unknown>>;
  };

  const tag = crypto.randomUUID().replace(/-/g, '').slice(0, 10);
  const id = `ysolde_${tag}`;
  const email = `ysolde.${tag}@example.com`;
  const name = `Ysolde Quill${tag}`;
  const phone = randomPhone();
  const other = `olav_${tag}`;
  await ok(call('PUT', `/api/students/${id}`, admin, { email, name, phone_numbers: [phone] }));

  // A workshop page: claims on the events, and the same error three times (an alert).
  const page = `ws_${crypto.randomUUID()}`;
  await ok(call('POST', '/api/session-log', {}, { sessionToken: page, studentEmail: email.toUpperCase(), studentName: name, eventType: 'navigation', eventData: { to: 2 } }));
  for (let i = 0; i < 3; i++) {
    await ok(call('POST', '/api/session-log', {}, { sessionToken: page, studentEmail: email, eventType: 'error', eventData: { errorMessage: `step ${name} failed` } }));
  }
  // A phone call from their number: live transcript, tool calls, the end-of-call report.
  const vapi = vapiCall({ startedAt: new Date(now.getTime() - 120_000), kind: 'phone', customer: { number: phone } });
  const post = (body: unknown) => ok(app.request('/api/webhooks/vapi', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));
  await post(vapi.status('in-progress', 1));
  await post(vapi.transcript('user', `Hi, it's ${name}, my email is ${email}`, 5));
  const tools = tutoringTools();
  await post(vapi.report({ tools, turns: [{ role: 'bot', text: 'Hello!', at: 2 }, { role: 'user', text: `This is ${name}.`, at: 5 }] }));
  // Tutoring interactions: an automatic session whose id embeds their id.
  const auto = (await ok(call('POST', '/api/sessions/interactions', SERVICE, { student_id: id, function: 'get_hint', parameters: { for: name } }))) as { session_id: string };
  expect(auto.session_id.toLowerCase()).toContain(id);
  // Olav's session that Ysolde joins, and Ysolde's session that Olav joins (its id is made from hers).
  const joined = (await ok(call('POST', '/api/sessions', SERVICE, { participant: other, student_id: other, max_participants: 2 }))) as { session_id: string };
  await ok(call('POST', `/api/sessions/${joined.session_id}/join`, SERVICE, { participant: id }));
  const created = (await ok(call('POST', '/api/sessions', SERVICE, { participant: id, max_participants: 2 }))) as { session_id: string };
  expect(created.session_id.toLowerCase()).toContain(id);
  await ok(call('POST', `/api/sessions/${created.session_id}/join`, SERVICE, { participant: other }));
  for (const sid of [joined.session_id, created.session_id]) {
    await ok(call('POST', `/api/sessions/${sid}/transcript`, SERVICE, {
      entries: [
        { speaker: name, text: `I'm ${name}, call me on ${phone} or write to ${email}` },
        { speaker: id.toUpperCase(), text: 'Shall we start?' },
        { speaker: other, text: `Nice to meet you, ${name.toUpperCase()}. Let's do fractions.` },
      ],
    }));
  }
  // Analyses of their session and of a shared one (the model saw her turns).
  await ok(call('POST', `/api/sessions/${auto.session_id}/analysis`, admin, { force: true }));
  await ok(call('POST', `/api/sessions/${joined.session_id}/analysis`, admin, { force: true }));
  // Admin reads that name her in audit paths and queries, in upper case too.
  await ok(call('GET', `/api/students/${id}`, admin));
  await ok(call('GET', `/api/sessions/${auto.session_id}`, admin));
  await ok(call('GET', `/api/sessions/${created.session_id}`, admin));
  await ok(call('GET', `/api/session-log?studentEmail=${encodeURIComponent(email.toUpperCase())}`, admin));
  await ok(call('GET', `/api/sessions?q=${encodeURIComponent(name.toUpperCase())}`, admin));
  await deps.settle();

  const needles = { id, email, name, phone: phone.replace(/^\+/, '') };
  // Before: each needle is really there, in the tables the issue names (or the check below could not fail).
  const before = Object.fromEntries(await Promise.all(Object.entries(needles).map(async ([k, v]) => [k, await tablesNaming(sql, v)] as const)));
  for (const t of ['students', 'events', 'sessions', 'audit_log', 'analyses', 'alerts']) expect(before.id?.[t] ?? before.email?.[t], `${t} before`).toBeGreaterThan(0);
  expect(before.email?.events, 'claims before').toBeGreaterThan(0);
  expect(before.phone?.sessions, 'phone before').toBeGreaterThan(0);
  expect(before.name?.events, 'name in turns before').toBeGreaterThan(0);
  expect((await dumpKv()).join('\n').toLowerCase()).toContain(id);

  const [mine] = await sql.query<{ n: number; a: number }>(
    `SELECT count(*)::int AS n, (SELECT count(*)::int FROM analyses WHERE session_id IN (SELECT id FROM sessions WHERE student_id = $1) OR session_id = ANY($2::text[])) AS a
     FROM sessions WHERE student_id = $1`,
    [id, [joined.session_id, created.session_id]],
  );
  const res = await call('DELETE', `/api/students/${encodeURIComponent(email.toUpperCase())}`, admin);
  expect(res.status).toBe(200);
  const erased = Erased.parse(await res.json());
  expect(erased).toMatchObject({ student_id: id, sessions_redacted: 2 });
  // The page and the phone call (which the interactions joined): every session whose student she is.
  expect(mine?.n).toBeGreaterThanOrEqual(2);
  expect(erased.sessions_deleted).toBe(mine?.n);
  // Hers (the one asked for, and the one the call's end ran) and the shared session's (the model read her turns).
  expect(mine?.a).toBeGreaterThanOrEqual(2);
  expect(erased.analyses_deleted).toBe(mine?.a);
  expect(erased.audit_entries_redacted).toBeGreaterThanOrEqual(5);
  await deps.settle();

  for (const [what, needle] of Object.entries(needles)) expect(await tablesNaming(sql, needle), `${what} after`).toEqual({});
  const left = (await dumpKv()).filter((s) => Object.values(needles).some((n) => s.toLowerCase().includes(n.toLowerCase())));
  expect(left, 'KV after').toEqual([]);

  // Olav keeps both sessions and his turns; her turns keep their place, blanked.
  const kept = await sql.query<{ id: string; participants: Array<{ id: string }> }>(
    `SELECT id, participants FROM sessions WHERE participants @> $1::jsonb ORDER BY id`,
    [JSON.stringify([{ id: other }])],
  );
  expect(kept.length).toBe(2);
  for (const s of kept) {
    expect(s.participants.map((p) => p.id).sort()).toEqual(['[erased]', other].sort());
    const turns = (await ok(call('GET', `/api/sessions/${s.id}/transcript`, admin))) as unknown as { entries?: Array<{ speaker: string; text: string }> };
    const list = turns.entries ?? [];
    expect(list.map((t) => [t.speaker, t.text])).toEqual([
      ['[erased]', '[erased]'],
      ['[erased]', '[erased]'],
      [other, "Nice to meet you, [erased]. Let's do fractions."],
    ]);
  }
  // The renamed one no longer answers under the id that named her.
  expect((await call('GET', `/api/sessions/${created.session_id}`, admin)).status).toBe(404);
}
