/**
 * #/session/<id> — one session: its record (student, status, times), the call (cost, ended
 * reason, recording), the analysis card, and ONE timeline of everything in time order (web
 * events, tool calls, transcript turns, status changes), kept up to date by the session's stream
 * (components/live-tail.js; polling only when the stream cannot be opened).
 *
 * Works for a plain workshop session token too: GET /api/sessions/{id} is 404 there, but
 * GET /api/sessions/{id}/events answers for any token with events, so the timeline still shows.
 */
import { api, ApiError } from '../api.js';
import { fill, h, notice } from '../dom.js';
import { createAnalysisCard } from '../components/analysis-card.js';
import { callCard } from '../components/call-card.js';
import { createTail } from '../components/live-tail.js';
import { sessionHeader, studentOfSession, workshopHeader } from '../components/session-header.js';
import { speakerNamer } from '../components/speakers.js';
import { createTimeline } from '../components/timeline.js';
import { fmtAgo, fmtFor, markedBy, reasonTags } from '../components/needs-help.js';

/**
 * The room the student is measured in, as the Now view measured them: that view's workshop prefix
 * when the instructor came from it, else the room as it is now. Not the session's own id as a
 * prefix: alone in its cohort, a student could never be "stuck" (a step needs others who passed it).
 */
const roomOf = (from) => (from?.name === 'now' ? new URLSearchParams(from.hash.split('?')[1] ?? '').get('workshop') || undefined : undefined);
/** Re-read why the student is flagged at most this often while events arrive. */
const FLAG_EVERY_MS = 10_000;

/** An ended session gets nothing more from its platform: no pulsing "Live" over it. */
const isEnded = (doc) => Boolean(doc && (doc.end_time || doc.status === 'completed' || doc.status === 'abandoned'));

export function renderSession(root, { param: id, signal, from }) {
  if (!id) {
    fill(root, notice('No session id in the address.', 'error'));
    return;
  }
  const header = h('section', { class: 'card session-head', id: 'session-head' }, notice('Loading…'));
  // Why the Now view lists this student (GET /api/attention), while it does: the instructor who
  // clicked a row there sees the reasons again here, next to the events behind them.
  const flag = h('section', { class: 'card session-flag', id: 'session-flag', hidden: true, role: 'status' });
  const cards = h('div', { class: 'session-cards', hidden: true });
  const timeline = createTimeline();
  // Back to where the instructor came from (the Now view, a search…), not always the list.
  const back = from ?? { hash: '#/sessions', title: 'Sessions' };
  // On a phone the timeline starts screens below the head: one tap brings the newest event up.
  const jump = h('button', { type: 'button', class: 'button-link jump-latest', id: 'jump-latest', onclick: () => timeline.scrollToNewest() }, 'Latest event ↓');
  fill(root, h('p', { class: 'crumbs' }, h('a', { href: back.hash, id: 'back-link' }, `← ${back.title}`), jump), header, flag, cards, timeline.section);

  let doc = null;
  let docLoaded = false;
  const callBox = h('div', { class: 'call-box' });
  // Made once: a run in progress must survive the record being re-read by the tail.
  const analysis = createAnalysisCard(id, signal, () => {
    refreshDoc();
    // The run added an analysis_completed event; an ended session's tail is not polling.
    tail.check();
  });
  fill(cards, callBox, analysis.el);
  const tail = createTail(id, signal, timeline, {
    onEvents(batch) {
      // An end-of-call report replaces the call's live transcript with its own (the server
      // deletes the live turns): drop them here too.
      for (const e of batch) {
        const call = e.event_type === 'session_ended' ? e.event_data?.call_id : null;
        if (call) timeline.remove((x) => x.event_type === 'transcript' && x.event_data?.source === 'vapi-live' && x.event_data?.call_id === call);
      }
      // A session record changes with its events (status, counters, analysis): re-read it.
      if (doc) refreshDoc();
      else renderHeader();
      readFlagSoon();
    },
    // The stream says the status changed or the session ended: the record shows it.
    onStatus: () => refreshDoc(),
  });

  /** Read the session record; never throws (a failed re-read keeps what is shown). */
  async function refreshDoc() {
    try {
      doc = await api.session(id, { signal });
    } catch (err) {
      if (err?.name === 'AbortError' || err?.status === 401) return;
      if (!(err instanceof ApiError && err.status === 404)) {
        if (!docLoaded) fill(header, h('h1', {}, id), notice(err instanceof ApiError ? err.message : String(err), 'error'));
        return;
      }
      doc = null;
    }
    docLoaded = true;
    renderHeader();
  }

  let flagRead = 0;
  let flagTimer = null;
  /** The mark this page made ({at, by, note}): a document computed before it must not undo what the card says. */
  let marked = null;
  /**
   * The flag's reads are numbered: one sent before this page's last mark or undo was answered
   * may predate it (an answer to it after the undo put "Being helped" back), so it is dropped.
   */
  let flagReads = 0;
  let flagFloor = 0;
  /**
   * Show the reasons the Now view gives for this session, with Mark helped; once marked (here or by
   * another instructor), who is with the student, with Undo; nothing once the Now view has neither.
   */
  async function readFlag() {
    flagTimer = null;
    flagRead = Date.now();
    if (isEnded(doc)) {
      flag.hidden = true;
      return;
    }
    let a;
    const read = ++flagReads;
    try {
      a = await api.attention({ workshop: roomOf(from) }, { signal });
    } catch {
      // A read that fails keeps what is shown: the flag is a hint, the timeline is the record.
      return;
    }
    if (read <= flagFloor || (marked && Date.parse(a.generated_at) < Date.parse(marked.at))) return;
    const s = a.students.find((x) => x.session_id === id);
    const reasons = Array.isArray(s?.reasons) ? s.reasons : [];
    const mark = (a.helped ?? []).find((x) => x.session_id === id);
    const now = Date.parse(a.generated_at) || Date.now();
    if (reasons.length) showFlag(s, reasons, now);
    else if (mark) showHelped(mark, now);
    else flag.hidden = true;
  }

  function showFlag(s, reasons, now) {
    flag.hidden = false;
    flag.classList.remove('is-helped');
    const button = h('button', { type: 'button', id: 'mark-helped', class: 'flag-action', onclick: () => markHelped(button) }, 'Mark helped');
    fill(
      flag,
      h('div', { class: 'flag-head' }, h('strong', {}, 'Needs help'), reasonTags(reasons), h('span', { class: 'muted small' }, h('time', { datetime: s.since }, `for ${fmtFor(s.since, now)}`)), button),
      h('ul', { class: 'flag-reasons' }, reasons.map((r) => h('li', { dataset: { reason: r.code } }, r.message))),
      s.helped?.at ? h('p', { class: 'help-again small', id: 'flag-helped-before' }, `Helped ${fmtAgo(s.helped.at, now)} by ${markedBy(s.helped.by)} — new since`) : null,
    );
  }

  /** Marked helped: the Now view leaves the student out until something new happens; Undo takes the mark back. */
  function showHelped(m, now) {
    flag.hidden = false;
    flag.classList.add('is-helped');
    const undo = h('button', { type: 'button', id: 'flag-undo', class: 'flag-action', 'aria-label': `Undo the helped mark by ${markedBy(m.by)}`, onclick: () => undoHelped(undo) }, 'Undo');
    fill(
      flag,
      h(
        'div',
        { class: 'flag-head', id: 'flag-helped' },
        h('strong', {}, 'Being helped'),
        h('span', { class: 'muted small', id: 'flag-helped-by' }, `marked by ${markedBy(m.by)} · `, h('time', { datetime: m.at }, fmtAgo(m.at, now))),
        undo,
      ),
      m.note ? h('p', { class: 'flag-note' }, m.note) : null,
      h('p', { class: 'muted small flag-after' }, 'Off the Now view until something new happens (a new error or failed call, or stuck again).'),
    );
  }

  /** Mark helped (POST /api/attention/{id}/helped), as a Now view row's Helped does; a failure says why. */
  async function markHelped(button) {
    button.disabled = true;
    flag.querySelector('.notice-error')?.remove();
    try {
      const r = await api.markHelped(id, null, { signal });
      marked = r.helped;
      flagFloor = flagReads;
      showHelped(r.helped, Date.now());
    } catch (err) {
      if (err?.name === 'AbortError' || err?.status === 401) return;
      button.disabled = false;
      flag.append(notice(`Could not mark helped: ${err instanceof ApiError ? err.message : String(err)}`, 'error'));
    }
  }

  /**
   * Undo (DELETE /api/attention/{id}/helped), whoever marked it: a mark made by mistake. The flag
   * is read again at once: the earlier evidence counts again, so it shows why the student is listed.
   */
  async function undoHelped(button) {
    button.disabled = true;
    flag.querySelector('.notice-error')?.remove();
    try {
      await api.unmarkHelped(id, { signal });
    } catch (err) {
      if (err?.name === 'AbortError' || err?.status === 401) return;
      button.disabled = false;
      flag.append(notice(`Could not undo the mark: ${err instanceof ApiError ? err.message : String(err)}`, 'error'));
      return;
    }
    marked = null;
    flagFloor = flagReads;
    clearTimeout(flagTimer);
    await readFlag();
    // The keyboard stays on the card: on Mark helped when the student is listed again.
    if (!flag.contains(document.activeElement)) flag.querySelector('#mark-helped')?.focus();
  }
  /** After new events, at most once per FLAG_EVERY_MS. */
  function readFlagSoon() {
    if (flagTimer || signal.aborted) return;
    flagTimer = setTimeout(readFlag, Math.max(0, flagRead + FLAG_EVERY_MS - Date.now()));
  }

  /** One-click assign of a student the conversation suggested (admin token; 403 otherwise, shown). */
  async function assignTo(studentId, button) {
    button.disabled = true;
    try {
      await api.assign(id, studentId, { signal });
      await refreshDoc();
    } catch (err) {
      if (err?.name === 'AbortError' || err?.status === 401) return;
      button.disabled = false;
      button.parentElement?.append(notice(err instanceof ApiError ? err.message : String(err), 'error'));
    }
  }

  function renderHeader() {
    if (!docLoaded || !timeline.loaded) return;
    if (!doc && timeline.events.length === 0) {
      fill(header, h('h1', {}, id), notice(`No session and no events for “${id}”.`, 'error'));
      cards.hidden = true;
      tail.stop();
      return;
    }
    fill(header, ...(doc ? sessionHeader(doc, timeline.events, assignTo) : workshopHeader(id, timeline.events)));
    timeline.setWeb(!doc || doc.platform === 'web');
    timeline.setSpeakers(speakerNamer(doc, studentOfSession(doc, timeline.events).name));
    tail.setEnded(isEnded(doc));
    // No record (a workshop token): there is no call and nothing to analyse.
    cards.hidden = !doc;
    fill(callBox, doc ? callCard(doc) : null);
    if (doc) analysis.update(doc);
  }

  (async () => {
    // The tail starts from the sequence read BEFORE the history, so nothing arriving while the
    // history loads is missed (duplicates are dropped by event id).
    let seq = '0';
    try {
      seq = (await api.timeline(id, { limit: 1 }, { signal })).last_seq ?? '0';
    } catch (err) {
      // 404: maybe a record without events yet; anything else (a malformed id…) ends here.
      if (!(err instanceof ApiError && err.status === 404)) {
        if (err?.name === 'AbortError' || err?.status === 401) return;
        fill(header, h('h1', {}, id), notice(err instanceof ApiError ? err.message : String(err), 'error'));
        timeline.section.hidden = true;
        return;
      }
    }
    await Promise.all([refreshDoc(), timeline.loadAll(id, signal)]);
    timeline.defaultOrder(!isEnded(doc));
    renderHeader();
    readFlag();
    if (timeline.loaded && (doc || timeline.events.length)) tail.start(seq, { live: !isEnded(doc) });
  })();

  return () => {
    clearTimeout(flagTimer);
    tail.stop();
  };
}
