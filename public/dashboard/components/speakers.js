/**
 * Who said a transcript turn, as an instructor reads it: an explicit session's role letters
 * ("A", "B") become the participants who hold them, a call's "user"/"assistant" become the
 * student's name and the tutor. Unknown speakers are shown as sent.
 */

const STUDENT = new Set(['user', 'student', 'customer', 'human']);
const TUTOR = new Set(['assistant', 'bot', 'agent', 'ai', 'tutor', 'system']);

/**
 * A naming function for one session. `doc` may be null (a plain workshop token); `student` is the
 * name the header shows, when known.
 */
export function speakerNamer(doc, student) {
  const byRole = new Map((doc?.participants ?? []).map((p) => [String(p.role).toLowerCase(), p.id]));
  const agent = typeof doc?.agent?.name === 'string' && doc.agent.name ? doc.agent.name : null;
  return (raw) => {
    const s = String(raw ?? '').trim();
    const key = s.toLowerCase();
    if (byRole.has(key)) return byRole.get(key);
    if (/^[a-z]$/.test(key)) return `Participant ${s.toUpperCase()}`;
    if (STUDENT.has(key)) return student ?? 'Student';
    if (TUTOR.has(key)) return agent ?? 'Tutor';
    return s || 'speaker?';
  };
}

/** Which side of the conversation a turn is on (its bubble colour). */
export function speakerSide(raw) {
  const key = String(raw ?? '').toLowerCase();
  return STUDENT.has(key) || /^[a-z]$/.test(key) ? 'speaker-student' : 'speaker-agent';
}
