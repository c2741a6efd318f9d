/**
 * #/session/<id> — one session: its record (student, status, times), the call (cost, ended
 * reason, recording), the analysis card, and ONE timeline of everything in time order (web
 * events, tool calls, transcript turns, status changes), kept up to date by a live tail.
 *
 * Works for a plain workshop session token too: GET /api/sessions/{id} is 404 there, but
 * GET /api/sessions/{id}/events answers for any token with events, so the timeline still shows.
 */
import { api, ApiError } from '../api.js';
import { fill, fmtCost, fmtDateTime, fmtDuration, fmtShort, fmtTime, h, jsonDetails, notice, safeUrl, statusBadge, timeEl } from '../dom.js';
import { CATEGORIES, categoryOf, describe, isProblem, studentOf } from '../events.js';
import { createAnalysisCard } from './analysis.js';

/** Live tail period: the issue asks for 2–3 s. */
export const TAIL_MS = 2500;
/** Full-history pages read when the view opens (1000 events each). */
const MAX_PAGES = 20;

export function renderSession(root, { param: id, signal }) {
  if (!id) {
    fill(root, notice('No session id in the address.', 'error'));
    return;
  }
  const header = h('section', { class: 'card session-head', id: 'session-head' }, notice('Loading…'));
  const cards = h('div', { class: 'session-cards', hidden: true });
  const timeline = createTimeline();
  fill(root, h('p', { class: 'crumbs' }, h('a', { href: '#/sessions' }, '← Sessions')), header, cards, timeline.section);

  let doc = null;
  let docLoaded = false;
  const callBox = h('div', { class: 'call-box' });
  // Made once: a run in progress must survive the record being re-read by the tail.
  const analysis = createAnalysisCard(id, signal, () => refreshDoc());
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
    },
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

  function renderHeader() {
    if (!docLoaded || !timeline.loaded) return;
    if (!doc && timeline.events.length === 0) {
      fill(header, h('h1', {}, id), notice(`No session and no events for “${id}”.`, 'error'));
      cards.hidden = true;
      tail.stop();
      return;
    }
    fill(header, ...(doc ? sessionHeader(doc, timeline.events, assignTo) : workshopHeader(id, timeline.events)));
    // No record (a workshop token): there is no call and nothing to analyse.
    cards.hidden = !doc;
    fill(callBox, doc ? callCard(doc) : null);
    if (doc) analysis.update(doc);
  }

  /** One-click assign of a student the conversation suggested (POST /api/sessions/{id}/assign, admin). */
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
    renderHeader();
    if (timeline.loaded && (doc || timeline.events.length)) tail.start(seq);
  })();

  return () => tail.stop();
}

// ---------------------------------------------------------------- header and call

/** A label/value pair of a <dl class="facts"> (a <div> may group a dt and its dd). */
function fact(label, ...value) {
  return h('div', { class: 'fact' }, h('dt', {}, label), h('dd', {}, ...value));
}

function studentFromEvents(events) {
  for (const e of events) {
    const s = studentOf(e);
    if (s) return s;
  }
  return null;
}

/** Students an unidentified call's conversation named (several: the server could not pick one). */
function suggestions(doc, onAssign) {
  const ids = doc.platform_metadata?.suggested_student_ids;
  if (doc.student_id !== 'unknown' || !Array.isArray(ids) || ids.length === 0) return null;
  return h(
    'p',
    { class: 'suggested', id: 'suggested-students' },
    'The caller may be: ',
    ids.map((sid) => {
      const b = h('button', { type: 'button', class: 'suggest', 'data-student': String(sid) }, `Assign to ${sid}`);
      b.addEventListener('click', () => onAssign(String(sid), b));
      return b;
    }),
  );
}

function sessionHeader(doc, events, onAssign) {
  const who = doc.student_id ?? (doc.participants.map((p) => p.id).join(', ') || studentFromEvents(events) || '(unknown student)');
  const topic = [doc.subject, doc.topic, doc.subtopic].filter(Boolean).join(' › ');
  const ended = doc.end_time ? timeEl(doc.end_time) : h('span', { class: 'muted' }, `last activity ${fmtDateTime(doc.last_activity)}`);
  return [
    h('div', { class: 'title-row' }, h('h1', { id: 'session-student' }, who), statusBadge(doc.status), h('span', { class: 'platform' }, doc.platform)),
    h('p', { class: 'sub mono', id: 'session-id' }, doc.session_id),
    h(
      'dl',
      { class: 'facts' },
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
function workshopHeader(id, events) {
  const first = events[0];
  const last = events.at(-1);
  const errors = events.filter((e) => e.event_type === 'error').length;
  const span = first && last ? (Date.parse(last.created_at) - Date.parse(first.created_at)) / 1000 : 0;
  return [
    h('div', { class: 'title-row' }, h('h1', { id: 'session-student' }, studentFromEvents(events) ?? '(anonymous)'), h('span', { class: 'badge status-other' }, 'workshop')),
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

/** The call behind a voice session: cost, why it ended, the recording. */
function callCard(doc) {
  const m = doc.platform_metadata ?? {};
  const has = ['call_id', 'cost', 'ended_reason', 'recording_url'].some((k) => m[k] !== undefined && m[k] !== null);
  if (!has) return null;
  const recording = safeUrl(m.recording_url);
  const rows = [
    fact('Cost', h('span', { id: 'call-cost' }, fmtCost(m.cost))),
    fact('Ended reason', h('span', { id: 'call-ended-reason' }, m.ended_reason ?? '—')),
    fact(
      'Recording',
      recording
        ? h('a', { href: recording, id: 'call-recording', target: '_blank', rel: 'noopener noreferrer' }, 'Listen to the recording')
        : h('span', { class: 'muted' }, m.recording_url ? 'recording URL is not an http(s) link' : '—'),
    ),
    m.call_type ? fact('Call type', m.call_type) : null,
    m.call_id ? fact('Call id', h('span', { class: 'mono' }, m.call_id)) : null,
    m.phone_number ? fact('Phone', m.phone_number) : null,
    typeof m.duration_seconds === 'number' ? fact('Call length', fmtDuration(m.duration_seconds)) : null,
    m.success_evaluation !== undefined ? fact('Success evaluation', String(m.success_evaluation)) : null,
  ];
  return h(
    'section',
    { class: 'card call-card', id: 'call-card', 'aria-labelledby': 'call-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'call-title' }, 'Call')),
    h('dl', { class: 'facts' }, rows),
    m.vapi_summary ? h('p', { class: 'summary' }, m.vapi_summary) : null,
    m.cost_breakdown ? jsonDetails(m.cost_breakdown, 'Cost breakdown') : null,
    m.structured_data ? jsonDetails(m.structured_data, 'Structured data') : null,
  );
}

// ---------------------------------------------------------------- timeline

/**
 * The timeline: events sorted by time (ties keep arrival order), rendered once each and inserted
 * in place as the tail brings more, so open <details> stay open.
 */
function createTimeline() {
  const list = h('ol', { class: 'timeline', id: 'timeline', 'aria-live': 'polite' });
  const counter = h('span', { class: 'muted small', id: 'timeline-count' });
  const status = h('div', { class: 'timeline-status' }, notice('Loading the timeline…'));
  const empty = h('p', { class: 'notice notice-info', hidden: true }, 'No events yet.');
  const liveBox = h('div', { class: 'live' });
  const toggles = h(
    'div',
    { class: 'timeline-filters', role: 'group', 'aria-label': 'Show' },
    CATEGORIES.map((c) =>
      h('label', { class: 'chip' }, h('input', { type: 'checkbox', checked: true, dataset: { category: c.id }, onchange: (ev) => list.classList.toggle(`hide-${c.id}`, !ev.target.checked) }), c.label),
    ),
    h('label', { class: 'chip chip-problem' }, h('input', { type: 'checkbox', id: 'problems-only', onchange: (ev) => list.classList.toggle('problems-only', ev.target.checked) }), 'Problems only'),
  );
  const section = h(
    'section',
    { class: 'card timeline-card', 'aria-labelledby': 'timeline-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'timeline-title' }, 'Timeline'), counter, liveBox),
    toggles,
    status,
    empty,
    list,
  );

  const t = {
    section,
    liveBox,
    events: [],
    loaded: false,
    ids: new Set(),
    /** Local date of the first event: others on another day show their date too. */
    day: null,
    fail(err) {
      if (err?.name === 'AbortError' || err?.status === 401) return;
      fill(status, notice(err instanceof ApiError ? err.message : String(err), 'error'));
    },
    /** Read the whole history (oldest first, cursor pages) and render it. True on success. */
    async loadAll(id, signal) {
      const all = [];
      let cursor;
      try {
        for (let page = 0; page < MAX_PAGES; page++) {
          const res = await api.timeline(id, { limit: 1000, cursor }, { signal });
          all.push(...res.events);
          cursor = res.next_cursor;
          if (!cursor) break;
        }
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) {
          t.loaded = true;
          status.replaceChildren();
          t.count();
          return true;
        }
        t.fail(err);
        return false;
      }
      t.events = [];
      t.ids = new Set();
      list.replaceChildren();
      t.day = all[0] ? new Date(all[0].created_at).toDateString() : null;
      for (const e of all) t.add(e, false);
      t.loaded = true;
      fill(status, cursor ? notice(`Showing the first ${all.length} events.`, 'info') : null);
      t.count();
      return true;
    },
    /** Take events off the timeline (transcript turns a call report superseded). */
    remove(pred) {
      for (let i = t.events.length - 1; i >= 0; i--) {
        if (!pred(t.events[i])) continue;
        t.events.splice(i, 1);
        list.children[i]?.remove();
      }
      t.count();
    },
    /** Insert one event at its place in time; false when already shown. */
    add(e, fresh) {
      if (t.ids.has(e.event_id)) return false;
      t.ids.add(e.event_id);
      t.day ??= new Date(e.created_at).toDateString();
      const time = Date.parse(e.created_at);
      // Binary search for the first event strictly later: equal times keep arrival order.
      let lo = 0;
      let hi = t.events.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (Date.parse(t.events[mid].created_at) > time) hi = mid;
        else lo = mid + 1;
      }
      const node = timelineItem(e, t.day);
      if (fresh) node.classList.add('tl-new');
      list.insertBefore(node, list.children[lo] ?? null);
      t.events.splice(lo, 0, e);
      return true;
    },
    count() {
      const problems = t.events.filter(isProblem).length;
      counter.textContent = `${t.events.length} event${t.events.length === 1 ? '' : 's'}${problems ? ` · ${problems} problem${problems === 1 ? '' : 's'}` : ''}`;
      empty.hidden = t.events.length > 0;
    },
  };
  return t;
}

function timelineItem(e, firstDay) {
  const cat = categoryOf(e);
  const problem = isProblem(e);
  const { label, text } = describe(e);
  const sameDay = firstDay && new Date(e.created_at).toDateString() === firstDay;
  const classes = ['tl-item', `cat-${cat}`, `type-${e.event_type}`, problem && 'is-problem'];
  if (cat === 'transcript') {
    const who = String(e.event_data?.speaker ?? '').toLowerCase();
    classes.push(who === 'user' || who === 'student' || who === 'a' || who === 'b' ? 'speaker-student' : 'speaker-agent');
  }
  return h(
    'li',
    { class: classes, dataset: { eventId: e.event_id, type: e.event_type, category: cat, ...(problem ? { problem: 'true' } : {}) } },
    h('time', { class: 'tl-time', datetime: e.created_at, title: fmtDateTime(e.created_at) }, sameDay ? fmtTime(e.created_at) : fmtShort(e.created_at)),
    h('span', { class: 'tl-label' }, label),
    h('div', { class: 'tl-body' }, h('span', { class: 'tl-text' }, text), jsonDetails(e.event_data ?? {}, 'data')),
  );
}

// ---------------------------------------------------------------- live tail

/**
 * Poll GET /api/sessions/{id}/events?after_seq=<last_seq> every TAIL_MS (arrival order, so a late
 * event with an older time is not missed) and merge. One request at a time; pausing aborts the
 * request in flight so nothing lands after "Pause".
 */
function createTail(id, viewSignal, timeline, { onEvents }) {
  let seq = '0';
  let running = false;
  let started = false;
  let timer = null;
  let inflight = null;
  let polls = 0;

  const button = h('button', { type: 'button', id: 'live-toggle', class: 'live-toggle', 'aria-pressed': 'false' }, 'Pause');
  const state = h('span', { class: 'live-state', id: 'live-status', role: 'status' });
  fill(timeline.liveBox, state, button);

  function show(text, mode) {
    state.textContent = text;
    timeline.liveBox.dataset.state = mode;
    timeline.liveBox.dataset.polls = String(polls);
  }

  async function poll() {
    timer = null;
    if (!running) return;
    const controller = new AbortController();
    const abort = () => controller.abort();
    viewSignal.addEventListener('abort', abort, { once: true });
    inflight = controller;
    try {
      if (!document.hidden) {
        polls++;
        timeline.liveBox.dataset.polls = String(polls);
        const res = await api.timeline(id, { after_seq: seq }, { signal: controller.signal });
        if (!running || controller.signal.aborted) return;
        const fresh = res.events.filter((e) => timeline.add(e, true));
        seq = res.last_seq ?? seq;
        if (fresh.length) {
          timeline.count();
          onEvents(fresh);
        }
        show(`Live · checked ${fmtTime(new Date())}${fresh.length ? ` · ${fresh.length} new` : ''}`, 'live');
      }
    } catch (err) {
      if (err?.name === 'AbortError' || err?.status === 401) return;
      show(`Live · retrying (${err instanceof ApiError ? err.message : 'network error'})`, 'error');
    } finally {
      viewSignal.removeEventListener('abort', abort);
      if (inflight === controller) inflight = null;
      if (running && !viewSignal.aborted && !timer) timer = setTimeout(poll, TAIL_MS);
    }
  }

  function pause() {
    running = false;
    clearTimeout(timer);
    timer = null;
    inflight?.abort();
    button.textContent = 'Resume';
    button.setAttribute('aria-pressed', 'true');
    show('Paused · no updates', 'paused');
  }

  function resume() {
    running = true;
    button.textContent = 'Pause';
    button.setAttribute('aria-pressed', 'false');
    show('Live · checking…', 'live');
    poll();
  }

  button.addEventListener('click', () => {
    if (!started) return;
    if (running) pause();
    else resume();
  });
  show('Live tail starts after loading…', 'idle');

  return {
    start(from) {
      seq = from;
      started = true;
      resume();
    },
    stop() {
      running = false;
      clearTimeout(timer);
      inflight?.abort();
    },
  };
}
