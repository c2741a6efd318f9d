/**
 * The closed vocabulary of API errors. Routes and middleware throw `ApiError`; the single
 * `onError` in lib/app.ts turns it into an RFC 9457 `application/problem+json` response.
 * Domain code throws its own typed errors (see DomainError) that routes map to these codes.
 */
export const ERROR_CODES = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  REQUEST_TIMEOUT: 408,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  /** Only from the local server's connection handling (lib/node/client-error.ts): Node refused the headers. */
  HEADERS_TOO_LARGE: 431,
  INTERNAL: 500,
  BAD_ENVIRONMENT: 500,
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function statusOf(code: ErrorCode): number {
  return ERROR_CODES[code];
}

const TITLES: Record<ErrorCode, string> = {
  BAD_REQUEST: 'Bad Request',
  UNAUTHORIZED: 'Unauthorized',
  FORBIDDEN: 'Forbidden',
  NOT_FOUND: 'Not Found',
  METHOD_NOT_ALLOWED: 'Method Not Allowed',
  CONFLICT: 'Conflict',
  REQUEST_TIMEOUT: 'Request Timeout',
  PAYLOAD_TOO_LARGE: 'Payload Too Large',
  UNSUPPORTED_MEDIA_TYPE: 'Unsupported Media Type',
  RATE_LIMITED: 'Too Many Requests',
  HEADERS_TOO_LARGE: 'Request Header Fields Too Large',
  INTERNAL: 'Internal Server Error',
  BAD_ENVIRONMENT: 'Server Misconfigured',
  UNAVAILABLE: 'Service Unavailable',
};

export interface FieldError {
  path: string;
  message: string;
}

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly errors: FieldError[] | undefined;
  /** Seconds, sent as Retry-After (429 and 503). */
  readonly retryAfter: number | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: ErrorCode,
    detail: string,
    extra: { errors?: FieldError[]; retryAfter?: number; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(detail, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'ApiError';
    this.code = code;
    this.errors = extra.errors;
    this.retryAfter = extra.retryAfter;
    this.headers = extra.headers;
  }

  get status(): number {
    return statusOf(this.code);
  }
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  requestId?: string;
  errors?: FieldError[];
}

export function problemBody(err: ApiError, requestId?: string): Problem {
  const body: Problem = {
    type: `https://sessionlog.dev/problems/${err.code.toLowerCase().replaceAll('_', '-')}`,
    title: TITLES[err.code],
    status: err.status,
    detail: err.message,
    code: err.code,
  };
  if (requestId) body.requestId = requestId;
  if (err.errors?.length) body.errors = err.errors;
  return body;
}

export function problemResponse(err: ApiError, requestId?: string, extraHeaders?: Headers): Response {
  const headers = new Headers(extraHeaders);
  headers.set('content-type', 'application/problem+json; charset=utf-8');
  if (err.retryAfter !== undefined) headers.set('retry-after', String(err.retryAfter));
  for (const [k, v] of Object.entries(err.headers ?? {})) headers.set(k, v);
  return new Response(JSON.stringify(problemBody(err, requestId)), { status: err.status, headers });
}

/**
 * Storage is down or unreachable. Adapters throw this (and only this) for connection-level
 * failures so routes answer 503 + Retry-After instead of 500 — a client that gets 503 retries,
 * a client that gets 500 may give up and lose the event.
 */
export class StorageUnavailableError extends Error {
  readonly store: 'postgres' | 'kv';
  constructor(store: 'postgres' | 'kv', message: string, cause?: unknown) {
    super(`${store} unavailable: ${message}`, cause === undefined ? undefined : { cause });
    this.name = 'StorageUnavailableError';
    this.store = store;
  }
}

/**
 * Postgres refused a value (SQLSTATE class 22, data exception: e.g. a number out of range).
 * Validation should catch these first; this keeps a gap in validation a 400, never a 500.
 */
export class StorageRejectedValueError extends Error {
  readonly sqlState: string;
  constructor(sqlState: string, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'StorageRejectedValueError';
    this.sqlState = sqlState;
  }
}

/**
 * The database answered, but the result was larger than the driver's transport will carry (Neon's
 * HTTP endpoint refuses responses over 10 MiB with HTTP 507). Retrying sends the same query and
 * gets the same refusal, so this must not become the retryable 503 of StorageUnavailableError.
 */
export class StorageResultTooLargeError extends Error {
  /** The transport's limit in bytes, when the refusal named it. */
  readonly limitBytes: number | undefined;
  constructor(limitBytes: number | undefined, cause?: unknown) {
    super(`result exceeds the database response limit${limitBytes ? ` of ${limitBytes} bytes` : ''}`, cause === undefined ? undefined : { cause });
    this.name = 'StorageResultTooLargeError';
    this.limitBytes = limitBytes;
  }
}
