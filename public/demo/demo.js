/*
 * Demo workshop wiring. ../session-log.js is loaded first as a classic script, so the page uses
 * the globals existing workshop pages call (logNavigation, logError, ...). External file, no
 * inline handlers: the page must work under a strict CSP (script-src 'self').
 */
(() => {
  const steps = [...document.querySelectorAll('.step')];
  const $ = (id) => document.getElementById(id);
  let current = 1;
  const nameOf = (step) => steps[step - 1].dataset.name;

  SessionLog.init({
    endpoint: '/api/session-log',
    captureErrors: true,
    // Read at every event, so each one says where the student was.
    context: () => ({ currentStep: current, stepName: nameOf(current), demoMode: true }),
  });
  $('token').textContent = SessionLog.sessionToken;

  // The side panel mirrors what was logged, so the demo shows the client at work.
  const note = (text) => {
    const li = document.createElement('li');
    li.textContent = text;
    $('log').append(li);
  };

  const render = () => {
    for (const s of steps) s.hidden = Number(s.dataset.step) !== current;
    $('progress').replaceChildren(
      ...steps.map((s) => {
        const li = document.createElement('li');
        li.textContent = `${s.dataset.step}. ${s.dataset.name}`;
        li.classList.toggle('current', Number(s.dataset.step) === current);
        return li;
      }),
    );
    $('back').disabled = current === 1;
    $('next').disabled = current === steps.length;
  };

  const go = (to) => {
    if (to < 1 || to > steps.length) return;
    logNavigation(current, to, { fromStepName: nameOf(current), toStepName: nameOf(to) });
    note(`navigation ${current} → ${to}`);
    current = to;
    render();
  };
  $('next').addEventListener('click', () => go(current + 1));
  $('back').addEventListener('click', () => go(current - 1));

  $('copy').addEventListener('click', () => {
    const snippet = document.querySelector('.step[data-step="2"] code').textContent;
    navigator.clipboard?.writeText(snippet).catch(() => {}); // may be refused; the action still counts
    logAction('copy_snippet', { snippet });
    note('action copy_snippet');
  });

  $('hints').addEventListener('change', (e) => {
    const shown = e.target.checked;
    $('hint').hidden = !shown;
    logStateChange('hintsVisible', !shown, shown);
    note(`state_change hintsVisible → ${shown}`);
  });

  // A call that fails on purpose: the endpoint does not exist (404).
  $('call').addEventListener('click', async () => {
    const endpoint = '/api/demo-does-not-exist';
    const started = performance.now();
    const result = $('result');
    try {
      const res = await fetch(endpoint, { headers: { accept: 'application/json' } });
      logApiCall(endpoint, 'GET', res.status, { durationMs: Math.round(performance.now() - started) });
      note(`api_call GET ${endpoint} → ${res.status}`);
      if (res.ok) {
        result.textContent = 'It worked?!';
        return;
      }
      logError('ApiError', `GET ${endpoint} failed with ${res.status}`, { statusCode: res.status, endpoint });
      note('error ApiError');
      result.textContent = `The call failed (${res.status}). That is expected here — and it was logged.`;
      result.classList.add('error');
    } catch (err) {
      logApiCall(endpoint, 'GET', 0, { success: false });
      logError(err, `GET ${endpoint} failed`, { endpoint });
      note('error (network)');
      result.textContent = 'The call could not be made (offline?).';
      result.classList.add('error');
    }
  });

  // Not caught by the page: captureErrors: true logs it as an `error` event.
  $('crash').addEventListener('click', () => {
    note('uncaught Error (captured)');
    throw new Error('Demo: something broke on purpose');
  });

  logSessionEvent('workshop_opened', { steps: steps.length });
  note('workshop_opened');
  render();
})();
