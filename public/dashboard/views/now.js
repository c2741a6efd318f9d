/**
 * #/now — the landing page: who needs help right now (ranked), the cohort's progress per step,
 * the most frequent errors of the last 15 minutes and recent alerts. Follows GET
 * /api/attention/stream (alerts re-read with each update); while the stream is not open it polls
 * GET /api/attention and GET /api/alerts every POLL_MS while the tab is visible, and tries the
 * stream again. When the server cannot be reached, what is on screen stays, marked as not live.
 * Leaving the view stops either (the router aborts the signal and calls the cleanup).
 * #/now?workshop=ws_room2 narrows everything (alerts too) to session tokens starting with that
 * prefix; a prefix no active session has says so rather than "nobody needs help". #/now?step=3
 * (a step bar's link) narrows the needs-help list to the students on that step.
 * A row's Helped button marks the student helped (POST /api/attention/{id}/helped), its "+ note"
 * with a note said in a dialog first: the row leaves at once, and "Being helped" under the list
 * names who is with whom, with Undo (DELETE).
 */
import { api, ApiError, query as qs } from '../api.js';
import { nextRetry, pause as wait, readStream, STREAM_RETRY_MS } from '../stream.js';
import { alertsList } from '../components/alerts-list.js';
import { beingHelped } from '../components/being-helped.js';
import { createHelpMarks } from '../components/help-marks.js';
import { needsHelpList, stepLabel, studentName } from '../components/needs-help.js';
import { createNoteDialog } from '../components/note-dialog.js';
import { nowErrors } from '../components/now-errors.js';
import { stepBars } from '../components/step-bars.js';
import { fill, fmtTime, h, notice } from '../dom.js';
import { sessionHref } from '../components/sessions-table.js';

/** Fresh enough for a room of students, light enough for 2 requests per tab. */
export const POLL_MS = 5000;
const ALERTS_SHOWN = 10;

/** A card: its head (title and extras), then its body. */
function card(id, title, extras, body) {
  return h('section', { class: 'card now-card', id, 'aria-labelledby': `${id}-title` }, h('div', { class: 'card-head' }, h('h2', { id: `${id}-title` }, title), extras), body);
}

const NOTIFY_KEY = 'sessionlog.notify';

/**
 * "Notify me": a desktop notification when a student newly needs help while the instructor is not
 * looking at this tab (it is hidden or another window has the focus) — the list itself says it
 * when they are. Off until asked for (the browser asks for permission on that click); the choice is
 * kept in this browser. One notification per update: a student by name with the first reason, or
 * how many when several arrive at once. Clicking it brings the tab forward on that student's session.
 */
function createNotifier(sessionHref, navigate) {
  const supported = typeof Notification === 'function';
  let on = supported && Notification.permission === 'granted' && localStorage.getItem(NOTIFY_KEY) === '1';
  /**
   * The students listed at the last update, each with the time of the helped mark they were listed
   * with ('' for none); null before the first update (which must not notify). A student listed again
   * after a mark is news, even when no update came between the mark and what happened after it.
   */
  let seen = null;
  /**
   * Students this instructor just put back on the list (Undo): session id → until when (ms) their
   * return is no news. A student listed again after a mark, by something new, is news.
   */
  const quiet = new Map();
  const button = h('button', { type: 'button', class: 'notify-toggle', id: 'notify-toggle', 'aria-pressed': 'false' });
  function show() {
    const blocked = supported && Notification.permission === 'denied';
    button.textContent = !supported ? 'Notifications unavailable' : blocked ? 'Notifications blocked' : on ? 'Notifying · turn off' : 'Notify me';
    button.disabled = !supported || blocked;
    button.title = blocked ? 'This browser blocks notifications from this site: allow them in its site settings.' : 'A desktop notification when a student newly needs help while this tab is not in view';
    button.setAttribute('aria-pressed', String(on));
  }
  button.addEventListener('click', async () => {
    if (on) on = false;
    else on = (Notification.permission === 'granted' ? 'granted' : await Notification.requestPermission()) === 'granted';
    localStorage.setItem(NOTIFY_KEY, on ? '1' : '0');
    show();
  });
  show();
  return {
    button,
    /** The next update that lists this student again is not news (for at most a minute); `false` takes that back. */
    quiet(id, on = true) {
      if (on) quiet.set(id, Date.now() + 60_000);
      else quiet.delete(id);
    },
    update(students) {
      const t = Date.now();
      const mark = (s) => s.helped?.at ?? '';
      const fresh = seen ? students.filter((s) => (!seen.has(s.session_id) || (mark(s) && mark(s) !== seen.get(s.session_id))) && !(quiet.get(s.session_id) > t)) : [];
      seen = new Map(students.map((s) => [s.session_id, mark(s)]));
      for (const [id, until] of quiet) if (seen.has(id) || until <= t) quiet.delete(id);
      if (!on || !fresh.length || (document.visibilityState === 'visible' && document.hasFocus())) return;
      const [first] = fresh;
      const n = new Notification(fresh.length === 1 ? `${studentName(first)} needs help` : `${fresh.length} more students need help`, {
        body: fresh.length === 1 ? (first.reasons?.[0]?.message ?? '') : fresh.map(studentName).join(', '),
        tag: 'sessionlog-needs-help',
      });
      n.addEventListener('click', () => {
        window.focus();
        navigate(sessionHref(first.session_id));
        n.close();
      });
    },
  };
}

export function renderNow(root, { query, signal, navigate }) {
  const workshop = (query.get('workshop') ?? '').trim();
  // #/now?step=3 narrows the needs-help list to the students on that step (a step bar's link).
  const step = (query.get('step') ?? '').trim();
  /** This view's address with `step` (none: every step). */
  const hrefFor = (s) => `#/now${qs({ workshop: workshop || undefined, step: s || undefined })}`;
  const stamp = h('span', { class: 'muted small', id: 'now-updated', role: 'status' }, 'Loading…');
  const live = h('div', { class: 'live', id: 'now-live', dataset: { state: 'idle', polls: 0 } }, stamp);
  const notifier = createNotifier(sessionHref, navigate);
  const notifyButton = notifier.button;
  const form = h(
    'form',
    { class: 'now-filter', id: 'now-filter', role: 'search' },
    h('label', { class: 'inline-field' }, 'Workshop ', h('input', { name: 'workshop', value: workshop, placeholder: 'token prefix, e.g. ws_room2', autocomplete: 'off', spellcheck: 'false' })),
    h('button', { type: 'submit' }, 'Apply'),
  );
  const stats = h('div', { class: 'stats now-stats', id: 'now-stats', 'aria-live': 'polite' });
  const helpCount = h('span', { class: 'muted small', id: 'needs-help-count' });
  const helpBody = h('div', { class: 'help-body' }, notice('Loading…'));
  // Why a Helped or Undo click failed (the row is back); cleared by the next click.
  const helpProblem = h('div', { class: 'help-problem', id: 'help-problem' });
  // While the server cannot be reached: why Helped, + note and Undo do nothing (they are aria-disabled).
  const helpOffline = h('p', { class: 'help-offline small', id: 'help-offline', hidden: true });
  const helpedBox = h('div', { class: 'helped-box' });
  const stepsBody = h('div', {}, notice('Loading…'));
  const errorsBody = h('div', {}, notice('Loading…'));
  const alertsBody = h('div', {}, notice('Loading…'));
  const grid = h(
    'div',
    { class: 'now-grid', id: 'now-grid' },
    card('needs-help', 'Needs help', helpCount, [helpOffline, helpProblem, helpBody, helpedBox]),
    card('progress', 'Progress by step', h('span', { class: 'legend small' }, h('span', { class: 'legend-ok' }, 'on the step'), h('span', { class: 'legend-stuck' }, 'stuck')), stepsBody),
    card('now-errors', 'Top errors · last 15 min', null, errorsBody),
    card('now-alerts', 'Recent alerts', null, alertsBody),
  );
  // "+ note": the mark's note, said in a dialog first.
  const noteDialog = createNoteDialog();
  // Where the keyboard focus goes when a click removed the last button of its list.
  const helpTitle = grid.querySelector('#needs-help-title');
  helpTitle.tabIndex = -1;

  fill(
    root,
    h('div', { class: 'title-row now-title' }, h('h1', { class: 'page-title' }, 'Now'), live, notifyButton, form),
    stats,
    grid,
    noteDialog.el,
  );

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = String(new FormData(form).get('workshop') ?? '').trim();
    navigate(v ? `#/now?${new URLSearchParams({ workshop: v })}` : '#/now');
  });

  const problem = (err) => notice(err instanceof ApiError ? (err.status === 404 ? `Not available on this server (${err.message}).` : err.message) : String(err), 'error');
  const stat = (label, value, id) => h('div', { class: 'stat', id }, h('span', { class: 'stat-value' }, value), h('span', { class: 'stat-label' }, label));
  let polls = 0;
  let timer = null;
  /** The poll loop runs (the stream is not open); it stops itself once the stream opens. */
  let polling = false;
  let streaming = false;
  /** When what is on screen was read; null until the first answer. */
  let shownAt = null;
  let alertsShown = false;

  /** The last document read: a click redraws from it at once (the next update brings the server's truth). */
  let doc = null;
  /**
   * Why the server cannot be reached now (null: it answers): a mark or an undo would not be
   * stored, so the controls that send one are off, saying why, until the next answer.
   */
  let offline = null;
  function goneOffline(why) {
    if (offline === why) return;
    offline = why;
    if (doc) draw();
  }
  window.addEventListener('offline', () => goneOffline('this browser is offline'), { signal });
  let helpedExpanded = false;
  /**
   * The reads of the document this view sends (the poll's, the re-read after a mark or undo) are
   * numbered: an answer is shown only when it answers a newer read than the one on screen, and
   * one sent before the last mark or undo was answered is not (it may predate the change). A
   * pushed document older than the one on screen (generated_at) is not shown either. Without
   * this, a poll answered after the re-read that follows an Undo put back the list of before it.
   */
  let reads = 0;
  let shownRead = 0;
  let readFloor = 0;
  const marks = createHelpMarks({
    signal,
    redraw: (focusKey) => draw(focusKey),
    problem: (text) => fill(helpProblem, text ? notice(text, 'error') : null),
    notifier,
    reread,
  });

  /** Show a document unless a newer one is on screen; `read` numbers the request it answers (none: pushed). */
  function showAttention(a, read) {
    // The reads' order, not the server's clocks, decides between answers: on serverless two
    // instances' clocks may differ. A pushed document comes from one stream, in order; it only
    // has to be no older than what a re-read put on screen.
    if (read !== undefined ? read <= readFloor || read <= shownRead : doc && Date.parse(a.generated_at) < Date.parse(doc.generated_at)) return false;
    if (read !== undefined) shownRead = read;
    offline = null;
    marks.settle(a, read !== undefined);
    notifier.update(a.students);
    doc = a;
    draw();
    return true;
  }

  /** A mark or undo was answered: what any earlier read brings may predate it; read again now. */
  async function reread() {
    readFloor = reads;
    const read = ++reads;
    try {
      const a = await api.attention({ workshop: workshop || undefined }, { signal });
      if (!signal.aborted && showAttention(a, read)) fresh(streaming ? 'stream' : 'poll');
    } catch {
      // The poll or the stream carries on and says when the server cannot be reached.
    }
  }

  /**
   * Draw `doc`. An update rebuilds the list every few seconds: the keyboard focus goes back to the
   * same control (by its data-focus-key), or to `focusKey` after a click removed the one focused.
   */
  function draw(focusKey) {
    const a = doc;
    const active = document.activeElement;
    const keep = focusKey ?? (grid.contains(active) ? active?.dataset?.focusKey : undefined);
    const now = Date.parse(a.generated_at) || Date.now();
    const students = marks.listed(a.students);
    const stuck = a.steps.reduce((n, s) => n + (s.stuck ?? 0), 0);
    fill(stats, stat('active students', String(a.active_students), 'stat-active'), stat('need help', String(students.length), 'stat-help'), stat('stuck', String(stuck), 'stat-stuck'), stat('error types · 15 min', String(a.top_errors.length), 'stat-errors'));
    // The count in the tab's title: an instructor whose tab is in the background, or who is
    // helping someone at a desk, sees at a glance that more students need help.
    document.title = students.length ? `(${students.length}) Sessionlog · Now` : 'Sessionlog · Now';
    const shown = step ? students.filter((s) => String(s.current_step ?? '') === step) : students;
    helpOffline.hidden = !offline;
    fill(helpOffline, offline ? `Helped, + note and Undo are off: ${offline}, so a mark would not be stored. They come back when the server answers.` : null);
    const off = offline ? 'help-offline' : null;
    const stepName = step ? (stepLabel(step, a.steps.find((s) => s.step === step)?.step_name) ?? step) : null;
    fill(
      helpCount,
      step
        ? [`${shown.length} on step ${stepName} · `, h('a', { href: hrefFor(''), id: 'all-steps' }, 'all steps')]
        : students.length
          ? `${students.length} of ${a.active_students} · highest need first`
          : '',
    );
    // A mistyped prefix must not read as "nobody needs help".
    fill(
      helpBody,
      workshop && !a.active_students
        ? notice(`No active session's token starts with "${workshop}". Check the workshop prefix, or clear it to see every room.`)
        : step && !shown.length
          ? notice(`Nobody on step ${stepName} needs help right now.`, 'ok')
          : needsHelpList(shown, { href: sessionHref, now, off, onHelped: marks.mark, onNote: (s, button) => noteDialog.open(s, (note) => marks.mark(s, button, note)) }),
    );
    fill(
      helpedBox,
      beingHelped(marks.entries(a), {
        href: sessionHref,
        now,
        onUndo: marks.undo,
        off,
        expanded: helpedExpanded,
        onToggle: () => {
          helpedExpanded = !helpedExpanded;
          draw('helped-more');
        },
      }),
    );
    fill(stepsBody, stepBars(a.steps, { href: hrefFor, selected: step || undefined }));
    fill(errorsBody, nowErrors(a.top_errors, { since: new Date(now - 15 * 60_000).toISOString(), workshop }));
    if (keep && !grid.contains(document.activeElement)) (grid.querySelector(`[data-focus-key="${CSS.escape(keep)}"]`) ?? (focusKey ? helpTitle : null))?.focus();
  }

  function fresh(how) {
    shownAt = new Date();
    for (const el of [stats, grid]) el.classList.remove('stale');
    live.dataset.state = 'live';
    stamp.textContent = how === 'stream' ? `Live · streaming · updated ${fmtTime(shownAt)}` : `Live · updated ${fmtTime(shownAt)} · every ${POLL_MS / 1000}s`;
  }

  /**
   * The room could not be read (the server or its database is down, the network dropped). What
   * is on screen stays, greyed and marked with when it was read: an instructor glancing up
   * mid-outage still sees who was stuck, and knows it is not live. With nothing yet, say why.
   */
  function unreachable(err) {
    live.dataset.state = 'error';
    const why = err instanceof ApiError && err.status ? err.message : 'server unreachable';
    goneOffline(navigator.onLine === false ? 'this browser is offline' : err instanceof ApiError && err.status ? `the server answers ${err.status} (${why})` : 'the server cannot be reached');
    if (shownAt) {
      for (const el of [stats, grid]) el.classList.add('stale');
      stamp.textContent = `Not updating (${why}) · showing ${fmtTime(shownAt)} · retrying`;
    } else {
      stamp.textContent = `Retrying (${why})…`;
      for (const box of [helpBody, stepsBody, errorsBody]) fill(box, problem(err));
    }
  }

  /** Today's alerts; a failed read keeps the list on screen (an error shows only in place of nothing). */
  function showAlerts(result) {
    if (result.status === 'fulfilled') {
      fill(alertsBody, alertsList(result.value.alerts, { href: sessionHref }));
      alertsShown = true;
    } else if (result.reason?.name !== 'AbortError' && result.reason?.status !== 401 && !alertsShown) fill(alertsBody, problem(result.reason));
  }

  const alertsSince = () => {
    const startOfDay = new Date();
    startOfDay.setHours(0, 0, 0, 0);
    return startOfDay.toISOString();
  };
  /** Today's alerts of this view's workshop (all of them without one). */
  const readAlerts = () => api.alerts({ since: alertsSince(), limit: ALERTS_SHOWN, workshop: workshop || undefined }, { signal });

  /** While the stream is not open: poll both reads every POLL_MS (while the tab is visible). */
  async function load() {
    timer = null;
    if (signal.aborted || streaming) {
      polling = false;
      return;
    }
    if (!document.hidden) {
      polls++;
      live.dataset.polls = String(polls);
      const read = ++reads;
      const [att, al] = await Promise.allSettled([api.attention({ workshop: workshop || undefined }, { signal }), readAlerts()]);
      if (signal.aborted) return;
      if ([att, al].some((r) => r.status === 'rejected' && r.reason?.status === 401)) return;
      // The stream opened meanwhile: it has the newer picture.
      if (streaming) {
        polling = false;
        return;
      }
      if (att.status === 'fulfilled') {
        if (showAttention(att.value, read)) fresh('poll');
      } else unreachable(att.reason);
      showAlerts(al);
    }
    if (signal.aborted || streaming) polling = false;
    else timer = setTimeout(load, POLL_MS);
  }

  function startPolling() {
    if (polling) return;
    polling = true;
    load();
  }

  /** Alerts are raised by the events that move attention: re-read them with each pushed update. */
  async function loadAlerts() {
    const [al] = await Promise.allSettled([readAlerts()]);
    if (!signal.aborted) showAlerts(al);
  }

  /**
   * GET /api/attention/stream pushes the whole attention document when the room's events move
   * (and every 15 s, as "stuck" grows with time alone). Each message is the full state, so a
   * reconnect (Vercel closes streams at 25 s) needs no cursor. When it breaks off or cannot be
   * opened (the server is down, a proxy refuses streams), the view polls meanwhile and tries the
   * stream again (stream.js: STREAM_RETRY_MS, then nextRetry).
   */
  async function follow() {
    const path = `/api/attention/stream${qs({ workshop: workshop || undefined })}`;
    let backoff = STREAM_RETRY_MS;
    while (!signal.aborted) {
      try {
        polls++;
        live.dataset.polls = String(polls);
        const { retry } = await readStream(path, {
          signal,
          onOpen() {
            streaming = true;
            clearTimeout(timer);
            timer = null;
            polling = false;
            backoff = STREAM_RETRY_MS;
            live.dataset.mode = 'stream';
          },
          onMessages(batch) {
            const latest = batch.filter((m) => m.event === 'attention').at(-1);
            if (!latest) return;
            loadAlerts();
            if (showAttention(latest.data)) fresh('stream');
          },
        });
        streaming = false;
        await wait(retry, signal);
      } catch (err) {
        streaming = false;
        if (err?.name === 'AbortError' || err?.status === 401 || signal.aborted) return;
        live.dataset.mode = 'polling';
        startPolling();
        await wait(backoff, signal);
        backoff = nextRetry(backoff);
      }
    }
  }
  follow();

  return () => clearTimeout(timer);
}
