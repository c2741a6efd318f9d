/**
 * The Now view's Helped and Undo clicks (POST / DELETE /api/attention/{id}/helped) until the
 * server's attention document shows them. The row leaves at once — the instructor is on their way
 * to the desk — and a document computed just before the mark must not bring it back; a refused or
 * failed request puts things back as they were and says why. No DOM here beyond the focus keys:
 * the view draws.
 */
import { api, ApiError } from '../api.js';
import { studentName } from './needs-help.js';

/** How long a mark or undo this tab made may wait for the server's document to show it. */
export const MARK_HOLD_MS = 15_000;

/** The focus key of the same control in the row after (or before) the clicked one's. */
function nextKey(button, selector) {
  const row = button.closest('li');
  return (row?.nextElementSibling ?? row?.previousElementSibling)?.querySelector(selector)?.dataset.focusKey ?? 'none';
}

/**
 * redraw(focusKey?) draws the view from its last document (focusKey: where the keyboard focus
 * goes, 'none' for the card's title); problem(text) says why a click failed, problem(null)
 * clears it; notifier.quiet(id, on) keeps a student an undo lists again from notifying;
 * reread() reads the document again once a mark or undo is answered (the view keeps only the
 * answer to its newest read: one to an older read, sent before the server had the change, is stale).
 */
export function createHelpMarks({ signal, redraw, problem, notifier, reread }) {
  /**
   * Marks not shown yet: session id → { student, at, by, note, until }, `at` null while the POST
   * is on its way. Kept until a document shows the mark — it no longer lists the student, or lists
   * them again for something after the mark (their `helped` is this mark or a later one), or was
   * computed well after it (another instructor undid it) — and at most until `until`.
   */
  const marking = new Map();
  /** Undos not shown yet: session id → until when (ms) the entry stays off "Being helped". */
  const undoing = new Map();
  const failed = (what, err) => {
    if (err?.name === 'AbortError' || err?.status === 401 || signal.aborted) return;
    problem(`${what}: ${err instanceof ApiError ? err.message : String(err)}`);
  };

  return {
    /**
     * A new document: forget the marks and undos it shows (or that waited long enough). `after`:
     * it answers a read sent after every answered mark and undo of this tab, so it has them all —
     * what it says wins, even when another instructor undid the mark (or marked again) a moment later.
     */
    settle(a, after = false) {
      const t = Date.now();
      for (const [id, m] of marking) {
        if (m.at === null) continue;
        const s = a.students.find((x) => x.session_id === id);
        const at = Date.parse(m.at);
        if (after || !s || Date.parse(s.helped?.at ?? '') >= at || Date.parse(a.generated_at) > at + 1000 || t > m.until) marking.delete(id);
      }
      for (const [id, until] of undoing) if ((after && until !== Number.POSITIVE_INFINITY) || t > until || !(a.helped ?? []).some((x) => x.session_id === id)) undoing.delete(id);
    },

    /** The students to list: not those this tab just marked. */
    listed: (students) => students.filter((s) => !marking.has(s.session_id)),

    /** "Being helped": this tab's marks the document does not have yet, then the document's, newest first. */
    entries(a) {
      const server = (a.helped ?? []).filter((e) => !undoing.has(e.session_id));
      const ids = new Set(server.map((e) => e.session_id));
      const local = [...marking.values()]
        .filter((m) => !ids.has(m.student.session_id))
        .reverse()
        .map(({ student: s, at, by, note }) => ({ session_id: s.session_id, student_id: s.student_id, student_name: s.student_name, student_email: s.student_email, at, by, note, pending: at === null }));
      return [...local, ...server];
    },

    /** Helped (with the note of "+ note", or null): the row leaves at once and the keyboard focus moves on to the next student's button. */
    async mark(s, button, note = null) {
      problem(null);
      const id = s.session_id;
      undoing.delete(id);
      // Marked again after an undo: what lists them next is news again.
      notifier.quiet(id, false);
      marking.set(id, { student: s, at: null, by: null, note, until: Number.POSITIVE_INFINITY });
      redraw(nextKey(button, '.help-done'));
      try {
        const r = await api.markHelped(id, note, { signal });
        marking.set(id, { student: s, at: r.helped.at, by: r.helped.by, note: r.helped.note, until: Date.now() + MARK_HOLD_MS });
      } catch (err) {
        marking.delete(id);
        failed(`Could not mark ${studentName(s)} helped`, err);
      }
      if (signal.aborted) return;
      redraw();
      reread();
    },

    /** Undo: the entry leaves "Being helped"; the next update lists the student again, without a notification. */
    async undo(e, button) {
      problem(null);
      const id = e.session_id;
      const mine = marking.get(id);
      marking.delete(id);
      undoing.set(id, Number.POSITIVE_INFINITY);
      notifier.quiet(id);
      redraw(nextKey(button, '.helped-undo'));
      try {
        await api.unmarkHelped(id, { signal });
        undoing.set(id, Date.now() + MARK_HOLD_MS);
      } catch (err) {
        undoing.delete(id);
        if (mine) marking.set(id, mine);
        failed(`Could not undo the mark for ${studentName(e)}`, err);
      }
      if (signal.aborted) return;
      redraw();
      reread();
    },
  };
}
