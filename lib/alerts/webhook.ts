import { type AlertRecord, type AlertSink, DeliveryError } from './types.js';

export interface WebhookOptions {
  url: string;
  format: 'json' | 'slack';
  secret: string | undefined;
  timeoutMs?: number;
}

/** The structured body (`ALERT_WEBHOOK_FORMAT=json`). */
export function jsonBody(a: AlertRecord): Record<string, unknown> {
  return {
    type: 'sessionlog.alert',
    alert: { id: a.id, rule: a.rule, key: a.key, title: a.title, detail: a.detail, student_id: a.student_id, session_id: a.session_id, created_at: a.created_at, data: a.data },
  };
}

/** Slack escapes these three in mrkdwn and plain text alike. */
const slackEscape = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/** A Slack incoming-webhook body: `text` (notifications, fallback) plus `blocks`. */
export function slackBody(a: AlertRecord): Record<string, unknown> {
  const title = slackEscape(a.title);
  const context = [`rule \`${a.rule}\``, a.session_id ? `session \`${slackEscape(a.session_id)}\`` : null, a.created_at].filter(Boolean).join(' · ');
  return {
    text: `Sessionlog alert: ${title}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: a.title.slice(0, 150), emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: slackEscape(a.detail).slice(0, 3000) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: context }] },
    ],
  };
}

/** Hex HMAC-SHA256 of `body` (Web Crypto: the same on Node, Vercel and workerd). */
export async function signBody(secret: string, body: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, enc.encode(body)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * POST alerts to ALERT_WEBHOOK_URL. Redirects are not followed (the body would go to another
 * address). Errors name a status or an error class only: the URL itself is a secret (Slack's is).
 */
export function webhookSink(o: WebhookOptions): AlertSink {
  return {
    async send(alert) {
      const body = JSON.stringify(o.format === 'slack' ? slackBody(alert) : jsonBody(alert));
      const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'sessionlog-alerts', 'x-sessionlog-alert-id': alert.id };
      if (o.secret) headers['x-sessionlog-signature'] = await signBody(o.secret, body);
      let res: Response;
      try {
        res = await fetch(o.url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(o.timeoutMs ?? 5000) });
      } catch (err) {
        const name = (err as { name?: string }).name;
        throw new DeliveryError(name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'connection failed');
      }
      await res.body?.cancel().catch(() => {});
      if (res.status < 200 || res.status >= 300) throw new DeliveryError(`HTTP ${res.status}`);
    },
  };
}
