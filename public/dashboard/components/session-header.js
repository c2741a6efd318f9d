/**
 * The head of the session view: who, status, platform, times and counters. A session record
 * gives most of it; a plain workshop token (no record) is described from its events.
 */
import { fmtDuration, fmtWhen, h, statusBadge, timeEl } from '../dom.js';
import { hasStudentPage, studentHref } from './sessions-table.js';

/** A label/value pair of a <dl class="facts"> (a <div> may group a dt and its dd). */
export function fact(label, ...value) {
  return h('div', { class: 'fact' }, h('dt', {}, label), h('dd', {}, ...value));
}

/** The first value `pick` finds in the events, else null. */
function fromEvents(events, pick) {
  for (const e of events) {
    const v = pick(e);
    if (v) return v;
  }
  return null;
}

/**
 * Who a session is about, name first: { name, detail } where detail is the email or id when the
 * name is shown (so the instructor sees both), null otherwise. `doc` may be null (events only).
 */
export function studentOfSession(doc, events) {
  const email = doc?.student_email ?? fromEvents(events, (e) => e.student_email);
  const idish = doc?.student_id ?? (doc?.participants?.map((p) => p.id).join(', ') || null) ?? fromEvents(events, (e) => e.student_id);
  const name = doc?.student_name ?? fromEvents(events, (e) => e.student_name);
  const contact = email ?? idish;
  if (name) return { name, detail: contact };
  return { name: contact, detail: null };
}

function title(doc, events, badges) {
  const who = studentOfSession(doc, events);
  const name = who.name ?? (doc && doc.platform !== 'web' ? '(unknown student)' : '(anonymous page)');
  // The name leads to the student's progress over all their sessions.
  const studentId = doc?.student_id ?? fromEvents(events, (e) => e.student_id);
  const label = hasStudentPage(studentId) ? h('a', { href: studentHref(studentId), class: 'student-link', title: 'Progress over time' }, name) : name;
  return [
    h('div', { class: 'title-row' }, h('h1', { id: 'session-student' }, label), ...badges),
    who.detail ? h('p', { class: 'sub', id: 'session-student-detail' }, who.detail) : null,
  ];
}

const stepOf = (doc) => [doc.current_step, doc.step_name].filter((v) => v !== null && v !== undefined && v !== '').join(' · ');

/**
 * An unidentified call whose caller named several students (lib/calls/identify.ts): one button per
 * suggestion; `onAssign(studentId, button)` assigns the session (POST /api/sessions/{id}/assign).
 */
function suggestions(doc, onAssign) {
  // platform_metadata may hold what a platform's webhook sent: only strings are student ids.
  const list = doc.platform_metadata?.suggested_student_ids;
  const ids = Array.isArray(list) ? list.filter((v) => typeof v === 'string' && v) : [];
  if (!onAssign || doc.student_id !== 'unknown' || ids.length === 0) return null;
  return h(
    'p',
    { class: 'suggested', id: 'suggested-students' },
    'The caller may be: ',
    ids.map((sid) => {
      const b = h('button', { type: 'button', class: 'suggest', 'data-student': sid }, `Assign to ${sid}`);
      b.addEventListener('click', () => onAssign(sid, b));
      return b;
    }),
  );
}

export function sessionHeader(doc, events, onAssign) {
  const topic = [doc.subject, doc.topic, doc.subtopic].filter(Boolean).join(' › ');
  const ended = doc.end_time ? timeEl(doc.end_time) : h('span', { class: 'muted' }, `last activity ${fmtWhen(doc.last_activity)}`);
  return [
    ...title(doc, events, [statusBadge(doc.status), h('span', { class: 'platform' }, doc.platform)]),
    h('p', { class: 'sub mono', id: 'session-id' }, doc.session_id),
    h(
      'dl',
      { class: 'facts' },
      stepOf(doc) ? fact('Step', h('span', { id: 'session-step' }, stepOf(doc))) : null,
      fact('Started', timeEl(doc.start_time)),
      fact('Ended', ended),
      fact('Duration', fmtDuration(doc.duration_seconds)),
      fact('Events', String(doc.event_count ?? events.length)),
      fact('Errors', h('span', { class: (doc.error_count ?? 0) > 0 ? 'error-count' : '' }, String(doc.error_count ?? 0))),
      doc.participants.length ? fact('Participants', doc.participants.map((p) => `${p.id} (${p.role})`).join(', ')) : null,
      topic ? fact('Topic', topic) : null,
      doc.phase ? fact('Phase', doc.phase) : null,
      doc.end_reason ? fact('End reason', doc.end_reason) : null,
    ),
    suggestions(doc, onAssign),
    doc.summary ? h('p', { class: 'summary' }, doc.summary) : null,
  ];
}

/** A plain workshop token: no record, so what we know comes from its events. */
export function workshopHeader(id, events) {
  const first = events[0];
  const last = events.at(-1);
  const errors = events.filter((e) => e.event_type === 'error').length;
  const span = first && last ? (Date.parse(last.created_at) - Date.parse(first.created_at)) / 1000 : 0;
  return [
    ...title(null, events, [h('span', { class: 'badge status-other' }, 'workshop')]),
    h('p', { class: 'sub mono', id: 'session-id' }, id),
    h('p', { class: 'muted small' }, 'Workshop session token: events only, no session record (no call or analysis).'),
    h(
      'dl',
      { class: 'facts' },
      fact('First event', timeEl(first?.created_at)),
      fact('Last event', timeEl(last?.created_at)),
      fact('Span', fmtDuration(span)),
      fact('Events', String(events.length)),
      fact('Errors', h('span', { class: errors > 0 ? 'error-count' : '' }, String(errors))),
    ),
  ];
}
