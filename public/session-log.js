/*! Sessionlog client: <script src=".../session-log.js"> (globals SessionLog, log*) or import
 * from '.../session-log.mjs' (usage there), so no import/export or top-level `this`. <4.5 KB gz. */
(() => {
  const G = globalThis;
  if (G.SessionLog) return; // loaded twice (tag + module): the first owns the queue
  const D = G.document;
  // A module has no currentScript: only a tag of this very file lends its URL and data-*.
  const me = D && (D.currentScript || [...D.scripts].find((s) => /\/session-log\.js([?#]|$)/.test(s.src)));
  const KEY = 'sessionlog:';
  // The server refuses NUL and lone surrogates (pairs match first, kept).
  const BAD = /[\ud800-\udbff][\udc00-\udfff]|[\ud800-\udfff]|\0/g;
  // zod's rule, or whole batches would be refused.
  const EMAIL = /^(?:[\w'+-]+\.)*[\w'+-]*[\w+-]@(?:[A-Za-z0-9][A-Za-z0-9-]*\.)+[A-Za-z]{2,}$/;
  // Known types' fields as the server types them. n: text up to n chars; 0: int 0-999 (else
  // kept as <name>Text); -1: boolean; a name: number, else moved there.
  const FIELDS = {
    navigation: { from: 'fromStepName', to: 'toStepName', fromStepName: 500, toStepName: 500 },
    error: { errorType: 200, errorMessage: 1e4, statusCode: 0 },
    action: { actionName: 200 },
    api_call: { endpoint: 2e3, method: 16, status: 0, success: -1 },
    state_change: { stateName: 200 },
  };
  let cfg;
  let ls;
  let mem = [];
  let timer = 0;
  let attempts = 0;
  let busy;
  let lim = 100; // events per request; a 413 halves it till the queue drains
  let cut;
  const pre = []; // calls before init()
  const warned = {};

  // Once per kind: outages must not flood the console.
  const warn = (kind, ...a) => {
    if (!warned[kind]) console.warn('[SessionLog]', ...a);
    warned[kind] = 1;
  };
  const safe = (f) => (...a) => {
    try {
      f(...a);
    } catch (e) {
      warn('call', e);
    }
  };
  const bytes = (s) => new Blob([s]).size;
  const str = (v, n) => String(v).slice(0, n).replace(BAD, (m) => (m[1] ? m : '\ufffd'));
  // randomUUID: secure contexts only.
  const uuid = () =>
    crypto.randomUUID?.() ||
    '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) => (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16));

  // Anything to storable JSON (cycles, BigInt, Errors); `cut` notes clipping.
  const data = (v) => {
    const seen = new Set();
    v = JSON.parse(
      JSON.stringify(v, (_, x) => {
        if (typeof x === 'bigint') return `${x}`;
        if (typeof x === 'string') {
          if (x[1e4]) cut = 1;
          return str(x, 1e4);
        }
        if (x instanceof Error) return { name: x.name, message: x.message, stack: x.stack };
        if (x && typeof x === 'object') {
          if (seen.has(x)) return '[Circular]';
          seen.add(x);
        }
        return x;
      }) ?? null,
    );
    return v?.constructor === Object ? v : v == null ? {} : { value: v };
  };
  const fix = (t, d) => {
    const f = FIELDS[t];
    for (const k in f) {
      const v = d[k];
      const n = f[k];
      const x = typeof v === 'string' && v.trim() ? +v : v;
      if (v == null) delete d[k];
      else if (n < 0) d[k] = v !== 'false' && !!v;
      else if (n > 0) d[k] = str(typeof v === 'object' ? JSON.stringify(v) : v, n);
      else if (n ? Number.isFinite(x) : Number.isInteger(x) && x >= 0 && x < 1e3) d[k] = x;
      else {
        delete d[k];
        d[n || `${k}Text`] ??= v;
      }
    }
  };

  // Read whole each time: tabs share it.
  const get = () => {
    if (!ls) return mem;
    try {
      const q = JSON.parse(ls.getItem(cfg.key));
      if (Array.isArray(q)) return q.filter((r) => r?.eventId && r.i);
    } catch {}
    return []; // none, or corrupted
  };
  const put = (q) => {
    mem = q;
    try {
      ls?.setItem(cfg.key, JSON.stringify(q));
    } catch {
      ls = null; // over quota: memory only
      warn('quota', 'storage full');
    }
  };
  const later = (ms) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = 0;
      flush();
    }, ms);
  };
  // Now if a batch is full or split by a 413, else after flushInterval.
  const next = () => {
    const n = get().length;
    if (!n) lim = 100;
    else if (!attempts && (n >= cfg.batchSize || lim < 100)) flush();
    else if (!timer) later(cfg.flushInterval);
  };

  // One identity's events (tabs differ; a beacon: this tab's, newest first), not in flight, in budget.
  const pick = (beacon) => {
    const events = [];
    let who = beacon && JSON.stringify(cfg.who);
    let size = 300;
    for (const { i, ...e } of beacon ? [...get()].reverse() : get()) {
      const w = JSON.stringify(i);
      who ||= w;
      if (w !== who || busy?.ids.includes(e.eventId)) continue;
      size += bytes(JSON.stringify(e)) + 1;
      if (events[0] && (size > (beacon ? 6e4 : 5e5) || events.length >= lim)) break;
      events.push(e);
    }
    const ids = events.map((e) => e.eventId);
    return ids[0] && { ids, size, body: JSON.stringify({ sentAt: Date.now(), ...JSON.parse(who), events }) };
  };

  async function flush() {
    const b = !busy && cfg && pick();
    if (!b) return;
    busy = b;
    let wait = 0;
    try {
      // text/plain: no CORS preflight. keepalive (<64 KB) outlives the page.
      const r = await fetch(cfg.endpoint, { method: 'POST', body: b.body, keepalive: b.size < 6e4 });
      const s = r.status;
      if (s === 413 && b.ids[1]) lim = b.ids.length >> 1;
      else if (s === 429 || s > 499) {
        wait = Math.min(r.headers.get('retry-after') || 0, 300) * 1e3 || 1;
        warn('send', 'will retry:', s);
      } else {
        // Stored, or refused for good (4xx).
        put(get().filter((e) => !b.ids.includes(e.eventId)));
        attempts = 0;
        if (s > 200) warn('drop', 'refused:', s, await r.text());
      }
    } catch (e) {
      wait = 1;
      warn('send', 'will retry:', e);
    }
    busy = null;
    if (!wait) return next();
    // 1 s to 1 min, jittered so tabs that failed together retry apart.
    later(Math.max(wait, Math.min(6e4, 1e3 * 2 ** attempts++) * (0.5 + Math.random() / 2)));
  }

  const add = (type, v, ts, eventId) => {
    if (!cfg) return pre[999] || pre.push([type, v, ts, eventId]);
    cut = 0;
    const d = data(v);
    if (cut) d.truncated = true;
    let ctx;
    try {
      ctx = data(cfg.context?.());
    } catch {}
    const t = String(type ?? '').toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^[^a-z]+|_+$/g, '').slice(0, 50) || 'custom';
    const timestamp = new Date(ts).toISOString();
    const eventData = { currentStep: null, stepName: null, ...ctx, userAgent: navigator.userAgent, timestamp, ...d };
    fix(t, eventData);
    if (bytes(JSON.stringify(eventData)) > 32768) return warn('big', 'too big, dropped:', t);
    const q = get();
    q.push({ eventType: t, eventData, eventId, timestamp, i: cfg.who });
    if (q[1e3]) warn('full', 'queue full, dropped:', q.shift().eventType);
    put(q);
    next();
  };
  const track = (type, v) => add(type, v, Date.now(), uuid());

  function init(o) {
    try {
      const c = { flushInterval: 2e3, batchSize: 20, ...me?.dataset, ...cfg, ...o };
      c.endpoint = new URL(c.endpoint || '/api/session-log', me?.src || SL.src || location.href).href;
      c.key = KEY + c.endpoint;
      // Only the tab's own token is kept (a practice page's sitting is not the next page's).
      let token = c.sessionToken && str(c.sessionToken, 200).replace(/[^\w.:-]/g, '_');
      if (!token) {
        token = `ws_${uuid().replace(/-/g, '')}`;
        try {
          token = sessionStorage[KEY] ||= token;
        } catch {}
      }
      SL.sessionToken = token;
      c.who = { sessionToken: token };
      const email = `${c.studentEmail || ''}`.trim().toLowerCase();
      if (EMAIL.test(email)) c.who.studentEmail = email;
      else if (email) warn('email', 'invalid:', email);
      for (const k of ['studentName', 'writeToken']) if (c[k]) c.who[k] = str(c[k], 200);
      try {
        ls = G.localStorage;
      } catch {} // blocked: memory only
      cfg = c;
      const on = (t, f, x = G) => x.addEventListener(t, safe(f));
      if (!c.on) {
        c.on = 1;
        // The page may not come back: beacon what fits; it stays queued (fate unknown).
        const beacon = () => {
          const b = pick(1);
          if (b) navigator.sendBeacon(cfg.endpoint, b.body);
        };
        on('pagehide', beacon);
        on('visibilitychange', () => D.hidden && beacon(), D);
        on('online', () => later(0));
      }
      if (c.captureErrors && !c.cap) {
        c.cap = 1;
        const capture = (...a) => c.cap++ < 100 && logError(...a); // e.g. an error per frame
        on('error', (e, x = e.error instanceof Error && e.error) => capture(x || 'Error', x ? x.message : e.message, { source: e.filename, line: e.lineno }));
        on('unhandledrejection', (e) => capture('UnhandledRejection', e.reason));
      }
      for (const p of pre.splice(0)) add(...p);
      next();
    } catch (e) {
      warn('init', e);
    }
    return SL;
  }

  const logSessionEvent = safe(track);
  const logNavigation = safe((from, to, details) => track('navigation', { ...details, from, to }));
  const logError = safe((type, message, details) =>
    track('error', { stack: type?.stack || message?.stack, ...details, errorType: type?.name || type, errorMessage: message?.message ?? message ?? type?.message }),
  );
  const logAction = safe((actionName, details) => track('action', { ...details, actionName }));
  const logApiCall = safe((endpoint, method, status, details) => track('api_call', { success: status >= 200 && status < 400, ...details, endpoint, method, status }));
  const logStateChange = safe((stateName, oldValue, newValue) => track('state_change', { stateName, oldValue, newValue }));
  const fns = { logSessionEvent, logNavigation, logError, logAction, logApiCall, logStateChange };
  const SL = { init, flush, ...fns };
  Object.assign(G, fns, { SessionLog: SL });
  if (me?.dataset.endpoint) init();
})();
