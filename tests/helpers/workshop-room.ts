/**
 * A workshop room posted over real HTTP (POST /api/session-log), for browser tests of the Now
 * view: students' pages send actions, step changes and errors carrying currentStep / stepName,
 * as the logging client does.
 */
import { uniqueToken } from './deps.js';

export const STEP_NAMES = ['Setup', 'Install the SDK', 'First request', 'Streaming', 'Tools', 'Deploy'];

export interface PageEvent {
  sessionToken: string;
  studentEmail: string;
  studentName: string;
  eventType: string;
  eventData: Record<string, unknown>;
  timestamp: string;
}

export function workshopRoom(baseUrl: string) {
  const prefix = `${uniqueToken('wk')}_`;
  const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
  const stepName = (step: number) => STEP_NAMES[step - 1] ?? `Step ${step}`;
  return {
    prefix,
    student(name: string, handle = name.toLowerCase().replace(/[^a-z0-9]+/g, '_')) {
      const token = `${prefix}${handle}`;
      const email = `${handle}@example.com`;
      const mk = (eventType: string, minutesAgo: number, step: number, data: Record<string, unknown> = {}): PageEvent => ({
        sessionToken: token,
        studentEmail: email,
        studentName: name,
        eventType,
        eventData: { currentStep: step, stepName: stepName(step), ...data },
        timestamp: at(minutesAgo),
      });
      const s = {
        token,
        email,
        name,
        action: (minutesAgo: number, step: number) => mk('action', minutesAgo, step, { actionName: 'run-code' }),
        nav: (minutesAgo: number, from: number, to: number) => mk('navigation', minutesAgo, from, { from, to, fromStepName: stepName(from), toStepName: stepName(to) }),
        error: (minutesAgo: number, step: number, errorType = 'TypeError', errorMessage = "Cannot read properties of undefined (reading 'map')") =>
          mk('error', minutesAgo, step, { errorType, errorMessage }),
        /** Steps 1..last, `minutes` on each, starting `startAgo` minutes ago. */
        walk(last: number, minutes: number, startAgo: number): PageEvent[] {
          const out: PageEvent[] = [];
          let t = startAgo;
          for (let step = 1; step <= last; step++) {
            out.push(s.action(t, step));
            t -= minutes;
            if (step < last) out.push(s.nav(t, step, step + 1));
          }
          return out;
        },
      };
      return s;
    },
    /** Post page events in batches, as many pages would; throws on anything but 200. */
    async post(events: PageEvent[]) {
      for (let i = 0; i < events.length; i += 500) {
        const res = await fetch(`${baseUrl}/api/session-log`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ events: events.slice(i, i + 500) }),
        });
        if (!res.ok) throw new Error(`POST /api/session-log: ${res.status} ${await res.text()}`);
      }
    },
  };
}
