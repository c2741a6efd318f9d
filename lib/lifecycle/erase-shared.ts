/**
 * Sessions an erased student shared with someone else (ADR 0014): the other participants' data
 * stays, everything that names the student is blanked. Computed here, in code, because only
 * string VALUES are redacted (never JSON keys); written back by the erasure's one transaction.
 */
import type { Sql, Statement } from '../storage/sql.js';
import { UPDATE_EVENTS, UPDATE_SESSIONS } from './erase-sql.js';
import { ERASED, type Person, redactJson, redactText, selvesOf } from './redact.js';

interface SharedSession {
  id: string;
  participants: Array<Record<string, unknown>>;
  metadata: unknown;
  agent: unknown;
  conversation: unknown;
  platform_metadata: unknown;
  summary: string | null;
  subject: string | null;
  topic: string | null;
  subtopic: string | null;
  phase: string | null;
  step_name: string | null;
  current_step: string | null;
}

interface SharedEvent {
  id: string;
  event_type: string;
  event_data: Record<string, unknown>;
  claimed_email: string | null;
  claimed_name: string | null;
}

export interface SharedRedaction {
  statements: Statement[];
  /** Shared sessions whose id named the student, and the ids they get. */
  renamed: Array<{ from: string; to: string }>;
  /** Cached call links of renamed sessions (they point at the old id). */
  links: Array<{ platform: string; call_id: string }>;
}

export async function redactSharedSessions(sql: Sql, person: Person, ids: readonly string[], re: RegExp): Promise<SharedRedaction> {
  if (!ids.length) return { statements: [], renamed: [], links: [] };
  const selves = new Set(selvesOf(person));
  const isSelf = (v: unknown) => typeof v === 'string' && selves.has(v.trim().toLowerCase());
  const [sessions, events] = await Promise.all([
    sql.query<SharedSession>(
      `SELECT id, participants, metadata, agent, conversation, platform_metadata, summary, subject, topic, subtopic, phase, step_name, current_step
       FROM sessions WHERE id = ANY($1::text[])`,
      [ids],
    ),
    // Their own events there (student_id = them, their claims) are deleted by DELETE_THEIRS.
    sql.query<SharedEvent>(
      `SELECT id::text AS id, event_type, event_data, claimed_email, claimed_name FROM events
       WHERE session_token = ANY($1::text[]) AND NOT (COALESCE(student_id, '') = ANY($2::text[])) AND NOT (lower(COALESCE(claimed_email, '')) = ANY($3::text[]))`,
      [ids, person.rowIds, [person.id, person.email ?? ''].map((s) => s.toLowerCase())],
    ),
  ]);

  const text = (s: string | null) => (s === null ? null : redactText(s, re));
  const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(redactJson(v, re)));
  const rows = sessions.map((s) => ({
    id: s.id,
    pa: JSON.stringify(redactJson((s.participants ?? []).map((p) => (isSelf(p.id) ? { ...p, id: ERASED } : p)), re)),
    me: json(s.metadata) ?? '{}',
    ag: json(s.agent),
    co: json(s.conversation) ?? '{}',
    pm: json(s.platform_metadata) ?? '{}',
    su: text(s.summary),
    sj: text(s.subject),
    tp: text(s.topic),
    st: text(s.subtopic),
    ph: text(s.phase),
    sn: text(s.step_name),
    cs: text(s.current_step),
  }));

  const changed = events.flatMap((e) => {
    const d = e.event_data ?? {};
    // Their turns and their joining: what they said is theirs, the turn's place in the conversation is not.
    const own = (e.event_type === 'transcript' && isSelf(d.speaker)) || (e.event_type === 'participant_joined' && isSelf(d.participant));
    const data =
      e.event_type === 'transcript' && isSelf(d.speaker)
        ? { ...d, speaker: ERASED, text: ERASED }
        : e.event_type === 'participant_joined' && isSelf(d.participant)
          ? { ...d, participant: ERASED }
          : (redactJson(d, re) as Record<string, unknown>);
    const ce = e.claimed_email === null ? null : redactText(e.claimed_email, re);
    const cn = e.claimed_name === null ? null : redactText(e.claimed_name, re);
    const next = JSON.stringify(data);
    if (!own && next === JSON.stringify(d) && ce === e.claimed_email && cn === e.claimed_name) return [];
    return [{ id: e.id, d: next, ce, cn }];
  });

  const statements: Statement[] = [];
  const col = <K extends keyof (typeof rows)[number]>(k: K) => rows.map((r) => r[k]);
  if (rows.length) {
    statements.push({
      text: UPDATE_SESSIONS,
      params: [col('id'), col('pa'), col('me'), col('ag'), col('co'), col('pm'), col('su'), col('sj'), col('tp'), col('st'), col('ph'), col('sn'), col('cs')],
    });
  }
  if (changed.length) {
    statements.push({ text: UPDATE_EVENTS, params: [changed.map((c) => c.id), changed.map((c) => c.d), changed.map((c) => c.ce), changed.map((c) => c.cn)] });
  }

  // Explicit session ids are made from the creating participant: a kept session must not keep a name.
  const renamed = ids.filter((id) => new RegExp(re.source, 'iu').test(id)).map((from) => ({ from, to: `erased_${crypto.randomUUID().replace(/-/g, '').slice(0, 16)}` }));
  const links = renamed.length
    ? await sql.query<{ platform: string; call_id: string }>('SELECT platform, call_id FROM calls WHERE session_id = ANY($1::text[])', [renamed.map((r) => r.from)])
    : [];
  return { statements, renamed, links };
}
