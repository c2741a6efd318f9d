/**
 * The instructor dashboard shell: the token gate and a hash router (#/now, the landing page,
 * #/sessions, #/session/<id>, #/student/<id>, #/search, #/troubleshoot) so every view is a link an instructor can
 * share with a colleague.
 * Each view renders into <main> and returns a cleanup that stops its timers; a view's requests
 * share one AbortController, aborted when the user leaves it.
 */
import { setUnauthorizedHandler, token } from './api.js';
import { renderNow } from './views/now.js';
import { renderSearch } from './views/search.js';
import { renderSession } from './views/session.js';
import { renderSessions } from './views/sessions.js';
import { renderStudent } from './views/student.js';
import { renderTroubleshoot } from './views/troubleshoot.js';

const ROUTES = {
  now: { render: renderNow, title: 'Now' },
  sessions: { render: renderSessions, title: 'Sessions' },
  session: { render: renderSession, title: 'Session' },
  student: { render: renderStudent, title: 'Student' },
  search: { render: renderSearch, title: 'Search' },
  troubleshoot: { render: renderTroubleshoot, title: 'Troubleshooting' },
};

const $ = (id) => document.getElementById(id);
const view = $('view');
const nav = $('nav');
const login = $('login');
const signout = $('signout');
const tokenForm = $('token-form');
const tokenInput = $('token-input');
const tokenMessage = $('token-message');

/** The running view: its cleanup and the controller of its requests. */
let current = null;
/**
 * The last list-like view (Now, Sessions, Search, Troubleshooting) and its exact hash: a session
 * opened from it highlights it in the nav and links back to it, filters included.
 */
let cameFrom = null;
/** The last list-like view only: a student page links back to it, never to a session it opened. */
let listFrom = null;
/** Views about one thing (a session, a student) rather than lists. */
const DETAIL = new Set(['session', 'student']);

function stopCurrent() {
  if (!current) return;
  current.controller.abort();
  try {
    current.cleanup?.();
  } catch {
    // a view's cleanup must never block navigation
  }
  current = null;
}

/** "#/session/abc?x=1" → { name: 'session', param: 'abc', query: URLSearchParams } */
export function parseHash(hash) {
  const raw = hash.replace(/^#\/?/, '');
  const at = raw.indexOf('?');
  const path = at === -1 ? raw : raw.slice(0, at);
  const qs = at === -1 ? '' : raw.slice(at + 1);
  const [name = '', ...rest] = path.split('/');
  let param = rest.join('/');
  try {
    param = decodeURIComponent(param);
  } catch {
    // a malformed escape: keep it as typed
  }
  return { name: name || 'now', param, query: new URLSearchParams(qs) };
}

/** Go to a route; `replace` keeps the history clean for filter changes. */
export function navigate(hash, { replace = false } = {}) {
  if (location.hash === hash) return route();
  if (replace) {
    history.replaceState(null, '', hash);
    route();
  } else location.hash = hash;
}

function showLogin(message) {
  stopCurrent();
  view.hidden = true;
  view.replaceChildren();
  nav.hidden = true;
  signout.hidden = true;
  login.hidden = false;
  tokenMessage.hidden = !message;
  tokenMessage.textContent = message ?? '';
  document.title = 'Sessionlog · Sign in';
  tokenInput.value = '';
  tokenInput.focus();
}

function route() {
  if (!token.get()) return showLogin();
  login.hidden = true;
  nav.hidden = false;
  signout.hidden = false;
  view.hidden = false;
  stopCurrent();

  const r = parseHash(location.hash);
  const def = ROUTES[r.name] ?? ROUTES.now;
  const name = ROUTES[r.name] ? r.name : 'now';
  if (!DETAIL.has(name)) listFrom = cameFrom = { name, hash: location.hash || '#/now', title: def.title };
  let from = null;
  if (name === 'session') from = cameFrom;
  if (name === 'student') {
    from = listFrom;
    // A session opened from the student page leads back to it.
    cameFrom = { name: listFrom?.name ?? 'sessions', hash: location.hash, title: 'Student' };
  }
  const highlighted = DETAIL.has(name) ? (listFrom?.name ?? 'sessions') : name;
  for (const a of nav.querySelectorAll('a')) {
    const on = a.dataset.route === highlighted;
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `Sessionlog · ${def.title}`;
  view.replaceChildren();
  view.dataset.view = name;
  const controller = new AbortController();
  current = { controller, cleanup: null };
  current.cleanup = def.render(view, { param: r.param, query: r.query, signal: controller.signal, navigate, from });
}

setUnauthorizedHandler((message) => {
  token.clear();
  showLogin(message);
});

tokenForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const value = tokenInput.value.trim();
  if (!value) return;
  token.set(value);
  tokenInput.value = '';
  route();
});

signout.addEventListener('click', () => {
  token.clear();
  showLogin('Signed out.');
});

window.addEventListener('hashchange', route);
route();
