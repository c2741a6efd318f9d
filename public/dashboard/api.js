/**
 * The Sessionlog API as the dashboard uses it. The admin token lives in sessionStorage only: it
 * is gone when the tab closes and never lands in localStorage or a cookie. A 401 anywhere calls
 * the handler app.js registers (back to the token form).
 */

const TOKEN_KEY = 'sessionlog.adminToken';

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** An API answer other than 2xx, with the problem+json detail when there is one. */
export class ApiError extends Error {
  constructor(status, detail, problem) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem ?? null;
  }
}

let onUnauthorized = () => {};
/** app.js: what to do when the token is refused. */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}
/** The token was refused (a read, or a stream: stream.js): back to the token form, saying so. */
export function refused() {
  onUnauthorized('The server refused the admin token (401). Enter it again.');
  return new ApiError(401, 'unauthorized');
}

/** Query string from an object, skipping empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function request(method, path, { body, signal } = {}) {
  const headers = { accept: 'application/json' };
  const t = token.get();
  if (t) headers.authorization = `Bearer ${t}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal, cache: 'no-store' });
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
    throw new ApiError(0, 'The server could not be reached. Check your connection and try again.');
  }
  if (res.status === 401) throw refused();
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported below
  }
  if (!res.ok) {
    const detail = json && typeof json.detail === 'string' ? json.detail : `HTTP ${res.status}`;
    throw new ApiError(res.status, detail, json);
  }
  return json;
}

export const get = (path, opts) => request('GET', path, opts);
export const post = (path, body, opts) => request('POST', path, { ...opts, body });
export const del = (path, opts) => request('DELETE', path, opts);

const enc = encodeURIComponent;

export const api = {
  stats: (opts) => get('/api/stats', opts),
  activeSessions: (opts) => get('/api/sessions/active', opts),
  /** filters: q (part of a name, email, id or token), student_id, platform, status, since, until, limit, cursor */
  sessions: (filters, opts) => get(`/api/sessions${query(filters)}`, opts),
  session: (id, opts) => get(`/api/sessions/${enc(id)}`, opts),
  /** One page of a session's timeline, oldest first. */
  timeline: (id, params, opts) => get(`/api/sessions/${enc(id)}/events${query(params)}`, opts),
  runAnalysis: (id, body, opts) => post(`/api/sessions/${enc(id)}/analysis`, body, opts),
  assign: (id, studentId, opts) => post(`/api/sessions/${enc(id)}/assign`, { student_id: studentId }, opts),
  /** { enabled, reason, analyses }: whether "Run analysis" can work on this server. */
  analyses: (id, opts) => get(`/api/sessions/${enc(id)}/analysis`, opts),
  /** A student over time: sessions, trends (params: last, recent), topics, open next steps. */
  progress: (studentId, params, opts) => get(`/api/students/${enc(studentId)}/progress${query(params)}`, opts),
  /** Who needs help now (contract11): students ranked, step bars, top errors. */
  attention: (params, opts) => get(`/api/attention${query(params)}`, opts),
  /** An instructor went to the student: { session_id, helped: { at, by, note } } (note optional). */
  markHelped: (id, note, opts) => post(`/api/attention/${enc(id)}/helped`, note ? { note } : {}, opts),
  /** Undo a mark made by mistake: { session_id, helped: null }. */
  unmarkHelped: (id, opts) => del(`/api/attention/${enc(id)}/helped`, opts),
  /** Alerts raised, newest first. */
  alerts: (params, opts) => get(`/api/alerts${query(params)}`, opts),
  /** filters: sessionToken, studentEmail, eventType, since, until, order, limit, cursor */
  events: (filters, opts) => get(`/api/session-log${query(filters)}`, opts),
  logStats: (params, opts) => get(`/api/session-log/stats${query(params)}`, opts),
};
