/**
 * Sessionlog client — ES module entry. The client itself is ./session-log.js, written to run
 * both as a classic script and as a module (no import/export, no top-level `this`); this file
 * imports it for its side effect (it installs globalThis.SessionLog) and re-exports the API.
 *
 * Two ways to use it:
 *
 *   <!-- classic script: globals SessionLog, logSessionEvent, logNavigation, logError,
 *        logAction, logApiCall, logStateChange -->
 *   <script src="https://sessionlog.example.org/session-log.js"
 *           data-endpoint="https://sessionlog.example.org/api/session-log"></script>
 *
 *   // ES module (named exports, or the default export SessionLog)
 *   import { SessionLog, logAction } from 'https://sessionlog.example.org/session-log.mjs';
 *
 * Loading both is harmless: the second copy sees globalThis.SessionLog and stands down.
 *
 * SessionLog.init(options) — may be called more than once (later options win); calls made
 * before it are kept and sent once it runs:
 *   endpoint       POST URL, relative to the script's own URL; default /api/session-log on the
 *                  origin the script came from
 *   sessionToken   [A-Za-z0-9_.:-]{1,200}; default: one per tab, `ws_` + 122 random bits,
 *                  kept in sessionStorage (a token given here is not kept: the tab's next page
 *                  without one, say a workshop page after a practice page, keeps the tab's own)
 *   studentEmail   sent when it is an address the server accepts (else ignored, with a warning)
 *   studentName
 *   writeToken     with a sessionToken the page did not open (a tutoring sitting, an explicit
 *                  session, a voice call): the session's write_token, without which the server
 *                  refuses its events (403). A workshop page's own token needs none.
 *   context        () => ({ currentStep, stepName, ...}): merged into every event's data, with
 *                  userAgent and timestamp
 *   captureErrors  true: window errors and unhandled rejections are logged as `error` events
 *   flushInterval  ms before queued events are sent (2000); batchSize: send at once at 20
 * A classic tag's data-endpoint, data-session-token, data-student-email, data-student-name and
 * data-write-token are defaults for init(); with data-endpoint, init() runs as soon as the script
 * loads.
 *
 * logSessionEvent(eventType, eventData)      eventType is lowercased/sanitised to [a-z][a-z0-9_]*
 * logNavigation(from, to, details?)          numeric steps; other values become from/toStepName
 * logError(errorType, errorMessage, details?)   an Error object may stand for either
 * logAction(actionName, details?)
 * logApiCall(endpoint, method, status, details?)   success defaults to 200 <= status < 400
 * logStateChange(stateName, oldValue, newValue)
 * SessionLog.flush()                         send queued events now (returns a promise)
 * SessionLog.sessionToken                    the token in use, after init()
 * SessionLog.src                             this module's URL when imported as one (the default
 *                                            endpoint's origin; a classic tag of session-log.js
 *                                            wins, never another script such as session-log-setup.js)
 *
 * Delivery: events are batched (20 events or 2 s) and posted as text/plain JSON with fetch
 * keepalive, or by navigator.sendBeacon when the page is hidden or closed (the newest first,
 * up to 64 KB: a closing page's last localStorage writes are the ones that can be lost). They stay in
 * localStorage (per endpoint, shared by the origin's tabs, 1000 at most) until the server
 * answers; network errors, 429 and 5xx are retried with jittered exponential backoff (honouring
 * Retry-After) across reloads and offline periods, a 413 splits the batch, and other 4xx drop
 * the batch with one console warning. Each event's eventId lets the server drop repeats, so
 * retries and beacons (which are kept queued, their fate being unknown) never store twice.
 * No call throws into the page; each kind of failure is reported once with console.warn.
 */
import './session-log.js';

// Installed by the import above (or by an earlier classic <script> tag: the same instance).
const SessionLog = globalThis.SessionLog;
// A module has no <script> tag to take a URL from: the default endpoint is on the origin this
// module came from (a tag's own URL, when there is one, still wins).
SessionLog.src ??= import.meta.url;

export const { logSessionEvent, logNavigation, logError, logAction, logApiCall, logStateChange } = SessionLog;
export { SessionLog };
export default SessionLog;
