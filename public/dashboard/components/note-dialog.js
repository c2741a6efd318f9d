/**
 * "+ note" beside a Helped button: a small modal dialog (a native <dialog>, so the focus stays in
 * it, Escape closes it and the focus goes back to the button) to say what was done, sent with the
 * mark (POST /api/attention/{id}/helped {note}). The other instructors read the note under "Being
 * helped" and in the session's timeline.
 */
import { fill, h } from '../dom.js';
import { studentName } from './needs-help.js';

/**
 * The API's limit (HelpedInput.note, SafeText(500) in lib/schemas/attention.ts), counted as the
 * server counts it: String.length, UTF-16 code units, so an emoji is 2. Counted otherwise, a note
 * the dialog called short enough could be refused with a 400.
 */
export const NOTE_MAX = 500;

/**
 * One dialog per view (the view puts `el` in its page); `open(student, onSend)` shows it, and
 * onSend(note) runs on "Mark helped", with null for an empty note.
 */
export function createNoteDialog() {
  const title = h('h2', { id: 'note-title' });
  const text = h('textarea', { id: 'note-text', name: 'note', rows: 4, 'aria-describedby': 'note-count note-error' });
  const count = h('p', { id: 'note-count', class: 'muted small note-count' });
  // role=alert: a screen reader says "too long" as soon as the text crosses the limit.
  const error = h('p', { id: 'note-error', class: 'note-error small', role: 'alert' });
  const send = h('button', { type: 'submit', class: 'primary', id: 'note-send' }, 'Mark helped');
  const cancel = h('button', { type: 'button', id: 'note-cancel' }, 'Cancel');
  const form = h(
    'form',
    { class: 'note-form', id: 'note-form' },
    title,
    h('label', { for: 'note-text' }, 'What did you do? The other instructors see it under “Being helped” and in the timeline.'),
    text,
    count,
    error,
    h('div', { class: 'note-buttons' }, cancel, send),
  );
  const dialog = h('dialog', { class: 'note-dialog', id: 'note-dialog', 'aria-labelledby': 'note-title' }, form);
  let onSend = null;

  /** How far over the limit the note is (≤ 0: within it). */
  const over = () => text.value.length - NOTE_MAX;
  function update() {
    const n = over();
    count.textContent = `${text.value.length} / ${NOTE_MAX} characters`;
    error.textContent = n > 0 ? `Too long by ${n} character${n === 1 ? '' : 's'}: the server keeps at most ${NOTE_MAX}. Shorten it to send.` : '';
    text.setAttribute('aria-invalid', String(n > 0));
    send.setAttribute('aria-disabled', String(n > 0));
  }
  text.addEventListener('input', update);
  cancel.addEventListener('click', () => dialog.close());
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (over() > 0) {
      update();
      text.focus();
      return;
    }
    const note = text.value.trim();
    const then = onSend;
    onSend = null;
    dialog.close();
    then?.(note || null);
  });
  dialog.addEventListener('close', () => {
    onSend = null;
  });

  return {
    el: dialog,
    open(student, send_) {
      onSend = send_;
      fill(title, `Mark ${studentName(student)} helped`);
      text.value = '';
      update();
      dialog.showModal();
      text.focus();
    },
    close: () => dialog.close(),
  };
}
