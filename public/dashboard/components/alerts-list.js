/**
 * Recent alerts (GET /api/alerts, newest first): what was raised, about whom, and whether the
 * webhook got it. A student's alert links to their session.
 */
import { h, notice, timeEl } from '../dom.js';

const RULE_LABEL = { repeated_error: 'repeated error', error_spike: 'error spike', stuck: 'stuck', call_error: 'call error' };
const DELIVERY = { delivered: 'sent', pending: 'sending…', failed: 'delivery failed', not_configured: 'no webhook set' };

export function alertsList(alerts, { href }) {
  if (!alerts.length) return notice('No alerts today.', 'ok');
  return h(
    'ol',
    { class: 'alerts-list', id: 'alerts-list' },
    alerts.map((a) => {
      const title = a.session_id ? h('a', { href: href(a.session_id) }, a.title) : a.title;
      const d = a.delivery ?? {};
      return h(
        'li',
        { class: ['alert-row', `rule-${a.rule}`], dataset: { alertId: a.id, rule: a.rule } },
        h('div', { class: 'alert-head' }, h('span', { class: 'badge alert-rule' }, RULE_LABEL[a.rule] ?? a.rule), h('span', { class: 'muted small' }, timeEl(a.created_at))),
        h('strong', { class: 'alert-title' }, title),
        a.detail ? h('p', { class: 'message small' }, a.detail) : null,
        h('p', { class: ['muted', 'small', d.status === 'failed' && 'delivery-failed'] }, `${DELIVERY[d.status] ?? d.status ?? ''}${d.attempts > 1 ? ` (${d.attempts} attempts)` : ''}`),
      );
    }),
  );
}
