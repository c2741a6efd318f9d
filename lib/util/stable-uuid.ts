const encoder = new TextEncoder();

/**
 * A UUID derived from its parts (SHA-256, laid out as an RFC 9562 version 8 UUID). Webhook
 * deliveries carry no delivery id, so events made from them get ids from what identifies them
 * (call id, message type, index...): a redelivery produces the same ids and the events table's
 * unique constraint makes it a no-op, even with KV gone.
 */
export async function stableUuid(...parts: Array<string | number>): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(parts.map(String).join('\u001f'))));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80; // version 8
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // RFC 9562 variant
  const hex = [...bytes.slice(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Hex SHA-256 of a string. */
export async function sha256Hex(text: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
  return [...d].map((b) => b.toString(16).padStart(2, '0')).join('');
}
