/**
 * The workshop part of the demo: 30 students working through 6 steps on their own pages, posting
 * what the logging client posts (navigation, actions, API calls, errors). One student is stuck at
 * step 3 repeating the same error; step 5 is broken (an import that fails for most of the room).
 */
import { demoUuid, seeded } from './ids.js';

export const STEPS = ['Create a Vapi account', 'Install the SDK', 'Set up API keys', 'Create an assistant', 'Add a tool server', 'Make a test call'] as const;

const NAMES = [
  'Ada Lovelace', 'Alan Turing', 'Grace Hopper', 'Katherine Johnson', 'Linus Torvalds', 'Margaret Hamilton', 'Dennis Ritchie', 'Barbara Liskov',
  'Ken Thompson', 'Radia Perlman', 'Tim Berners-Lee', 'Frances Allen', 'Donald Knuth', 'Hedy Lamarr', 'John McCarthy', 'Sophie Wilson',
  'Guido van Rossum', 'Anita Borg', 'Bjarne Stroustrup', 'Shafi Goldwasser', 'Edsger Dijkstra', 'Karen Sparck Jones', 'Niklaus Wirth', 'Jean Sammet',
  'Vint Cerf', 'Adele Goldberg', 'Leslie Lamport', 'Mary Allen Wilkes', 'Tony Hoare', 'Priya Raman',
] as const;

export const BROKEN_STEP = 5;
export const BROKEN_ERROR = { errorType: 'ModuleNotFoundError', errorMessage: "No module named 'vapi_server_sdk.tools'" };
export const STUCK_STEP = 3;
const STUCK_ERROR = { errorType: 'AuthenticationError', errorMessage: 'Invalid API key: check VAPI_API_KEY (401 from api.vapi.ai)' };

export interface WorkshopEvent {
  eventId: string;
  eventType: string;
  eventData: Record<string, unknown>;
  timestamp: string;
}

export interface WorkshopStudent {
  sessionToken: string;
  studentEmail: string;
  studentName: string;
  events: WorkshopEvent[];
}

const MIN = 60_000;

/** The room, as of `anchor` (the moment the demo first ran): it started 70 minutes earlier. */
export function workshop(tag: string, anchor: Date): WorkshopStudent[] {
  const end = anchor.getTime();
  const start = end - 70 * MIN;
  return NAMES.map((name, i) => {
    const [first = 'student', ...rest] = name.toLowerCase().split(' ');
    const last = rest.join('-') || 'x';
    const slug = `${first}_${last}`.replace(/[^a-z0-9_]/g, '');
    const rnd = seeded(tag, 'workshop', i);
    const events: WorkshopEvent[] = [];
    const push = (eventType: string, eventData: Record<string, unknown>, at: number) => {
      // Nothing after the anchor: the server clamps future client times to its clock, which would
      // store different times on each run.
      if (at > end - 1000) return;
      events.push({ eventId: demoUuid(tag, slug, events.length), eventType, eventData, timestamp: new Date(Math.round(at)).toISOString() });
    };
    const stuck = i === 29; // Priya: the stuck student the dashboard should surface
    // Most of the room hits the broken step; a few found the workaround and moved on.
    const hitsBroken = i % 3 !== 0;
    const fixedBroken = hitsBroken && i % 4 === 0;
    let t = start + Math.floor(rnd() * 6 * MIN);
    push('navigation', { from: 0, to: 1, toStepName: STEPS[0], currentStep: 1, stepName: STEPS[0] }, t);
    for (let step = 1; step <= STEPS.length; step++) {
      const stepName = STEPS[step - 1];
      const pace = (5 + rnd() * 6) * MIN;
      push('action', { actionName: 'copy-code', currentStep: step, stepName }, t + pace * 0.2);
      if (step === 2) push('api_call', { endpoint: 'https://pypi.org/simple/vapi-server-sdk/', method: 'GET', status: 200, success: true, currentStep: step }, t + pace * 0.4);
      if (step === 3 && rnd() < 0.25 && !stuck) push('error', { errorType: 'KeyError', errorMessage: "'VAPI_API_KEY'", currentStep: step, stepName }, t + pace * 0.5);
      if (step === 4) push('api_call', { endpoint: 'https://api.vapi.ai/assistant', method: 'POST', status: 201, success: true, currentStep: step }, t + pace * 0.6);
      if (stuck && step === STUCK_STEP) {
        // Arrived early, then the same failure again and again, the last within the timeout.
        const firstError = end - 28 * MIN;
        for (const [n, ago] of [26, 19, 13, 8, 4].entries()) {
          push('action', { actionName: 'run-code', currentStep: step, stepName, attempt: n + 1 }, end - ago * MIN - 20_000);
          push('error', { ...STUCK_ERROR, statusCode: 401, currentStep: step, stepName }, Math.max(firstError, end - ago * MIN));
        }
        return { sessionToken: `ws_${tag}_${slug}`, studentEmail: `${first}.${last}@${tag}.example.com`, studentName: name, events };
      }
      if (step === BROKEN_STEP && hitsBroken) {
        const tries = 1 + Math.floor(rnd() * 3);
        for (let n = 0; n < tries; n++) {
          push('action', { actionName: 'run-code', currentStep: step, stepName }, t + pace * (0.3 + n * 0.15));
          push('error', { ...BROKEN_ERROR, currentStep: step, stepName }, t + pace * (0.35 + n * 0.15));
        }
        if (!fixedBroken) {
          // Still there: retrying within the last minutes of the day.
          push('error', { ...BROKEN_ERROR, currentStep: step, stepName }, end - (1 + rnd() * 6) * MIN);
          break;
        }
        push('action', { actionName: 'open-hint', hint: 'pip install "vapi-server-sdk[tools]"', currentStep: step, stepName }, t + pace * 0.8);
      }
      push('action', { actionName: 'run-code', currentStep: step, stepName }, t + pace * 0.7);
      t += pace;
      if (t > end - 2 * MIN) break; // the rest of the room is still working
      if (step < STEPS.length) {
        push('navigation', { from: step, to: step + 1, fromStepName: stepName, toStepName: STEPS[step], currentStep: step + 1, stepName: STEPS[step] }, t);
      } else {
        push('state_change', { stateName: 'workshop', oldValue: 'in_progress', newValue: 'completed', currentStep: step, stepName }, t);
      }
    }
    return { sessionToken: `ws_${tag}_${slug}`, studentEmail: `${first}.${last}@${tag}.example.com`, studentName: name, events };
  });
}
