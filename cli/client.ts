/**
 * The HTTP client every command uses: the deployment's public API and nothing else. Failures become
 * CliErrors with the exit code they mean and a message that says what to do about them.
 */
import { CliError, EXIT } from './errors.js';
import { printable, printableDeep } from './output.js';
import type { Target } from './target.js';

export type Query = Record<string, string | number | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  /** Send the target's token (default true); webhooks and public ingest authenticate otherwise. */
  auth?: boolean;
  signal?: AbortSignal;
  /** The answer as stored, not made printable for a terminal: what an export writes out. */
  asStored?: boolean;
}

interface Problem {
  title?: string;
  detail?: string;
  code?: string;
  errors?: Array<{ path: string; message: string }>;
}

export class Client {
  /**
   * `forTerminal`: answers are printed for a person (not `--json`), so every string in them is made
   * `printable` — a student's name or error message must not be able to drive the terminal.
   */
  constructor(
    readonly target: Target,
    readonly forTerminal = false,
  ) {}

  url(path: string, query?: Query): string {
    const u = new URL(this.target.url + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') u.searchParams.set(k, String(v));
    return u.toString();
  }

  /** The raw response of a successful request (2xx); anything else throws a CliError. */
  async fetch(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const res = await this.raw(method, path, opts);
    if (res.ok) return res;
    throw await this.failure(method, path, res, opts.auth !== false);
  }

  /** Any answer; only a network failure throws. */
  async raw(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    if (opts.auth !== false && this.target.token) headers.authorization = `Bearer ${this.target.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const url = this.url(path, opts.query);
    let res: Response;
    try {
      res = await fetch(url, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw unreachable(this.target.url, err);
    }
    return res;
  }

  async json<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.fetch(method, path, opts);
    const type = res.headers.get('content-type') ?? '';
    if (!type.includes('json')) throw notSessionlog(this.target.url, method, path, res.status, type);
    const body = (await res.json()) as T;
    return this.forTerminal && !opts.asStored ? printableDeep(body) : body;
  }

  async failure(method: string, path: string, res: Response, authed: boolean): Promise<CliError> {
    const type = res.headers.get('content-type') ?? '';
    // Every Sessionlog error is problem+json (ADR 0002): anything else means the URL points elsewhere.
    if (!type.includes('json')) return notSessionlog(this.target.url, method, path, res.status, type);
    const problem = (await res.json().catch(() => ({}))) as Problem;
    // A problem's detail can quote what was sent (a student's data among it): printed, so made printable.
    const detail = printable(problem.detail ?? problem.title ?? `HTTP ${res.status}`);
    const fields = problem.errors?.length ? `\n${problem.errors.map((e) => `  ${printable(String(e.path))}: ${printable(String(e.message))}`).join('\n')}` : '';
    if (res.status === 401 && authed) {
      const how = this.target.token
        ? `the token from ${this.target.tokenSource} was refused`
        : 'no token was found (set SESSIONLOG_TOKEN or pass --token; locally, start the server once with `npm start` so it writes .data/admin-token, and set the same DATA_DIR here if the server has its own)';
      return new CliError(EXIT.REACH, `${this.target.url} refused the request (401): ${how}.`, problem);
    }
    if (res.status === 401 || res.status === 403) return new CliError(EXIT.REACH, `${this.target.url} refused ${method} ${path} (${res.status}): ${detail}`, problem);
    return new CliError(EXIT.API, `${method} ${path}: ${res.status} ${detail}${fields}`, problem);
  }
}

function unreachable(base: string, err: unknown): CliError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (err as Error).message;
  return new CliError(EXIT.REACH, `cannot reach ${base} (${why}). Is the server running? Set SESSIONLOG_URL or pass --url.`);
}

function notSessionlog(base: string, method: string, path: string, status: number, type: string): CliError {
  return new CliError(
    EXIT.REACH,
    `${base} does not look like a Sessionlog deployment: ${method} ${path} answered ${status} ${type || 'without a content type'}. Check SESSIONLOG_URL / --url.`,
  );
}
