/**
 * Recent alerts (GET /api/alerts, newest first): what was raised, about whom, and whether the
 * webhook got it. A student's alert links to their session. On a server without a webhook the
 * list says so once, under the rows, rather than "no webhook set" on every one.
 */
import { h, notice, timeEl } from '../dom.js';

const RULE_LABEL = { repeated_error: 'repeated error', error_spike: 'error spike', stuck: 'stuck', call_error: 'call error' };
const DELIVERY = { delivered: 'sent', pending: 'sending…', failed: 'delivery failed' };

export function alertsList(alerts, { href }) {
  if (!alerts.length) return notice('No alerts today.', 'ok');
  const unsent = alerts.some((a) => a.delivery?.status === 'not_configured');
  const list = h(
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
        d.status === 'not_configured' ? null : h('p', { class: ['muted', 'small', 'alert-delivery', d.status === 'failed' && 'delivery-failed'] }, `${DELIVERY[d.status] ?? d.status ?? ''}${d.attempts > 1 ? ` (${d.attempts} attempts)` : ''}`),
      );
    }),
  );
  return [list, unsent ? h('p', { class: 'muted small', id: 'alerts-unsent' }, 'Shown here only: this server sends alerts nowhere else (set ALERT_WEBHOOK_URL to push them to Slack or any webhook).') : null];
}
