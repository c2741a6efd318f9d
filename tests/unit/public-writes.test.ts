import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { allFamilies } from '../../lib/families.js';
import { EventListResponse } from '../../lib/schemas/event.js';
import { StudentResponse } from '../../lib/schemas/responses.js';
import type { Sql } from '../../lib/storage/sql.js';
import { admin, makeDeps, memoryPglite, uniqueToken } from '../helpers/deps.js';

// Issue 12: a public page may introduce a new student but never rename, re-link or edit one.
let sql: Sql;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  sql = await memoryPglite();
  app = createApp(makeDeps({ sql }), allFamilies);
});
afterAll(() => sql.close());

const post = (body: unknown) =>
  app.request('/api/session-log', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const put = (id: string, body: unknown) =>
  app.request(`/api/students/${id}`, { method: 'PUT', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify(body) });
async function student(id: string) {
  const res = await app.request(`/api/students/${encodeURIComponent(id)}`, { headers: admin });
  expect(res.status).toBe(200);
  return StudentResponse.parse(await res.json()).student;
}
async function eventsOf(token: string) {
  const res = await app.request(`/api/session-log?sessionToken=${token}&order=asc`, { headers: admin });
  expect(res.status).toBe(200);
  return EventListResponse.parse(await res.json()).events;
}
const uid = () => crypto.randomUUID().slice(0, 8);

describe('public writes cannot change what an admin set', () => {
  it('a page posting another name for an admin-named student leaves the name, and the event keeps the claim', async () => {
    const id = `emma_${uid()}`;
    const email = `${id}@example.com`;
    expect((await put(id, { email, name: 'Emma Smith' })).status).toBe(200);
    const token = uniqueToken();
    expect((await post({ sessionToken: token, studentEmail: email.toUpperCase(), studentName: 'Mallory', eventType: 'action' })).status).toBe(200);
    expect(await student(id)).toMatchObject({ id, email, name: 'Emma Smith' });
    const [e] = await eventsOf(token);
    // The event is the student's (linked by email), shown under the admin's name, with what the page said beside it.
    expect(e).toMatchObject({ student_id: id, student_email: email, student_name: 'Emma Smith', claimed: { email, name: 'Mallory' } });
  });

  it('a batch cannot rename either, whichever event carries the name', async () => {
    const id = `ann_${uid()}`;
    const email = `${id}@example.com`;
    await put(id, { email, name: 'Ann Lee' });
    const token = uniqueToken();
    const res = await post({ studentEmail: email, events: [
      { sessionToken: token, eventType: 'action', studentName: 'Eve' },
      { sessionToken: token, eventType: 'action', studentName: 'Trudy' },
    ] });
    expect(res.status).toBe(200);
    expect((await student(id)).name).toBe('Ann Lee');
    expect((await eventsOf(token)).map((e) => e.claimed?.name)).toEqual(['Eve', 'Trudy']);
  });

  it('a brand-new email with a name creates the student with that name; a later page cannot rename it', async () => {
    const email = `new_${uid()}@example.com`;
    const token = uniqueToken();
    expect((await post({ sessionToken: token, studentEmail: email, studentName: 'Priya Raman', eventType: 'action' })).status).toBe(200);
    expect(await student(email)).toMatchObject({ id: email, email, name: 'Priya Raman' });
    await post({ sessionToken: uniqueToken(), studentEmail: email, studentName: 'Not Priya', eventType: 'action' });
    expect((await student(email)).name).toBe('Priya Raman');
    // An admin still can.
    expect((await put(email, { name: 'Priya R.' })).status).toBe(200);
    expect((await student(email)).name).toBe('Priya R.');
  });

  it('a page cannot name a student that has none, nor move the email to itself', async () => {
    const id = `noname_${uid()}`;
    const email = `${id}@example.com`;
    await put(id, { email });
    await post({ sessionToken: uniqueToken(), studentEmail: email, studentName: 'Claimed', eventType: 'action' });
    expect(await student(id)).toMatchObject({ id, email, name: null });
  });

  it('an event without a claim shows claimed: null', async () => {
    const token = uniqueToken();
    await post({ sessionToken: token, eventType: 'action' });
    const [e] = await eventsOf(token);
    expect(e?.claimed).toBeNull();
  });
});
