/**
 * The live tail of a session's timeline, with its Pause/Resume button and status line.
 */
import { api, ApiError } from '../api.js';
import { fill, fmtTime, h } from '../dom.js';

/** Live tail period: the issue asks for 2–3 s. */
export const TAIL_MS = 2500;

/**
 * Poll GET /api/sessions/{id}/events?after_seq=<last_seq> every TAIL_MS (arrival order, so a late
 * event with an older time is not missed) and merge. One request at a time; pausing aborts the
 * request in flight so nothing lands after "Pause".
 */
export function createTail(id, viewSignal, timeline, { onEvents }) {
  let seq = '0';
  let running = false;
  let started = false;
  let timer = null;
  let inflight = null;
  let polls = 0;
  let ended = false;

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
    if (ended) return once();
    if (running) pause();
    else resume();
  });

  /** An ended session: one check on request (an analysis adds an event), no polling. */
  async function once() {
    button.disabled = true;
    running = true;
    await poll();
    running = false;
    clearTimeout(timer);
    timer = null;
    button.disabled = false;
    show(`Session ended · not live · checked ${fmtTime(new Date())}`, 'ended');
  }
  show('Live tail starts after loading…', 'idle');

  return {
    start(from, { live = true } = {}) {
      seq = from;
      started = true;
      if (live) resume();
      else {
        ended = false;
        this.setEnded(true);
      }
    },
    stop() {
      running = false;
      clearTimeout(timer);
      inflight?.abort();
    },
    /**
     * The session is over (or live again): an ended session gets no more events from its
     * platform, so the indicator must not pulse "Live" over it.
     */
    setEnded(value) {
      if (value === ended || !started) return;
      ended = value;
      if (ended) {
        this.stop();
        button.textContent = 'Check for new events';
        button.setAttribute('aria-pressed', 'false');
        show('Session ended · not live', 'ended');
      } else resume();
    },
    /** One poll now, whatever the state (after the dashboard itself added an event). */
    check: () => (ended ? once() : undefined),
  };
}
