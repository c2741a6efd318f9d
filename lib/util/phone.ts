/**
 * Compare phone numbers by digits (and a leading +): "+1 (555) 010-0000" = "+15550100000".
 * Shared by the student records (core) and every voice platform that reports a caller's number,
 * so the core does not import a platform to get it.
 */
export function normalizePhone(n: string): string {
  const t = n.trim();
  return (t.startsWith('+') ? '+' : '') + t.replace(/\D/g, '');
}
