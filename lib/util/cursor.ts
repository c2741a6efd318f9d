/**
 * The one codec for opaque keyset cursors (event log, session history): base64url of a JSON array
 * of the keyset's fields. Each list owns its fields and checks their shape when reading one back;
 * this module only packs and unpacks, so a new paged list does not write a third codec.
 */

export class InvalidCursorError extends Error {
  constructor(message = 'cursor is not one this API issued') {
    super(message);
    this.name = 'InvalidCursorError';
  }
}

export function encodeCursor(fields: readonly unknown[]): string {
  return btoa(JSON.stringify(fields)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/**
 * The keyset in `s`, as `read` accepts it; `read` answers undefined for fields of the wrong shape.
 * Plain base64 (with `+`, `/` or padding) is read too: session cursors were issued that way.
 * Anything else throws InvalidCursorError with `message`.
 */
export function decodeCursor<T>(s: string, read: (fields: unknown[]) => T | undefined, message?: string): T {
  let fields: unknown;
  try {
    fields = JSON.parse(atob(s.replaceAll('-', '+').replaceAll('_', '/')));
  } catch {
    fields = undefined;
  }
  const out = Array.isArray(fields) ? read(fields) : undefined;
  if (out === undefined) throw new InvalidCursorError(message);
  return out;
}
