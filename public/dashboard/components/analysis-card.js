/**
 * The analysis card of a session: the latest session_summary analysis (summary, outcomes,
 * engagement, next steps…) and a "Run analysis" button (POST /api/sessions/{id}/analysis).
 */
import { api, ApiError } from '../api.js';
import { fill, h, notice, timeEl } from '../dom.js';

const list = (title, items, id) =>
  Array.isArray(items) && items.length ? h('div', { class: 'analysis-part', id }, h('h3', {}, title), h('ul', {}, items.map((i) => h('li', {}, String(i))))) : null;

/** The model's result as the instructor reads it. */
export function analysisResult(result, meta = {}) {
  const score = typeof result.engagement_score === 'number' ? Math.min(1, Math.max(0, result.engagement_score)) : null;
  return h(
    'div',
    { class: 'analysis-result', id: 'analysis-result' },
    h('p', { class: 'summary', id: 'analysis-summary' }, result.session_summary ?? ''),
    score === null
      ? null
      : h(
          'div',
          { class: 'engagement', id: 'analysis-engagement' },
          h('span', { class: 'engagement-label' }, 'Engagement'),
          h('meter', { min: 0, max: 1, low: 0.4, high: 0.7, optimum: 1, value: score }, `${Math.round(score * 100)}%`),
          h('strong', {}, `${Math.round(score * 100)}%`),
        ),
    h(
      'div',
      { class: 'analysis-grid' },
      list('Learning outcomes', result.learning_outcomes, 'analysis-outcomes'),
      list('Next steps', result.next_steps, 'analysis-next-steps'),
      list('Struggles', result.struggles, 'analysis-struggles'),
      Array.isArray(result.concepts_covered) && result.concepts_covered.length
        ? h('div', { class: 'analysis-part' }, h('h3', {}, 'Concepts covered'), h('p', { class: 'tags' }, result.concepts_covered.map((c) => h('span', { class: 'tag' }, String(c)))))
        : null,
    ),
    result.progress_change ? h('p', { class: 'progress' }, h('strong', {}, 'Progress: '), result.progress_change) : null,
    meta.completed_at ? h('p', { class: 'muted small' }, meta.model ? `${meta.model} · ` : '', timeEl(meta.completed_at)) : null,
  );
}

/** Past ANALYSIS_DAILY_TOKEN_BUDGET the server defers the run to the next UTC day, with the reason. */
function deferredNotice(a) {
  const el = notice(`Analysis deferred: ${a.error ?? 'daily token budget reached'}.`, 'info');
  el.id = 'analysis-deferred';
  return el;
}

export function createAnalysisCard(id, signal, onDone) {
  const body = h('div', { class: 'analysis-body' });
  const message = h('div', { class: 'analysis-message', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'primary', id: 'run-analysis' }, 'Run analysis');
  const el = h(
    'section',
    { class: 'card analysis-card', id: 'analysis-card', 'aria-labelledby': 'analysis-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'analysis-title' }, 'Analysis'), button),
    message,
    body,
  );
  let doc = null;
  let busy = false;
  /** null until the server said whether analysis can run here; then { enabled, reason }. */
  let availability = null;

  /** Ask once: a disabled button with the reason beats a click that fails. */
  async function checkAvailable() {
    availability = { enabled: true, reason: null };
    try {
      const res = await api.analyses(id, { signal });
      availability = { enabled: res.enabled !== false, reason: res.reason ?? null };
      const latest = res.analyses?.[0];
      if (latest?.status === 'deferred' && !busy) fill(message, deferredNotice(latest));
    } catch {
      // Unknown: leave the button on; a click reports what the server says.
    }
    if (availability.enabled || busy) return;
    button.disabled = true;
    button.title = availability.reason ?? 'Analysis is off on this server';
    fill(message, h('p', { class: 'notice notice-info', id: 'analysis-off' }, `Analysis is off: ${availability.reason ?? 'not configured on this server'}.`));
  }

  function update(next) {
    doc = next;
    if (!availability) checkAvailable();
    if (busy) return;
    const a = doc.analysis;
    button.textContent = a ? 'Run again' : 'Run analysis';
    if (a?.result) fill(body, analysisResult(a.result, a));
    else fill(body, h('p', { class: 'muted', id: 'analysis-empty' }, 'No analysis yet for this session.'));
  }

  button.addEventListener('click', async () => {
    if (busy || !doc) return;
    busy = true;
    button.disabled = true;
    button.textContent = 'Analysing…';
    fill(message);
    // Re-running, or analysing a session still in progress, needs `force` (the API refuses otherwise).
    const force = Boolean(doc.analysis) || doc.status === 'active' || doc.status === 'waiting' || doc.status === 'paused';
    try {
      const res = await api.runAnalysis(id, { template: 'session_summary', force }, { signal });
      const a = res.analysis;
      if (a.status === 'completed' && a.result) {
        fill(body, analysisResult(a.result, a));
        doc = { ...doc, analysis: a };
      } else if (a.status === 'deferred') {
        fill(message, deferredNotice(a));
      } else {
        fill(message, notice(`The analysis failed: ${a.error ?? a.status}`, 'error'));
      }
    } catch (err) {
      if (err?.name === 'AbortError' || err?.status === 401) return;
      const text = err instanceof ApiError ? (err.status === 503 ? `Analysis is not available: ${err.message}` : err.message) : String(err);
      fill(message, notice(text, 'error'));
    } finally {
      busy = false;
      button.disabled = availability?.enabled === false;
      button.textContent = doc?.analysis ? 'Run again' : 'Run analysis';
    }
    onDone();
  });

  return { el, update };
}
