/**
 * Replace every occurrence of a configured secret's value in `text` with "[redacted]", as sent or
 * percent-encoded. For what is stored or logged about a request that may carry a credential
 * where none belongs (`?admin_token=…`, `/api/sessions/<token>`): parameter names do not say
 * it; the value does.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret) continue;
    out = out.split(secret).join('[redacted]');
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out = out.split(encoded).join('[redacted]');
  }
  return out;
}
