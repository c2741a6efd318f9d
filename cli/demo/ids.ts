/**
 * Deterministic ids and randomness for the demo: running it twice must produce the same ids, so
 * the deployment's own de-duplication (event ids, Vapi call ids, session ids) makes the second run
 * a no-op.
 */
import { createHash } from 'node:crypto';

const digest = (parts: Array<string | number>) => createHash('sha256').update(parts.join('\u001f')).digest();

/**
 * A UUID derived from its parts, laid out as version 4: pages may send only v4/v7 event ids
 * (v8 is reserved for ids the server derives), and these are ids a page-like client sends.
 */
export function demoUuid(...parts: Array<string | number>): string {
  const b = digest(['sessionlog-demo', ...parts]);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const hex = b.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** mulberry32 seeded from the parts: the same "random" day every run. */
export function seeded(...parts: Array<string | number>): () => number {
  let a = digest(parts).readUInt32LE(0);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
