/**
 * Domain errors: what went wrong in session terms. lib/app.ts maps them to HTTP once
 * (not_found → 404, conflict → 409, invalid → 400); domain code never imports Hono.
 */
export class DomainError extends Error {
  readonly kind: 'not_found' | 'conflict' | 'invalid';
  /** The input field at fault, for `invalid`. */
  readonly field: string | undefined;
  constructor(kind: DomainError['kind'], message: string, field?: string) {
    super(message);
    this.name = 'DomainError';
    this.kind = kind;
    this.field = field;
  }
}

export const notFound = (id: string) => new DomainError('not_found', `session ${id} does not exist`);
export const ended = (id: string) => new DomainError('conflict', `session ${id} has ended; it takes no more writes`);
