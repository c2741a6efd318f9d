/*
 * Uses the client as an ES module. ?sessionToken=... picks the token (tests use it to find the
 * events); without it the client makes one.
 */
import SessionLogDefault, { logAction, SessionLog } from '/session-log.mjs';

const token = new URLSearchParams(location.search).get('sessionToken');
SessionLog.init({
  endpoint: '/api/session-log',
  ...(token ? { sessionToken: token } : {}),
  context: () => ({ currentStep: 1, stepName: 'Module import' }),
});
logAction('module_loaded', { defaultExport: SessionLogDefault === SessionLog });
document.getElementById('token').textContent = SessionLog.sessionToken;
document.getElementById('status').textContent = 'ready';
document.body.dataset.ready = 'true';
